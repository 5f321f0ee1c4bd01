"""Attack: curious contributors subtract their own noise shares from a decrypted sum.

Real coordinator statistics service (it sets the round terms), real node releases
(``prepare_release`` over generated records: charge, contributions, noise share, TenSEAL
encryption), real decryption of the sum. ``c`` contributors (or key holders that are also
contributors) know their own noisy vectors, and the attacker is even handed the honest
nodes' true contributions: what is left of the decrypted sum is exactly the honest nodes'
noise. Before issue 14 each share was sigma / sqrt(n), so that remainder had standard
deviation sigma * sqrt((n - c) / n), below the sigma every ledger was charged for
(epsilon 2 became 2.93 at n = 2). Shares are now sized for ``c = t - 1`` curious
contributors, and a sum with fewer contributions than the noise needs is never decrypted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coordinator.statistics import NotEnoughSubmissionsError, StatisticsService
from coordinator.store.repository import CoordinatorStore, open_engine
from governance.ckks import CkksKey, decrypt
from governance.envelope import seal
from governance.identity import Identity
from governance.policy.models import PublicationThresholds
from governance.privacy import InMemoryLedgerStore, PrivacyLedger
from governance.translog import TransparencyLog
from kernel.settings import load_settings
from trust_node.generate import generate
from trust_node.statistics import contribution_vector, prepare_release

YEARS = (2022, 2023)
ROUNDS = 4  # draws: ROUNDS x vector length (~900 per round)


@pytest.fixture(scope="module")
def secret_key() -> CkksKey:
    return CkksKey.create()


def _service(tmp: Path, key: CkksKey, nodes: list[str], t: int) -> StatisticsService:
    engine = open_engine(load_settings(home=tmp, database_url=f"sqlite:///{tmp}/c.db"))
    store = CoordinatorStore(engine)
    for i, node_id in enumerate(nodes):
        store.register_node(
            node_id=node_id,
            jurisdiction="IN",
            identity_public_key=Identity.generate(node_id).public_key,
            transport_public_key=bytes(32),
            cert_serial=100 + i,
            key_holder=True,
        )
    thresholds = PublicationThresholds(k=3, m=t, t=t)
    return StatisticsService(
        store, TransparencyLog(engine, Identity.generate("c")), key.public(), thresholds
    )


@pytest.mark.parametrize(("n", "t"), [(2, 2), (3, 2), (4, 3)])
def test_curious_contributors_cannot_strip_the_charged_noise(
    tmp_path: Path, secret_key: CkksKey, n: int, t: int
) -> None:
    nodes = [f"node-{i}" for i in range(n)]
    service = _service(tmp_path, secret_key, nodes, t)
    records = generate(n, 80, seed=7, start_year=YEARS[0], end_year=YEARS[-1]).records
    data = dict(zip(nodes, [g for _, g in records.groupby("jurisdiction")], strict=True))
    curious = nodes[: t - 1]  # c = t - 1 contributors that subtract their own shares
    ledger = PrivacyLedger(InMemoryLedgerStore())
    remainders = []
    for _ in range(ROUNDS):
        terms = service.open_round(years=YEARS, epsilon=2.0, delta=1e-5)
        assert terms.curious == t - 1
        own: dict[str, np.ndarray] = {}
        for node_id in nodes:
            release = prepare_release(
                terms,
                key=secret_key.public(),
                ledger=ledger,
                node_id=node_id,
                period="2026",
                budget=(1e6, 1e-5),
                load_records=lambda n=node_id: data[n],  # type: ignore[misc]
            )
            own[node_id] = np.array(decrypt(secret_key, release.vector))
            envelope = seal(Identity.generate(node_id), "statistics_submission", terms.round_id, {})
            service.accept_submission(terms.round_id, node_id, envelope, [release.vector])
        request = service.request_decryption(terms.round_id)
        total = np.array(decrypt(secret_key, request.vector))
        known = sum((own[c] for c in curious), np.zeros_like(total))
        honest_truth = sum(
            (
                contribution_vector(data[h], terms.catalogue, one_cell_per_year=True)
                for h in nodes
                if h not in curious
            ),
            np.zeros_like(total),
        )
        remainders.append(total - known - honest_truth)
    noise = np.concatenate(remainders)
    assert noise.size >= 1000  # 4 rounds x 448 cells and fields (two years)
    # the sample sd of >= 1000 Gaussian draws is within 5 % of the true sd (beyond 3 sd of
    # its own sampling error, ~2.2 %): the honest remainder carries sigma_total, no less
    assert 0.95 * terms.sigma_total <= np.std(noise) <= 1.05 * terms.sigma_total, (
        np.std(noise),
        terms.sigma_total,
    )


def test_a_round_short_of_its_noise_shares_is_never_decrypted(
    tmp_path: Path, secret_key: CkksKey
) -> None:
    """Dropouts: with fewer contributions than the terms sized the noise for, the sum
    would carry less than the charged sigma, so the coordinator does not ask for it."""
    nodes = [f"node-{i}" for i in range(3)]
    service = _service(tmp_path, secret_key, nodes, t=2)
    terms = service.open_round(years=YEARS, epsilon=2.0, delta=1e-5)
    ledger = PrivacyLedger(InMemoryLedgerStore())
    for node_id in nodes[:2]:
        release = prepare_release(
            terms,
            key=secret_key.public(),
            ledger=ledger,
            node_id=node_id,
            period="2026",
            budget=(1e6, 1e-5),
            load_records=pd.DataFrame,
        )
        envelope = seal(Identity.generate(node_id), "statistics_submission", terms.round_id, {})
        service.accept_submission(terms.round_id, node_id, envelope, [release.vector])
    with pytest.raises(NotEnoughSubmissionsError, match="noise shares 3"):
        service.request_decryption(terms.round_id)
