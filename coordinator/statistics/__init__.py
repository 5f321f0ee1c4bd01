"""Encrypted sector statistics, coordinator side: rounds, checks, sums, publication."""

from coordinator.statistics.errors import (
    NotEnoughSubmissionsError,
    PublicationRefusedError,
    StatisticsRoundError,
    SubmissionRejectedError,
)
from coordinator.statistics.service import (
    SUBMISSION_KIND,
    RoundStatus,
    StatisticsService,
)
from kernel.wire.trust import STATISTICS_ROUND as ROUND_KIND

__all__ = [
    "ROUND_KIND",
    "SUBMISSION_KIND",
    "NotEnoughSubmissionsError",
    "PublicationRefusedError",
    "RoundStatus",
    "StatisticsRoundError",
    "StatisticsService",
    "SubmissionRejectedError",
]
