"""Attack: hand a node a trust root or a coordinator key of one's own at enrolment.

Enrolment responses travel over any channel (mail, USB, a portal). Whoever can swap the
file could make the node trust *their* root (then every "coordinator" TLS endpoint they
run is believed) or *their* identity key (then every trust policy and instruction they
sign is believed). The node must install a response only if both the trust root and the
coordinator's identity key match fingerprints its operator received out of band, and
must say which fingerprint was expected and which it got. Real ``gcdt-coordinator init``
/ ``enrol`` and ``gcdt-node init`` / ``enrol`` processes throughout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCDT_", "FLWR_"))}
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _json(*args: str) -> Any:
    done = _run(*args, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The genuine coordinator, an impostor with its own root and key, one fresh node."""
    tmp = tmp_path_factory.mktemp("pins")
    found: dict[str, Any] = {"tmp": tmp}
    for name in ("genuine", "impostor"):
        home = tmp / name
        init = _json("gcdt-coordinator", "init", "--home", str(home))
        found[name] = {
            "home": home,
            "ca": init["trust_root_fingerprint_sha256"],
            "key": init["identity_key_fingerprint_sha256"],
        }
    node = tmp / "node"
    _json("gcdt-node", "init", "--home", str(node), "--node-id", "node-a", "--jurisdiction", "IN")
    for name in ("genuine", "impostor"):
        _json(
            "gcdt-coordinator",
            "enrol",
            str(node / "enrolment" / "request.json"),
            "--home",
            str(found[name]["home"]),
            "--out",
            str(tmp / f"{name}-response.json"),
        )
    found["node"] = node
    return found


def _pins(coordinator: dict[str, Any]) -> list[str]:
    return [
        "--expect-ca-fingerprint",
        coordinator["ca"],
        "--expect-coordinator-fingerprint",
        coordinator["key"],
    ]


def _enrol(node: Path, response: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return _run("gcdt-node", "enrol", str(response), "--home", str(node), *flags)


def _nothing_installed(node: Path) -> None:
    for installed in ("tls/ca.crt", "tls/cert.pem", "coordinator.json", "policies/trust.toml"):
        assert not (node / installed).exists(), f"{installed} was installed by a refused enrolment"


def test_impostor_trust_root_refused_showing_both_fingerprints(world: dict[str, Any]) -> None:
    genuine, impostor, node = world["genuine"], world["impostor"], world["node"]
    done = _enrol(node, world["tmp"] / "impostor-response.json", *_pins(genuine))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "trust root fingerprint mismatch" in done.stderr, done.stderr
    assert f"expected {genuine['ca']}" in done.stderr and f"got {impostor['ca']}" in done.stderr
    _nothing_installed(node)


def test_impostor_coordinator_key_under_the_genuine_root_refused(world: dict[str, Any]) -> None:
    """The genuine response (genuine root, genuine certificate) with the coordinator key and
    the trust policy swapped for the impostor's: only the identity pin can catch it."""
    genuine, impostor, node = world["genuine"], world["impostor"], world["node"]
    body = json.loads((world["tmp"] / "genuine-response.json").read_text())
    impostor_response = json.loads((world["tmp"] / "impostor-response.json").read_text())
    for field in ("coordinator_identity_key", "trust_policy_toml", "trust_policy_sig"):
        body[field] = impostor_response[field]
    forged = world["tmp"] / "forged-response.json"
    forged.write_text(json.dumps(body))
    done = _enrol(node, forged, *_pins(genuine))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "coordinator identity key fingerprint mismatch" in done.stderr, done.stderr
    assert f"expected {genuine['key']}" in done.stderr and f"got {impostor['key']}" in done.stderr
    _nothing_installed(node)


@pytest.mark.parametrize("missing", ["both", "coordinator", "ca"])
def test_enrolment_without_both_pins_refused(world: dict[str, Any], missing: str) -> None:
    genuine, node = world["genuine"], world["node"]
    flags = {
        "both": [],
        "coordinator": ["--expect-ca-fingerprint", genuine["ca"]],
        "ca": ["--expect-coordinator-fingerprint", genuine["key"]],
    }[missing]
    done = _enrol(node, world["tmp"] / "genuine-response.json", *flags)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "enrolment needs" in done.stderr, done.stderr
    if missing != "ca":
        assert "--expect-coordinator-fingerprint" in done.stderr
    if missing != "coordinator":
        assert "--expect-ca-fingerprint" in done.stderr
    _nothing_installed(node)


def test_genuine_response_with_both_pins_installs(world: dict[str, Any]) -> None:
    """Runs last (file order): the refusals above left nothing, the genuine pair enrols."""
    node = world["node"]
    done = _enrol(node, world["tmp"] / "genuine-response.json", *_pins(world["genuine"]), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    enrolled = json.loads(done.stdout)
    assert enrolled["trust_root_fingerprint_sha256"] == world["genuine"]["ca"]
    assert enrolled["coordinator_identity_fingerprint_sha256"] == world["genuine"]["key"]
