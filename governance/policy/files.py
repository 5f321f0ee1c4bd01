"""Policy files: TOML beside a detached signature envelope (``<name>.toml.sig``).

Why detached: the TOML stays exactly what the operator reads and diffs, and the
signature covers its raw bytes (the envelope binds their SHA-256), so there is no
canonicalisation of TOML to get wrong. The signature is checked *before* the file is
parsed, and a policy is accepted only if the expected key signed it, it validates, and
its kind and (optionally) version are what the caller asked for.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any, Literal, overload

import tomli_w
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from governance.envelope import Envelope, open_envelope, seal
from governance.errors import EnvelopeError, PolicyError, PolicySignatureError
from governance.identity import Identity
from governance.policy.models import (
    OUTBOUND_KINDS,
    Consent,
    DataSovereignty,
    NodePolicy,
    Policy,
    PrivacyBudget,
    PublicationThresholds,
    TrustPolicy,
    current_accounting_period,
)

PolicyKind = Literal["node", "trust"]
ENVELOPE_KINDS: dict[str, str] = {"node": "policy.node", "trust": "policy.trust"}
SIGNATURE_SUFFIX = ".sig"
MODELS: dict[str, type[NodePolicy] | type[TrustPolicy]] = {
    "node": NodePolicy,
    "trust": TrustPolicy,
}

#: Node metadata that may leave by default: who and which version, never what it holds;
#: and the training report a node signs with its encrypted model update (decimal
#: strings: cumulative epsilon of its training account, budget, delta, codecarbon energy
#: and CO2 of its training), which the model card publishes per node.
DEFAULT_METADATA_FIELDS = (
    "node_id",
    "jurisdiction",
    "round_id",
    "policy_version",
    "software_version",
    "epsilon_spent",
    "epsilon_budget",
    "dp_delta",
    "energy_kwh",
    "co2_kg",
)


def _single_signer_only(kind: str, path: Path) -> None:
    """A trust policy is never signed by one party (``governance.policy.trust_chain``)."""
    if kind == "trust":
        raise PolicySignatureError(
            "a trust policy is valid only with its members' signatures "
            "(governance.policy.trust_files.load_trust_chain), never one party's",
            path=path,
        )


def signature_path(path: Path) -> Path:
    """Where a policy's detached signature lives: beside it, as ``<name>.toml.sig``."""
    return path.with_name(path.name + SIGNATURE_SUFFIX)


_MESSAGES = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "extra_forbidden": "unknown field (not allowed)",
    "missing": "required field is missing",
    "string_pattern_mismatch": "must match {pattern}",
    "finite_number": "must be a finite number",
}


def _describe(error: ErrorDetails) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "(policy)"
    template = _MESSAGES.get(error["type"])
    ctx = error.get("ctx") or {}
    if template is not None:
        try:
            reason = template.format(**ctx)
        except KeyError:
            reason = error["msg"]
    else:
        reason = error["msg"].removeprefix("Value error, ")
    return f"{where}: {reason}"


def validation_problems(error: ValidationError) -> list[str]:
    """pydantic's errors as ``"privacy_budget.epsilon: must be > 0"`` lines."""
    return [_describe(e) for e in error.errors()]


def parse_policy(data: dict[str, Any], kind: PolicyKind, path: Path | None = None) -> Policy:
    """Validate already-decoded policy data as a ``kind`` policy."""
    if kind not in MODELS:
        raise PolicyError(f"unknown policy kind {kind!r} (node or trust)", path=path)
    declared = data.get("policy", kind)
    if declared != kind:
        raise PolicyError(f"this is a {declared!r} policy, expected a {kind!r} policy", path=path)
    try:
        return MODELS[kind].model_validate(data)
    except ValidationError as exc:
        raise PolicyError(
            f"invalid {kind} policy", path=path, problems=validation_problems(exc)
        ) from exc


def _decode(raw: bytes, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"not valid TOML: {exc}", path=path) from exc


