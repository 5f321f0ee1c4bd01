"""The API's response shapes, separate from storage rows and service dataclasses.

Each model lists exactly the fields served: adding a column to a table never leaks into
the API unless someone adds it here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelOut(_Out):
    model_id: str
    version: str
    content_hash: str
    log_index: int
    files: list[str] = []
    card: dict[str, Any] | None = None


class NodeOut(_Out):
    node_id: str
    jurisdiction: str
    identity_public_key: str
    transport_public_key: str
    key_holder: bool
    status: str


class RoundOut(_Out):
    kind: str
    key: str
    status: str
    nodes: list[str]
    epsilon: float | None
    delta: float | None
    log_indices: list[int]
    detail: dict[str, Any]


class PrivacyOut(_Out):
    statistics: dict[str, list[tuple[str, float]]]
    training: list[dict[str, Any]]


class EntryOut(_Out):
    index: int
    kind: str
    timestamp_ms: int
    payload: Any
    leaf_hash: str


class TreeHeadOut(_Out):
    log_id: str
    tree_size: int
    root_hash: str
    timestamp_ms: int  # the operator's record, not signed: witnesses' cosignatures carry time
    signature: str
    checkpoint: str  # the C2SP checkpoint note the signature is over


class LogOut(_Out):
    log_id: str
    public_key: str
    size: int
    latest_tree_head: TreeHeadOut | None


class InclusionOut(_Out):
    index: int
    tree_size: int
    leaf_hash: str
    path: list[str]
    root_hash: str


class ConsistencyOut(_Out):
    old_size: int
    new_size: int
    path: list[str]
    old_root_hash: str
    new_root_hash: str


class ProblemOut(_Out):
    """The JSON body of an API error (``application/problem+json``)."""

    title: str
    status: int
    detail: str
