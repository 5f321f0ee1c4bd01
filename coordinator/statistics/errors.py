"""Errors of the coordinator's statistics rounds (all under ``CoordinatorError``).

- ``StatisticsRoundError`` (a ``RoundStateError``)  bad round state -> FAILED_PRECONDITION
  - ``NotEnoughSubmissionsError`` fewer than max(m, noise_shares) nodes submitted
  - ``PublicationRefusedError``   fewer than t matching attestations (outcome attached)
- ``SubmissionRejectedError`` (``coordinator.store.errors``, shared with training) a
  submission failed a check; recorded with its reason -> INVALID_ARGUMENT
"""

from __future__ import annotations

from typing import Any

from coordinator.store.errors import RoundStateError, SubmissionRejectedError


class StatisticsRoundError(RoundStateError):
    """The statistics round cannot do what was asked in its current state."""


class NotEnoughSubmissionsError(StatisticsRoundError):
    """Too few nodes submitted for the round's noise to be complete or ``m`` to hold."""


class PublicationRefusedError(StatisticsRoundError):
    """Fewer than ``t`` key holders signed identical plaintexts."""

    def __init__(self, message: str, outcome: Any = None) -> None:
        super().__init__(message)
        self.outcome = outcome


__all__ = [
    "NotEnoughSubmissionsError",
    "PublicationRefusedError",
    "StatisticsRoundError",
    "SubmissionRejectedError",
]
