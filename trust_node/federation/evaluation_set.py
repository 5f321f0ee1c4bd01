"""The published evaluation set a coordinator evaluates a model on, generated from a seed.

A model card's evaluation must be recomputable by anyone and must never touch node data,
so it runs on synthetic facilities from the same generator the demo nodes use
(:mod:`trust_node.generate`), written in the published evaluation-set format
(:mod:`open_models.evaluation_set`, records plus the generator's hidden truth). The
coordinator may not import node code, so the operator writes the file with ``gcdt-node
evaluation-set`` and passes it to ``gcdt-coordinator train --evaluation-set``. The bytes
are a pure function of the arguments named in the file's ``generator`` string: an
auditor reruns the verb and compares SHA-256s.

Pick a seed no node used for its own demo data (the default is far from the demo's), or
the evaluation set would repeat training facilities. The generator numbers facilities
the same way for every seed (``CN-F000001``), so the evaluation set's facilities are
marked :data:`ID_MARK` instead (``CN-EVAL000001``): no evaluation id equals, or contains,
the id of a node's facility or record.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import pandas as pd

from open_models.evaluation_set import evaluation_set_bytes
from trust_node.generate import generate

DEFAULT_SEED: Final = 9001
DEFAULT_RECORDS: Final = 50  # per jurisdiction
DEFAULT_YEARS: Final = (2019, 2024)
ID_MARK: Final = "-EVAL"  # replaces the generator's "-F" facility mark


def evaluation_set(
    jurisdictions: Sequence[str] | int,
    *,
    records: int = DEFAULT_RECORDS,
    seed: int = DEFAULT_SEED,
    years: tuple[int, int] = DEFAULT_YEARS,
) -> bytes:
    """The canonical bytes of a seeded synthetic evaluation set."""
    spec: Sequence[str] | int = (
        jurisdictions if isinstance(jurisdictions, int) else sorted(jurisdictions)
    )
    data = generate(spec, records=records, seed=seed, start_year=years[0], end_year=years[1])
    frame, truth = data.records.copy(), data.truth.copy()
    for column in ("record_id", "facility_id"):
        frame[column] = _marked(frame[column])
    truth["record_id"] = _marked(truth["record_id"])
    named = spec if isinstance(spec, int) else list(spec)
    generator = (
        f"trust_node.generate(jurisdictions={named}, records={records}, seed={seed}, "
        f"start_year={years[0]}, end_year={years[1]}); facility mark '-F' -> {ID_MARK!r}"
    )
    return evaluation_set_bytes(frame, truth, seed=seed, generator=generator)


def _marked(ids: pd.Series) -> pd.Series:
    marked = ids.str.replace("-F", ID_MARK, n=1, regex=False)
    if (marked == ids).any():
        raise ValueError("generated ids lack the '-F' facility mark")  # generator changed
    return marked


def write_evaluation_set(
    path: Path,
    jurisdictions: Sequence[str] | int,
    *,
    records: int = DEFAULT_RECORDS,
    seed: int = DEFAULT_SEED,
    years: tuple[int, int] = DEFAULT_YEARS,
) -> Path:
    """Write the seeded, published evaluation set to ``path`` (the bytes an auditor regenerates)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(evaluation_set(jurisdictions, records=records, seed=seed, years=years))
    return path
