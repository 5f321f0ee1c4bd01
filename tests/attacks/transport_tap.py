"""A man in the middle the test owns: every plaintext byte a node's sockets carry.

Why a relay and not a hook in our code: a hook sees what our code *meant* to send; a leak
by a library (an exception text in a gRPC trailer, Flower metadata, a header) passes
beside it. The relay sits on the TCP path between a node's process and its peer, so it
holds every byte the node's socket wrote. TLS is terminated with certificates of the
test's own PKI (the trust root issued the coordinator's server certificate; the relay
presents it, and forwards upstream as the node, with the node's own certificate, so the
coordinator's mutual TLS still holds); the node's API is tapped the other way round (the
relay is the tenant-facing side and reads what the API answers).

Decoding: gRPC rides HTTP/2, whose headers are HPACK-compressed (Huffman-coded text would
hide a canary from a byte search), so each direction is parsed into frames (hyperframe),
header blocks decoded (hpack), and DATA reassembled per stream into gRPC messages.
Flower 1.41's SuperNode speaks its Fleet API as REST (HTTP/1.1 requests with protobuf
bodies): those are split into header lines and bodies (:func:`decode_http1`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hpack import Decoder
from hyperframe.frame import ContinuationFrame, DataFrame, Frame, HeadersFrame

#: The client connection preface of HTTP/2 (RFC 9113, section 3.4).
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#: gRPC's message prefix: 1 byte compressed flag + 4 bytes big-endian length (gRPC over HTTP/2).
GRPC_PREFIX = 5


@dataclass
class Connection:
    """One tapped TCP connection: what the tapped party sent, in order."""

    out: bytearray = field(default_factory=bytearray)  # from the tapped party
    back: bytearray = field(default_factory=bytearray)  # to the tapped party


@dataclass(frozen=True)
class TlsEnd:
    """How one side of the relay speaks TLS (``None`` fields: that side is plain TCP)."""

    context: ssl.SSLContext | None = None
    server_hostname: str | None = None


def server_end(cert: Path, key: Path, alpn: list[str]) -> TlsEnd:
    """The relay as a TLS server, with a certificate the tapped client trusts."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    context.set_alpn_protocols(alpn)
    return TlsEnd(context)


def client_end(
    ca: Path, alpn: list[str], *, cert: Path | None = None, key: Path | None = None
) -> TlsEnd:
    """The relay as a TLS client of the real server (optionally with a client certificate)."""
    context = ssl.create_default_context(cafile=str(ca))
    if cert is not None and key is not None:
        context.load_cert_chain(str(cert), str(key))
    context.set_alpn_protocols(alpn)
    return TlsEnd(context, server_hostname="localhost")


class Relay:
    """Accepts on 127.0.0.1:<free port>, forwards to ``upstream``; records both directions.

    ``tapped_is_client``: the tapped party connects to the relay (a node calling the
    coordinator) — its bytes are those the relay reads downstream; otherwise (the node's API)
    the tapped party is upstream and its bytes are what the relay reads from there.
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        downstream_tls: TlsEnd = TlsEnd(),
        upstream_tls: TlsEnd = TlsEnd(),
        tapped_is_client: bool = True,
    ) -> None:
        self.upstream = upstream
        self.downstream_tls = downstream_tls
        self.upstream_tls = upstream_tls
        self.tapped_is_client = tapped_is_client
        self.connections: list[Connection] = []
        self.errors: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def __enter__(self) -> Relay:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("relay did not start")
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    @property
    def address(self) -> str:
        return f"localhost:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.downstream_tls.context)
        )
        self.port = int(server.sockets[0].getsockname()[1])
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _handle(self, down_r: asyncio.StreamReader, down_w: asyncio.StreamWriter) -> None:
        connection = Connection()
        self.connections.append(connection)
        try:
            up_r, up_w = await asyncio.open_connection(
                *self.upstream,
                ssl=self.upstream_tls.context,
                server_hostname=self.upstream_tls.server_hostname,
            )
        except (OSError, ssl.SSLError) as exc:
            self.errors.append(f"upstream {self.upstream}: {exc!r}")
            down_w.close()
            return
        client_bytes, server_bytes = (
            (connection.out, connection.back)
            if self.tapped_is_client
            else (connection.back, connection.out)
        )
        await asyncio.gather(_pump(down_r, up_w, client_bytes), _pump(up_r, down_w, server_bytes))

    def sent(self) -> Iterator[bytes]:
        """Every connection's bytes from the tapped party, one stream per connection."""
        for connection in self.connections:
            yield bytes(connection.out)


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tape: bytearray
) -> None:
    try:
        while chunk := await reader.read(65536):
            tape += chunk
            writer.write(chunk)
            await writer.drain()
    except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()


