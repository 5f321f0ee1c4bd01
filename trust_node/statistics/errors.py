"""Errors of the node's statistics release.

- ``NodeError``
  - ``StatisticsError``: a statistics round cannot be served (named reason).
    - ``StatisticsBudgetRefusedError``: the privacy ledger refused the release; the
      refusal is recorded in the ledger and nothing was computed or sent.
"""

from __future__ import annotations

from trust_node.errors import NodeError


class StatisticsError(NodeError):
    """A statistics round cannot be served; the message names why."""


class StatisticsBudgetRefusedError(StatisticsError):
    """The node's privacy budget does not cover this release (refused before any work)."""
