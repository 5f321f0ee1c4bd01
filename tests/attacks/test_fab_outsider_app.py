"""Attack: a party holding only the trust root certificate submits its own app.

Every node has the trust root certificate (``tls/ca.crt``), and so may anyone a node's
operator ever showed it. With it and the address nodes are given, the attacker runs
``flwr run`` with an app of its own (a ServerApp and a ClientApp that would write marker
files), against the project's real deployment: SuperLink, gate and ServerApp runner as
``gcdt-coordinator superlink`` starts them, the nodes' ``gcdt-node supernode`` processes.
No code of the app may run anywhere (no marker), no run may start, and the refusal is in
the coordinator's gate log.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from governance.pki import HomeLayout
from tests.attacks.fab_support import (
    flwr_config,
    flwr_run,
    hardened_deployment,
    hostile_app,
    markers_seen,
    operator_runs,
    run_id_of,
    wait_for,
)


@pytest.mark.slow
def test_root_certificate_holder_runs_no_code(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    with hardened_deployment(tmp_path) as deployment:
        spec = deployment.spec
        ca = tmp_path / "mallory-ca.crt"  # all the attacker holds
        shutil.copy(HomeLayout(spec.home).ca_cert, ca)
        app = hostile_app(tmp_path / "hostile", markers, nodes=len(deployment.fed.node_homes))
        env = flwr_config(tmp_path / "mallory", spec.gate_address, ca)

        done = flwr_run(app, env, tmp_path)
        run_id = run_id_of(done)
        if run_id is not None:  # give a started run every chance to leave its markers
            wait_for(lambda: markers_seen(markers) != [], 180)
        assert markers_seen(markers) == [], f"the attacker's code ran: {markers_seen(markers)}"
        assert run_id is None, f"the node-facing address started run {run_id}"
        assert '"success": false' in done.stdout, done.stdout
        assert operator_runs(spec) == []
        from coordinator.federation.gate import gate_log

        refused = [e["event"] for e in gate_log(spec.home).entries()]
        assert "handshake_refused" in refused, refused