@dataclass
class Decoded:
    """A stream's HTTP/2 content: decoded header text and each stream's DATA payload."""

    headers: list[bytes] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)


def decode_h2(stream: bytes) -> Decoded:
    """Frames of one HTTP/2 direction: headers through HPACK, DATA into gRPC messages."""
    decoded = Decoded()
    position = len(H2_PREFACE) if stream.startswith(H2_PREFACE) else 0
    decoder = Decoder()
    decoder.max_allowed_table_size = 1 << 20
    blocks: dict[int, bytearray] = {}
    data: dict[int, bytearray] = {}
    view = memoryview(stream)
    while position + 9 <= len(stream):
        frame, length = Frame.parse_frame_header(view[position : position + 9])
        body = view[position + 9 : position + 9 + length]
        position += 9 + length
        if len(body) < length:
            break  # the connection was cut mid-frame
        frame.parse_body(body)
        if isinstance(frame, HeadersFrame | ContinuationFrame):
            blocks.setdefault(frame.stream_id, bytearray()).extend(frame.data)
            if "END_HEADERS" in frame.flags:
                block = bytes(blocks.pop(frame.stream_id))
                for name, value in decoder.decode(block, raw=True):
                    decoded.headers.append(bytes(name) + b": " + bytes(value))
        elif isinstance(frame, DataFrame):
            data.setdefault(frame.stream_id, bytearray()).extend(frame.data)
    for payload in data.values():
        decoded.messages += list(_grpc_messages(bytes(payload)))
    return decoded


def decode_stream(stream: bytes) -> Decoded:
    """One direction of a connection, HTTP/2 or HTTP/1.1, whichever it speaks."""
    return decode_h2(stream) if stream.startswith(H2_PREFACE) else decode_http1(stream)


def decode_http1(stream: bytes) -> Decoded:
    """HTTP/1.1 messages in a row: header lines, and bodies by Content-Length or chunks."""
    decoded = Decoded()
    position = 0
    while position < len(stream):
        end = stream.find(b"\r\n\r\n", position)
        if end < 0:
            decoded.messages.append(stream[position:])
            break
        lines = stream[position:end].split(b"\r\n")
        decoded.headers += lines
        fields = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])
        }
        position = end + 4
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            body, position = _chunks(stream, position)
        else:
            length = int(fields.get(b"content-length", b"0") or 0)
            body, position = stream[position : position + length], position + length
        decoded.messages.append(body)
    return decoded


def _chunks(stream: bytes, position: int) -> tuple[bytes, int]:
    body = bytearray()
    while position < len(stream):
        end = stream.find(b"\r\n", position)
        if end < 0:
            break
        size = int(stream[position:end].split(b";")[0] or b"0", 16)
        position = end + 2
        if size == 0:
            trailer = stream.find(b"\r\n\r\n", position - 2)
            return bytes(body), (trailer + 4 if trailer >= 0 else len(stream))
        body += stream[position : position + size]
        position += size + 2
    return bytes(body), len(stream)


def _grpc_messages(payload: bytes) -> Iterator[bytes]:
    position = 0
    while position + GRPC_PREFIX <= len(payload):
        length = int.from_bytes(payload[position + 1 : position + GRPC_PREFIX], "big")
        yield payload[position + GRPC_PREFIX : position + GRPC_PREFIX + length]
        position += GRPC_PREFIX + length
