"""Ingest service: the one path from a file to the store, shared by the CLI and the API.

Validation happens fully before the store is touched, and the store writes the batch
in one transaction, so a rejected file leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from open_models.contract import ID_PATTERN
from trust_node.errors import IngestError, IngestProblem
from trust_node.ingest.read import Format, detect_format, read_table
from trust_node.ingest.schema import validate_records
from trust_node.store import OPERATOR_TENANT, IngestReceipt, RecordRepository


def _check_tenant(tenant_id: str, source: str) -> None:
    if not re.fullmatch(ID_PATTERN, tenant_id):
        raise IngestError(source, [IngestProblem(None, None, f"invalid tenant id {tenant_id!r}")])


def ingest_bytes(
    data: bytes,
    name: str,
    repository: RecordRepository,
    *,
    tenant_id: str = OPERATOR_TENANT,
    fmt: Format | None = None,
    drop_extra_columns: bool = False,
) -> IngestReceipt:
    """Validate and store a file's bytes; raise :class:`IngestError` naming every problem."""
    _check_tenant(tenant_id, name)
    fmt = fmt or detect_format(name)
    frame = read_table(data, fmt, name)
    typed = validate_records(frame, name, drop_extra_columns=drop_extra_columns)
    return repository.add_batch(
        tenant_id, typed, source=name, sha256=hashlib.sha256(data).hexdigest()
    )


def ingest_file(
    path: Path,
    repository: RecordRepository,
    *,
    tenant_id: str = OPERATOR_TENANT,
    drop_extra_columns: bool = False,
) -> IngestReceipt:
    """Validate and store a file from disk, as :func:`ingest_bytes` does its bytes."""
    fmt = detect_format(path.name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        problem = IngestProblem(None, None, f"cannot read file: {exc.strerror}")
        raise IngestError(str(path), [problem]) from exc
    return ingest_bytes(
        data,
        str(path),
        repository,
        tenant_id=tenant_id,
        fmt=fmt,
        drop_extra_columns=drop_extra_columns,
    )
