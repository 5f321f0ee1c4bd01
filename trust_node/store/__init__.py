"""The node's local store: versioned facility records per tenant."""

from trust_node.store.repository import (
    OPERATOR_TENANT,
    IngestReceipt,
    RecordRepository,
    SqlRecordRepository,
)

__all__ = ["OPERATOR_TENANT", "IngestReceipt", "RecordRepository", "SqlRecordRepository"]
