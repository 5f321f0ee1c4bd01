"""Write generated records in the three formats the node ingests.

The format follows the file suffix, like ingest does, so ``generate`` and ``ingest`` agree on
names. Empty optional cells stay empty: CSV writes an empty cell and JSON writes ``null``
(never ``0`` or ``"nan"``), because the contract reads an empty cell as "not known".
JSON numbers carry 10 decimal places (more than any generated figure is rounded to).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pandas as pd

from trust_node.generate.errors import GenerateError

SUFFIXES: Final = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json"}


def write_records(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` to ``path`` as CSV, Parquet or JSON records (by suffix); return the path."""
    path = Path(path)
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise GenerateError(
            f"{path}: unsupported file type {path.suffix!r}: use .csv, .parquet or .json"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            df.to_csv(path, index=False, na_rep="")
        elif fmt == "parquet":
            df.to_parquet(path, index=False)
        else:
            df.to_json(path, orient="records", double_precision=10)
    except OSError as exc:
        raise GenerateError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    return path
