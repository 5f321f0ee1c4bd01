"""How statistics rounds plug into the trust server (``coordinator.transport``).

The gRPC servicer stays generic: it authenticates the node and the envelope and hands the
submission to the one aggregation pipeline, which checks each ciphertext against the
public context and stores it. Statistics registers its round kind with its own checks
(round open and before its deadline, node expected, one vector of the catalogue's length
under the round's key) and its round parameters (``terms``: the JSON of
:class:`RoundTerms`, which the node checks against its own copy of the published layout
through ``catalogue_id``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from coordinator.aggregation import RoundKindRegistrar, RoundParameters, SubmissionValidator
from coordinator.statistics.service import StatisticsService
from coordinator.store import NodeRecord
from governance.ckks import EncryptedVector
from governance.signed_requests import Scalar
from kernel.wire import trust as wire


def submission_validator(service: StatisticsService) -> SubmissionValidator:
    """The pipeline's check of a statistics submission, without a second log entry (the handler
    logs).
    """

    def validate(
        round_id: int,
        node: NodeRecord,
        vectors: Sequence[EncryptedVector],
        metadata: Mapping[str, Scalar],
    ) -> None:
        # The handler logs its own ``submission_rejected`` entry: record, don't double-log.
        service.check_submission(round_id, node.node_id, vectors, to_log=False)

    return validate


def round_parameters(service: StatisticsService) -> RoundParameters:
    """What ``GetRound`` tells nodes of a statistics round: its terms, as nodes must sign them."""

    def parameters(round_id: int) -> Mapping[str, str]:
        return {wire.TERMS: json.dumps(service.terms(round_id).to_dict(), sort_keys=True)}

    return parameters


def register(handlers: RoundKindRegistrar, service: StatisticsService) -> None:
    """Register the statistics round kind with the trust server's handlers."""
    handlers.register_round_kind(
        wire.STATISTICS_ROUND, submission_validator(service), round_parameters(service)
    )
