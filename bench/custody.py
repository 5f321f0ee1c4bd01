"""Key-group custody (BFV additive shares, K groups) beside single-key CKKS, side by side.

    .venv/bin/python bench/custody.py [--sizes 10,100,1000] [--seeds 3] [--groups 2]
        [--length 1530] [--json]

For each number of contributions n and each seed, both custodies process the same n
update vectors of ``--length`` values (default: the open model's 1,529 weights plus the
record count, one training update):

* bytes per node per round: what one node sends (CKKS: one vector; key groups: one share
  per group);
* node time: CKKS encrypt vs. fixed-point encode + split + encrypt K shares (no DP noise:
  its cost is the privacy slice's and equal in both);
* coordinator sum time: CKKS ``add_all`` over n vs. ``add_shares`` over n for every group;
* key-holder verify-and-decrypt time: what one key holder does before it attests (the
  steps of ``trust_node.attestation.verify``: check each listed submission's Ed25519
  signature over its ciphertext digest, recompute the sum from the listed ciphertexts,
  compare digests, decrypt). Under key groups each holder does this for its own group's
  n shares; ``all groups`` is the sum over one holder per group.

Ratios are key groups / CKKS. Timings are the median over seeds, on whatever this machine
is doing at the time (2 shared cores here): compare ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from governance.ckks import CkksKey, EncryptedVector, add_all, decrypt, encrypt
from governance.identity import Identity, verify_signature
from governance.keygroups import (
    BfvKey,
    Encoding,
    add_shares,
    decrypt_share,
    share_contribution,
)

T = TypeVar("T")
DEFAULT_LENGTH = 1530  # open_models.network.parameter_count(FeatureSpec()) + record count


def _median(values: Iterable[float]) -> float:
    """Median (numpy: ``bench/statistics.py`` shadows the stdlib module when run as a script)."""
    return float(np.median(list(values)))


def _timed(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


@dataclass
class Signed:
    vector: EncryptedVector
    digest: bytes
    signature: bytes
    public_key: bytes


def _sign(ident: Identity, vector: EncryptedVector) -> Signed:
    digest = hashlib.sha256(vector.to_bytes()).digest()
    return Signed(vector, digest, ident.sign(digest), ident.public_key)


def _verify_listed(listed: Sequence[Signed]) -> None:
    for s in listed:
        if hashlib.sha256(s.vector.to_bytes()).digest() != s.digest:
            raise SystemExit("digest mismatch")
        if not verify_signature(s.public_key, s.signature, s.digest):
            raise SystemExit("signature mismatch")


def _holder_ckks(key: CkksKey, listed: Sequence[Signed], summed: EncryptedVector) -> None:
    _verify_listed(listed)
    again = add_all(key, [s.vector for s in listed])
    if again.to_bytes() != summed.to_bytes():
        raise SystemExit("CKKS sum not reproduced")
    decrypt(key, summed)


def _holder_bfv(key: BfvKey, listed: Sequence[Signed], summed: EncryptedVector) -> None:
    _verify_listed(listed)
    again = add_shares(key, [s.vector for s in listed])
    if again.to_bytes() != summed.to_bytes():
        raise SystemExit("BFV sum not reproduced")
    decrypt_share(key, summed)


def _one_seed(seed: int, sizes: Sequence[int], groups: int, length: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    most = max(sizes)
    ckks = CkksKey.create()
    ckks_public = ckks.public()
    group_keys = [BfvKey.create(f"group-{k}") for k in range(groups)]
    group_public = [k.public() for k in group_keys]
    nodes = [Identity.generate(f"node-{i}") for i in range(most)]
    rows = [[rng.uniform(-1.0, 1.0) for _ in range(length)] for _ in range(most)]
    ckks_vectors, ckks_node_s = [], []
    bfv_shares, bfv_node_s = [], []
    encoding = Encoding(max_contributors=most)
    for row in rows:
        vec, took = _timed(encrypt, ckks_public, row)
        ckks_vectors.append(vec)
        ckks_node_s.append(took)
        shares, took = _timed(
            lambda row=row: share_contribution(row, group_public, encoding=encoding)
        )
        bfv_shares.append(shares)
        bfv_node_s.append(took)
    ckks_signed = [_sign(n, v) for n, v in zip(nodes, ckks_vectors, strict=True)]
    bfv_signed = {
        k.group: [_sign(n, s[k.group]) for n, s in zip(nodes, bfv_shares, strict=True)]
        for k in group_keys
    }
    rows_out = []
    for n in sizes:
        ckks_sum, ckks_sum_s = _timed(add_all, ckks_public, ckks_vectors[:n])
        _, ckks_holder_s = _timed(_holder_ckks, ckks, ckks_signed[:n], ckks_sum)
        bfv_sum_s, bfv_holder_s = 0.0, []
        for key, pub in zip(group_keys, group_public, strict=True):
            listed = bfv_signed[key.group][:n]
            summed, took = _timed(
                lambda listed=listed, pub=pub: add_shares(pub, [s.vector for s in listed])
            )
            bfv_sum_s += took
            _, took = _timed(
                lambda key=key, listed=listed, summed=summed: _holder_bfv(key, listed, summed)
            )
            bfv_holder_s.append(took)
        rows_out.append(
            {
                "seed": seed,
                "n": n,
                "ckks_bytes_per_node": len(ckks_vectors[0].to_bytes()),
                "keygroups_bytes_per_node": sum(len(v.to_bytes()) for v in bfv_shares[0].values()),
                "ckks_node_s": _median(ckks_node_s[:n]),
                "keygroups_node_s": _median(bfv_node_s[:n]),
                "ckks_sum_s": ckks_sum_s,
                "keygroups_sum_s": bfv_sum_s,
                "ckks_holder_s": ckks_holder_s,
                "keygroups_holder_s": max(bfv_holder_s),
                "keygroups_all_groups_holder_s": sum(bfv_holder_s),
            }
        )
    return rows_out


METRICS = (
    ("bytes per node per round", "bytes_per_node", "{:,.0f}"),
    ("node encrypt s (median)", "node_s", "{:.4f}"),
    ("coordinator sum s", "sum_s", "{:.4f}"),
    ("one holder verify+decrypt s", "holder_s", "{:.4f}"),
)


def _table(results: list[dict[str, Any]], sizes: Sequence[int], groups: int) -> str:
    lines = [
        f"{'n':>5}  {'metric':<30} {'CKKS 1 key':>14} {f'BFV {groups} groups':>14} {'ratio':>7}"
    ]
    for n in sizes:
        mine = [r for r in results if r["n"] == n]
        for label, field, fmt in METRICS:
            old = _median(r[f"ckks_{field}"] for r in mine)
            new = _median(r[f"keygroups_{field}"] for r in mine)
            ratio = new / old if old else float("inf")
            lines.append(
                f"{n:>5}  {label:<30} {fmt.format(old):>14} {fmt.format(new):>14} {ratio:>6.2f}x"
            )
        every = _median(r["keygroups_all_groups_holder_s"] for r in mine)
        lines.append(f"{n:>5}  {'  (one holder per group, total)':<30} {'':>14} {every:>14.4f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--groups", type=int, default=2)
    parser.add_argument("--length", type=int, default=DEFAULT_LENGTH)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    results: list[dict[str, Any]] = []
    for seed in range(args.seeds):
        results.extend(_one_seed(seed, sizes, args.groups, args.length))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"custody side by side: {args.length} values per update, seeds 0..{args.seeds - 1}, "
        f"medians over seeds; ratio = key groups / CKKS"
    )
    print(_table(results, sizes, args.groups))


if __name__ == "__main__":
    main()
