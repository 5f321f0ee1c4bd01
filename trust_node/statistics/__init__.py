"""Encrypted sector statistics, node side: contributions, noise share, encrypted release.

The layout (cells, fields, bounds) is ``open_models.benchmark_cells``; the round terms and
how sums become benchmarks are ``open_models.benchmark_values``.
"""

from trust_node.statistics.contributions import (
    best_direct_emissions,
    contribution_vector,
    facility_cells,
)
from trust_node.statistics.errors import StatisticsBudgetRefusedError, StatisticsError
from trust_node.statistics.release import (
    PreparedRelease,
    mechanism_for,
    prepare_release,
    secure_rng,
)

__all__ = [
    "PreparedRelease",
    "StatisticsBudgetRefusedError",
    "StatisticsError",
    "best_direct_emissions",
    "contribution_vector",
    "facility_cells",
    "mechanism_for",
    "prepare_release",
    "secure_rng",
]
