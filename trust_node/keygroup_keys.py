"""This node's key-group material: the groups' public keys it shares contributions under,
and, for a holder, its own group's sealed key package.

Kept apart from the single-key CKKS material (``keys/public``, ``keys/<period>``) under
``keys/keygroups/``: public keys as the ceremony released them (verified again at every
load against the ceremony identity key recorded beside them), packages exactly as sealed
(0600, opened again at every load with the node's transport key). How the material
reaches the node over the trust protocol (``fetch-keys`` for groups) is not built yet;
:func:`install_public_key` and :func:`install_package` are what that step will call.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path

from governance.ckks import CkksError
from governance.identity import write_secret
from governance.keygroups import (
    BfvKey,
    GroupKeyPackage,
    GroupPublicKey,
    KeyGroup,
    open_group_package,
    open_group_public_key,
)
from kernel import paths
from trust_node.errors import NodeSetupError
from trust_node.node_setup import NodeState

GROUPS_DIR = "keygroups"


def _public_dir(state: NodeState) -> Path:
    return state.layout.keys_dir / GROUPS_DIR / "public"


def _custody_dir(state: NodeState) -> Path:
    return state.layout.keys_dir / GROUPS_DIR / "custody"


def install_public_key(state: NodeState, release: GroupPublicKey, ceremony_key: bytes) -> BfvKey:
    """Verify a group's public key under ``ceremony_key`` and keep it."""
    try:
        key = open_group_public_key(release, ceremony_public_key=ceremony_key)
    except CkksError as exc:
        raise NodeSetupError(f"public key of group {release.group!r} refused: {exc}") from exc
    path = paths.within(_public_dir(state), f"{key.key_id}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "ceremony_identity_key": ceremony_key.hex(),
                "release": base64.b64encode(release.to_bytes()).decode("ascii"),
            }
        )
    )
    return key


def public_key(state: NodeState, key_id: str) -> BfvKey:
    """The installed, re-verified public key of ``key_id`` (a group's)."""
    path = paths.within(_public_dir(state), f"{paths.identifier(key_id, 'key id')}.json")
    if not path.exists():
        raise NodeSetupError(f"node {state.node_id!r} has no key-group public key {key_id}")
    body = json.loads(path.read_text())
    try:
        release = GroupPublicKey.from_bytes(base64.b64decode(body["release"]))
        return open_group_public_key(
            release, ceremony_public_key=bytes.fromhex(body["ceremony_identity_key"])
        )
    except (CkksError, KeyError, ValueError) as exc:
        raise NodeSetupError(f"installed key-group public key {key_id} refused: {exc}") from exc


def public_keys(state: NodeState, key_ids: Sequence[str]) -> list[BfvKey]:
    """The groups' public keys a round names, in its order; two of one group are refused."""
    keys = [public_key(state, k) for k in key_ids]
    groups = [k.group for k in keys]
    if len(set(groups)) != len(groups):
        raise NodeSetupError(f"a round names two keys of one key group: {groups}")
    return keys


def install_package(
    state: NodeState, package: GroupKeyPackage, group: KeyGroup, ceremony_key: bytes
) -> BfvKey:
    """Open (so verify) this holder's package of ``group`` and keep it sealed, 0600."""
    key = _open(state, package, group, ceremony_key)
    body = {
        "ceremony_identity_key": ceremony_key.hex(),
        "group": group.group,
        "holders": list(group.holders),
        "package": base64.b64encode(package.to_bytes()).decode("ascii"),
    }
    write_secret(
        paths.within(_custody_dir(state), f"{key.key_id}.keypkg"), json.dumps(body).encode()
    )
    return key


def secret_key(state: NodeState, key_id: str) -> BfvKey:
    """This holder's group key ``key_id``, re-opened from its sealed package."""
    path = paths.within(_custody_dir(state), f"{paths.identifier(key_id, 'key id')}.keypkg")
    if not path.exists():
        raise NodeSetupError(f"node {state.node_id!r} holds no key-group key {key_id}")
    body = json.loads(path.read_bytes())
    package = GroupKeyPackage.from_bytes(base64.b64decode(body["package"]))
    group = KeyGroup(str(body["group"]), tuple(str(h) for h in body["holders"]))
    return _open(state, package, group, bytes.fromhex(body["ceremony_identity_key"]))


def _open(
    state: NodeState, package: GroupKeyPackage, group: KeyGroup, ceremony_key: bytes
) -> BfvKey:
    try:
        return open_group_package(
            package,
            node_id=state.node_id,
            group=group,
            transport_key=state.transport_key(),
            ceremony_public_key=ceremony_key,
        )
    except CkksError as exc:
        raise NodeSetupError(f"key-group package {package.key_id} refused: {exc}") from exc
