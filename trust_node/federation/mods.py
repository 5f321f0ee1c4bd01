"""The Flower mod every reply of the node's ClientApp passes through on its way out.

Handlers never build wire content. They return an *internal* reply (a plaintext update,
a refusal, an install acknowledgement); this mod turns it into
an :class:`~trust_node.egress.Outbound` — encrypting a plaintext update under the
trust's public CKKS context first — and hands it to the node's
:class:`~trust_node.egress.EgressGuard`. What the guard returns is the ONLY content of
the reply that reaches Flower; anything the guard refuses becomes an error reply (the
refusal is in the node's ``egress_refusals`` log). So encryption and the egress check
sit around the handlers, not inside the training loop.

Every error reply of the handlers is built here and carries only a
:class:`kernel.wire.flower.ReasonCode` (a closed list): an exception raised by a handler
(whose text may quote a record value), an error reply a handler or inner mod built, and
a guard refusal are all logged in full on the node and sent as their code alone. (Only
Flower's own errors, for a message type with no handler or an app it cannot load, never
reach this mod.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from flwr.app import ConfigRecord, Context, Error, Message, RecordDict
from flwr.clientapp.typing import ClientAppCallable

from governance.ckks import encrypt
from governance.keygroups import DEFAULT_FRACTIONAL_BITS, Encoding, share_contribution
from kernel.paths import UnsafePathError
from kernel.wire import flower as wire
from kernel.wire import trust as trust_wire
from trust_node.context import NodeContext
from trust_node.egress import EgressGuard, EgressRefusedError, Outbound
from trust_node.federation.errors import PublishedModelRejectedError, RoundMessageError
from trust_node.federation.fields import get_int

logger = logging.getLogger(__name__)

# Internal record names: exist only between a handler and this mod, never on the wire.
PLAIN_UPDATE = "_plain_update"
PLAIN_REFUSAL = "_plain_refusal"
PLAIN_ACK = "_plain_ack"
PLAIN_REPORT = "_plain_report"  # the training report beside a plaintext update


def guard_for(node: NodeContext, key_id: str | None) -> EgressGuard:
    """The node's guard, over its one refusal log; with the round's public key if it names one."""
    return node.guard(node.public_key_for(key_id) if key_id else None, installed=False)


def _round_of(message: Message) -> tuple[int, str | None]:
    records = message.content.config_records
    for name in (wire.ROUND_CONFIG, wire.PUBLISHED):
        if name in records:
            cfg = records[name]
            key_id = cfg.get(wire.KEY_ID)
            return get_int(cfg, wire.ROUND, 0), key_id if isinstance(key_id, str) else None
    return 0, None


def _key_groups_of(message: Message) -> tuple[list[str], int] | None:
    """The groups' key ids and fixed-point bits a ``train`` round names, or None (one key)."""
    records = message.content.config_records
    if wire.ROUND_CONFIG not in records:
        return None
    cfg = records[wire.ROUND_CONFIG]
    ids = cfg.get(wire.KEY_GROUP_IDS)
    if ids is None:
        return None
    if not isinstance(ids, str) or not ids:
        raise RoundMessageError(f"{wire.KEY_GROUP_IDS} is not a comma-separated list")
    bits = get_int(cfg, wire.FIXED_POINT_BITS, DEFAULT_FRACTIONAL_BITS)
    return ids.split(","), bits


def _shared_update(
    node: NodeContext,
    content: RecordDict,
    values: list[float],
    groups: tuple[list[str], int],
    base: dict[str, str | int | bool],
) -> tuple[EgressGuard, Outbound]:
    """Key-group custody: the update split into one share per group, share k encrypted
    under group k's public key (``governance.keygroups``); the groups ride, in share
    order, in the signed metadata. DP noise is DP-SGD's (already in ``values``)."""
    key_ids, bits = groups
    keys = node.group_public_keys(key_ids)
    shares = share_contribution(values, keys, encoding=Encoding(fractional_bits=bits))
    guard = node.guard(None, installed=False, group_keys=keys)
    outbound = Outbound(
        kind=trust_wire.CIPHERTEXT_UPDATE,
        method=wire.UPDATE_METHOD,
        round_id=int(base["round_id"]),
        ciphertexts=tuple(shares[k.group] for k in keys),
        metadata={
            **base,
            "key_groups": ",".join(k.group for k in keys),
            **_report(node, content),
        },
    )
    return guard, outbound


