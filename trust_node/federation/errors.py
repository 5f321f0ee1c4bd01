"""Errors of the node's federated client (all :class:`~trust_node.errors.NodeError`)."""

from __future__ import annotations

from trust_node.errors import NodeError


class FederationNodeError(NodeError):
    """Root of the node's federation errors."""


class RoundMessageError(FederationNodeError):
    """A message from the coordinator is malformed or names another key or model."""


class PublishedModelRejectedError(FederationNodeError):
    """A published model failed verification (hash, attestation digest); not installed."""
