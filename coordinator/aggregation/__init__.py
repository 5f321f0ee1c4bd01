"""The one aggregation pipeline of the coordinator (see :mod:`.pipeline`)."""

from coordinator.aggregation.kinds import (
    RoundKindRegistrar,
    RoundKinds,
    RoundParameters,
    SubmissionValidator,
)
from coordinator.aggregation.pipeline import (
    MIN_CONTRIBUTORS,
    AggregationPipeline,
    NotEnoughContributorsError,
    Receipt,
)
from coordinator.aggregation.publications import (
    BENCHMARK,
    MODEL,
    PublicationThresholdError,
    model_subject,
)

__all__ = [
    "BENCHMARK",
    "MIN_CONTRIBUTORS",
    "MODEL",
    "AggregationPipeline",
    "NotEnoughContributorsError",
    "PublicationThresholdError",
    "Receipt",
    "RoundKindRegistrar",
    "RoundKinds",
    "RoundParameters",
    "SubmissionValidator",
    "model_subject",
]
