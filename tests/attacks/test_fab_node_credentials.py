"""Attack: a party holding a node's own credentials submits its own app.

A node's operator (or whoever took a node's home) holds an enrolled node certificate and
key, the trust root certificate and the SuperNode auth key: everything the gate admits.
With them it calls Flower's Control API directly (``start-run`` with its own app bundle,
exactly what ``flwr run`` sends; ``flwr`` itself cannot present a client certificate) at
the address nodes are given, and also tries ``flwr run`` from the node's home. Nodes may
reach only the Fleet side: no run may start, no code of the app may run anywhere (no
marker), and the gate logs the refused route.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flwr.cli.cli_client_interceptor import CliClientHttpInterceptor
from flwr.supercore.control.control_http_client import ControlHttpClient
from flwr.supercore.interceptors import RuntimeVersionHttpInterceptor

from governance.pki import HomeLayout
from tests.attacks.fab_support import (
    flwr_config,
    flwr_run,
    hardened_deployment,
    hostile_app,
    hostile_start_run_request,
    markers_seen,
    operator_runs,
    run_id_of,
    wait_for,
)


def _start_run_as_node(address: str, node_home: Path, body: bytes) -> int | None:
    """POST start-run with the node's certificate; the run id if the API started one."""
    import ssl

    import httpx
    from flwr.proto.control_pb2 import StartRunResponse

    layout = HomeLayout(node_home)
    tls = ssl.create_default_context(cafile=str(layout.ca_cert))
    tls.load_cert_chain(layout.tls_cert, layout.tls_key)
    client = ControlHttpClient(
        f"https://{address}",
        interceptors=[CliClientHttpInterceptor(), RuntimeVersionHttpInterceptor("flwr CLI")],
        verify=tls,
    )
    try:
        http = client._client.post(
            f"https://{address}/v1/control/start-run",
            content=body,
            headers={"content-type": "application/protobuf", "accept": "application/protobuf"},
        )
    except httpx.HTTPError:
        return None
    finally:
        client.close()
    if http.status_code != 200:
        return None
    response = StartRunResponse.FromString(http.content)
    return int(response.run_id) if response.HasField("run_id") else None


@pytest.mark.slow
def test_node_credentials_start_no_run_and_run_no_code(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    with hardened_deployment(tmp_path) as deployment:
        spec, node_home = deployment.spec, deployment.fed.node_homes[0]
        app = hostile_app(tmp_path / "hostile", markers, nodes=len(deployment.fed.node_homes))

        direct = _start_run_as_node(spec.gate_address, node_home, hostile_start_run_request(app))
        env = flwr_config(tmp_path / "node-flwr", spec.gate_address, HomeLayout(node_home).ca_cert)
        via_cli = run_id_of(flwr_run(app, env, tmp_path))
        if direct is not None or via_cli is not None:
            wait_for(lambda: markers_seen(markers) != [], 180)
        assert markers_seen(markers) == [], f"the attacker's code ran: {markers_seen(markers)}"
        assert (direct, via_cli) == (None, None), "a node's credentials started a run"
        assert operator_runs(spec) == []
        from coordinator.federation.gate import gate_log

        events = gate_log(spec.home).entries()
        assert any(
            e["event"] == "route_refused" and e["path"] == "/v1/control/start-run" for e in events
        ), events
