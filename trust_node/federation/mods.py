"""The Flower mod every reply of the node's ClientApp passes through on its way out.

Handlers never build wire content. They return an *internal* reply (a plaintext update,
an attestation envelope, a refusal, an install acknowledgement); this mod turns it into
an :class:`~trust_node.egress.Outbound` — encrypting a plaintext update under the
trust's public CKKS context first — and hands it to the node's
:class:`~trust_node.egress.EgressGuard`. What the guard returns is the ONLY content of
the reply that reaches Flower; anything the guard refuses becomes an error reply (the
refusal is in the node's ``egress_refusals`` log). So encryption and the egress check
sit around the handlers, not inside the training loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from flwr.app import ConfigRecord, Context, Error, Message, RecordDict
from flwr.clientapp.typing import ClientAppCallable

from governance.ckks import encrypt
from governance.envelope import Envelope
from kernel.wire import flower as wire
from kernel.wire import trust as trust_wire
from trust_node.context import NodeContext
from trust_node.egress import EgressGuard, EgressRefusedError, Outbound
from trust_node.federation.fields import get_bytes, get_int

logger = logging.getLogger(__name__)

# Internal record names: exist only between a handler and this mod, never on the wire.
PLAIN_UPDATE = "_plain_update"
PLAIN_ATTESTATION = "_plain_attestation"
PLAIN_REFUSAL = "_plain_refusal"
PLAIN_ACK = "_plain_ack"
PLAIN_REPORT = "_plain_report"  # the training report beside a plaintext update


def guard_for(node: NodeContext, key_id: str | None) -> EgressGuard:
    """The node's guard, over its one refusal log; with the round's public key if it names one."""
    return node.guard(node.public_key_for(key_id) if key_id else None, installed=False)


def _round_of(message: Message) -> tuple[int, str | None]:
    records = message.content.config_records
    for name in (wire.ROUND_CONFIG, wire.SUM, wire.PUBLISHED):
        if name in records:
            cfg = records[name]
            key_id = cfg.get(wire.KEY_ID)
            return get_int(cfg, wire.ROUND, 0), key_id if isinstance(key_id, str) else None
    return 0, None


def make_egress_mod(resolve: Callable[[Context], NodeContext]) -> Callable[..., Message]:
    """Build the mod; ``resolve`` finds the node's context from the Flower context."""

    def egress_mod(message: Message, context: Context, call_next: ClientAppCallable) -> Message:
        reply = call_next(message, context)
        if reply.has_error():
            return reply
        node = resolve(context)
        round_no, key_id = _round_of(message)
        content = reply.content
        base: dict[str, str | int | bool] = {"node_id": node.node_id, "round_id": round_no}
        if PLAIN_UPDATE in content.array_records:
            values = content.array_records[PLAIN_UPDATE]["vector"].numpy()
            if key_id is None:
                return _error(message, "train message names no CKKS key id")
            guard = guard_for(node, key_id)
            assert guard.public_key is not None
            vector = encrypt(guard.public_key, np.asarray(values, dtype=np.float64).tolist())
            outbound = Outbound(
                kind=trust_wire.CIPHERTEXT_UPDATE,
                method=wire.UPDATE_METHOD,
                round_id=round_no,
                ciphertexts=(vector,),
                metadata={**base, "key_id": key_id, **_report(node, content)},
            )
        elif PLAIN_ATTESTATION in content.config_records:
            env = Envelope.from_bytes(
                get_bytes(content.config_records[PLAIN_ATTESTATION], wire.ENVELOPE)
            )
            guard = guard_for(node, None)
            outbound = Outbound(
                kind=trust_wire.ATTESTATION,
                method=wire.ATTEST_METHOD,
                round_id=round_no,
                attestations=(env,),
                metadata=base,
            )
        elif PLAIN_REFUSAL in content.config_records:
            guard = guard_for(node, None)
            outbound = Outbound(
                kind=trust_wire.METADATA,
                method=wire.REFUSAL_METHOD,
                round_id=round_no,
                metadata=base,
            )
        elif PLAIN_ACK in content.config_records:
            guard = guard_for(node, None)
            outbound = Outbound(
                kind=trust_wire.METADATA,
                method=wire.INSTALLED_METHOD,
                round_id=round_no,
                metadata=base,
            )
        else:
            return _error(message, "handler produced no releasable content")
        try:
            released = guard.release(outbound)
        except EgressRefusedError as exc:
            logger.warning("egress refused a reply: %s", exc.reason)
            return _error(message, f"egress refused: {exc.reason}")
        kind_field = {
            trust_wire.CIPHERTEXT_UPDATE: wire.UPDATE,
            trust_wire.ATTESTATION: wire.ATTESTATION,
        }.get(outbound.kind, wire.REFUSAL if outbound.method == wire.REFUSAL_METHOD else wire.ACK)
        record = ConfigRecord({wire.EGRESS: released})
        return Message(RecordDict({kind_field: record}), reply_to=message)

    return egress_mod


def _report(node: NodeContext, content: RecordDict) -> dict[str, str]:
    """The training report fields the node policy lets leave (``wire.REPORT_FIELDS``).

    A policy that does not list a field keeps it home: the update still goes, and the
    coordinator publishes that node's spend or footprint as not reported.
    """
    if PLAIN_REPORT not in content.config_records:
        return {}
    listed = node.node_policy.data_sovereignty.metadata_fields
    record = content.config_records[PLAIN_REPORT]
    return {
        name: value
        for name in wire.REPORT_FIELDS
        if name in listed and isinstance(value := record.get(name), str)
    }


def _error(message: Message, reason: str) -> Message:
    return Message(Error(code=wire.EGRESS_REFUSED_CODE, reason=reason), reply_to=message)
