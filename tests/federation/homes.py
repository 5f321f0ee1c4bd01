"""A real trust set up for federation tests, the way an operator sets one up.

``tests.trust_setup.running_trust`` does what the CLI does (``gcdt-coordinator init``,
``gcdt-node init``, ``gcdt-coordinator enrol``, ``gcdt-node enrol``, ``gcdt-node
key-ceremony``, ``gcdt-node fetch-keys``) over the real mutual-TLS trust server; then
each node gets a node policy consenting to training, and generated records. The trust
server keeps running while the federation is in use: key holders decrypt and attest the
rounds' sums over it (:func:`attesting` runs their ``gcdt-node attest --watch`` loop).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from governance.ckks import MissingSecretKeyError
from governance.policy import write_policy
from governance.policy.models import Consent
from tests.trust_setup import running_trust
from trust_node.attestation import key_holder, watch
from trust_node.cli_attest import key_holder_duties
from trust_node.context import NodeContext
from trust_node.generate import generate
from trust_node.store import OPERATOR_TENANT, SqlRecordRepository

JURISDICTIONS = ("IN", "DE", "BR")


@dataclass
class Federation:
    coordinator_home: Path
    node_homes: list[Path]
    key_id: str
    address: str  # the running trust server (host:port)
    key_holder_homes: list[Path]


@contextmanager
def running_federation(
    tmp: Path, *, nodes: int = 3, records: int = 60, key_holders: int = 2, epsilon: float = 8.0
) -> Iterator[Federation]:
    node_ids = [f"node-{i}" for i in range(nodes)]
    # m = 2: a round of two contributors (two nodes, or one of three dropped) is a sum
    # key holders may decrypt (they refuse fewer than max(quorum, m) members).
    with running_trust(tmp, node_ids, node_ids[:key_holders], thresholds={"m": 2}) as trust:
        key_id = ""
        for index, state in enumerate(trust.nodes.values()):
            policy = state.node_policy
            budget = policy.privacy_budget.model_copy(update={"epsilon": epsilon})
            policy = policy.model_copy(
                update={"consent": Consent(default=("training",)), "privacy_budget": budget}
            )
            write_policy(policy, state.layout.node_policy, state.identity)
            data = generate(
                [JURISDICTIONS[index % len(JURISDICTIONS)]], records=records, seed=index
            )
            repo = SqlRecordRepository.from_url(state.settings.database_url)
            repo.add_batch(OPERATOR_TENANT, data.records, source="test", sha256="0" * 64)
            repo.engine.dispose()
            public = NodeContext.open(state.settings.home_dir).public_key()
            assert public is not None and not public.is_private
            key_id = public.key_id
        homes = [trust.nodes[n].settings.home_dir for n in node_ids]
        yield Federation(
            trust.coordinator.home_dir, homes, key_id, trust.address, homes[:key_holders]
        )


@contextmanager
def attesting(fed: Federation, poll_s: float = 1.0) -> Iterator[None]:
    """Each key holder pulls and attests in a thread, as ``gcdt-node attest --watch`` does."""
    stop = threading.Event()
    threads = []
    for home in fed.key_holder_homes:
        node = NodeContext.open(home)
        thread = threading.Thread(
            target=watch,
            args=(
                lambda n=node: n.client(fed.address),
                key_holder(node),
                key_holder_duties(),
                stop,
            ),
            kwargs={"poll_s": poll_s},
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)


def assert_cannot_decrypt(public: object) -> None:
    """The coordinator's context holds no secret key: decrypting raises."""
    from governance.ckks import CkksKey, decrypt, encrypt

    assert isinstance(public, CkksKey) and not public.is_private
    try:
        decrypt(public, encrypt(public, [1.0]))
    except MissingSecretKeyError:
        return
    raise AssertionError("the coordinator's CKKS context decrypted a ciphertext")


RAY_START_ATTEMPTS = 3


def start_ray(num_cpus: int, attempts: int = RAY_START_ATTEMPTS) -> None:
    """Start Ray for a simulation before Flower does, retrying only Ray's own start-up.

    Why: a Ray head sometimes times out starting on a loaded two-core machine (seen in CI:
    waiting for its GCS server's port file, or "the current node timed out during
    startup"). Nothing of the trust has run at that point,
    so a retry hides no failure of ours. Flower's backend reuses an initialised Ray
    (``RayBackend.init_ray``); this passes the settings it would have passed.
    """
    import ray

    pythonpath = os.pathsep.join(sys.path)
    if os.environ.get("PYTHONPATH"):
        pythonpath = f"{pythonpath}{os.pathsep}{os.environ['PYTHONPATH']}"
    os.environ["PYTHONPATH"] = pythonpath
    for attempt in range(1, attempts + 1):
        try:
            ray.init(
                runtime_env={"env_vars": {"PYTHONPATH": pythonpath}},
                include_dashboard=False,
                num_cpus=num_cpus,
            )
            return
        except Exception:
            ray.shutdown()
            if attempt == attempts:
                raise
            time.sleep(5)
