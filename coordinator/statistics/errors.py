"""Errors of the coordinator's statistics rounds (all under ``CoordinatorError``).

- ``StatisticsRoundError`` (a ``RoundStateError``)  bad round state -> FAILED_PRECONDITION
  - ``NotEnoughSubmissionsError`` / ``PublicationRefusedError`` (below)
- ``SubmissionRejectedError`` (an ``InvalidRequestError``) a submission failed a check;
  recorded with its reason -> INVALID_ARGUMENT
  - ``NotEnoughSubmissionsError`` fewer than max(m, noise_shares) nodes submitted
  - ``PublicationRefusedError``   fewer than t matching attestations (outcome attached)
"""

from __future__ import annotations

from typing import Any

from coordinator.store.errors import InvalidRequestError, RoundStateError


class StatisticsRoundError(RoundStateError):
    """The statistics round cannot do what was asked in its current state."""


class SubmissionRejectedError(InvalidRequestError):
    """A submission was refused (and logged with its reason, never its content)."""


class NotEnoughSubmissionsError(StatisticsRoundError):
    """Too few nodes submitted for the round's noise to be complete or ``m`` to hold."""


class PublicationRefusedError(StatisticsRoundError):
    """Fewer than ``t`` key holders signed identical plaintexts."""

    def __init__(self, message: str, outcome: Any = None) -> None:
        super().__init__(message)
        self.outcome = outcome
