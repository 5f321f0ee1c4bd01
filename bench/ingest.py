"""Ingest throughput against pandas' bare ``read_csv`` of the same file, in one run.

    .venv/bin/python bench/ingest.py [--rows 100000 1000000] [--database-url URL]

For each size: generate the data set (seeded), write it as CSV, time a bare
``pandas.read_csv``, then time a full ingest (read + validate + store in one
transaction) into a fresh store, and print records/s and the ratio ingest/read.
Default store is a fresh SQLite file; pass a PostgreSQL URL to measure that backend
(the database should be empty).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pandas as pd

from trust_node.generate import generate, write_records
from trust_node.ingest import ingest_file
from trust_node.ingest.read import read_table
from trust_node.ingest.schema import validate_records
from trust_node.store import SqlRecordRepository

T = TypeVar("T")


def _timed(action: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def run(rows: int, workdir: Path, database_url: str | None) -> dict[str, float]:
    jurisdictions = 10
    data = generate(jurisdictions, records=rows // jurisdictions, seed=7)
    path = write_records(data.records, workdir / f"records-{rows}.csv")
    _, bare = _timed(lambda: pd.read_csv(path))
    frame, read = _timed(lambda: read_table(path, "csv"))
    _, validate = _timed(lambda: validate_records(frame, path.name))
    url = database_url or f"sqlite:///{workdir / f'bench-{rows}.sqlite'}"
    repo = SqlRecordRepository.from_url(url)
    receipt, total = _timed(lambda: ingest_file(path, repo, tenant_id=f"bench{rows}"))
    assert receipt.rows == len(data.records)
    return {
        "rows": float(len(data.records)),
        "bare_read_s": bare,
        "read_s": read,
        "validate_s": validate,
        "ingest_s": total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(
        f"{'rows':>10} {'read_csv s':>11} {'ingest s':>9} {'ingest rec/s':>13} "
        f"{'ratio':>7}   (ingest = read {'+'} validate {'+'} store; validate alone)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            r = run(rows, Path(tmp), args.database_url)
            print(
                f"{int(r['rows']):>10} {r['bare_read_s']:>11.2f} {r['ingest_s']:>9.2f} "
                f"{r['rows'] / r['ingest_s']:>13,.0f} {r['ingest_s'] / r['bare_read_s']:>6.1f}x"
                f"   (read {r['read_s']:.2f} s, validate {r['validate_s']:.2f} s)"
            )


if __name__ == "__main__":
    main()
