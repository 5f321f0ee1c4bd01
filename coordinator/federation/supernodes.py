"""Which Flower SuperNode belongs to which enrolled node, so a revocation can remove it.

Flower 1.41's SuperLink knows SuperNodes by the auth public key registered with ``flwr
supernode register`` and names them by a numeric node id; it knows nothing of our node
ids. ``register_supernode`` therefore keeps ``GCDT_HOME/flower/supernodes.json`` (our node
id -> Flower node id), and revoking a node unregisters its SuperNode (``flwr supernode
unregister``, the Control API's ``UnregisterNode``): the SuperLink then refuses that
SuperNode and sends it no more ``train`` or ``evaluate`` messages.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from kernel.settings import FLOWER_DIR

REGISTRY_FILE = "supernodes.json"


def registry_path(home: Path) -> Path:
    """Where the coordinator keeps the SuperNode registry (beside Flower's own state)."""
    return home / FLOWER_DIR / REGISTRY_FILE


def registered(home: Path) -> dict[str, str]:
    """Our node id -> Flower node id of every SuperNode registered and not yet removed."""
    path = registry_path(home)
    if not path.exists():
        return {}
    body = json.loads(path.read_text("utf-8"))
    return {str(k): str(v) for k, v in dict(body).items()}


def _write(home: Path, entries: dict[str, str]) -> None:
    path = registry_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{REGISTRY_FILE}.")
    with os.fdopen(fd, "w") as out:
        json.dump(entries, out, indent=2, sort_keys=True)
    os.replace(tmp, path)


def remember(home: Path, node_id: str, flower_node_id: str) -> None:
    """Record that ``node_id``'s SuperNode is Flower node ``flower_node_id``."""
    _write(home, {**registered(home), node_id: flower_node_id})


def forget(home: Path, node_id: str) -> None:
    """Drop ``node_id`` from the registry (its SuperNode was unregistered)."""
    entries = registered(home)
    entries.pop(node_id, None)
    _write(home, entries)
