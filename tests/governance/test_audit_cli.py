"""``gcdt-audit verify-log`` on real exported bundles, untouched and tampered."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from governance.audit_cli import EXIT_FAILED, EXIT_OK, EXIT_UNREADABLE, app
from governance.identity import Identity
from governance.tables import migrate
from governance.translog import EntryKind, TransparencyLog
from kernel.db import make_engine

runner = CliRunner()

KINDS = [
    EntryKind.ENROLMENT,
    EntryKind.POLICY_CHANGE,
    EntryKind.KEY_CEREMONY,
    EntryKind.ROUND,
    EntryKind.SUBMISSION_DIGEST,
    EntryKind.ATTESTATION,
    EntryKind.PUBLICATION,
    EntryKind.CONSENT_CHANGE,
    EntryKind.REFUSAL,
]


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-entry log with tree heads signed at sizes 4, 9 and 12."""
    home = tmp_path_factory.mktemp("audit")
    engine = make_engine(f"sqlite:///{home / 'kernel.db'}")
    migrate(engine)
    log = TransparencyLog(engine, Identity.generate("coordinator"))
    for i in range(12):
        log.append(KINDS[i % len(KINDS)], {"seq": i, "digest": f"{i:064x}", "node": "de-1"})
        if i in (3, 8):
            log.tree_head()
    path = log.export_bundle(home / "bundle.json")
    (home / "log.vkey").write_text(str(log.verifier) + "\n")
    engine.dispose()
    return path


def _vkey(bundle_path: Path) -> str:
    """The operator key the auditor pinned (written beside the bundle by the fixture)."""
    return (bundle_path.parent / "log.vkey").read_text().strip()


PINNED: dict[str, str] = {}


def _run(*args: str, pin: bool = True) -> Any:
    extra = ["--log-key", PINNED["key"]] if pin and "verify-log" in args else []
    return runner.invoke(app, [*args, *extra])


@pytest.fixture(autouse=True)
def _pin(bundle_path: Path) -> None:
    PINNED["key"] = _vkey(bundle_path)


