"""Canaries and where to look for them in captured plaintext.

Encodings searched (a leak need not be the text we planted): decimal text (``repr`` of
the float64 and of its float32 rounding, as Python, JSON and numpy print them), float64
little- and big-endian, float32 little-endian. Float64 needles are 8 bytes, so a chance
match in megabytes of ciphertext has probability ~ size / 2**64: none. A 4-byte float32
needle would match random bytes about once per 4 GiB per needle — in several MiB of CKKS
ciphertext and hundreds of needles, a false alarm now and then — so float32 is searched
in everything *except* the spans that deserialise as CKKS ciphertexts under the trust's
public context (the walker below finds them inside protobuf messages). Those spans are
still searched for text and float64.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

#: Bytes a hex-encoded ciphertext is made of: a float32 needle of only these bytes could
#: match hex text by chance, so such needles are left out (their float64 forms remain).
HEX_ALPHABET = frozenset(b"0123456789abcdefABCDEF")
#: Shortest decimal text searched: "1.523" occurs in any ISO timestamp's fraction of a second.
MIN_TEXT = 8
#: Shortest opaque field worth trying as a ciphertext (a CKKS ciphertext is ~100 KiB).
MIN_CIPHERTEXT = 1024


@dataclass
class Needles:
    """Planted values, each with every encoding searched and a label for the report."""

    wide: dict[bytes, str] = field(default_factory=dict)  # text and float64: everywhere
    narrow: dict[bytes, str] = field(default_factory=dict)  # float32: outside ciphertexts

    def text(self, value: str, label: str) -> None:
        """A text form; shorter than :data:`MIN_TEXT` it would turn up by chance, so skipped."""
        if len(value) >= MIN_TEXT:
            self.wide[value.encode()] = label

    def number(self, value: float, label: str, *, as_text: bool = True) -> None:
        single = np.float32(value)
        if as_text:
            for form in {repr(float(value)), repr(float(single)), str(single)}:
                self.text(form, label)
        self.wide[struct.pack("<d", value)] = label
        self.wide[struct.pack(">d", value)] = label
        packed = struct.pack("<f", value)
        if not set(packed) <= HEX_ALPHABET:
            self.narrow[packed] = label

    def vector32(self, values: Iterable[float], label: str) -> None:
        """Adjacent float32 values (an array leaked whole): long enough to search anywhere."""
        self.wide[np.asarray(list(values), dtype="<f4").tobytes()] = label

    def found(self, wide: bytes, narrow: bytes) -> list[str]:
        hits = [label for needle, label in self.wide.items() if needle in wide]
        hits += [label for needle, label in self.narrow.items() if needle in narrow]
        return sorted(set(hits))


def ungzip(message: bytes) -> bytes:
    """A gRPC message body, decompressed if it is gzip (grpc-encoding: gzip)."""
    if message[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(message)
        except (OSError, EOFError):
            return message
    return message


def without_ciphertexts(
    message: bytes, is_ciphertext: Callable[[bytes], bool]
) -> tuple[bytes, int]:
    """``message`` with every protobuf field that is a ciphertext cut out; and their count."""
    spans: list[tuple[int, int]] = []
    _walk(memoryview(message), 0, is_ciphertext, spans, depth=0)
    kept, position = bytearray(), 0
    for start, end in sorted(spans):
        kept += message[position:start] + b"|"
        position = end
    kept += message[position:]
    return bytes(kept), len(spans)


def _walk(
    view: memoryview,
    base: int,
    is_ciphertext: Callable[[bytes], bool],
    spans: list[tuple[int, int]],
    depth: int,
) -> bool:
    """Parse ``view`` as protobuf; record ciphertext spans; False if it is not protobuf."""
    found: list[tuple[int, int]] = []
    position = 0
    while position < len(view):
        key, position = _varint(view, position)
        if key is None or key >> 3 == 0:
            return False
        wire = key & 7
        if wire == 0:
            _, position = _varint(view, position)
            if position < 0:
                return False
        elif wire in (1, 5):
            position += 8 if wire == 1 else 4
        elif wire == 2:
            length, position = _varint(view, position)
            if length is None or position + length > len(view):
                return False
            value = view[position : position + length]
            if length >= MIN_CIPHERTEXT and is_ciphertext(bytes(value)):
                found.append((base + position, base + position + length))
            elif depth < 12:
                _walk(value, base + position, is_ciphertext, found, depth + 1)
            position += length
        else:
            return False
        if position > len(view):
            return False
    spans += found
    return True


def _varint(view: memoryview, position: int) -> tuple[int | None, int]:
    value, shift = 0, 0
    while position < len(view) and shift < 64:
        byte = view[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
    return None, -1
