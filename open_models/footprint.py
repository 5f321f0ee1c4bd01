"""The compute footprint of training, measured with codecarbon's offline tracker.

A trust that fights emissions publishes its own: each node measures the energy and CO2 of
its training with ``OfflineEmissionsTracker`` (no network; the country's grid intensity
from codecarbon's bundled data). Measuring must never break training: if codecarbon cannot
start or stop (no RAPL access, an unknown country, a library error), the footprint is
recorded as null with the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import pycountry


@dataclass
class Footprint:
    country_iso_code: str
    energy_kwh: float | None = None
    co2_kg: float | None = None
    duration_s: float = 0.0
    tool: str = "codecarbon OfflineEmissionsTracker"
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _alpha3(code: str) -> str:
    code = code.upper()
    if len(code) == 3:
        return code
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise ValueError(f"unknown ISO 3166-1 alpha-2 code {code!r}")
    return str(country.alpha_3)


@contextmanager
def measure_footprint(country_iso_code: str) -> Iterator[Footprint]:
    """Measure the body; the yielded Footprint is filled in when the body ends."""
    result = Footprint(country_iso_code=country_iso_code)
    tracker: Any = None
    try:
        from codecarbon import OfflineEmissionsTracker

        logging.getLogger("codecarbon").setLevel(logging.ERROR)
        tracker = OfflineEmissionsTracker(
            country_iso_code=_alpha3(country_iso_code), save_to_file=False, log_level="error"
        )
        tracker.start()
    except Exception as exc:
        tracker, result.reason = None, f"codecarbon could not start: {exc!r}"
    started = time.perf_counter()
    try:
        yield result
    finally:
        result.duration_s = time.perf_counter() - started
        if tracker is not None:
            try:
                co2 = tracker.stop()
                data = tracker.final_emissions_data
                result.co2_kg = None if co2 is None else float(co2)
                result.energy_kwh = float(data.energy_consumed)
            except Exception as exc:
                result.co2_kg = result.energy_kwh = None
                result.reason = f"codecarbon could not measure: {exc!r}"


__all__ = ["Footprint", "measure_footprint"]
