"""The one aggregation pipeline of the coordinator (see :mod:`.pipeline`)."""

from coordinator.aggregation.kinds import (
    RoundKindRegistrar,
    RoundKinds,
    RoundParameters,
    SubmissionValidator,
)
from coordinator.aggregation.pipeline import AggregationPipeline, Receipt
from coordinator.aggregation.publications import BENCHMARK, MODEL, model_subject

__all__ = [
    "BENCHMARK",
    "MODEL",
    "AggregationPipeline",
    "Receipt",
    "RoundKindRegistrar",
    "RoundKinds",
    "RoundParameters",
    "SubmissionValidator",
    "model_subject",
]
