"""The checked-in generated code is exactly what scripts/gen_protos.sh makes from the .proto.

A .proto edited without regenerating (or generated code edited by hand) fails here, in CI.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROTOS = REPO / "protos"


def test_regenerating_gives_no_difference(tmp_path: Path) -> None:
    subprocess.run(
        ["bash", str(REPO / "scripts" / "gen_protos.sh"), str(tmp_path)],
        check=True,
        env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    generated = sorted(p.name for p in (tmp_path / "protos").iterdir())
    checked_in = sorted(p.name for p in PROTOS.iterdir() if p.is_file() and "_pb2" in p.name)
    assert generated == checked_in, "generated file set differs: run scripts/gen_protos.sh"
    assert generated, "nothing was generated"
    for name in generated:
        assert (tmp_path / "protos" / name).read_bytes() == (PROTOS / name).read_bytes(), (
            f"protos/{name} is out of date: run scripts/gen_protos.sh and commit"
        )


def test_every_proto_declares_a_versioned_package() -> None:
    for proto in PROTOS.glob("*.proto"):
        text = proto.read_text()
        assert "package gcdt." in text and ".v1;" in text, proto
