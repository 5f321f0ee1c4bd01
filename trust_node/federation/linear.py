"""One node's release for the sufficient-statistics model (``open_models.linear``).

The round asks for a release (``wire.RELEASE``): the statistics, or the calibration
histogram of the model the previous round's attested sum fitted (sent as the round's
global weights, as the network's weights are). The release is charged to the same
privacy-unit account of the node's ledger as DP-SGD rounds and statistics, as a
Gaussian mechanism through the ``PrivacyAccount`` protocol, *before* any record is
read; the records are the consented ones, as for training. The reply is an ordinary
plaintext update vector, which the egress mod encrypts and the guard releases
(``trust_node.federation.mods``): no new path out of the node.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from governance.privacy import BudgetExceededError
from kernel import paths
from kernel.wire import flower as wire
from open_models.errors import OpenModelsError
from open_models.linear.basis import Basis
from open_models.linear.model import DEFAULT_RIDGE
from open_models.linear.release import RELEASES, release
from open_models.linear.vectors import model_from_vector, pack_release
from trust_node.context import NodeContext
from trust_node.federation.training import LocalRefusal, LocalUpdate
from trust_node.privacy import unit_account
from trust_node.statistics.release import secure_rng
from trust_node.tenants import consented_records

KINDS = {wire.LINEAR_STATISTICS: "statistics", wire.LINEAR_CALIBRATION: "calibration"}


def trusted_shares(runtime: NodeContext, requested: int) -> int:
    """How many nodes this node assumes share the noise: never more than the signed trust
    policy's ``m``.

    Why: the coordinator names the shares, and a curious one could name thousands so each
    node adds almost no noise. Key holders refuse to decrypt a sum of fewer than ``m``
    members, so a sum that is ever decrypted carries at least ``m`` shares: with at most
    ``m`` assumed, it carries at least the charged noise. No trust policy: no sharing.
    """
    trust = runtime.state.trust_policy
    bound = trust.publication.m if trust is not None else 1
    return max(1, min(int(requested), bound))


def linear_round(
    runtime: NodeContext,
    global_flat: np.ndarray,
    *,
    run: str,
    release_kind: str,
    shares: int,
    jurisdictions: tuple[str, ...],
    rng: np.random.Generator | None = None,
) -> LocalUpdate | LocalRefusal:
    """Charge, then compute, noise and pack this node's release of ``release_kind``."""
    paths.within(runtime.rounds_dir, run)  # refused before anything is charged
    if release_kind not in KINDS:
        return LocalRefusal(f"unknown linear release {release_kind!r}")
    kind = KINDS[release_kind]
    basis = Basis(jurisdictions)
    policy = runtime.node_policy
    # the node's one privacy-unit account, composed with every other release (issue 14)
    account = unit_account(runtime.ledger, runtime.node_id, policy)
    _, budget = policy.privacy_budget.unit_account()

    def load() -> pd.DataFrame:
        return consented_records(
            runtime.repository, "training", policy=policy, as_of=datetime.now(UTC)
        )

    try:
        model = None
        if kind == "calibration":
            model = model_from_vector(np.asarray(global_flat, dtype=float), basis, DEFAULT_RIDGE)
        out = release(
            kind,  # type: ignore[arg-type]
            load,
            basis,
            account,
            releases_remaining=RELEASES if kind == "statistics" else 1,
            shares=trusted_shares(runtime, shares),
            rng=rng or secure_rng(),
            model=model,
        )
    except BudgetExceededError as exc:
        return LocalRefusal(f"privacy budget: {exc}")
    except OpenModelsError as exc:
        return LocalRefusal(f"linear release refused: {exc}")
    if out.labelled_records == 0:
        return LocalRefusal("no labelled records")
    return LocalUpdate(
        pack_release(out.vector, basis),
        out.labelled_records,
        out.epsilon_after,
        float(budget.epsilon),
        float(budget.delta),
    )
