"""The persisted log in C2SP forms: checkpoints, tiles, entry bundles, .tlog-proof files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from governance.audit_cli import EXIT_FAILED, EXIT_OK, app
from governance.identity import Identity
from governance.tables import migrate
from governance.translog import Checkpoint, TransparencyLog, merkle
from governance.translog.note import open_note
from governance.translog.tiles import (
    TILE_WIDTH,
    Tile,
    TileError,
    decode_bundle,
    parse_tile_path,
    tiles_for_size,
)
from kernel.db import make_engine

runner = CliRunner()
SIZE = 600  # > 2 full level-0 tiles, so level 1 has a partial tile of width 2


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TransparencyLog]:
    home = tmp_path_factory.mktemp("tiles")
    engine = make_engine(f"sqlite:///{home / 'log.db'}")
    migrate(engine)
    log = TransparencyLog(engine, Identity.generate("coordinator"))
    for i in range(SIZE):
        log.append("round", {"seq": i})
    log.tree_head()
    yield log
    engine.dispose()


def test_checkpoint_is_a_c2sp_signed_note(log: TransparencyLog) -> None:
    head = log.latest_tree_head()
    assert head is not None
    note, verified = open_note(str(head.note()), [log.verifier])
    assert (
        note.text == f"gcdt/coordinator\n{SIZE}\n" + head.checkpoint().text().split("\n")[2] + "\n"
    )
    assert Checkpoint.parse(note.text).root_hash == log.root(SIZE)
    assert verified[0].key == log.verifier
    assert str(log.verifier).startswith(f"gcdt/coordinator+{log.verifier.key_id.hex()}+")


def test_tiles_rebuild_the_signed_root(log: TransparencyLog) -> None:
    tiles = list(tiles_for_size(SIZE))
    level0 = b"".join(log.tile(tile) for tile in tiles if tile.level == 0)
    leaves = [level0[i : i + 32] for i in range(0, len(level0), 32)]
    tree = merkle.MerkleTree()
    for leaf in leaves:
        tree.append_leaf_hash(leaf)
    assert tree.size == SIZE and tree.root(SIZE) == log.root(SIZE)
    level1 = log.tile(Tile(1, 0, 2))  # each hash: the root of one full level-0 tile
    assert level1[:32] == tree.root(TILE_WIDTH)
    assert level1[32:] == merkle.subtree_hash(tree, TILE_WIDTH, 2 * TILE_WIDTH)


def test_entry_bundles_hash_to_the_level0_tile(log: TransparencyLog) -> None:
    bundle = decode_bundle(log.tile(parse_tile_path("tile/entries/002.p/88")))
    assert len(bundle) == SIZE - 2 * TILE_WIDTH
    level0 = log.tile(parse_tile_path("tile/0/002.p/88"))
    assert [merkle.leaf_hash(e) for e in bundle] == [
        level0[i : i + 32] for i in range(0, len(level0), 32)
    ]
    assert json.loads(bundle[0])["payload"] == {"seq": 2 * TILE_WIDTH}


@pytest.mark.parametrize(
    "path", ["tile/0/003", "tile/0/002.p/87", "tile/0/002.p/89", "tile/2/000.p/1"]
)
def test_tiles_beyond_or_beside_the_signed_tree_are_refused(
    log: TransparencyLog, path: str
) -> None:
    with pytest.raises(TileError):
        log.tile(parse_tile_path(path))


def test_tlog_proof_verifies_offline_with_only_the_pinned_key(
    log: TransparencyLog, tmp_path: Path
) -> None:
    proof = tmp_path / "entry-300.tlog-proof"
    proof.write_text(str(log.tlog_proof(300)))
    result = runner.invoke(
        app, ["verify-proof", str(proof), "--log-key", str(log.verifier), "--json"]
    )
    assert result.exit_code == EXIT_OK, result.output
    report = json.loads(result.stdout)
    assert report["kind"] == "round" and report["payload"] == {"seq": 300}
    assert report["log_key"] == log.verifier.fingerprint
    # a changed entry no longer hashes to the signed root
    text = proof.read_text()
    forged = str(log.tlog_proof(301)).split("\n")[1]  # another entry's extra line
    tampered = tmp_path / "tampered.tlog-proof"
    tampered.write_text(text.replace(text.split("\n")[1], forged))
    result = runner.invoke(
        app, ["verify-proof", str(tampered), "--log-key", str(log.verifier), "--json"]
    )
    assert result.exit_code == EXIT_FAILED
    assert "not in the checkpointed tree" in json.loads(result.stdout)["problems"][0]["message"]


def test_an_entry_above_the_tile_limit_makes_its_bundle_unservable(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'big.db'}")
    migrate(engine)
    big = TransparencyLog(engine, Identity.generate("coordinator"))
    big.append("round", {"seq": 0})
    big.append("publication", {"blob": "x" * 70_000})
    big.tree_head()
    assert len(big.tile(parse_tile_path("tile/0/000.p/2"))) == 64  # hashes are still served
    with pytest.raises(TileError, match=r"entry 1 has .* above the 65535-byte limit"):
        big.tile(parse_tile_path("tile/entries/000.p/2"))
    engine.dispose()
