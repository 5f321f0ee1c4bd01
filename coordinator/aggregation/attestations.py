"""Collecting ``t`` matching attestations of one decryption request, once or by waiting.

Key holders pull decryption requests and push signed attestations over the trust
protocol whenever they get to it, so the coordinator either collects what has arrived
(statistics: an operator publishes after the round's holders attested) or waits for it
(training: the round loop cannot go on without the new model). Waiting polls without
logging; only the final collection writes ``attestation`` / ``attestation_rejected``
entries, so each attestation is logged exactly once whatever the wait took.
"""

from __future__ import annotations

import time

from coordinator.store import CoordinatorStore, DecryptionRequest
from governance.attestation import (
    AttestationOutcome,
    InsufficientAttestationsError,
    collect_matching,
)
from governance.translog import TransparencyLog

DEFAULT_POLL_S = 0.5


def collect(
    store: CoordinatorStore, request: DecryptionRequest, *, t: int, log: TransparencyLog | None
) -> AttestationOutcome:
    """Accept the request's aggregate iff ``t`` enrolled key holders signed identical values.

    Raises :class:`~governance.attestation.InsufficientAttestationsError` (with the
    outcome) otherwise; with ``log``, every accepted and rejected attestation is logged.
    """
    return collect_matching(
        store.attestations(request.request_id),
        store.identity_keys(key_holders_only=True),
        t=t,
        subject_id=request.subject_id,
        round_id=request.round_id,
        key_id=request.key_id,
        digest=request.digest,
        log=log,
        max_age=None,
    )


def await_attestations(
    store: CoordinatorStore,
    request: DecryptionRequest,
    *,
    t: int,
    log: TransparencyLog,
    timeout_s: float,
    poll_s: float = DEFAULT_POLL_S,
) -> AttestationOutcome:
    """Wait until ``t`` attestations agree, every key holder answered, or ``timeout_s``.

    Then collect once (logged); raises ``InsufficientAttestationsError`` as :func:`collect`.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not _settled(store, request, t):
        time.sleep(poll_s)
    return collect(store, request, t=t, log=log)


def _settled(store: CoordinatorStore, request: DecryptionRequest, t: int) -> bool:
    """``t`` agree already, or every active key holder has answered (waiting is futile)."""
    try:
        collect(store, request, t=t, log=None)
        return True
    except InsufficientAttestationsError as exc:
        answered = {a.signer_id for a in exc.outcome.agreeing} | {
            r.signer_id for r in exc.outcome.rejected
        }
        return set(store.identity_keys(key_holders_only=True)) <= answered
