"""trust_node package."""
