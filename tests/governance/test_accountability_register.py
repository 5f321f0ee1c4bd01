"""``gcdt-audit verify-register`` on a real register export, untouched and tampered."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from governance.accountability import (
    AccountabilityRegister,
    ModelRef,
    RegisterIntegrityError,
    canonical_hash,
    verify_register,
)
from governance.accountability.chain import GENESIS, entry_hash
from governance.accountability.register import HASHED_FIELDS
from governance.audit_cli import EXIT_FAILED, EXIT_OK, EXIT_UNREADABLE, app
from governance.tables import migrate
from kernel.db import make_engine

runner = CliRunner()
MODEL = ModelRef("gcdt-test", "0.1.0", "sha256:" + "ab" * 32)
T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def export_lines(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Five invocations by two askers, exported as the node's operator route serves them."""
    home = tmp_path_factory.mktemp("register")
    engine = make_engine(f"sqlite:///{home / 'node.db'}")
    migrate(engine)
    register = AccountabilityRegister(engine)
    for i in range(5):
        asker = "tenant:acme" if i % 2 else "tenant:beta"
        register.record(
            MODEL,
            [{"record_id": f"R{i}", "production_t": 100.0 + i}],
            {f"R{i}": {"estimate_direct_tco2e": 1.5 * i}},
            asked_by=asker,
            at=T0 + timedelta(minutes=i),
        )
    lines = list(register.export_jsonl())
    engine.dispose()
    return lines


def _write(tmp_path: Path, lines: list[str], name: str = "register.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(lines))
    return path


def _run(*args: str) -> Any:
    return runner.invoke(app, ["verify-register", *args])


def _edited(lines: list[str], index: int, change: Callable[[dict[str, Any]], None]) -> list[str]:
    entries = [json.loads(line) for line in lines]
    change(entries[index])
    return [json.dumps(e, sort_keys=True) + "\n" for e in entries]


def _rechained(entries: list[dict[str, Any]]) -> list[str]:
    """What an operator who rewrites history would publish: a chain that verifies."""
    prev, out = GENESIS, []
    for entry in entries:
        entry = {**entry, "prev_hash": prev}
        entry["entry_hash"] = prev = entry_hash(prev, {k: entry[k] for k in HASHED_FIELDS})
        out.append(json.dumps(entry, sort_keys=True) + "\n")
    return out


def _fails(path: Path, code: str, *args: str) -> dict[str, Any]:
    result = _run(str(path), "--json", *args)
    assert result.exit_code == EXIT_FAILED, result.output
    data: dict[str, Any] = json.loads(result.output)
    assert data["ok"] is False
    assert data["problems"][0]["code"] == code
    return data


def test_the_register_records_what_the_design_names(export_lines: list[str]) -> None:
    first = json.loads(export_lines[0])
    assert (first["model_id"], first["model_version"], first["model_hash"]) == (
        MODEL.model_id,
        MODEL.version,
        MODEL.content_hash,
    )
    assert first["input_hash"] == canonical_hash([{"record_id": "R0", "production_t": 100.0}])
    assert first["asked_by"] == "tenant:beta" and first["asked_at"] == "2026-01-05T09:30:00.000000Z"
    assert first["prev_hash"] == GENESIS
    assert verify_register(export_lines) == 5


def test_untouched_export_verifies(export_lines: list[str], tmp_path: Path) -> None:
    result = _run(str(_write(tmp_path, export_lines)))
    assert result.exit_code == EXIT_OK, result.output
    assert "OK" in result.output and "5 entries" in result.output


def test_untouched_export_json_names_the_head(export_lines: list[str], tmp_path: Path) -> None:
    head = json.loads(export_lines[-1])["entry_hash"]
    result = _run(str(_write(tmp_path, export_lines)), "--json", "--head", head)
    assert result.exit_code == EXIT_OK, result.output
    data = json.loads(result.output)
    assert (data["ok"], data["entries"], data["head"], data["pinned_head"]) == (
        True,
        5,
        head,
        head,
    )


def test_an_earlier_head_is_still_in_a_longer_export(
    export_lines: list[str], tmp_path: Path
) -> None:
    earlier = json.loads(export_lines[2])["entry_hash"]
    result = _run(str(_write(tmp_path, export_lines)), "--head", earlier)
    assert result.exit_code == EXIT_OK, result.output


def test_an_empty_register_verifies(tmp_path: Path) -> None:
    result = _run(str(_write(tmp_path, [])), "--json")
    assert result.exit_code == EXIT_OK, result.output
    assert json.loads(result.output)["entries"] == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("output", "{}"),
        ("asked_by", "tenant:someone-else"),
        ("model_version", "0.2.0"),
        ("input_hash", "0" * 64),
        ("asked_at", "2026-01-05T09:31:00.000000Z"),
    ],
)
def test_an_edited_entry_fails_naming_it(
    export_lines: list[str], tmp_path: Path, field: str, value: str
) -> None:
    lines = _edited(export_lines, 2, lambda e: e.update({field: value}))
    data = _fails(_write(tmp_path, lines), "chain-broken")
    assert data["problems"][0]["where"] == "entry 2"


