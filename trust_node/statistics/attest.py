"""A key holder's decryption duty for a statistics round (the ``statistics`` kind's duty
in :mod:`trust_node.attestation`).

Decrypt the summed vector with this node's CKKS secret key, set every suppressed cell to
zero (``open_models.benchmark_values.mask_suppressed``: a deterministic function of the
decrypted noisy sums and the public round terms), then sign. The envelope has exactly the
shape of ``governance.attestation.attest`` (same kind, same payload fields, same decimal
rounding), so the coordinator's ``collect_matching`` and the egress guard treat it like
any attestation; the only difference is that suppressed values never leave this node.
A request whose sum has fewer contributors than the round's ``noise_shares`` is refused:
its noise would be below what the contributors' ledgers were charged for.
"""

from __future__ import annotations

import json

from governance.attestation import (
    ATTESTATION_KIND,
    DEFAULT_DECIMALS,
    SUBMISSIONS_DIGEST,
    ciphertext_digest,
    format_values,
)
from governance.ckks import CkksKey, EncryptedVector, decrypt
from governance.envelope import Envelope, seal
from governance.identity import Identity
from kernel.wire import trust as wire
from open_models.benchmark_cells import CatalogueError
from open_models.benchmark_values import RoundTerms, mask_suppressed
from trust_node.attestation import check_request
from trust_node.statistics.errors import StatisticsError
from trust_node.transport.serde import PendingDecryption


def attest_statistics(
    identity: Identity,
    key: CkksKey,
    terms: RoundTerms,
    summed: EncryptedVector,
    submissions_digest: str | None = None,
) -> Envelope:
    """Decrypt a statistics round's summed vector and sign it, refusing a vector of another round's
    shape or key.
    """
    if summed.length != terms.catalogue.vector_length:
        raise StatisticsError(
            f"round {terms.round_id}: summed vector has length {summed.length}, the round's "
            f"catalogue needs {terms.catalogue.vector_length}"
        )
    if summed.key_id != terms.key_id:
        raise StatisticsError(
            f"round {terms.round_id}: summed vector is under key {summed.key_id}, the round "
            f"under {terms.key_id}"
        )
    values = format_values(mask_suppressed(terms, decrypt(key, summed)), DEFAULT_DECIMALS)
    payload = {
        "subject_id": terms.subject_id,
        "round_id": terms.round_id,
        "key_id": summed.key_id,
        "ciphertext_digest": ciphertext_digest(summed),
        "decimals": DEFAULT_DECIMALS,
        "values": values,
    }
    if submissions_digest is not None:
        payload[SUBMISSIONS_DIGEST] = submissions_digest
    return seal(identity, ATTESTATION_KIND, terms.round_id, payload)


def attest_statistics_request(
    identity: Identity,
    key: CkksKey,
    request: PendingDecryption,
    submissions_digest: str | None = None,
) -> Envelope:
    """Attest a statistics decryption request with the round terms it carries."""
    check_request(request)
    try:
        terms = RoundTerms.from_dict(json.loads(request.parameters[wire.TERMS]))
    except (KeyError, ValueError, CatalogueError) as exc:
        raise StatisticsError(f"request {request.request_id}: unusable terms: {exc}") from exc
    if terms.subject_id != request.subject_id or terms.round_id != request.round_id:
        raise StatisticsError(
            f"request {request.request_id} is for {request.subject_id}, its terms for "
            f"{terms.subject_id}"
        )
    contributors = {s.node_id for s in request.submissions}
    if len(contributors) < terms.noise_shares:
        # Fewer shares than the terms sized the noise for: the sum would carry less noise
        # than every contributor's ledger was charged for (issue 14), so it stays sealed.
        raise StatisticsError(
            f"request {request.request_id}: {len(contributors)} contributors, the round's "
            f"noise needs {terms.noise_shares} (noise_shares)"
        )
    return attest_statistics(identity, key, terms, request.vector, submissions_digest)
