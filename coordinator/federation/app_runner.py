"""The coordinator's door for Flower: only its installed ServerApp runs on its machine.

Stock ``flower-superlink`` (default ``--isolation subprocess``) starts ``flwr-serverapp``
for every submitted run, which unpacks the run's app bundle (FAB) and imports the
ServerApp it names, from the FAB's files first, on the machine that holds the trust root
key and the log signing key. So the SuperLink runs with ``--isolation process`` (it starts
no app process) and :func:`serve_server_tasks` takes each ServerApp task from the
SuperLink's Runtime API instead: it checks the FAB as data with
:func:`kernel.wire.app_bundle.check_fab` (in memory, nothing written or imported) and runs
``coordinator.federation.server_app.app``, the installed code, with this coordinator's
home (the run config's ``coordinator-home`` is overridden with it). Any other FAB is
refused before anything of it is loaded, the task is marked failed with ``app_refused``
and the refusal is appended to ``GCDT_HOME/flower/refused-apps.jsonl`` (local, not the
public transparency log).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from pathlib import Path

from flwr.app import Context, RecordDict
from flwr.common.config import get_fused_config_from_fab
from flwr.common.constant import SubStatus
from flwr.common.serde import context_from_proto, context_to_proto, fab_from_proto, run_from_proto
from flwr.proto.runtime_pb2 import (
    AcquireTaskRequest,
    PullTaskInputRequest,
    PushTaskOutputRequest,
)
from flwr.supercore.constant import TaskType
from flwr.supercore.heartbeat import HeartbeatSender, make_task_heartbeat_fn_http
from flwr.supercore.interceptors import (
    RuntimeVersionHttpInterceptor,
    SuperExecAuthHttpInterceptor,
)
from flwr.supercore.runtime import RuntimeHttpClient
from flwr.supercore.task_identity import TaskIdentity
from flwr.superlink.grid import HttpGrid

from kernel.settings import FLOWER_DIR
from kernel.wire import flower as wire
from kernel.wire.app_bundle import ACQUIRE_TASK, AppBundleRefused, check_fab
from kernel.wire.flower_retry import bounded_retry

logger = logging.getLogger(__name__)

REFUSALS_FILE = "refused-apps.jsonl"
#: A run's calls to the SuperLink give up after this long without it (s).
TASK_RETRY_S = 300.0


def refusals_path(home: Path) -> Path:
    """Where this coordinator logs every app bundle it refused (one JSON object a line)."""
    return home / FLOWER_DIR / REFUSALS_FILE


def serve_server_tasks(
    home: Path,
    runtime_address: str,
    ca_cert: bytes,
    secret: bytes,
    stop: threading.Event,
    poll_s: float = 1.0,
) -> None:
    """Take ServerApp tasks from the SuperLink until ``stop`` is set; one run at a time.

    ``secret`` is the SuperLink's SuperExec secret: Flower checks an HMAC with it on
    ``AcquireTask``, so no other process on this machine can take a run's task.
    """
    client = RuntimeHttpClient.from_server_address(
        server_address=runtime_address,
        insecure=False,
        root_certificates=ca_cert,
        interceptors=[
            RuntimeVersionHttpInterceptor(component_name="SuperExec"),
            SuperExecAuthHttpInterceptor(master_secret=secret, protected_methods={ACQUIRE_TASK}),
        ],
        retry_invoker=bounded_retry(1, None),  # the loop retries, seeing its stop signal
    )
    try:
        while not stop.is_set():
            try:
                res = client.AcquireTask(
                    AcquireTaskRequest(supported_task_types=[TaskType.SERVER_APP])
                )
            except Exception:  # the SuperLink starting or restarting
                logger.warning("cannot reach the SuperLink Runtime API", exc_info=True)
                stop.wait(poll_s)
                continue
            if res.HasField("task") and res.token:
                run_server_task(home, runtime_address, ca_cert, res.token)
                continue
            stop.wait(poll_s)
    finally:
        client.close()


def _log_refusal(home: Path, run_id: int, fab_hash: str, exc: AppBundleRefused) -> None:
    entry = {
        "refused_at": dt.datetime.now(dt.UTC).isoformat(),
        "run_id": run_id,
        "fab_hash": fab_hash,
        "reason": exc.reason,
        "detail": exc.detail,
    }
    path = refusals_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry, sort_keys=True) + "\n")
    logger.error("refused the app bundle of run %s: %s", run_id, exc)


def run_server_task(home: Path, runtime_address: str, ca_cert: bytes, token: str) -> None:
    """One run: pull it, check its FAB, run the installed ServerApp or refuse, report."""
    from coordinator.federation.server_app import app

    grid = HttpGrid(runtime_address, insecure=False, root_certificates=ca_cert, token=token)
    grid._retry_invoker = bounded_retry(None, TASK_RETRY_S)
    client = grid._runtime_client
    heartbeat = HeartbeatSender(make_task_heartbeat_fn_http(client))
    heartbeat.start()
    context: Context | None = None
    status, details = SubStatus.FAILED, wire.ReasonCode.INTERNAL_ERROR.value
    try:
        res = client.PullTaskInput(PullTaskInputRequest())
        TaskIdentity.task_id = res.task_id  # what Flower's Runtime calls identify the task by
        TaskIdentity.run_id = res.run.run_id
        TaskIdentity.node_id = res.context.node_id
        context = context_from_proto(res.context)
        run, fab = run_from_proto(res.run), fab_from_proto(res.fab)
        grid.set_run(run)
        try:
            check_fab(fab.content)
        except AppBundleRefused as exc:
            _log_refusal(home, run.run_id, fab.hash_str, exc)
            details = wire.ReasonCode.APP_REFUSED.value
        else:
            config = get_fused_config_from_fab(fab.content, run)
            context.run_config = {**config, "coordinator-home": str(home)}
            app(grid=grid, context=context)
            context.state = RecordDict()  # as flwr-serverapp: the state is not pushed back
            status, details = SubStatus.COMPLETED, ""
    except Exception:
        logger.exception("ServerApp task failed")
    finally:
        try:
            client.PushTaskOutput(
                PushTaskOutputRequest(
                    context=context_to_proto(context) if context else None,
                    sub_status=status,
                    details=details,
                )
            )
        except Exception:
            logger.exception("could not report the task's outcome to the SuperLink")
        heartbeat.stop()
        grid.close()
