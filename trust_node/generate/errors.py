"""Errors of the demo-data generator.

``GenerateError`` derives from :class:`trust_node.errors.NodeError` so the CLI shows its
message like any other node error (bad jurisdiction code, bad year range, unknown file
type) instead of a traceback.
"""

from __future__ import annotations

from trust_node.errors import NodeError


class GenerateError(NodeError):
    """The generator was asked for something it cannot produce; the message says what."""
