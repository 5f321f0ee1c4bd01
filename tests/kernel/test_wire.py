"""Each wire's names are defined once, in ``kernel.wire``, and its framing round-trips.

The node and the coordinator never import each other; if either defined a wire name of
its own, the two could drift apart without any import failing. The scan below reads
every module of both sides and fails on a module-level constant that redefines a
``kernel.wire`` name, or that both sides define with the same value.
"""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from governance.ckks import CkksKey, encrypt
from governance.identity import Identity
from governance.policy import default_node_policy
from kernel.wire import flower, trust
from trust_node.context import ENGINES
from trust_node.egress import EgressGuard, Outbound, SqlRefusalLog

ROOT = Path(__file__).resolve().parents[2]
WIRE_MODULES = (flower, trust)


def _wire_names() -> dict[str, object]:
    names: dict[str, object] = {}
    for module in WIRE_MODULES:
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str | int | tuple):
                names[name] = value
    return names


def _module_constants(package: str) -> dict[tuple[str, object], list[str]]:
    """(name, literal value) -> modules of ``package`` assigning it at module level."""
    found: dict[tuple[str, object], list[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            targets: list[ast.expr] = []
            value: ast.expr | None = None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            if not isinstance(value, ast.Constant) or not isinstance(value.value, str | int):
                continue
            for target in targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    where = str(path.relative_to(ROOT))
                    found.setdefault((target.id, value.value), []).append(where)
    return found


def test_no_side_redefines_a_wire_name() -> None:
    wire = _wire_names()
    for package in ("trust_node", "coordinator"):
        for (name, value), modules in _module_constants(package).items():
            assert not (name in wire and wire[name] == value), (
                f"{name} = {value!r} is defined in {modules}; import it from kernel.wire"
            )


def test_no_constant_is_defined_on_both_sides() -> None:
    node = _module_constants("trust_node")
    coordinator = _module_constants("coordinator")
    both = sorted(set(node) & set(coordinator), key=str)
    assert not both, [
        (name_value, node[name_value], coordinator[name_value]) for name_value in both
    ]


@pytest.mark.parametrize(
    ("module", "name", "source"),
    [
        ("trust_node.transport.serde", "METHODS", trust),
        ("coordinator.transport.serde", "METHODS", trust),
        ("trust_node.transport.serde", "submission_outbound_kind", trust),
        ("coordinator.transport.serde", "submission_outbound_kind", trust),
        ("trust_node.transport.client", "SERVICE", trust),
        ("trust_node.statistics.flow", "ROUND_KIND", trust),
        ("coordinator.statistics.service", "ROUND_KIND", trust),
        ("trust_node.federation.mods", "wire", None),
        ("coordinator.federation.rounds", "wire", None),
    ],
)
def test_each_side_uses_the_one_module(module: str, name: str, source: Any) -> None:
    used = getattr(importlib.import_module(module), name)
    if source is None:
        assert used is flower
    elif name == "ROUND_KIND":
        assert used is trust.STATISTICS_ROUND
    else:
        assert used is getattr(source, name)


def test_submission_kind_follows_the_round_kind() -> None:
    assert trust.submission_outbound_kind(trust.STATISTICS_ROUND) == trust.CIPHERTEXT_STATISTICS
    assert trust.submission_outbound_kind("training") == trust.CIPHERTEXT_UPDATE
    assert trust.METHODS["Submit"][1] == trust.CIPHERTEXT_STATISTICS


def test_frame_round_trips() -> None:
    frame = flower.ReleasedFrame(
        envelope={"v": 1, "signer_id": "node-a"},
        ciphertexts=(b"\x00\x01binary", b""),
        attestations=({"v": 1, "kind": "attestation"},),
        key_packages=("package-text",),
    )
    assert flower.frame_from_bytes(flower.frame_to_bytes(frame)) == frame


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "no released frame"),
        (b"\xff", "not JSON"),
        (b"[]", "not a JSON object"),
        (b"{}", "no signed envelope"),
        (json.dumps({"envelope": {}, "ciphertexts": ["zz"]}).encode(), "not hex"),
        (json.dumps({"envelope": {}, "ciphertexts": [1]}).encode(), "'ciphertexts'"),
        (json.dumps({"envelope": {}, "attestations": ["x"]}).encode(), "'attestations'"),
        (json.dumps({"envelope": {}, "key_packages": [{}]}).encode(), "'key_packages'"),
    ],
)
def test_a_bad_frame_is_refused_by_name(raw: object, message: str) -> None:
    with pytest.raises(flower.FrameError, match=message):
        flower.frame_from_bytes(raw)


def test_what_the_node_releases_is_what_the_coordinator_reads(tmp_path: Path) -> None:
    """Node ``Released.to_bytes`` -> Flower record -> the coordinator's frame reader."""
    from flwr.app import ConfigRecord

    from coordinator.federation.rounds import _released

    key = CkksKey.create()
    guard = EgressGuard(
        default_node_policy("node-a", "IN"),
        Identity.generate("node-a"),
        refusals=SqlRefusalLog(ENGINES.engine(f"sqlite:///{tmp_path / 'node.sqlite'}")),
        public_key=key.public(),
    )
    vector = encrypt(key.public(), [1.0, 2.0])
    released = guard.check(
        Outbound(
            trust.CIPHERTEXT_UPDATE,
            flower.UPDATE_METHOD,
            round_id=1,
            ciphertexts=(vector,),
            metadata={"node_id": "node-a", "round_id": 1, "key_id": vector.key_id},
        )
    )
    frame = _released(ConfigRecord({flower.EGRESS: released.to_bytes()}))
    assert frame == released.to_frame()
    assert frame.envelope == released.envelope.to_json()
    assert frame.ciphertexts == (vector.to_bytes(),)
