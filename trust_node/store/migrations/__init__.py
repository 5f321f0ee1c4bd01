"""Alembic scripts of the node database; a package so they ship with the wheel."""
