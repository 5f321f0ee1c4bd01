"""Errors of the Tier-1 package: one base class so callers can catch the whole family."""

from __future__ import annotations

from open_models.errors import OpenModelsError


class Tier1Error(OpenModelsError):
    """Base of every error raised by ``open_models.ipcc``."""


class Tier1InputError(Tier1Error, ValueError):
    """The records frame cannot be computed: a required column is missing or a value is invalid."""


class GridFactorError(Tier1Error, ValueError):
    """A jurisdiction code is not a valid ISO alpha-2 code, or the grid data cannot be read."""


class CbamDataError(Tier1Error, ValueError):
    """An unknown product, or the bundled CBAM default table fails its consistency checks."""
