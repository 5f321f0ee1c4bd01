"""Who held keys when, as the transparency log says: for the auditors' offline tools.

A ``policy_change`` entry (``coordinator.membership.log_version``) names each member-signed
version's members (with identity keys) and key groups; a ``revocation`` entry takes a node
out. An attestation counts only if its signer held a key in the version in force before the
publication and was not revoked since: an enrolment, which the coordinator alone makes,
never makes a key holder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def key_holders_in_force(entries: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, bytes]:
    """Key holder -> identity key after ``entries`` (``(kind, payload)`` in log order)."""
    holders: dict[str, bytes] = {}
    for kind, payload in entries:
        if kind == "policy_change" and payload.get("policy") == "trust":
            holders = _holders_of(payload)
        elif kind == "revocation":
            holders.pop(str(payload.get("node_id")), None)
    return holders


def _holders_of(payload: Mapping[str, Any]) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for member in payload.get("members") or ():
        try:
            keys[str(member["node_id"])] = bytes.fromhex(str(member["identity_public_key"]))
        except (KeyError, TypeError, ValueError):
            continue
    named = {str(h) for group in payload.get("key_groups") or () for h in group.get("holders", ())}
    return {node: key for node, key in keys.items() if node in named}
