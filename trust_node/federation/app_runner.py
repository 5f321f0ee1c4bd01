"""The node's door for Flower: only this node's installed ClientApp ever runs here.

Stock Flower (``flower-supernode``, default ``--isolation subprocess``) starts
``flwr-clientapp`` for each message, which unpacks the run's app bundle (FAB) into
``FLWR_HOME/apps`` and imports the ClientApp the FAB names, from the FAB's files first.
Whoever submits a run therefore chooses the code that runs beside the node's records and
keys. ``--trusted-entities`` does not close this: it trusts FAB signatures only when the
SuperLink says the FAB carries a ``valid_license`` verification (Flower's enterprise
SuperLink; the coordinator runs the SuperLink, so its word is not the node's check), and a
signature still lets signed code of others run.

So ``gcdt-node supernode`` starts the SuperNode with ``--isolation process`` (the SuperNode
then starts no app process of its own) and runs :func:`serve_client_tasks` instead: it
takes each ClientApp task from the SuperNode's local Runtime API, checks the FAB as data
with :func:`kernel.wire.app_bundle.check_fab` (in memory; nothing of it is written or
imported), and runs ``trust_node.federation.client_app.app``, the installed code, with this
node's home. A FAB that is not the pinned bundle is refused before anything of it is
loaded: the refusal goes to the node's refusal log (kind ``flower_app``) and the reply that
leaves is an error carrying the reason code ``app_refused`` only. This holds whoever
submitted the run, the coordinator included: the check and the code run are the node's.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flwr.app import Context, Error, Message
from flwr.common.constant import SubStatus
from flwr.proto.runtime_pb2 import AcquireTaskRequest
from flwr.supercore.constant import TaskType
from flwr.supercore.heartbeat import HeartbeatSender, make_task_heartbeat_fn_http
from flwr.supercore.interceptors import (
    RuntimeTokenHttpInterceptor,
    RuntimeVersionHttpInterceptor,
    SuperExecAuthHttpInterceptor,
)
from flwr.supercore.protobuf.client import ProtobufClientInterceptor
from flwr.supercore.runtime import RuntimeHttpClient
from flwr.supernode.runtime.run_clientapp import (
    pull_task_input,
    push_message,
    push_task_output,
)

from kernel.wire import flower as wire
from kernel.wire.app_bundle import ACQUIRE_TASK, AppBundleRefused, check_fab
from kernel.wire.flower_retry import bounded_retry
from trust_node.federation.client_app import HOME_KEY, _context, app
from trust_node.federation.supernode import superexec_secret_path

logger = logging.getLogger(__name__)

#: Kind and method under which a refused app bundle is written to the refusal log.
REFUSAL_KIND = "flower_app"
REFUSAL_METHOD = "run_app"


#: A task's calls to the local SuperNode give up after this long without it (s); polling
#: for tasks tries once per poll, so the runner always sees its stop signal.
TASK_RETRY_S = 300.0


def _client(
    address: str, component: str, token: str | None = None, secret: bytes | None = None
) -> RuntimeHttpClient:
    """A client of the SuperNode's Runtime API (plain HTTP, bound to loopback by us)."""
    interceptors: list[ProtobufClientInterceptor] = [
        RuntimeVersionHttpInterceptor(component_name=component)
    ]
    if token is not None:
        interceptors.append(RuntimeTokenHttpInterceptor(token))
    if secret is not None:
        interceptors.append(
            SuperExecAuthHttpInterceptor(master_secret=secret, protected_methods={ACQUIRE_TASK})
        )
    return RuntimeHttpClient.from_server_address(
        server_address=address,
        insecure=True,
        root_certificates=None,
        interceptors=interceptors,
        retry_invoker=bounded_retry(1, None)
        if token is None
        else bounded_retry(None, TASK_RETRY_S),
    )


def serve_client_tasks(
    home: Path, runtime_address: str, stop: threading.Event, poll_s: float = 1.0
) -> None:
    """Take ClientApp tasks from the local SuperNode until ``stop`` is set; one at a time."""
    secret = superexec_secret_path(home).read_bytes()
    client = _client(runtime_address, "SuperExec", secret=secret)
    try:
        while not stop.is_set():
            try:
                res = client.AcquireTask(
                    AcquireTaskRequest(supported_task_types=[TaskType.CLIENT_APP])
                )
            except Exception:  # the SuperNode restarting: try again next poll
                logger.warning("cannot reach the SuperNode Runtime API", exc_info=True)
                stop.wait(poll_s)
                continue
            if res.HasField("task") and res.token:
                run_client_task(home, runtime_address, res.token)
                continue
            stop.wait(poll_s)
    finally:
        client.close()


def _refused(home: Path, message: Message, run_id: int, fab_hash: str, exc: Exception) -> Message:
    _context(str(home)).refusals.record(
        REFUSAL_KIND, REFUSAL_METHOD, f"run {run_id}, FAB {fab_hash}: {exc}"
    )
    logger.error("refused the app bundle of run %s: %s", run_id, exc)
    return Message(
        Error(code=wire.EGRESS_REFUSED_CODE, reason=wire.ReasonCode.APP_REFUSED.value),
        reply_to=message,
    )


def run_client_task(home: Path, runtime_address: str, token: str) -> None:
    """One task: pull it, check its FAB, run the installed ClientApp or refuse, push."""
    client = _client(runtime_address, "flwr-clientapp", token)
    heartbeat = HeartbeatSender(make_task_heartbeat_fn_http(client))
    heartbeat.start()
    context: Context | None = None
    status, details = SubStatus.FAILED, wire.ReasonCode.INTERNAL_ERROR.value
    try:
        message, context, run, fab = pull_task_input(client)
        try:
            check_fab(fab.content)
        except AppBundleRefused as exc:
            reply = _refused(home, message, run.run_id, fab.hash_str, exc)
            details = wire.ReasonCode.APP_REFUSED.value
        else:
            # The node's own home, whatever the SuperNode's node config says.
            context.node_config = {**context.node_config, HOME_KEY: str(home)}
            reply = _run_app(message, context)
            status, details = SubStatus.COMPLETED, ""
        push_message(client, reply, context)
    except Exception:
        logger.exception("ClientApp task failed")
    finally:
        push_task_output(client=client, context=context, sub_status=status, details=details)
        heartbeat.stop()
        client.close()


def _run_app(message: Message, context: Context) -> Message:
    """The installed ClientApp; whatever escapes its egress mod leaves as a code only."""
    try:
        reply: Message = app(message=message, context=context)
    except Exception:
        logger.exception("the ClientApp raised")
        return Message(
            Error(code=wire.EGRESS_REFUSED_CODE, reason=wire.ReasonCode.INTERNAL_ERROR.value),
            reply_to=message,
        )
    return reply
