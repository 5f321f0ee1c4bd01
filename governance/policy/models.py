"""What a policy may say, as strict pydantic models.

A node policy is the operator's word on what may leave the node, how much privacy it may
spend and which tenant agreed to what; the trust policy is the trust-wide word on what
the coordinator accepts, the budget caps and when an aggregate may be published. Unknown
fields are refused (a typo must not silently drop a restriction) and every number has a
bound that makes it meaningful.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Final, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from open_models.contract import FLOAT_COLUMNS, JURISDICTION_PATTERN

OutboundKind = Literal[
    "ciphertext_update",  # CKKS-encrypted, DP-trained model update
    "ciphertext_statistics",  # CKKS-encrypted noisy per-cell sums
    "attestation",  # signed plaintext of a decrypted aggregate
    "enrolment",  # CSR, node id, jurisdiction, public keys
    "metadata",  # only the fields listed in ``metadata_fields``
]
OUTBOUND_KINDS: Final[tuple[OutboundKind, ...]] = get_args(OutboundKind)

ConsentScope = Literal["training", "statistics"]

#: What one privacy budget protects: a whole facility (all its records, every year; the
#: default) or one record (one facility-product-year), only where the policy says so.
PrivacyUnit = Literal["facility", "record"]
PRIVACY_UNITS: Final[tuple[PrivacyUnit, ...]] = get_args(PrivacyUnit)
CONSENT_SCOPES: Final[tuple[ConsentScope, ...]] = get_args(ConsentScope)

#: Record columns that identify a facility or carry its values: never metadata.
NEVER_METADATA: Final = frozenset({"record_id", "facility_id", *FLOAT_COLUMNS})

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
PartyId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]
TenantId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]
Jurisdiction = Annotated[str, StringConstraints(pattern=JURISDICTION_PATTERN)]
#: A calendar year, quarter or month: ``2026``, ``2026-Q4``, ``2026-11``.
AccountingPeriod = Annotated[
    str, StringConstraints(pattern=r"^(19|20|21)\d\d(-Q[1-4]|-(0[1-9]|1[0-2]))?$")
]
Epsilon = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Delta = Annotated[float, Field(gt=0, lt=1)]

#: Defaults of the (epsilon, delta) budget: the strongest setting Abadi et al. report as
#: still giving useful DP-SGD models, "Deep Learning with Differential Privacy",
#: CCS 2016, §5 (MNIST, (8, 1e-5)).
DEFAULT_EPSILON: Final = 8.0
DEFAULT_DELTA: Final = 1e-5
#: Minimum-frequency (threshold) rule of statistical disclosure control: a cell needs at
#: least 3 contributors, the value most statistical offices use (Hundepool et al.,
#: ESSnet Handbook on Statistical Disclosure Control, 2010, §4.2.2).
DEFAULT_K_FACILITIES: Final = 3
DEFAULT_M_NODES: Final = 3
#: Two matching decryptions: no single key-holder can forge a published aggregate.
DEFAULT_T_ATTESTATIONS: Final = 2
DEFAULT_QUORUM: Final = 2


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


def _unique(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"{what} listed twice: {', '.join(duplicates)}")
    return values


class DataSovereignty(_Strict):
    """Which kinds of message may cross the border at all, and which metadata fields."""

    allowed_outbound: tuple[OutboundKind, ...]
    metadata_fields: tuple[Identifier, ...] = ()

    @field_validator("allowed_outbound")
    @classmethod
    def _unique_kinds(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(value, "message kind")

    @field_validator("metadata_fields")
    @classmethod
    def _safe_fields(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _unique(value, "metadata field")
        raw = sorted(set(value) & NEVER_METADATA)
        if raw:
            raise ValueError(f"record columns may never leave as metadata: {', '.join(raw)}")
        return value

    @model_validator(mode="after")
    def _fields_need_metadata(self) -> DataSovereignty:
        if self.metadata_fields and "metadata" not in self.allowed_outbound:
            raise ValueError(
                "metadata_fields are listed but 'metadata' is not an allowed_outbound kind"
            )
        return self

    def allows(self, kind: str) -> bool:
        return kind in self.allowed_outbound

    def allows_metadata_field(self, name: str) -> bool:
        return "metadata" in self.allowed_outbound and name in self.metadata_fields


class DatasetBudget(_Strict):
    epsilon: Epsilon
    delta: Delta


class PrivacyBudget(_Strict):
    """(epsilon, delta) per privacy unit for one accounting period; ``datasets`` overrides.

    Every release that touches a node's data (training, statistics, anything later) is
    charged to one ledger account, named by ``unit`` (:meth:`unit_account`), so releases of
    the same facility compose in one accountant instead of each spending a full budget.
    """

    accounting_period: AccountingPeriod
    epsilon: Epsilon = DEFAULT_EPSILON
    delta: Delta = DEFAULT_DELTA
    unit: PrivacyUnit = "facility"
    datasets: dict[Identifier, DatasetBudget] = Field(default_factory=dict)

    def for_dataset(self, dataset: str) -> DatasetBudget:
        return self.datasets.get(dataset) or DatasetBudget(epsilon=self.epsilon, delta=self.delta)

    def unit_account(self) -> tuple[PrivacyUnit, DatasetBudget]:
        """The one ledger account (its dataset name is the unit) and its budget."""
        return self.unit, self.for_dataset(self.unit)


class Consent(_Strict):
    """Consent scopes per tenant; tenants not listed get ``default`` (none: opt-in)."""

    default: tuple[ConsentScope, ...] = ()
    tenants: dict[TenantId, tuple[ConsentScope, ...]] = Field(default_factory=dict)

    @field_validator("default")
    @classmethod
    def _unique_default(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(value, "consent scope")

    @field_validator("tenants")
    @classmethod
    def _unique_scopes(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for tenant, scopes in value.items():
            _unique(scopes, f"consent scope of tenant {tenant!r}")
        return value

    def scopes_for(self, tenant: str) -> tuple[str, ...]:
        return self.tenants.get(tenant, self.default)

    def allows(self, tenant: str, scope: str) -> bool:
        return scope in self.scopes_for(tenant)


class PublicationThresholds(_Strict):
    """When an aggregate may be published: ``k`` facilities, ``m`` nodes, ``t`` attestations.

    They bind every kind of publication (models and statistics benchmarks): a sum goes to
    the key holders only with at least ``m`` distinct contributors, and is published only
    with ``t >= 2`` matching attestations, so no single key holder publishes alone.
    """

    k: int = Field(default=DEFAULT_K_FACILITIES, ge=1)
    m: int = Field(default=DEFAULT_M_NODES, ge=2)
    t: int = Field(default=DEFAULT_T_ATTESTATIONS, ge=2)
    #: Fewest distinct members in any sum a key holder decrypts (with ``m``: the larger).
    quorum: int = Field(default=DEFAULT_QUORUM, ge=2)

    @model_validator(mode="after")
    def _consistent(self) -> PublicationThresholds:
        if self.t > self.m:
            raise ValueError(f"t ({self.t}) must be <= m ({self.m})")
        return self

    @property
    def min_contributors(self) -> int:
        """``max(quorum, m)``: distinct members a sum needs before a key holder decrypts it."""
        return max(self.quorum, self.m)


class NodePolicy(_Strict):
    """One node's policy, signed by its operator."""

    policy: Literal["node"] = "node"
    version: int = Field(ge=1)
    node_id: PartyId
    jurisdiction: Jurisdiction
    issued_at: dt.datetime | None = None
    data_sovereignty: DataSovereignty
    privacy_budget: PrivacyBudget
    consent: Consent = Field(default_factory=Consent)


