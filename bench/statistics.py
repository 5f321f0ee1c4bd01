"""Bench: the cost of encrypted statistics against the same protocol with plaintext sums.

For 3, 10 and 30 nodes and 100 and 1,000 cells (16 values per cell, the published layout
``open_models.benchmark_cells.FIELDS``): bytes each node sends (its CKKS vector's wire
bytes, ``EncryptedVector.to_bytes``), the coordinator's time to check and sum all vectors
with the public context only (``governance.ckks.add_all``), and the ratios to plaintext
(float64 vectors, 8 bytes a value, summed with NumPy). Runs in one process: no gRPC, TLS
or envelope overhead is included (those are the same for both variants, a few hundred
bytes per message). Usage: ``.venv/bin/python bench/statistics.py [--json]``.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from governance.ckks import CkksKey, add_all, encrypt
from open_models.benchmark_cells import FIELDS

NODES = (3, 10, 30)
CELLS = (100, 1000)
REPEATS = 3


def _best(fn: object, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def run() -> list[dict[str, float | int]]:
    secret = CkksKey.create()
    public = secret.public()
    rng = np.random.default_rng(0)
    rows: list[dict[str, float | int]] = []
    for cells in CELLS:
        length = cells * len(FIELDS)
        base = [encrypt(public, rng.normal(size=length).tolist()) for _ in range(3)]
        for nodes in NODES:
            vectors = [base[i % 3] for i in range(nodes)]  # same sizes and cost as fresh ones
            plain = [rng.normal(size=length) for _ in range(nodes)]
            encrypted_bytes = len(vectors[0].to_bytes())
            plain_bytes = plain[0].astype("<f8").nbytes
            he_time = _best(lambda v=vectors: add_all(public, v), 1 if nodes == 30 else REPEATS)
            pt_time = _best(lambda p=plain: np.sum(p, axis=0))
            rows.append(
                {
                    "nodes": nodes,
                    "cells": cells,
                    "values": length,
                    "ciphertexts_per_node": len(vectors[0].chunks),
                    "bytes_per_node": encrypted_bytes,
                    "plaintext_bytes_per_node": plain_bytes,
                    "bytes_ratio": round(encrypted_bytes / plain_bytes, 1),
                    "sum_seconds": round(he_time, 4),
                    "plaintext_sum_seconds": round(pt_time, 6),
                    "time_ratio": round(he_time / pt_time, 0),
                }
            )
    return rows


def main() -> None:
    rows = run()
    if "--json" in sys.argv:
        print(json.dumps(rows, indent=1))
        return
    head = ("nodes", "cells", "cts/node", "bytes/node", "x plain", "sum s", "plain s", "x time")
    print("{:>5} {:>5} {:>8} {:>11} {:>8} {:>8} {:>9} {:>8}".format(*head))
    for r in rows:
        print(
            f"{r['nodes']:>5} {r['cells']:>5} {r['ciphertexts_per_node']:>8} "
            f"{r['bytes_per_node']:>11,} {r['bytes_ratio']:>8} {r['sum_seconds']:>8} "
            f"{r['plaintext_sum_seconds']:>9} {r['time_ratio']:>8}"
        )
    print("in-process (no gRPC/TLS); coordinator sums with the public context only")


if __name__ == "__main__":
    main()
