"""The accountant's state, kept apart from its math so it can be saved and restored.

Opacus' accountants hold nothing but ``history``: a list of ``(noise_multiplier,
sample_rate, steps)`` runs, exported by ``state_dict()`` as ``{"history": ...,
"mechanism": "rdp"}``. :class:`AccountantState` is that dict as an immutable value, with
a JSON form exact to the last bit (Python's float repr round-trips), so a restored
ledger continues exactly where it stopped — and a node's ``PrivacyEngine.accountant``
can be loaded from and written back to the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opacus.accountants import RDPAccountant

from governance.privacy.accounting import HistoryEntry, check_entry, epsilon_of
from governance.privacy.errors import AccountantStateError, InvalidMechanismError

MECHANISM = RDPAccountant.mechanism()  # "rdp"


@dataclass(frozen=True)
class AccountantState:
    history: tuple[HistoryEntry, ...] = ()

    @classmethod
    def empty(cls) -> AccountantState:
        return cls(())

    def with_entry(self, entry: HistoryEntry) -> AccountantState:
        """Append a run, merging it into the last one when (noise, rate) match, as Opacus does."""
        entry = check_entry(entry)
        if self.history:
            last = self.history[-1]
            if (last.noise_multiplier, last.sample_rate) == (
                entry.noise_multiplier,
                entry.sample_rate,
            ):
                merged = HistoryEntry(
                    last.noise_multiplier, last.sample_rate, last.steps + entry.steps
                )
                return AccountantState((*self.history[:-1], merged))
        return AccountantState((*self.history, entry))

    def epsilon(self, delta: float) -> float:
        return epsilon_of(self.history, delta)

    @property
    def total_steps(self) -> int:
        return sum(entry.steps for entry in self.history)

    # --- Opacus interchange -----------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Same shape as ``RDPAccountant().state_dict()``: loadable by Opacus directly."""
        return {"history": [tuple(e) for e in self.history], "mechanism": MECHANISM}

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> AccountantState:
        if not isinstance(state, Mapping):
            raise AccountantStateError(f"accountant state must be a mapping, got {type(state)}")
        if state.get("mechanism") != MECHANISM:
            raise AccountantStateError(
                f"accountant state mechanism must be {MECHANISM!r}, got {state.get('mechanism')!r}"
            )
        history = state.get("history")
        if not isinstance(history, Sequence) or isinstance(history, str | bytes):
            raise AccountantStateError("accountant state 'history' must be a list")
        entries: list[HistoryEntry] = []
        for index, raw in enumerate(history):
            try:
                noise, rate, steps = raw
                entries.append(check_entry(HistoryEntry(float(noise), float(rate), steps)))
            except (TypeError, ValueError, InvalidMechanismError) as exc:
                raise AccountantStateError(
                    f"accountant state history[{index}] = {raw!r} is not a valid "
                    f"(noise_multiplier, sample_rate, steps) entry: {exc}"
                ) from exc
        return cls(tuple(entries))

    @classmethod
    def from_accountant(cls, accountant: RDPAccountant) -> AccountantState:
        return cls.from_state_dict(accountant.state_dict())

    def to_accountant(self) -> RDPAccountant:
        accountant = RDPAccountant()
        accountant.load_state_dict(self.state_dict())
        return accountant

    # --- JSON (what the SQL store keeps) ----------------------------------------------

    def to_json(self) -> str:
        return json.dumps(self.state_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> AccountantState:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AccountantStateError(f"accountant state is not valid JSON: {exc}") from exc
        return cls.from_state_dict(data)
