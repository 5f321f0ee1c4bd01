"""The coordinator's side of the trust gRPC protocol (mutual TLS, thin servicers)."""

from coordinator.transport.handlers import TrustHandlers
from coordinator.transport.server import (
    STATUS_MAP,
    TrustServer,
    TrustServicer,
    make_handlers,
    start_server,
    status_for,
)

__all__ = [
    "STATUS_MAP",
    "TrustHandlers",
    "TrustServer",
    "TrustServicer",
    "make_handlers",
    "start_server",
    "status_for",
]
