"""The node's Flower ClientApp: ``train`` and ``query.publish``.

The ClientApp never opens the node's CKKS secret key: a key holder decrypts and attests
sums over the trust protocol (``gcdt-node attest --watch``, :mod:`trust_node.attestation`),
in the node's own process, never inside code a Flower run can replace. Handlers produce
internal replies only; :mod:`trust_node.federation.mods` encrypts and
passes them through the egress guard. A refused round (no consented records, privacy
budget) is answered with a refusal, never a crash. Deployment: ``gcdt-node supernode``
starts a SuperNode with ``--node-config gcdt-home=...`` and this module's ``app``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, RecordDict
from flwr.clientapp import ClientApp
from flwr.clientapp.typing import Mod

from kernel.wire import flower as wire
from trust_node.context import NodeContext
from trust_node.errors import NodeSetupError
from trust_node.federation.fields import get_float, get_int, get_str
from trust_node.federation.install import install_published
from trust_node.federation.linear import linear_round
from trust_node.federation.mods import (
    PLAIN_ACK,
    PLAIN_REFUSAL,
    PLAIN_REPORT,
    PLAIN_UPDATE,
    make_egress_mod,
)
from trust_node.federation.training import (
    LocalRefusal,
    LocalUpdate,
    local_round,
    report_fields,
)

logger = logging.getLogger(__name__)

HOME_KEY = "gcdt-home"


@lru_cache(maxsize=16)
def _context(home: str) -> NodeContext:
    """One context per node home per process: its files are read once, its engine opened once."""
    return NodeContext.open(home)


def build_client_app(
    homes: Sequence[str] | None = None, outer_mods: Sequence[Mod] = ()
) -> ClientApp:
    """``homes``: for the simulation engine, node homes indexed by ``partition-id``.

    ``outer_mods`` run before the egress mod (tests use one to simulate a node dropping
    out); what leaves still passes the egress mod.
    """
    home_list = tuple(str(h) for h in homes or ())

    def resolve(context: Context) -> NodeContext:
        config = context.node_config
        if HOME_KEY in config:
            return _context(str(config[HOME_KEY]))
        if home_list and "partition-id" in config:
            return _context(home_list[int(config["partition-id"])])
        raise NodeSetupError(
            f"node config has no {HOME_KEY!r}: start the SuperNode with "
            f"--node-config '{HOME_KEY}=\"/path/to/GCDT_HOME\"'"
        )

    app = ClientApp(mods=[*outer_mods, make_egress_mod(resolve)])

    @app.train()
    def train(message: Message, context: Context) -> Message:
        node = resolve(context)
        cfg = message.content.config_records[wire.ROUND_CONFIG]
        weights = message.content.array_records[wire.GLOBAL_ARRAYS][wire.WEIGHTS].numpy()
        outcome: LocalUpdate | LocalRefusal
        if wire.RELEASE in cfg:  # the sufficient-statistics family (open_models.linear)
            codes = get_str(cfg, wire.JURISDICTIONS)
            outcome = linear_round(
                node,
                np.asarray(weights, dtype=np.float64),
                run=get_str(cfg, wire.RUN),
                release_kind=get_str(cfg, wire.RELEASE),
                shares=get_int(cfg, wire.NOISE_SHARES, 1),
                jurisdictions=tuple(c for c in codes.split(",") if c),
            )
        else:
            outcome = local_round(
                node,
                np.asarray(weights, dtype=np.float64),
                run=get_str(cfg, wire.RUN),
                round_no=get_int(cfg, wire.ROUND),
                clip_norm=get_float(cfg, wire.CLIP_NORM),
                rounds_remaining=get_int(cfg, wire.ROUNDS_REMAINING, 1),
            )
        if isinstance(outcome, LocalRefusal):
            logger.warning(
                "node %s refused round %s: %s", node.node_id, cfg[wire.ROUND], outcome.reason
            )
            return Message(
                RecordDict({PLAIN_REFUSAL: ConfigRecord({"refused": True})}), reply_to=message
            )
        return Message(
            RecordDict(
                {
                    PLAIN_UPDATE: ArrayRecord({"vector": Array(outcome.vector)}),
                    PLAIN_REPORT: ConfigRecord(dict(report_fields(outcome))),
                }
            ),
            reply_to=message,
        )

    @app.query("publish")
    def publish(message: Message, context: Context) -> Message:
        node = resolve(context)
        install_published(node, message.content.config_records[wire.PUBLISHED])
        return Message(RecordDict({PLAIN_ACK: ConfigRecord({"installed": True})}), reply_to=message)

    return app


app = build_client_app()
