"""Read CSV, Parquet or JSON-records files into an untyped frame.

Identifier and enum columns are read as text, numbers by the fast C parser; a numeric
column holding a bad cell stays text, so the validator, not the reader, decides what a
bad cell is and can name it. An empty cell becomes NaN ("not known"), never zero.
Reader exceptions are translated to :class:`IngestError` here, at the edge.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from open_models.contract import ALL_COLUMNS, FLOAT_COLUMNS
from trust_node.errors import IngestError, IngestProblem

TEXT_COLUMNS = tuple(c for c in ALL_COLUMNS if c not in FLOAT_COLUMNS and c != "year")

Format = Literal["csv", "parquet", "json"]

SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
}


def detect_format(name: str) -> Format:
    """The file's format from its suffix; an unknown suffix is a rejection, not a guess."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        reason = f"unsupported file type {suffix!r}: use .csv, .parquet or .json"
        raise IngestError(name, [IngestProblem(None, None, reason)])
    return SUFFIXES[suffix]


def read_table(source: Path | bytes, fmt: Format, name: str | None = None) -> pd.DataFrame:
    """Read ``source`` (a path or the file's bytes) into a frame with a 0..n-1 index."""
    label = name or str(source if isinstance(source, Path) else "<upload>")
    handle: Path | io.BytesIO = source if isinstance(source, Path) else io.BytesIO(source)
    try:
        if fmt == "csv":
            frame = pd.read_csv(
                handle,
                # Identifiers and enums stay text (no "007" -> 7); numbers are parsed by
                # the C reader, and a column with a bad cell comes back as text for the
                # validator to name.
                dtype=dict.fromkeys(TEXT_COLUMNS, str),
                keep_default_na=False,
                na_values=[""],
                skipinitialspace=False,
                engine="c",
            )
        elif fmt == "parquet":
            frame = pd.read_parquet(handle)
        else:
            frame = _read_json_records(handle)
    except IngestError:
        raise
    except FileNotFoundError as exc:
        raise IngestError(label, [IngestProblem(None, None, "file not found")]) from exc
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        reason = f"cannot read as {fmt}: {str(exc).splitlines()[0] if str(exc) else exc!r}"
        raise IngestError(label, [IngestProblem(None, None, reason)]) from exc
    except Exception as exc:  # pyarrow raises its own hierarchy
        reason = f"cannot read as {fmt}: {exc}"
        raise IngestError(label, [IngestProblem(None, None, reason)]) from exc
    frame.columns = [str(c) for c in frame.columns]
    return frame.reset_index(drop=True)


def _read_json_records(handle: Path | io.BytesIO) -> pd.DataFrame:
    raw = handle.read_bytes() if isinstance(handle, Path) else handle.getvalue()
    data = json.loads(raw)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ValueError("expected a JSON array of record objects")
    frame = pd.DataFrame.from_records(data)
    # Keep JSON's own types out of the validator's way: text in, text checked.
    return frame.astype(object).where(frame.notna(), np.nan)