#: An Ed25519 public key (32 bytes) or a SHA-256 digest, as lowercase hex.
PublicKeyHex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Member(_Strict):
    """A member of the trust: who it is, the identity key its signatures verify with and
    the X25519 transport key a key ceremony seals its package to (both named here, signed
    by the members, so the coordinator relaying them cannot swap either)."""

    node_id: PartyId
    jurisdiction: Jurisdiction
    identity_public_key: PublicKeyHex
    transport_public_key: PublicKeyHex

    @property
    def public_key(self) -> bytes:
        return bytes.fromhex(self.identity_public_key)

    @property
    def transport_key(self) -> bytes:
        return bytes.fromhex(self.transport_public_key)


class KeyGroup(_Strict):
    """One key group: one key, held by each of ``holders`` (redundancy, not sharing)."""

    group: Identifier
    holders: tuple[PartyId, ...] = Field(min_length=1)

    @field_validator("holders")
    @classmethod
    def _unique_holders(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(value, "key holder")


class TrustPolicy(_Strict):
    """The trust-wide policy, in force only when signed by its members.

    A policy that names members is valid only with their signatures
    (:mod:`governance.policy.trust_chain`): version 1 by every founding member, version
    ``n + 1`` by ``signature_quorum`` members of version ``n`` and naming version ``n``'s
    digest in ``previous_sha256``. A memberless policy is only the coordinator's draft
    before founding: it names no one, so nothing counts under it.
    """

    policy: Literal["trust"] = "trust"
    version: int = Field(ge=1)
    trust_id: PartyId
    issued_at: dt.datetime | None = None
    previous_sha256: Sha256Hex | None = None
    data_sovereignty: DataSovereignty
    privacy_budget: PrivacyBudget
    publication: PublicationThresholds = Field(default_factory=PublicationThresholds)
    members: tuple[Member, ...] = ()
    key_groups: tuple[KeyGroup, ...] = ()
    #: Signatures of this version's members that the next version needs.
    signature_quorum: int = Field(default=1, ge=1)
    #: Reserved: the SHA-256 of the one Flower app bundle nodes may run.
    pinned_app_bundle: Sha256Hex | None = None

    @model_validator(mode="after")
    def _consistent_membership(self) -> TrustPolicy:
        ids = tuple(m.node_id for m in self.members)
        _unique(ids, "member")
        _unique(tuple(m.identity_public_key for m in self.members), "member identity key")
        _unique(tuple(g.group for g in self.key_groups), "key group")
        strangers = sorted({h for g in self.key_groups for h in g.holders} - set(ids))
        if strangers:
            raise ValueError(f"key holders that are not members: {', '.join(strangers)}")
        if self.members and self.signature_quorum > len(self.members):
            raise ValueError(
                f"signature_quorum ({self.signature_quorum}) exceeds the members "
                f"({len(self.members)})"
            )
        if self.key_groups and not self.members:
            raise ValueError("key_groups need members")
        if self.members and (self.version == 1) != (self.previous_sha256 is None):
            raise ValueError("previous_sha256 is required from version 2 on, and only then")
        return self

    @property
    def founded(self) -> bool:
        """Whether this policy names members (a draft before founding does not)."""
        return bool(self.members)

    def member(self, node_id: str) -> Member | None:
        return next((m for m in self.members if m.node_id == node_id), None)

    def member_keys(self) -> dict[str, bytes]:
        """Every member's identity key: whose signatures count under this policy."""
        return {m.node_id: m.public_key for m in self.members}

    def key_group(self, group: str) -> KeyGroup:
        """The key group ``group``; :class:`KeyError` naming it if the policy has none."""
        for candidate in self.key_groups:
            if candidate.group == group:
                return candidate
        raise KeyError(f"the trust policy (version {self.version}) has no key group {group!r}")

    def holders_of(self, group: str) -> tuple[str, ...]:
        return self.key_group(group).holders

    def holders_of_or_empty(self, group: str) -> tuple[str, ...]:
        """``holders_of``, or no one for a group the policy does not have."""
        return next((g.holders for g in self.key_groups if g.group == group), ())

    def groups_of(self, node_id: str) -> tuple[str, ...]:
        """The key groups ``node_id`` holds a key in (in policy order)."""
        return tuple(g.group for g in self.key_groups if node_id in g.holders)

    def key_holders(self) -> tuple[str, ...]:
        """Every node that holds a key in some group, each once, in policy order."""
        return tuple(dict.fromkeys(h for g in self.key_groups for h in g.holders))


Policy = NodePolicy | TrustPolicy


def current_accounting_period(now: dt.datetime | None = None) -> str:
    """The calendar year as an accounting period (the default granularity)."""
    return f"{(now or dt.datetime.now(dt.UTC)).year:04d}"


def node_within_trust(node: NodePolicy, trust: TrustPolicy) -> list[str]:
    """Where ``node`` is looser than ``trust`` allows ("field.path: reason"); empty if fine."""
    problems: list[str] = []
    for kind in node.data_sovereignty.allowed_outbound:
        if not trust.data_sovereignty.allows(kind):
            problems.append(
                f"data_sovereignty.allowed_outbound: {kind!r} is not allowed by the trust"
            )
    for name in node.data_sovereignty.metadata_fields:
        if not trust.data_sovereignty.allows_metadata_field(name):
            problems.append(
                f"data_sovereignty.metadata_fields: {name!r} is not allowed by the trust"
            )
    nb, tb = node.privacy_budget, trust.privacy_budget
    if nb.accounting_period != tb.accounting_period:
        problems.append(
            f"privacy_budget.accounting_period: {nb.accounting_period!r} differs from the "
            f"trust's {tb.accounting_period!r}"
        )
    if nb.unit == "record" and tb.unit == "facility":
        problems.append(
            "privacy_budget.unit: 'record' protects less than the trust's unit 'facility'"
        )
    for dataset in sorted({"", *nb.datasets, *tb.datasets}):
        label = f"privacy_budget.datasets.{dataset}" if dataset else "privacy_budget"
        mine, cap = nb.for_dataset(dataset), tb.for_dataset(dataset)
        for name in ("epsilon", "delta"):
            value, limit = getattr(mine, name), getattr(cap, name)
            if value > limit and not math.isclose(value, limit):
                problems.append(f"{label}.{name}: {value} exceeds the trust's cap {limit}")
    return problems
