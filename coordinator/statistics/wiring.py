"""How statistics rounds plug into the trust-protocol handlers (``coordinator.transport``).

The gRPC servicer stays generic: it authenticates the node and the envelope, checks each
ciphertext against the public context and stores the submission; statistics adds its own
checks (round open and before its deadline, node expected, one vector of the catalogue's
length under the round's key) as a submission validator, and publishes its round terms
as round parameters (``terms``: the JSON of :class:`RoundTerms`, which the node checks
against its own copy of the published layout through ``catalogue_id``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from coordinator.statistics.service import StatisticsService
from governance.ckks import EncryptedVector
from kernel.wire.trust import STATISTICS_ROUND as ROUND_KIND


def submission_validator(service: StatisticsService) -> Any:
    def validate(
        round_id: int, node: Any, vectors: Sequence[EncryptedVector], metadata: Mapping[str, Any]
    ) -> None:
        # The handler logs its own ``submission_rejected`` entry: record, don't double-log.
        service.check_submission(round_id, node.node_id, vectors, to_log=False)

    return validate


def round_parameters(service: StatisticsService, fallback: Any = None) -> Any:
    def parameters(kind: str, round_id: int) -> Mapping[str, str]:
        if kind == ROUND_KIND:
            return {"terms": json.dumps(service.terms(round_id).to_dict(), sort_keys=True)}
        return fallback(kind, round_id) if fallback is not None else {}

    return parameters


def register(handlers: Any, service: StatisticsService) -> None:
    """Add statistics to a ``TrustHandlers``' validators and round parameters."""
    validators = dict(handlers.submission_validators)
    validators[ROUND_KIND] = submission_validator(service)
    object.__setattr__(handlers, "submission_validators", validators)
    object.__setattr__(
        handlers, "round_parameters", round_parameters(service, handlers.round_parameters)
    )
