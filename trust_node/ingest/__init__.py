"""Ingest: read a file, validate it against the data contract, store it whole or not at all."""

from trust_node.ingest.service import ingest_bytes, ingest_file

__all__ = ["ingest_bytes", "ingest_file"]
