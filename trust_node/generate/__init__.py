"""Seeded synthetic demo data: contract-valid facility records plus their hidden truth.

See ``docs/demo-data.md`` for what is modelled and why.
"""

from trust_node.generate.errors import GenerateError
from trust_node.generate.generator import TRUTH_COLUMNS, GeneratedData, generate
from trust_node.generate.jurisdictions import (
    JURISDICTION_PROFILES,
    JurisdictionProfile,
    derive_profile,
    profiles_markdown,
    resolve_jurisdictions,
)
from trust_node.generate.writer import write_records

__all__ = [
    "JURISDICTION_PROFILES",
    "TRUTH_COLUMNS",
    "GenerateError",
    "GeneratedData",
    "JurisdictionProfile",
    "derive_profile",
    "generate",
    "profiles_markdown",
    "resolve_jurisdictions",
    "write_records",
]
