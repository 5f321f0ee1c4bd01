"""Putting a new version of a policy in force: the one path for node and trust policies.

An edited file is validated, must raise the version (no silent rollback), is signed by the
party's identity and installed atomically beside its detached signature, so a reader never
sees a new policy with an old signature or the reverse.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import tomllib
from pathlib import Path
from typing import Literal

from governance.errors import PolicyError
from governance.identity import Identity
from governance.policy.files import load_policy, parse_policy, sign_policy, signature_path
from governance.policy.models import NodePolicy, TrustPolicy


def install_policy(
    edited: Path,
    target: Path,
    kind: Literal["node", "trust"],
    identity: Identity,
    current_version: int,
) -> NodePolicy | TrustPolicy:
    """Validate ``edited``, sign it with ``identity`` and atomically replace ``target``."""
    try:
        proposed = parse_policy(tomllib.loads(edited.read_text()), kind, edited)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"cannot read as TOML: {exc}", path=edited) from exc
    if proposed.version <= current_version:
        raise PolicyError(
            f"version must increase: {proposed.version} <= {current_version} in force",
            path=edited,
        )
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        staged = Path(tmp) / target.name
        shutil.copyfile(edited, staged)
        sign_policy(staged, identity)
        policy = load_policy(staged, kind, identity.public_key, min_version=current_version + 1)
        os.replace(signature_path(staged), signature_path(target))
        os.replace(staged, target)
    return policy
