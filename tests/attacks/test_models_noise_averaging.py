"""Attack: a curious coordinator asks a node for the same linear-model release over and over,
to average the DP noise away (k noisy copies of one vector have sqrt(k) times less noise).

Defence: every release of the sufficient-statistics family is a Gaussian mechanism
charged to the node's one training account *before* any record is read, composed by the
same accountant as DP-SGD rounds; once the next release would pass the budget the node
refuses (and the ledger records the refusal). Each release's noise is planned to fit
what is left, so repeated asks get ever noisier copies that together never cost more
than the budget; past the noise cap (a copy would be almost pure noise) the node
refuses. Drives the node's real round handler, store, policy and ledger.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from governance.policy import write_policy
from governance.policy.models import Consent
from governance.privacy import PrivacyLedger
from kernel.settings import load_settings
from kernel.wire import flower as wire
from open_models.linear.basis import Basis
from open_models.linear.statistics import STATISTICS_SENSITIVITY, local_statistics
from trust_node.context import NodeContext
from trust_node.federation.linear import linear_round
from trust_node.federation.training import LocalRefusal, LocalUpdate
from trust_node.generate.foreign import generate_foreign
from trust_node.node_setup import init_node
from trust_node.store import OPERATOR_TENANT

EPSILON = 5.0
ASKS = 30


def _node(tmp_path: Path) -> NodeContext:
    settings = load_settings(home=tmp_path / "node", database_url=f"sqlite:///{tmp_path}/n.db")
    init_node(settings, "node-x", "IN")
    node = NodeContext(settings)
    policy = node.node_policy
    budget = policy.privacy_budget.model_copy(update={"epsilon": EPSILON})
    policy = policy.model_copy(
        update={"consent": Consent(default=("training",)), "privacy_budget": budget}
    )
    write_policy(policy, node.layout.node_policy, node.identity)
    records = generate_foreign(("IN",), 200, seed=5).records
    node = NodeContext(settings)
    node.repository.add_batch(OPERATOR_TENANT, records, source="test", sha256="0" * 64)
    return node


def test_repeated_release_asks_never_buy_more_than_the_budget(tmp_path: Path) -> None:
    node = _node(tmp_path)
    outcomes = [
        linear_round(
            node,
            np.zeros(0),
            run="curious",
            release_kind=wire.LINEAR_STATISTICS,
            shares=1,
            jurisdictions=("IN",),
        )
        for _ in range(ASKS)
    ]
    released = [o for o in outcomes if isinstance(o, LocalUpdate)]
    refused = [o for o in outcomes if isinstance(o, LocalRefusal)]
    # Some asks are answered (each with its planned noise), then every further ask refused.
    assert 1 <= len(released) < ASKS
    assert all(isinstance(o, LocalRefusal) for o in outcomes[len(released) :])
    assert all("privacy budget" in r.reason for r in refused)
    period = node.node_policy.privacy_budget.accounting_period
    unit = node.node_policy.privacy_budget.unit  # the one account every release charges
    ledger = PrivacyLedger(node.engine)
    charges = ledger.charges(node.node_id, unit, period)
    assert len(charges) == len(released)
    assert len(ledger.refusals(node.node_id, unit, period)) == len(refused)
    assert charges[-1].epsilon_after <= EPSILON
    # Every answered ask is composed in the one account: averaging the copies tells no
    # more than the account's epsilon, and each later copy carries more noise.
    assert [o.epsilon_after for o in released] == sorted(o.epsilon_after for o in released)
    multipliers = [c.noise_multiplier for c in charges]
    assert multipliers == sorted(multipliers)


def test_a_coordinator_naming_many_noise_shares_does_not_thin_the_noise(
    tmp_path: Path,
) -> None:
    """A curious coordinator says a million nodes share the noise, so each node would add
    a thousandth of it. The node assumes at most the signed trust policy's ``m`` (none
    here: it adds all of it), so its release carries at least the charged noise."""
    node = _node(tmp_path)
    out = linear_round(
        node,
        np.zeros(0),
        run="curious",
        release_kind=wire.LINEAR_STATISTICS,
        shares=1_000_000,
        jurisdictions=("IN",),
    )
    assert isinstance(out, LocalUpdate)
    basis = Basis(("IN",))
    clean = local_statistics(node.repository.latest(), basis)
    noise = out.vector[: clean.size] - clean
    period = node.node_policy.privacy_budget.accounting_period
    unit = node.node_policy.privacy_budget.unit  # the one account every release charges
    [charge] = PrivacyLedger(node.engine).charges(node.node_id, unit, period)
    charged_sigma = charge.noise_multiplier * STATISTICS_SENSITIVITY
    assert float(np.std(noise)) > 0.8 * charged_sigma
