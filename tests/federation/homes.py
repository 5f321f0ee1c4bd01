"""Real node and coordinator homes for federation tests: identities, signed policies,
a CKKS ceremony sealed to the key holders, custody, and generated records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from governance.ckks import KeyHolder, TransportKey, run_ceremony
from governance.identity import Identity
from governance.pki import HomeLayout
from governance.policy import default_node_policy, write_policy
from governance.policy.models import Consent
from governance.settings import load_settings
from trust_node.federation.runtime import NodeRuntime
from trust_node.generate import generate
from trust_node.store import OPERATOR_TENANT, SqlRecordRepository

JURISDICTIONS = ("DE", "IN", "BR")


@dataclass
class Federation:
    coordinator_home: Path
    node_homes: list[Path]
    key_id: str


def make_federation(tmp: Path, *, nodes: int = 3, records: int = 60,
                    key_holders: int = 2, epsilon: float = 8.0) -> Federation:
    ceremony = Identity.generate("ceremony")
    homes, holders, transports = [], [], {}
    for index in range(nodes):
        node_id = f"node-{index}"
        home = tmp / node_id
        layout = HomeLayout(home)
        identity = Identity.generate(node_id)
        identity.save(layout.identity_dir)
        transport = TransportKey.generate()
        transport.save(layout.identity_dir)
        transports[node_id] = transport
        policy = default_node_policy(node_id, JURISDICTIONS[index % len(JURISDICTIONS)])
        budget = policy.privacy_budget.model_copy(update={"epsilon": epsilon})
        policy = policy.model_copy(update={"consent": Consent(default=("training",)),
                                           "privacy_budget": budget})
        layout.policy_dir.mkdir(parents=True, exist_ok=True)
        write_policy(policy, layout.node_policy, identity)
        data = generate([JURISDICTIONS[index % len(JURISDICTIONS)]], records=records,
                        seed=index)
        repo = SqlRecordRepository.from_url(load_settings(home=home).database_url)
        repo.add_batch(OPERATOR_TENANT, data.records, source="test", sha256="0" * 64)
        homes.append(home)
        if index < key_holders:
            holders.append(KeyHolder(node_id, transport.public_bytes))
    out = run_ceremony(ceremony, holders, "2026")
    for index, home in enumerate(homes):
        ckks = home / "ckks"
        (ckks / "public").mkdir(parents=True, exist_ok=True)
        (ckks / "public" / f"{out.key_id}.ctx").write_bytes(out.public_context)
        node_id = f"node-{index}"
        if node_id in out.packages:
            (ckks / "ceremony.pub").write_text(ceremony.public_key.hex())
            (ckks / "custody").mkdir(exist_ok=True)
            runtime = NodeRuntime.open(home)
            assert runtime.custody is not None
            runtime.custody.accept(out.packages[node_id])
    coord = tmp / "coordinator"
    clayout = HomeLayout(coord)
    Identity.generate("coordinator").save(clayout.identity_dir)
    (coord / "ckks").mkdir(parents=True)
    (coord / "ckks" / "public.ctx").write_bytes(out.public_context)
    (coord / "federation").mkdir()
    (coord / "federation" / "key_holders.json").write_text(json.dumps({
        f"node-{i}": Identity.load(HomeLayout(homes[i]).identity_dir).public_key.hex()
        for i in range(key_holders)
    }))
    return Federation(coord, homes, out.key_id)
