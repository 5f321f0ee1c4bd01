"""Alembic scripts of the coordinator database; a package so they ship with the wheel."""
