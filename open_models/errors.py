"""Errors of the open models (features, training, published format).

::

    OpenModelsError
    ├── FeatureEncodingError   a records frame cannot be encoded (column and reason named)
    ├── WeightShapeError       a weight dict or flat vector does not fit the model layout
    ├── TrainingError          training cannot run (no labelled records, bad config)
    ├── PublishedModelError    a published model directory is malformed
    │   └── ModelIntegrityError   its content does not match its content hash
    ├── EvaluationSetError     a published evaluation set is unreadable or not in the format
    ├── CatalogueError         a benchmark catalogue outside the contract (benchmark_cells)
    └── Tier1Error             the Tier-1 family (open_models.ipcc.errors)

A refused round raises ``governance.privacy.BudgetExceededError`` unchanged: the ledger
owns that error and has already recorded the refusal when the caller sees it.
"""

from __future__ import annotations


class OpenModelsError(Exception):
    """Base of every error raised by ``open_models``."""


class FeatureEncodingError(OpenModelsError, ValueError):
    """A records frame lacks a column, or holds a value the encoding cannot take."""


class WeightShapeError(OpenModelsError, ValueError):
    """Weights (dict or flat vector) that do not match the model's layout."""


class TrainingError(OpenModelsError, ValueError):
    """Training cannot run with these records or this configuration."""


class PublishedModelError(OpenModelsError, ValueError):
    """A published model directory is missing a file or holds malformed metadata."""


class ModelIntegrityError(PublishedModelError):
    """The weights or metadata on disk do not hash to the recorded content hash."""


class EvaluationSetError(OpenModelsError, ValueError):
    """A published evaluation set that cannot be read, or is not in the published format."""
