"""Attack: read SME tenants' bearer tokens and records off the network between them and the
node API.

A network attacker can read whatever the node API sends in clear text. The real
``gcdt-node serve`` process is started the way an operator would: on a wildcard address
(reachable from other machines) it must never speak plain HTTP, neither by default nor
when asked with ``--insecure-http``; by default it answers HTTPS with a certificate that
chains to the node's own API root (which the operator hands to tenants).
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("GCDT_", "FLWR_"))}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "gcdt-node"), "serve", "--home", str(home), *args],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """``gcdt-node serve --host 0.0.0.0`` with no TLS option at all: the operator's default."""
    port = _free_port()
    process = _serve(tmp_path / "node", "--host", "0.0.0.0", "--port", str(port))
    try:
        yield tmp_path / "node", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers_https(port: int, ca: Path, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            context = ssl.create_default_context(cafile=str(ca))
            reply = httpx.get(f"https://127.0.0.1:{port}/health", verify=context, timeout=2)
            return reply.status_code == 200
        except (httpx.HTTPError, OSError):
            time.sleep(0.5)
    return False


def test_default_serve_on_a_network_address_is_https_only(served: tuple[Path, int]) -> None:
    home, port = served
    ca = home / "api-tls" / "root" / "ca.crt"
    assert _answers_https(port, ca), "the node API did not answer HTTPS under its own API root"
    with pytest.raises(httpx.HTTPError):  # a clear-text request gets no HTTP answer
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)


def test_plain_http_on_a_network_address_is_refused(tmp_path: Path) -> None:
    port = _free_port()
    process = _serve(
        tmp_path / "node",
        "--host",
        "0.0.0.0",  # the attack: a clear-text API other machines reach
        "--port",
        str(port),
        "--insecure-http",
    )
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 1, output
    assert "refusing plain HTTP on '0.0.0.0'" in output and "loopback" in output, output
    with socket.socket() as sock:  # nothing was left listening
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def test_plain_http_on_loopback_only_when_asked(tmp_path: Path) -> None:
    """The one clear-text case left: loopback, explicitly (a local TLS-terminating proxy)."""
    port = _free_port()
    process = _serve(
        tmp_path / "node", "--host", "127.0.0.1", "--port", str(port), "--insecure-http"
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("the loopback plain-HTTP API never answered")
    finally:
        process.terminate()
        process.wait(timeout=20)
