"""A real training run and publication, and a coordinator that pushes what it likes.

Three enrolled nodes with records and consent (``tests.federation.homes``: real mutual-TLS
trust server, key ceremony, TenSEAL), the key holders pulling and attesting over the trust
protocol in threads (their ``gcdt-node attest --watch`` loop), and the coordinator's own
ServerApp code (:func:`coordinator.federation.server_app.run_training`: its round loop, its
aggregation pipeline, its publication) driving the nodes' real ClientApp (with its egress
mod). Only Flower's transport is replaced: :class:`InProcessGrid` hands each message to the
node's ClientApp in this process and returns its reply as Flower's runtime would
(``tests.attacks.door_support.leave``); the deployment and simulation tests cover the
transport itself.

The adversary is the coordinator: it calls its own :func:`publish` with weights and a
training result of its choosing, which registers and logs the publication and pushes it
to every node over the grid.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from flwr.app import Message, Metadata, RecordDict
from flwr.serverapp import Grid
from flwr.supercore.run import Run
from flwr.supercore.task_identity import TaskIdentity

from coordinator.aggregation import AggregationPipeline
from coordinator.context import CoordinatorContext
from coordinator.federation.config import FederationConfig
from coordinator.federation.keys import load_trust_keys
from coordinator.federation.rounds import TrainingResult
from coordinator.federation.server_app import publish, run_training
from coordinator.portal.services import TransparencyService, public_log
from kernel.wire import flower as wire
from open_models.features import FeatureSpec
from open_models.network import unflatten, weight_layout
from open_models.published import PublishedModel
from tests.attacks.door_support import leave
from tests.federation.homes import Federation, attesting, running_federation

RUN = "run-publish"
MODEL_ID = "gcdt-emission-factor"


class InProcessGrid(Grid):
    """A Flower Grid whose nodes are ClientApps in this process (node id i+1 -> home i)."""

    def __init__(self, homes: list[Path]) -> None:
        self.homes = {i + 1: home for i, home in enumerate(homes)}
        #: every (message type, node id, reply) delivered, in order
        self.replies: list[tuple[str, int, Message]] = []
        self._run = Run.create_empty(run_id=1)

    @property
    def run(self) -> Run:
        return self._run

    def set_run(self, run: Run) -> None:
        self._run = run

    def get_node_ids(self) -> Iterable[int]:
        return list(self.homes)

    def create_message(
        self,
        content: RecordDict,
        message_type: str,
        dst_node_id: int,
        group_id: str,
        ttl: float | None = None,
    ) -> Message:
        return Message(content, dst_node_id=dst_node_id, message_type=message_type)

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        raise NotImplementedError("the round loop uses send_and_receive only")

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        raise NotImplementedError("the round loop uses send_and_receive only")

    def send_and_receive(
        self, messages: Iterable[Message], *, timeout: float | None = None
    ) -> Iterable[Message]:
        out = []
        for index, message in enumerate(messages):
            node = message.metadata.dst_node_id
            delivered = _delivered(message, index)
            reply = leave(self.homes[node], delivered)
            self.replies.append((message.metadata.message_type, node, reply))
            out.append(reply)
        return out

    def publish_replies(self) -> list[Message]:
        """The replies to the last ``query.publish`` sent to every node."""
        found = [r for kind, _, r in self.replies if kind == wire.PUBLISH]
        return found[-len(self.homes) :]


def _delivered(message: Message, index: int) -> Message:
    """``message`` as it reaches the node: what Flower's runtime fills in on the way."""
    metadata = Metadata(
        run_id=1,
        message_id=f"{index:064x}",
        src_node_id=0,
        dst_node_id=message.metadata.dst_node_id,
        reply_to_message_id="",
        group_id=message.metadata.group_id,
        created_at=time.time(),
        ttl=600.0,
        message_type=message.metadata.message_type,
    )
    delivered: Message = Message(content=message.content, metadata=metadata)  # type: ignore[call-overload]
    return delivered


@dataclass
class Published:
    """A finished honest run: its federation, configuration, result and grid."""

    fed: Federation
    config: FederationConfig
    result: TrainingResult
    grid: InProcessGrid
    content_hash: str
    jurisdictions: dict[str, str] = field(default_factory=dict)

    @property
    def spec(self) -> FeatureSpec:
        return FeatureSpec()

    def push(self, version: str, weights: np.ndarray, result: TrainingResult | None = None) -> None:
        """The coordinator publishes ``weights`` as ``version`` and pushes them to every node."""
        context = CoordinatorContext.open(self.config.coordinator_home)
        keys = load_trust_keys(context.store, context.trust_policy)
        pipeline = AggregationPipeline(context.store, context.translog, keys.public_key)
        publish(
            self.grid,
            self.config,
            pipeline,
            context.models,
            RUN,
            version,
            self.spec,
            unflatten(weights, weight_layout(self.spec)),
            result or self.result,
            self.jurisdictions,
            None,
        )
        context.engine.dispose()

    def export(self, target: Path) -> Path:
        """The coordinator portal's export, unpacked, as an auditor downloads it."""
        context = CoordinatorContext.open(self.config.coordinator_home)
        engine = context.engine
        home = self.config.coordinator_home
        data = TransparencyService(engine, public_log(engine, home)).export()
        engine.dispose()
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            zf.extractall(target)
        return target

    def installed(self, node: int) -> PublishedModel | None:
        """The model node ``node`` (0-based) has installed, if any."""
        current = self.fed.node_homes[node] / "models" / "current"
        return PublishedModel.load(current) if current.is_dir() else None


@contextmanager
def serverapp_identity() -> Iterator[None]:
    """What Flower's ServerApp process sets before the app builds messages (run, node 0)."""
    saved = (TaskIdentity._run_id, TaskIdentity._node_id, TaskIdentity._task_id)
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 1, 0, 1
    try:
        yield
    finally:
        TaskIdentity._run_id, TaskIdentity._node_id, TaskIdentity._task_id = saved


@contextmanager
def published_run(tmp: Path, rounds: int = 2) -> Iterator[Published]:
    """An honest run of ``rounds`` attested rounds, published and pushed to the nodes."""
    with (
        running_federation(tmp, nodes=3, records=40, key_holders=2) as fed,
        attesting(fed),
        serverapp_identity(),
    ):
        config = FederationConfig(
            coordinator_home=fed.coordinator_home,
            rounds=rounds,
            quorum=2,
            min_nodes=3,
            t=2,
            attest_timeout_s=120,
            connect_timeout_s=1,
            model_id=MODEL_ID,
        )
        grid = InProcessGrid(fed.node_homes)
        result = run_training(grid, config, RUN)
        context = CoordinatorContext.open(fed.coordinator_home)
        [(_, _, content_hash, _)] = context.models.list()
        jurisdictions = {n.node_id: n.jurisdiction for n in context.store.nodes(status=None)}
        context.engine.dispose()
        yield Published(fed, config, result, grid, content_hash, jurisdictions)


def error_reasons(replies: list[Message]) -> list[Any]:
    """Each reply's error reason (None where the reply is not an error)."""
    return [r.error.reason if r.has_error() else None for r in replies]
