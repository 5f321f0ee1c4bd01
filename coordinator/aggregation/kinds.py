"""What each kind of aggregate adds to the one pipeline: its submission checks and the
round parameters a node needs.

Every kind (model update sums, statistics, and later sufficient statistics) goes through
the same steps; a kind differs only in what a submission must look like (e.g. a vector of
the statistics catalogue's length) and what a node must be told to compute or attest it
(e.g. the statistics round terms). The package that owns a kind registers it through
:meth:`RoundKinds.register` (the trust server's handlers expose it as
``register_round_kind``), so neither the pipeline nor the transport knows any kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from coordinator.store import NodeRecord
from governance.ckks import EncryptedVector
from governance.signed_requests import Scalar

#: ``(round_id, node, vectors, metadata)``: raise ``InvalidRequestError`` to refuse.
SubmissionValidator = Callable[
    [int, NodeRecord, Sequence[EncryptedVector], Mapping[str, Scalar]], None
]
#: ``round_id -> parameters``: what a node needs to take part in (or attest) the round.
RoundParameters = Callable[[int], Mapping[str, str]]


class RoundKindRegistrar(Protocol):
    """Where a package registers its round kind (the trust server's handlers)."""

    def register_round_kind(
        self,
        kind: str,
        validator: SubmissionValidator | None = None,
        parameters: RoundParameters | None = None,
    ) -> None: ...


@dataclass
class RoundKinds:
    """The registered kinds; a kind nobody registered has no extra checks or parameters."""

    validators: dict[str, SubmissionValidator] = field(default_factory=dict)
    parameter_sources: dict[str, RoundParameters] = field(default_factory=dict)

    def register(
        self,
        kind: str,
        validator: SubmissionValidator | None = None,
        parameters: RoundParameters | None = None,
    ) -> None:
        if validator is not None:
            self.validators[kind] = validator
        if parameters is not None:
            self.parameter_sources[kind] = parameters

    def validate(
        self,
        kind: str,
        round_id: int,
        node: NodeRecord,
        vectors: Sequence[EncryptedVector],
        metadata: Mapping[str, Scalar],
    ) -> None:
        validator = self.validators.get(kind)
        if validator is not None:
            validator(round_id, node, vectors, metadata)

    def parameters(self, kind: str, round_id: int) -> dict[str, str]:
        source = self.parameter_sources.get(kind)
        return dict(source(round_id)) if source is not None else {}