def policy_to_toml(policy: Policy) -> bytes:
    """The TOML bytes a policy is written and signed as; unset fields are left out, as TOML has
    no null.
    """
    return tomli_w.dumps(policy.model_dump(mode="json", exclude_none=True)).encode("utf-8")


def sign_policy(path: Path, identity: Identity) -> Path:
    """Validate the policy at ``path`` and write its detached signature beside it."""
    raw = path.read_bytes()
    data = _decode(raw, path)
    kind = data.get("policy")
    if kind not in MODELS:
        raise PolicyError('field \'policy\' must be "node" or "trust"', path=path)
    parse_policy(data, kind, path)
    _single_signer_only(kind, path)
    envelope = seal(identity, ENVELOPE_KINDS[kind], None, raw, detached=True)
    sig = signature_path(path)
    sig.write_bytes(envelope.to_bytes())
    return sig


def write_policy(policy: Policy, path: Path, identity: Identity) -> Path:
    """Write ``policy`` as TOML at ``path`` and sign it as ``identity``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(policy_to_toml(policy))
    sign_policy(path, identity)
    return path


@overload
def load_policy(
    path: Path, kind: Literal["node"], signer_public_key: bytes, *, min_version: int | None = ...
) -> NodePolicy: ...
@overload
def load_policy(
    path: Path, kind: Literal["trust"], signer_public_key: bytes, *, min_version: int | None = ...
) -> TrustPolicy: ...
def load_policy(
    path: Path, kind: PolicyKind, signer_public_key: bytes, *, min_version: int | None = None
) -> Policy:
    """Load a policy only if ``signer_public_key`` signed exactly these bytes.

    ``min_version`` refuses a rollback to an older (validly signed) policy.
    """
    if kind not in MODELS:
        raise PolicyError(f"unknown policy kind {kind!r} (node or trust)", path=path)
    _single_signer_only(kind, path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"cannot read policy: {exc.strerror}", path=path) from exc
    sig = signature_path(path)
    if not sig.exists():
        raise PolicySignatureError(f"unsigned: {sig.name} is missing", path=path)
    try:
        open_envelope(
            Envelope.from_bytes(sig.read_bytes()),
            signer_public_key,
            nonce_store=None,
            max_age=None,
            expected_kind=ENVELOPE_KINDS[kind],
            detached_payload=raw,
        )
    except EnvelopeError as exc:
        raise PolicySignatureError(
            f"signature refused ({type(exc).__name__}): {exc}", path=path
        ) from exc
    policy = parse_policy(_decode(raw, path), kind, path)
    if min_version is not None and policy.version < min_version:
        raise PolicyError(
            f"version {policy.version} is older than the version in force ({min_version})",
            path=path,
        )
    return policy


def default_node_policy(
    node_id: str,
    jurisdiction: str,
    *,
    accounting_period: str | None = None,
    version: int = 1,
) -> NodePolicy:
    """A conservative starting policy: protocol messages only, no tenant consent yet."""
    return NodePolicy(
        version=version,
        node_id=node_id,
        jurisdiction=jurisdiction,
        issued_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        data_sovereignty=DataSovereignty(
            allowed_outbound=OUTBOUND_KINDS, metadata_fields=DEFAULT_METADATA_FIELDS
        ),
        privacy_budget=PrivacyBudget(
            accounting_period=accounting_period or current_accounting_period()
        ),
        consent=Consent(),
    )


def default_trust_policy(
    trust_id: str = "gcdt",
    *,
    accounting_period: str | None = None,
    version: int = 1,
) -> TrustPolicy:
    """The trust-wide defaults: documented DP budget and disclosure thresholds."""
    return TrustPolicy(
        version=version,
        trust_id=trust_id,
        issued_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        data_sovereignty=DataSovereignty(
            allowed_outbound=OUTBOUND_KINDS, metadata_fields=DEFAULT_METADATA_FIELDS
        ),
        privacy_budget=PrivacyBudget(
            accounting_period=accounting_period or current_accounting_period()
        ),
        publication=PublicationThresholds(),
    )
