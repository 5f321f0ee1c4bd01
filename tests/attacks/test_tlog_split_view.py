"""Attack: the operator rewrites its log after an auditor saw a checkpoint (a split view).

The operator holds the genuine log key, so a rewritten history is *signed*: a bundle of
the rewritten log verifies on its own against the pinned key. What catches it is the
checkpoint the auditor kept from before: ``gcdt-audit verify-log --since`` builds an
RFC 9162 consistency proof from the rewritten bundle's leaves and checks it against the
auditor's old root, which the rewrite cannot match; a checkpoint of the same size with a
different root is named a split view. On main (a11d848) there was no way to give an
earlier checkpoint, and the consistency check proved the bundle against itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from governance.audit_cli import EXIT_FAILED, EXIT_OK, app
from governance.identity import Identity
from governance.tables import migrate
from governance.translog import TransparencyLog
from kernel.db import make_engine

runner = CliRunner()


def _log(path: Path, operator: Identity) -> TransparencyLog:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return TransparencyLog(engine, operator)


def _fill(log: TransparencyLog, count: int, *, forged_at: int | None = None) -> None:
    for i in range(count):
        intensity = 0.30 if i == forged_at else 1.95
        log.append("publication", {"seq": i, "bf_bof_intensity": intensity})


def _verify(bundle: Path, vkey: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["verify-log", str(bundle), "--log-key", vkey, *extra, "--json"])
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def operator() -> Identity:
    return Identity.generate("coordinator")


def test_rewritten_history_fails_against_the_earlier_checkpoint(
    operator: Identity, tmp_path: Path
) -> None:
    genuine = _log(tmp_path / "genuine.db", operator)
    _fill(genuine, 6)
    seen = tmp_path / "seen.checkpoint"
    seen.write_text(str(genuine.tree_head().note()))  # what the auditor kept at size 6
    vkey = str(genuine.verifier)

    # later, the operator presents a rewritten log: entry 2 changed, then grown to 9
    rewritten = _log(tmp_path / "rewritten.db", operator)
    _fill(rewritten, 9, forged_at=2)
    bundle = rewritten.export_bundle(tmp_path / "rewritten.json")

    code, alone = _verify(bundle, vkey)
    assert code == EXIT_OK, alone  # signed by the genuine key: fine on its own
    code, report = _verify(bundle, vkey, "--since", str(seen))
    assert code == EXIT_FAILED, report
    assert report["problems"][0]["code"] == "since-inconsistent", report
    assert "size 6" in report["problems"][0]["message"]

    # the genuine log, grown honestly, passes the same check
    _fill(genuine, 3)
    honest = genuine.export_bundle(tmp_path / "honest.json")
    code, report = _verify(honest, vkey, "--since", str(seen))
    assert code == EXIT_OK, report
    assert report["since_size"] == 6


def test_same_size_different_root_is_a_split_view(operator: Identity, tmp_path: Path) -> None:
    genuine = _log(tmp_path / "genuine.db", operator)
    _fill(genuine, 5)
    seen = tmp_path / "seen.checkpoint"
    seen.write_text(str(genuine.tree_head().note()))
    other = _log(tmp_path / "other.db", operator)
    _fill(other, 5, forged_at=4)
    code, report = _verify(
        other.export_bundle(tmp_path / "other.json"), str(genuine.verifier), "--since", str(seen)
    )
    assert code == EXIT_FAILED and report["problems"][0]["code"] == "split-view", report


def test_a_shorter_log_than_the_one_seen_is_a_rollback(operator: Identity, tmp_path: Path) -> None:
    genuine = _log(tmp_path / "genuine.db", operator)
    _fill(genuine, 4)
    early = genuine.export_bundle(tmp_path / "early.json")
    _fill(genuine, 4)
    seen = tmp_path / "seen.checkpoint"
    seen.write_text(str(genuine.tree_head().note()))
    code, report = _verify(early, str(genuine.verifier), "--since", str(seen))
    assert code == EXIT_FAILED and report["problems"][0]["code"] == "since-rollback", report


def test_an_earlier_checkpoint_signed_by_another_key_is_refused(
    operator: Identity, tmp_path: Path
) -> None:
    genuine = _log(tmp_path / "genuine.db", operator)
    _fill(genuine, 3)
    bundle = genuine.export_bundle(tmp_path / "b.json")
    mallory = _log(tmp_path / "m.db", Identity.generate("coordinator"))
    _fill(mallory, 3)
    seen = tmp_path / "seen.checkpoint"
    seen.write_text(str(mallory.tree_head().note()))
    code, report = _verify(bundle, str(genuine.verifier), "--since", str(seen))
    assert code == EXIT_FAILED and report["problems"][0]["code"] == "since-invalid", report
