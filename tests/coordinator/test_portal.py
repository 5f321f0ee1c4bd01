"""Transparency API and portal over a home populated by the real rounds (in process)."""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from coordinator.portal import create_app
from governance.translog import Anchors, Checkpoint, VerifierKey, verify_bundle
from governance.translog.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from governance.translog.note import open_note
from governance.translog.proofs import verify_proof
from governance.translog.tiles import decode_bundle, tiles_for_size
from open_models.benchmark_values import cbam_default_direct
from open_models.published import PublishedModel
from tests.coordinator.portal_home import (
    CANARY_PRODUCTION,
    MODEL_ID,
    PortalWorld,
    shared_portal_home,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> PortalWorld:
    return shared_portal_home(tmp_path_factory)


@pytest.fixture(scope="module")
def client(world: PortalWorld) -> TestClient:
    return TestClient(create_app(world.settings))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value and value.startswith("/"):
                self.links.append(value)


def crawl(client: TestClient) -> dict[str, bytes]:
    """Every same-origin link reachable from the home page (bodies by path)."""
    seen: dict[str, bytes] = {}
    todo = ["/"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        response = client.get(path)
        assert response.status_code == 200, f"{path} -> {response.status_code}"
        seen[path] = response.content
        if response.headers["content-type"].startswith("text/html"):
            parser = _Links()
            parser.feed(response.text)
            todo.extend(link for link in parser.links if link not in seen)
    return seen


def test_models_are_served_with_card_hash_and_downloadable_weights(
    client: TestClient, world: PortalWorld, tmp_path: Path
) -> None:
    listed = client.get("/api/models").json()
    mine = [m for m in listed if m["version"] == world.version]
    assert mine and mine[0]["content_hash"] == world.model.content_hash
    detail = client.get(f"/api/models/{MODEL_ID}/{world.version}").json()
    assert detail["card"]["federation"]["rounds"] == 2
    assert {"model.json", "weights.safetensors", "evaluation_set.json"} <= set(detail["files"])
    for name in ("model.json", "weights.safetensors"):
        response = client.get(f"/api/models/{MODEL_ID}/{world.version}/files/{name}")
        assert response.status_code == 200
        (tmp_path / name).write_bytes(response.content)
    assert PublishedModel.load(tmp_path).content_hash == world.model.content_hash
    assert client.get(f"/api/models/{MODEL_ID}/{world.version}/files/x.bin").status_code == 404
    missing = client.get("/api/models/no-such-model")
    assert missing.status_code == 404 and "no-such-model" in missing.json()["detail"]


def test_benchmarks_carry_the_cbam_default_beside_each_cell(
    client: TestClient, world: PortalWorld
) -> None:
    b = client.get(f"/api/benchmarks/{world.benchmark_id}").json()
    shown = [c for c in b["cells"] if not c["suppressed"]]
    assert shown
    for cell in shown:
        expected = cbam_default_direct(cell["product"], cell["year"])
        assert cell["cbam_default_direct_tco2e_per_t"] == pytest.approx(expected, abs=1e-6)
    for cell in b["cells"]:
        if cell["suppressed"]:
            assert "intensity_tco2e_per_t" not in cell
    page = client.get(f"/benchmarks/{world.benchmark_id}").text
    assert 'id="benchmark-intensity"' in page and "<caption>" in page


def test_node_registry_serves_ids_jurisdictions_public_keys_only(
    client: TestClient, world: PortalWorld
) -> None:
    nodes = client.get("/api/nodes").json()
    assert {n["node_id"] for n in nodes} == set(world.nodes)
    for n in nodes:
        assert set(n) == {
            "node_id",
            "jurisdiction",
            "identity_public_key",
            "transport_public_key",
            "key_holder",
            "status",
        }
        assert n["identity_public_key"] == world.nodes[n["node_id"]].public_key.hex()


def test_rounds_and_privacy_spend_come_from_the_log(client: TestClient) -> None:
    rounds = client.get("/api/rounds").json()
    stats = [r for r in rounds if r["kind"] == "statistics"]
    training = [r for r in rounds if r["kind"] == "training"]
    assert stats[0]["status"] == "published" and stats[0]["epsilon"] == 20.0
    assert [r["status"] for r in training[:2]] == ["accepted", "accepted"]
    privacy = client.get("/api/privacy").json()
    assert privacy["statistics"]["node-0"] == [["1", 20.0]]
    spent = {t["node_id"]: t["epsilon_spent"] for t in privacy["training"]}
    assert set(spent) == {"node-0", "node-1", "node-2"}
    assert all(0 < eps <= 8.0 for eps in spent.values())
    page = client.get("/rounds").text
    assert 'id="privacy-spend"' in page


def world_key(client: TestClient) -> VerifierKey:
    return VerifierKey.parse(client.get("/api/log/vkey").text)


def test_log_proofs_and_bundle_verify(client: TestClient) -> None:
    log = client.get("/api/log").json()
    head = log["latest_tree_head"]
    root = bytes.fromhex(head["root_hash"])
    proof = client.get("/api/log/proofs/inclusion", params={"index": 3}).json()
    verify_inclusion(
        3,
        proof["tree_size"],
        bytes.fromhex(proof["leaf_hash"]),
        [bytes.fromhex(h) for h in proof["path"]],
        root,
    )
    entry = client.get("/api/log/entries/3").json()
    assert entry["leaf_hash"] == proof["leaf_hash"]
    c = client.get("/api/log/proofs/consistency", params={"old_size": 2}).json()
    verify_consistency(
        2,
        c["new_size"],
        bytes.fromhex(c["old_root_hash"]),
        root,
        [bytes.fromhex(h) for h in c["path"]],
    )
    assert verify_bundle(client.get("/api/log/bundle").json(), Anchors(world_key(client))).ok
    bad = client.get("/api/log/proofs/inclusion", params={"index": 10**6})
    assert bad.status_code == 400 and bad.json()["title"] == "Bad request"


def test_log_served_as_c2sp_tiles_checkpoint_and_proofs(
    client: TestClient, world: PortalWorld
) -> None:
    """tlog-tiles: a client rebuilds the signed root from the tiles alone, with only the
    pinned key (here: the operator's, from its home, as an auditor would get out of band)."""
    vkey = world.log.verifier
    assert client.get("/api/log/vkey").text.strip() == str(vkey)
    response = client.get("/api/log/checkpoint")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "no-cache" in response.headers["cache-control"]
    note, _ = open_note(response.text, [vkey])
    checkpoint = Checkpoint.parse(note.text)
    leaves = b""
    for tile in tiles_for_size(checkpoint.size):
        if tile.level != 0:
            continue
        got = client.get(f"/api/log/{tile.path()}")
        assert got.status_code == 200 and got.headers["content-type"] == "application/octet-stream"
        cache = got.headers["cache-control"]
        assert ("immutable" in cache) == (not tile.partial)
        leaves += got.content
        bundle = client.get(f"/api/log/{tile.path().replace('tile/0/', 'tile/entries/')}")
        if bundle.status_code == 404:  # a model publication above the uint16 entry limit
            assert "65535-byte limit" in bundle.json()["detail"]
            continue
        assert [leaf_hash(e) for e in decode_bundle(bundle.content)] == [
            got.content[i : i + 32] for i in range(0, len(got.content), 32)
        ]
    tree = MerkleTree()
    for i in range(0, len(leaves), 32):
        tree.append_leaf_hash(leaves[i : i + 32])
    assert tree.root(checkpoint.size) == checkpoint.root_hash
    assert client.get("/api/log/tile/0/999").status_code == 404
    proof = client.get("/api/log/proofs/3.tlog-proof")
    assert proof.status_code == 200 and proof.text.startswith("c2sp.org/tlog-proof@v1\n")
    report = verify_proof(proof.text, Anchors(vkey))
    assert report.ok and report.index == 3, report.problems


def test_export_holds_bundle_manifest_models_and_benchmarks(
    client: TestClient, world: PortalWorld
) -> None:
    with zipfile.ZipFile(io.BytesIO(client.get("/api/export").content)) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
    assert {
        "log-bundle.json",
        "nodes.json",
        f"benchmarks/{world.benchmark_id}.json",
        f"models/{MODEL_ID}/{world.version}/weights.safetensors",
    } <= names
    assert any(m["content_hash"] == world.model.content_hash for m in manifest["models"])


def test_portal_is_read_only_and_serves_no_secret_or_record_value(
    client: TestClient, world: PortalWorld
) -> None:
    size = client.get("/api/log").json()["size"]
    bodies = crawl(client)
    for extra in (
        "/api/log/bundle",
        "/api/export",
        "/api/privacy",
        "/api/rounds",
        "/api/benchmarks",
        "/api/log/entries?start=0&limit=500",
    ):
        bodies[extra] = client.get(extra).content
    assert {"/", "/models", "/benchmarks", "/nodes", "/rounds", "/log"} <= set(bodies)
    # Zips are compressed: search their members too.
    with zipfile.ZipFile(io.BytesIO(bodies.pop("/api/export"))) as zf:
        for name in zf.namelist():
            bodies[f"export:{name}"] = zf.read(name)
    coordinator_key = (world.home / "identity" / "identity.key").read_bytes()
    secrets = {
        "coordinator key file": coordinator_key,
        "coordinator key (base64 body)": b"".join(coordinator_key.splitlines()[1:2]),
    }
    for node_id, ident in world.nodes.items():
        raw = ident.private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        secrets[f"{node_id} private key (hex)"] = raw.hex().encode()
        secrets[f"{node_id} private key (base64)"] = base64.b64encode(raw)
    canary = f"{CANARY_PRODUCTION}".encode()
    record_ids = [r.encode() for df in world.records.values() for r in df["record_id"][:20]]
    for where, body in bodies.items():
        for what, secret in secrets.items():
            assert secret not in body, f"{where} serves the {what}"
        assert canary not in body, f"{where} serves a raw record value"
        for rid in record_ids:
            assert not re.search(re.escape(rid) + rb"\b", body), f"{where} serves record {rid!r}"
    assert client.post("/api/models").status_code == 405
    assert client.get("/api/log").json()["size"] == size


def test_pages_have_headings_captions_and_text_alternatives(
    client: TestClient, world: PortalWorld
) -> None:
    page = client.get(f"/models/{MODEL_ID}/{world.version}").text
    assert "<h1>" in page and page.count("<caption>") >= 3
    assert 'role="img"' in page and '<title id="model-error-title">' in page
    # The chart's numbers are in the table beside it.
    mae = world.model.card["evaluation"]["overall"]["model"]["mae_tco2e_per_t"]
    assert f"{mae:.4g}" in page
    assert "<script" not in page
    assert client.get("/no-such-page").status_code == 404
