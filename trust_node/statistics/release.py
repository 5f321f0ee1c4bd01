"""One node's statistics release: charge the ledger, compute, add its noise share, encrypt.

Order matters (invariant 3): the privacy ledger is charged *before* any record is read,
so an over-budget round is refused (and the refusal recorded) without work and without
anything to undo. The charge goes to the node's one privacy-unit account (the same one
training rounds are charged to, ``trust_node.privacy``) and is the Gaussian mechanism the
*honest remainder* of the sum carries: sigma_total relative to the L2 sensitivity of one
privacy unit (``RoundTerms.sensitivity``). This node's share is
sigma_total / sqrt(noise_shares - curious) (``RoundTerms.sigma_node``), so the shares of
any noise_shares - curious honest nodes alone still carry sigma_total.

Noise comes from NumPy's PCG64 seeded with 128 bits from the OS (``secrets``), never from
a fixed seed, unless a caller (tests, the bench) passes its own generator.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from governance.ckks import CkksKey, EncryptedVector, encrypt
from governance.policy import PrivacyUnit
from governance.privacy import (
    Budget,
    BudgetExceededError,
    ChargeReceipt,
    GaussianRelease,
    PrivacyLedger,
)
from open_models.benchmark_values import RoundTerms
from trust_node.statistics.contributions import contribution_vector
from trust_node.statistics.errors import StatisticsBudgetRefusedError, StatisticsError


def mechanism_for(terms: RoundTerms, unit: PrivacyUnit = "facility") -> GaussianRelease:
    """The Gaussian release a node's noise share is charged as, from the round's published terms."""
    return GaussianRelease(sigma=terms.sigma_total, sensitivity=terms.sensitivity(unit))


def secure_rng() -> np.random.Generator:
    """A generator seeded from the OS CSPRNG: noise shares must not be predictable from a seed."""
    return np.random.Generator(np.random.PCG64(secrets.randbits(128)))


@dataclass(frozen=True)
class PreparedRelease:
    terms: RoundTerms
    vector: EncryptedVector
    receipt: ChargeReceipt
    records_used: int


def prepare_release(
    terms: RoundTerms,
    *,
    key: CkksKey,
    ledger: PrivacyLedger,
    node_id: str,
    period: str,
    budget: Budget | tuple[float, float],
    load_records: Callable[[], pd.DataFrame],
    rng: np.random.Generator | None = None,
    unit: PrivacyUnit = "facility",
) -> PreparedRelease:
    """Charge, then build this node's encrypted, noised vector for ``terms``.

    ``load_records`` is called only after the ledger accepted the charge: it must return
    the consented records (``trust_node.tenants.consented_records(..., "statistics")``).
    The charge goes to the account named ``unit`` (the node's privacy unit).
    """
    if key.key_id != terms.key_id:
        raise StatisticsError(
            f"round {terms.round_id} is under CKKS key {terms.key_id}, this node's public "
            f"context is key {key.key_id}: fetch the current keys first"
        )
    try:
        receipt = ledger.charge(
            node_id,
            unit,
            period,
            mechanism_for(terms, unit),
            budget,
            f"statistics round {terms.round_id}",
        )
    except BudgetExceededError as exc:
        raise StatisticsBudgetRefusedError(str(exc)) from exc
    records = load_records()
    vector = contribution_vector(records, terms.catalogue, one_cell_per_year=unit == "facility")
    noise = (rng or secure_rng()).normal(0.0, terms.sigma_node, size=vector.shape)
    encrypted = encrypt(key, (vector + noise).tolist())
    return PreparedRelease(terms, encrypted, receipt, len(records))
