"""IPCC 2006 Tier-1 baseline: sourced factors, grid factors, CBAM defaults."""