def make_egress_mod(resolve: Callable[[Context], NodeContext]) -> Callable[..., Message]:
    """Build the mod; ``resolve`` finds the node's context from the Flower context."""

    def egress_mod(message: Message, context: Context, call_next: ClientAppCallable) -> Message:
        try:
            reply = call_next(message, context)
            if reply.has_error():
                # An error a handler or an inner mod built: its reason may be free text.
                logger.warning(
                    "error reply %s replaced by its code: %s", reply.error.code, reply.error.reason
                )
                return _error(message, wire.reason_code(reply.error.reason), "inner error reply")
            return _release(resolve(context), message, reply)
        except Exception as exc:
            logger.exception("reply to %s replaced by an error code", message.metadata.message_type)
            return _error(message, _code_of(exc, message), type(exc).__name__)

    return egress_mod


def _code_of(exc: Exception, message: Message) -> wire.ReasonCode:
    """The reason code an exception leaves the node as (the closed list in ``wire``)."""
    if isinstance(exc, EgressRefusedError):
        return wire.ReasonCode.EGRESS_REFUSED
    if isinstance(exc, UnsafePathError | RoundMessageError | KeyError):
        return wire.ReasonCode.BAD_REQUEST
    if isinstance(exc, PublishedModelRejectedError):
        return wire.ReasonCode.INSTALL_REFUSED
    if message.metadata.message_type == wire.TRAIN:
        return wire.ReasonCode.TRAINING_FAILED
    return wire.ReasonCode.INTERNAL_ERROR


def _release(node: NodeContext, message: Message, reply: Message) -> Message:
    """The handler's internal ``reply`` as the guard releases it, or an error code."""
    round_no, key_id = _round_of(message)
    content = reply.content
    base: dict[str, str | int | bool] = {"node_id": node.node_id, "round_id": round_no}
    if PLAIN_UPDATE in content.array_records:
        values = np.asarray(content.array_records[PLAIN_UPDATE]["vector"].numpy(), np.float64)
        groups = _key_groups_of(message)
        if groups is not None:
            guard, outbound = _shared_update(node, content, values.tolist(), groups, base)
        elif key_id is None:
            return _error(message, wire.ReasonCode.BAD_REQUEST, "train names no CKKS key id")
        else:
            guard = guard_for(node, key_id)
            assert guard.public_key is not None
            vector = encrypt(guard.public_key, values.tolist())
            outbound = Outbound(
                kind=trust_wire.CIPHERTEXT_UPDATE,
                method=wire.UPDATE_METHOD,
                round_id=round_no,
                ciphertexts=(vector,),
                metadata={**base, "key_id": key_id, **_report(node, content)},
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
        return _error(message, wire.ReasonCode.INTERNAL_ERROR, "no releasable content")
    try:
        released = guard.release(outbound)
    except EgressRefusedError as exc:
        return _error(message, wire.ReasonCode.EGRESS_REFUSED, exc.reason)
    kind_field = {
        trust_wire.CIPHERTEXT_UPDATE: wire.UPDATE,
    }.get(outbound.kind, wire.REFUSAL if outbound.method == wire.REFUSAL_METHOD else wire.ACK)
    record = ConfigRecord({wire.EGRESS: released})
    return Message(RecordDict({kind_field: record}), reply_to=message)


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


def _error(message: Message, code: wire.ReasonCode, detail: str) -> Message:
    """An error reply holding ``code`` only; ``detail`` stays in the node's own log."""
    if code.value not in wire.REASON_CODES:
        code = wire.ReasonCode.INTERNAL_ERROR
    logger.warning("error reply sent as %s (kept here: %s)", code.value, detail)
    return Message(Error(code=wire.EGRESS_REFUSED_CODE, reason=code.value), reply_to=message)
