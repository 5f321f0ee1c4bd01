"""Exports in the formats the field uses: PACT footprints (JSON) and a CBAM SEE summary (CSV)."""

from trust_node.exports.cbam_csv import COLUMNS as CBAM_COLUMNS
from trust_node.exports.cbam_csv import to_csv as cbam_summary_csv
from trust_node.exports.pact import SPEC_VERSION as PACT_SPEC_VERSION
from trust_node.exports.pact import footprints as pact_footprints

__all__ = ["CBAM_COLUMNS", "PACT_SPEC_VERSION", "cbam_summary_csv", "pact_footprints"]
