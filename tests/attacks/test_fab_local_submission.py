"""Attack: a run submitted from the coordinator's own machine with a foreign app bundle.

The SuperLink's Control API stays reachable on the coordinator's loopback (the operator
starts runs there, and open-source Flower authenticates nobody on it). Whoever reaches it
there (a mistaken operator, another account on that machine) submits an app of its own
with ``flwr run``. The run may start, but no code of it may run: the coordinator's
ServerApp runner refuses the bundle (``refused-apps.jsonl``), so the app's ServerApp
never runs next to the trust root key and no node is ever sent its ClientApp.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coordinator.federation.launch import run_status
from governance.pki import HomeLayout
from tests.attacks.fab_support import (
    flwr_config,
    flwr_run,
    hardened_deployment,
    hostile_app,
    markers_seen,
    run_id_of,
    wait_for,
)


@pytest.mark.slow
def test_local_submission_of_a_foreign_app_runs_no_code(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    with hardened_deployment(tmp_path) as deployment:
        spec = deployment.spec
        app = hostile_app(tmp_path / "hostile", markers, nodes=len(deployment.fed.node_homes))
        env = flwr_config(tmp_path / "local", spec.address, HomeLayout(spec.home).ca_cert)
        done = flwr_run(app, env, tmp_path)
        run_id = run_id_of(done)
        assert run_id is not None, done.stdout + done.stderr  # loopback Control takes it

        finished = wait_for(lambda: run_status(spec, run_id).startswith("finished"), 180)
        assert markers_seen(markers) == [], f"the attacker's code ran: {markers_seen(markers)}"
        assert finished and run_status(spec, run_id) == "finished:failed"
        log = spec.home / "flower" / "refused-apps.jsonl"
        entries = [json.loads(line) for line in log.read_text().splitlines()]
        assert [(e["run_id"], e["reason"]) for e in entries] == [(run_id, "carries_files")]
