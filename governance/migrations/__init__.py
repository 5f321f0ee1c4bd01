"""Alembic scripts of the governance tables (log, ledger, nonces, register) every party
migrates; a package so they ship with the wheel."""
