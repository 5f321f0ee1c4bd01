"""Which key groups exist and who holds each: read from the trust policy.

The member-signed trust policy names ``key_groups: [{group, holders}]`` (the policy slice
adds the field to :class:`governance.policy.TrustPolicy`); :func:`key_groups` is the one
place this package reads it, so the field's final shape is reconciled here only. It
refuses what would void the property: fewer than two groups (one group would read every
contribution), a group without holders, or one holder in two groups (that holder alone
would hold two keys; a holder in every group would read everything).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from governance.ckks.ceremony import check_name
from governance.ckks.errors import KeyPackageError
from governance.keygroups.encoding import MIN_GROUPS
from governance.keygroups.errors import KeyGroupPolicyError


@dataclass(frozen=True)
class KeyGroup:
    """One key group: its name and the node ids holding its one key (for redundancy)."""

    group: str
    holders: tuple[str, ...]


def _one(entry: Any, index: int) -> KeyGroup:
    if isinstance(entry, KeyGroup):
        return entry
    if isinstance(entry, Mapping):
        group, holders = entry.get("group"), entry.get("holders")
    else:  # a pydantic model of the policy slice
        group, holders = getattr(entry, "group", None), getattr(entry, "holders", None)
    if not isinstance(group, str) or not isinstance(holders, Iterable) or isinstance(holders, str):
        raise KeyGroupPolicyError(f"key_groups[{index}] must be {{group, holders}}, got {entry!r}")
    return KeyGroup(group, tuple(str(h) for h in holders))


def check_groups(groups: Sequence[KeyGroup]) -> tuple[KeyGroup, ...]:
    """Refuse groups that cannot keep one group from reading a contribution."""
    if len(groups) < MIN_GROUPS:
        raise KeyGroupPolicyError(
            f"the trust policy names {len(groups)} key group(s); at least {MIN_GROUPS} are "
            "needed so that no single group can read a contribution"
        )
    owner: dict[str, str] = {}
    names: set[str] = set()
    for g in groups:
        try:
            check_name("key group", g.group)
        except KeyPackageError as exc:
            raise KeyGroupPolicyError(str(exc)) from None
        if g.group in names:
            raise KeyGroupPolicyError(f"key group {g.group!r} is named twice")
        names.add(g.group)
        if not g.holders:
            raise KeyGroupPolicyError(f"key group {g.group!r} has no holders")
        for holder in g.holders:
            if holder in owner:
                raise KeyGroupPolicyError(
                    f"{holder!r} holds keys of both {owner[holder]!r} and {g.group!r}: a "
                    "holder in two groups breaks their independence"
                )
            owner[holder] = g.group
    return tuple(sorted(groups, key=lambda g: g.group))


def key_groups(policy: Any) -> tuple[KeyGroup, ...]:
    """The policy's key groups (sorted by name, checked). ``policy`` is a trust policy
    model with a ``key_groups`` field, or a mapping with that key."""
    raw = (
        policy.get("key_groups")
        if isinstance(policy, Mapping)
        else getattr(policy, "key_groups", None)
    )
    if raw is None:
        raise KeyGroupPolicyError("the trust policy names no key_groups")
    return check_groups([_one(entry, i) for i, entry in enumerate(raw)])


def group_of_holder(groups: Sequence[KeyGroup], node_id: str) -> str | None:
    """The group ``node_id`` holds a key of, or None."""
    return next((g.group for g in groups if node_id in g.holders), None)