def _tampered(bundle_path: Path, tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    data = json.loads(bundle_path.read_text())
    change(data)
    out = tmp_path / "tampered.json"
    out.write_text(json.dumps(data))
    return out


def _flip_hex(value: str, at: int = 0) -> str:
    return value[:at] + format(int(value[at], 16) ^ 1, "x") + value[at + 1 :]


def test_valid_bundle_passes(bundle_path: Path) -> None:
    result = _run("verify-log", str(bundle_path))
    assert result.exit_code == EXIT_OK, result.output
    assert "OK" in result.output and "12 entries" in result.output


def test_valid_bundle_json(bundle_path: Path) -> None:
    result = _run("verify-log", str(bundle_path), "--json")
    assert result.exit_code == EXIT_OK
    data = json.loads(result.output)
    assert data["ok"] is True
    assert (data["entries"], data["tree_heads"], data["tree_size"]) == (12, 3, 12)


def _fails_naming(path: Path, expected: str, code: str) -> dict[str, Any]:
    human = _run("verify-log", str(path))
    assert human.exit_code == EXIT_FAILED, human.output
    assert expected in human.output
    result = _run("verify-log", str(path), "--json")
    assert result.exit_code == EXIT_FAILED
    data: dict[str, Any] = json.loads(result.output)
    assert data["ok"] is False
    assert data["problems"][0]["code"] == code
    assert expected in data["problems"][0]["message"]
    return data


def test_one_byte_of_payload(bundle_path: Path, tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        digest = d["entries"][5]["payload"]["digest"]
        d["entries"][5]["payload"]["digest"] = digest[:-1] + ("1" if digest[-1] != "1" else "2")

    data = _fails_naming(
        _tampered(bundle_path, tmp_path, change), "entry 5 (attestation)", "leaf-hash-mismatch"
    )
    assert data["problems"][0]["entry_index"] == 5


def test_one_byte_of_kind_or_timestamp(bundle_path: Path, tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["entries"][7]["timestamp_ms"] += 1

    _fails_naming(_tampered(bundle_path, tmp_path, change), "entry 7", "leaf-hash-mismatch")

    def change_kind(d: dict[str, Any]) -> None:
        d["entries"][2]["kind"] = "refusal"

    _fails_naming(
        _tampered(bundle_path, tmp_path, change_kind), "entry 2 (refusal)", "leaf-hash-mismatch"
    )


def test_one_byte_of_leaf_hash(bundle_path: Path, tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["entries"][9]["leaf_hash"] = _flip_hex(d["entries"][9]["leaf_hash"], 10)

    _fails_naming(
        _tampered(bundle_path, tmp_path, change), "entry 9 (enrolment)", "leaf-hash-mismatch"
    )


def test_one_byte_of_checkpoint_signature(bundle_path: Path, tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        text, sig = d["tree_heads"][1]["checkpoint"].rsplit(" ", 1)
        flipped = "A" if sig[12] != "A" else "B"
        d["tree_heads"][1]["checkpoint"] = f"{text} {sig[:12]}{flipped}{sig[13:]}"

    data = _fails_naming(
        _tampered(bundle_path, tmp_path, change),
        "checkpoint #1: signature by",
        "checkpoint-invalid",
    )
    assert data["problems"][0]["tree_head"] == 1


def test_checkpoint_root_changed(bundle_path: Path, tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["tree_heads"][0]["root_hash"] = _flip_hex(d["tree_heads"][0]["root_hash"])

    _fails_naming(
        _tampered(bundle_path, tmp_path, change), "checkpoint #0", "checkpoint-mislabelled"
    )

    def change_signed(d: dict[str, Any]) -> None:
        lines = d["tree_heads"][0]["checkpoint"].split("\n")
        lines[1] = "5"  # the signed size
        d["tree_heads"][0]["checkpoint"] = "\n".join(lines)

    _fails_naming(
        _tampered(bundle_path, tmp_path, change_signed), "checkpoint #0", "checkpoint-invalid"
    )


def test_truncation(bundle_path: Path, tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        del d["entries"][10:]

    data = _fails_naming(
        _tampered(bundle_path, tmp_path, change), "entries 10..11 are missing", "entries-missing"
    )
    assert data["problems"][0]["entry_index"] == 10


def test_truncation_in_the_middle(bundle_path: Path, tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        del d["entries"][6]

    _fails_naming(
        _tampered(bundle_path, tmp_path, change), "entry 7 (consent_change)", "entry-out-of-order"
    )


def test_reordering(bundle_path: Path, tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        e = d["entries"]
        e[2], e[3] = e[3], e[2]

    _fails_naming(_tampered(bundle_path, tmp_path, change), "entry 3 (round)", "entry-out-of-order")


def test_reordering_with_renumbered_indices(bundle_path: Path, tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        e = d["entries"]
        e[2], e[3] = e[3], e[2]
        e[2]["index"], e[3]["index"] = 2, 3

    # The leaf commits to its index, so the moved entry's own hash names it.
    _fails_naming(_tampered(bundle_path, tmp_path, change), "entry 2 (round)", "leaf-hash-mismatch")


def test_rehashed_forgery_is_caught_by_signed_root(bundle_path: Path, tmp_path: Path) -> None:
    from governance.translog.records import LogEntry

    def change(d: dict[str, Any]) -> None:
        raw = d["entries"][10]
        raw["payload"]["node"] = "fr-9"
        forged = LogEntry(
            raw["index"],
            raw["kind"],
            raw["timestamp_ms"],
            json.dumps(raw["payload"]).encode(),
            b"",
        )
        raw["leaf_hash"] = forged.computed_leaf_hash().hex()

    data = _fails_naming(
        _tampered(bundle_path, tmp_path, change), "entry 9 (enrolment)", "sth-root-mismatch"
    )
    assert "9..11" in data["problems"][0]["message"]


def test_unsigned_tail(bundle_path: Path, tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        del d["tree_heads"][2]

    _fails_naming(
        _tampered(bundle_path, tmp_path, change), "entry 9 (enrolment)", "entries-unsigned"
    )


def test_rollback_of_tree_heads(bundle_path: Path, tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        h = d["tree_heads"]
        h[0], h[1] = h[1], h[0]

    _fails_naming(
        _tampered(bundle_path, tmp_path, change), "checkpoint #1 (size 4)", "sth-goes-back"
    )


def test_wrong_pinned_key_fails_and_the_bundle_claim_is_ignored(
    bundle_path: Path, tmp_path: Path
) -> None:
    from governance.translog import log_verifier

    mallory = str(log_verifier("coordinator", Identity.generate("mallory").public_key))

    def change(d: dict[str, Any]) -> None:
        d["log_vkey"] = mallory  # the bundle's claim changes nothing: the pinned key rules

    assert _run("verify-log", str(_tampered(bundle_path, tmp_path, change))).exit_code == 0
    result = runner.invoke(app, ["verify-log", str(bundle_path), "--log-key", mallory, "--json"])
    assert result.exit_code == EXIT_FAILED
    data = json.loads(result.output)
    assert data["problems"][0]["code"] == "checkpoint-unsigned"
    assert data["log_key"] == "+".join(mallory.split("+")[:2])


def test_no_pinned_key_is_refused(bundle_path: Path) -> None:
    result = _run("verify-log", str(bundle_path), "--json", pin=False)
    assert result.exit_code == EXIT_UNREADABLE
    assert "no pinned log key" in result.output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json", "not a readable JSON log bundle"),
        ("[]", "a log bundle is a JSON object"),
        ('{"format": "other"}', "bundle.format"),
    ],
)
def test_unreadable_bundle(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = _run("verify-log", str(path), "--json")
    assert result.exit_code == EXIT_UNREADABLE
    assert expected in json.loads(result.output)["problems"][0]["message"]


def test_malformed_entry_field_is_named(bundle_path: Path, tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["entries"][4]["leaf_hash"] = "zz"

    result = _run("verify-log", str(_tampered(bundle_path, tmp_path, change)))
    assert result.exit_code == EXIT_UNREADABLE
    assert "entries[4].leaf_hash" in result.output
