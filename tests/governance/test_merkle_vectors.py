"""Every transparency-dev Merkle vector in the shared test data, one test id per file.

``inclusion/`` and ``consistency/`` are RFC 9162 proofs; ``subtreeinclusion/`` and
``subtreeconsistency/`` are the Merkle Tree Certificates draft's subtree generalisation
of the same proofs over the same tree, which :mod:`governance.translog.merkle` also implements.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from governance.translog import merkle

# transparency-dev vectors (README beside them) in shared/, which sits beside the checkout
# (locally and in CI); GCDT_MERKLE_VECTORS points elsewhere if needed.
_BESIDE_CHECKOUT = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "merkle"
VECTORS = Path(os.environ.get("GCDT_MERKLE_VECTORS", _BESIDE_CHECKOUT))


def _files(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def _ids(files: list[Path]) -> list[str]:
    return [str(f.relative_to(VECTORS)) for f in files]


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _proof(vector: dict[str, Any]) -> list[bytes]:
    return [_b64(p) for p in vector["proof"] or []]


def _check(vector: dict[str, Any], run: Any) -> None:
    if vector["wantErr"]:
        with pytest.raises(merkle.ProofError):
            run()
    else:
        run()


INCLUSION = _files("inclusion")
CONSISTENCY = _files("consistency")
SUBTREE_INCLUSION = _files("subtreeinclusion")
SUBTREE_CONSISTENCY = _files("subtreeconsistency")


def test_every_vector_directory_is_covered() -> None:
    assert VECTORS.is_dir(), f"Merkle test vectors missing at {VECTORS} (set GCDT_MERKLE_VECTORS)"
    covered = {*INCLUSION, *CONSISTENCY, *SUBTREE_INCLUSION, *SUBTREE_CONSISTENCY}
    assert covered == set(VECTORS.rglob("*.json"))
    assert len(covered) > 500
    assert any(not json.loads(f.read_text())["wantErr"] for f in covered)


@pytest.mark.parametrize("path", INCLUSION, ids=_ids(INCLUSION))
def test_inclusion_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    _check(
        v,
        lambda: merkle.verify_inclusion(
            v["leafIdx"], v["treeSize"], _b64(v["leafHash"]), _proof(v), _b64(v["root"])
        ),
    )


@pytest.mark.parametrize("path", CONSISTENCY, ids=_ids(CONSISTENCY))
def test_consistency_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    _check(
        v,
        lambda: merkle.verify_consistency(
            v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]), _proof(v)
        ),
    )


@pytest.mark.parametrize("path", SUBTREE_INCLUSION, ids=_ids(SUBTREE_INCLUSION))
def test_subtree_inclusion_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    _check(
        v,
        lambda: merkle.verify_subtree_inclusion(
            v["leafIdx"], v["start"], v["end"], _b64(v["leafHash"]), _proof(v), _b64(v["root"])
        ),
    )


@pytest.mark.parametrize("path", SUBTREE_CONSISTENCY, ids=_ids(SUBTREE_CONSISTENCY))
def test_subtree_consistency_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    _check(
        v,
        lambda: merkle.verify_subtree_consistency(
            v["start"], v["end"], v["size"], _proof(v), _b64(v["root1"]), _b64(v["root2"])
        ),
    )
