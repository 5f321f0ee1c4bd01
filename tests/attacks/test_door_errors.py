"""Attack on the error path: a record value in an exception raised inside training.

The real ClientApp (with its egress mod) answers a ``train`` message while local
training raises an exception whose text quotes one of the node's records. What leaves
the node (the reply, as Flower's runtime would send it) must be an error reply holding
a reason code from the closed list only. Before error replies were coded, the exception
text left in the reply and the coordinator wrote it into its public log; the last test
checks the coordinator keeps any such text out of that log.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import numpy as np
import pytest
from flwr.app import Array, ArrayRecord, ConfigRecord, Error, Message, RecordDict

from coordinator.federation.aggregate import CkksSummer
from coordinator.federation.replies import RejectedReply, ReplyReader
from kernel.wire import flower as wire
from open_models.features import FeatureSpec
from open_models.network import flatten, initial_weights, weight_layout
from tests.attacks.door_support import leave, message_to
from tests.federation.homes import Federation, running_federation
from trust_node.federation import training


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    with running_federation(tmp_path_factory.mktemp("door-errors"), nodes=2, records=30) as f:
        yield f


def test_an_exception_quoting_a_record_leaves_as_a_reason_code_only(
    fed: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def leaky_train(global_weights: Any, frame: Any, *args: Any, **kwargs: Any) -> Any:
        row = frame.iloc[0]
        seen.extend([str(row["facility_id"]), repr(float(row["production_t"]))])
        raise ValueError(f"cannot fit record {seen[0]}: production {seen[1]} t")

    monkeypatch.setattr(training, "train_local", leaky_train)
    spec = FeatureSpec()
    weights = flatten(initial_weights(spec), weight_layout(spec))
    content = RecordDict(
        {
            wire.GLOBAL_ARRAYS: ArrayRecord({wire.WEIGHTS: Array(np.asarray(weights))}),
            wire.ROUND_CONFIG: ConfigRecord(
                {
                    wire.RUN: "run-1",
                    wire.ROUND: 1,
                    wire.KEY_ID: fed.key_id,
                    wire.CLIP_NORM: 1.0,
                    wire.ROUNDS_REMAINING: 1,
                }
            ),
        }
    )
    reply = leave(fed.node_homes[0], message_to(content, wire.TRAIN))
    assert seen, "training never ran: the attack did not happen"
    assert reply.has_error()
    assert [s for s in seen if s in str(reply.error.reason)] == [], "a record value left the node"
    assert reply.error.reason == "training_failed"


def test_free_text_in_a_node_error_reply_reaches_the_public_log_as_unknown() -> None:
    # A node running other code (or an old one) answers with an exception's text: the
    # coordinator's reason, which its public log records, holds no byte of it.
    request = message_to(RecordDict(), wire.TRAIN)
    leaky = "ValueError: facility IN-F000000 produced 455902.0 t"
    reply = Message(Error(code=2, reason=leaky), reply_to=request)
    reader = ReplyReader(cast(CkksSummer, None), {}, None, round_no=1)
    with pytest.raises(RejectedReply) as caught:
        reader.read(reply)
    assert "IN-F000000" not in caught.value.reason and "455902" not in caught.value.reason
    assert caught.value.reason == "error reply: unknown"