def test_a_removed_entry_fails(export_lines: list[str], tmp_path: Path) -> None:
    lines = export_lines[:1] + export_lines[2:]
    assert _fails(_write(tmp_path, lines), "chain-broken")["problems"][0]["where"] == "entry 1"


def test_reordered_entries_fail(export_lines: list[str], tmp_path: Path) -> None:
    lines = [export_lines[0], export_lines[2], export_lines[1], *export_lines[3:]]
    assert _fails(_write(tmp_path, lines), "chain-broken")["problems"][0]["where"] == "entry 1"


def test_an_inserted_entry_fails(export_lines: list[str], tmp_path: Path) -> None:
    lines = [*export_lines[:3], export_lines[1], *export_lines[3:]]
    assert _fails(_write(tmp_path, lines), "chain-broken")["problems"][0]["where"] == "entry 3"


def test_a_rehashed_entry_still_breaks_the_next_link(
    export_lines: list[str], tmp_path: Path
) -> None:
    def rehash(entry: dict[str, Any]) -> None:
        entry["output"] = "{}"
        entry["entry_hash"] = entry_hash(entry["prev_hash"], {k: entry[k] for k in HASHED_FIELDS})

    lines = _edited(export_lines, 1, rehash)
    assert _fails(_write(tmp_path, lines), "chain-broken")["problems"][0]["where"] == "entry 2"


def test_a_truncated_export_fails_against_a_pinned_head(
    export_lines: list[str], tmp_path: Path
) -> None:
    head = json.loads(export_lines[-1])["entry_hash"]
    path = _write(tmp_path, export_lines[:3])
    assert _run(str(path)).exit_code == EXIT_OK  # a prefix is a valid chain on its own ...
    _fails(path, "pinned-head-missing", "--head", head)  # ... but not the one published


def test_a_rewritten_history_fails_against_a_pinned_head(
    export_lines: list[str], tmp_path: Path
) -> None:
    head = json.loads(export_lines[-1])["entry_hash"]
    entries = [json.loads(line) for line in export_lines]
    entries[1]["output"] = "{}"
    path = _write(tmp_path, _rechained(entries))
    assert _run(str(path)).exit_code == EXIT_OK  # a consistent rewrite is a valid chain ...
    _fails(path, "pinned-head-missing", "--head", head)  # ... that lacks the pinned head


@pytest.mark.parametrize(
    "content", ["not json\n", "[1, 2]\n", '{"seq": 1}\n{"seq"\n'], ids=["text", "list", "cut"]
)
def test_a_malformed_export_is_unreadable(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    result = _run(str(path), "--json")
    assert result.exit_code == EXIT_UNREADABLE, result.output
    assert json.loads(result.output)["problems"][0]["code"] == "export-malformed"


def test_a_missing_export_is_unreadable(tmp_path: Path) -> None:
    assert _run(str(tmp_path / "missing.jsonl")).exit_code == EXIT_UNREADABLE


def test_verify_register_raises_on_the_first_bad_entry(export_lines: list[str]) -> None:
    lines = _edited(export_lines, 3, lambda e: e.update({"output": "[]"}))
    with pytest.raises(RegisterIntegrityError) as info:
        verify_register(lines)
    assert info.value.index == 3


def test_the_help_says_what_is_checked() -> None:
    result = runner.invoke(app, ["verify-register", "--help"])
    assert result.exit_code == 0
    assert "hash chain" in result.output and "not signed" in result.output
