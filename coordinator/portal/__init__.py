"""The coordinator's transparency API (JSON) and portal (server-rendered HTML).

Everything here is read-only and public by construction: it serves what the trust has
published (models, benchmarks, the node registry's public keys, round summaries, the
transparency log and its proofs) and never a secret or a raw record value. Start it with
``gcdt-coordinator portal``.
"""

from coordinator.portal.app import create_app

__all__ = ["create_app"]
