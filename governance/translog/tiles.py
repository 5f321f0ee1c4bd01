"""The log as ``c2sp.org/tlog-tiles`` resources: hash tiles and entry bundles.

A tile at level ``L`` holds up to 256 hashes, hash ``i`` of tile ``N`` being the Merkle
hash of leaves ``[(N*256+i) * 256**L, (N*256+i+1) * 256**L)`` -- a *perfect* subtree, so
exactly one stored node (:class:`merkle.NodeReader` level ``8*L``). Nothing is rehashed to
serve a tile. An entry bundle is the entries themselves, each a big-endian uint16 length
then the bytes whose RFC 6962 leaf hash is in the level-0 tile: for this log, the RFC 8785
leaf input of :func:`governance.translog.records.leaf_input`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from governance.translog import merkle

TILE_HEIGHT = 8  # tlog-tiles: "a tile represents the entire subtree of height 8"
TILE_WIDTH = 1 << TILE_HEIGHT  # tlog-tiles: "Full tiles MUST be exactly 256 hashes wide"
MAX_LEVEL = 63  # tlog-tiles: "<L> ... MUST be a decimal ASCII integer between 0 and 63"
MAX_ENTRY_SIZE = 0xFFFF  # tlog-tiles: entries are "uint16 length-prefixed"
ENTRIES = "entries"

_PATH = re.compile(
    r"^tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]*))?$"
)


class TileError(merkle.MerkleError, ValueError):
    """A tile path is malformed, or names a tile the signed tree does not have."""


@dataclass(frozen=True)
class Tile:
    level: int | None  # None: an entry bundle
    index: int
    width: int  # 256 for a full tile

    @property
    def partial(self) -> bool:
        return self.width < TILE_WIDTH

    def path(self) -> str:
        return tile_path(self.level, self.index, self.width)

    def end(self) -> int:
        """The number of leaves the tree needs for this tile to exist."""
        level = 0 if self.level is None else self.level
        return (self.index * TILE_WIDTH + self.width) << (TILE_HEIGHT * level)


def encode_index(index: int) -> str:
    """tlog-tiles: zero-padded 3-digit elements, all but the last prefixed ``x``."""
    if index < 0:
        raise TileError(f"tile index {index} is negative")
    parts = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        parts.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(parts))


def tile_path(level: int | None, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]``, or ``tile/entries/...`` for an entry bundle (level None)."""
    if not 1 <= width <= TILE_WIDTH:
        raise TileError(f"tile width {width} is outside 1..{TILE_WIDTH}")
    name = ENTRIES if level is None else str(level)
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{name}/{encode_index(index)}{suffix}"


def parse_tile_path(path: str) -> Tile:
    """The tile a request path names; anything else is a :class:`TileError` (a 404)."""
    match = _PATH.fullmatch(path)
    if match is None:
        raise TileError(f"{path!r} is not a tlog-tiles path tile/<L>/<N>[.p/<W>]")
    level_text, index_text, width_text = match.groups()
    level = None if level_text == ENTRIES else int(level_text)
    if level is not None and level > MAX_LEVEL:
        raise TileError(f"tile level {level} is above {MAX_LEVEL}")
    width = TILE_WIDTH if width_text is None else int(width_text)
    if width_text is not None and not 1 <= width < TILE_WIDTH:
        raise TileError(f"partial tile width {width} is outside 1..{TILE_WIDTH - 1}")
    return Tile(level, int(index_text.replace("x", "").replace("/", "")), width)


def tiles_for_size(size: int) -> Iterator[Tile]:
    """Every hash tile a tree of ``size`` leaves is served as (full, then the partial one)."""
    level = 0
    while size >> (TILE_HEIGHT * level):
        leaves_at_level = size >> (TILE_HEIGHT * level)
        full, rest = divmod(leaves_at_level, TILE_WIDTH)
        for index in range(full):
            yield Tile(level, index, TILE_WIDTH)
        if rest:
            yield Tile(level, full, rest)
        level += 1


def check_within(tile: Tile, size: int) -> None:
    """A tile is served only if the tree of ``size`` (the latest checkpoint) has it whole:
    a partial tile exists for exactly one width, ``floor(size / 256**L) mod 256``."""
    level = 0 if tile.level is None else tile.level
    if tile.end() > size:
        raise TileError(f"{tile.path()} is beyond the signed tree of size {size}")
    if tile.partial and ((size >> (TILE_HEIGHT * level)) - tile.index * TILE_WIDTH) != tile.width:
        raise TileError(f"{tile.path()} is not the partial tile of the signed tree of size {size}")


def hash_tile(reader: merkle.NodeReader, tile: Tile) -> bytes:
    """The concatenated hashes of a level-``L`` tile, read from the stored perfect nodes."""
    if tile.level is None:
        raise TileError("an entry bundle is not a hash tile")
    level = TILE_HEIGHT * tile.level
    first = tile.index * TILE_WIDTH
    return b"".join(reader.perfect_node(level, first + i) for i in range(tile.width))


def encode_bundle(entries: Iterable[bytes], *, first_index: int = 0) -> bytes:
    """tlog-tiles entry bundle: each entry as a big-endian uint16 length then its bytes."""
    out = bytearray()
    for position, data in enumerate(entries, start=first_index):
        if len(data) > MAX_ENTRY_SIZE:
            raise TileError(
                f"entry {position} has {len(data)} bytes, above the {MAX_ENTRY_SIZE}-byte "
                "limit of a tlog-tiles entry bundle: its bundle cannot be served"
            )
        out += len(data).to_bytes(2, "big") + data
    return bytes(out)


def decode_bundle(data: bytes) -> list[bytes]:
    """The entries of a bundle; a truncated one is a :class:`TileError`."""
    entries: list[bytes] = []
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise TileError("entry bundle ends inside a length prefix")
        length = int.from_bytes(data[offset : offset + 2], "big")
        offset += 2
        if offset + length > len(data):
            raise TileError("entry bundle ends inside an entry")
        entries.append(data[offset : offset + length])
        offset += length
    return entries


__all__ = [
    "MAX_ENTRY_SIZE",
    "TILE_WIDTH",
    "Tile",
    "TileError",
    "check_within",
    "decode_bundle",
    "encode_bundle",
    "encode_index",
    "hash_tile",
    "parse_tile_path",
    "tile_path",
    "tiles_for_size",
]
