"""open_models package."""
