"""Options in the kind-length-value form shared by IPv4 (RFC 791 §3.1) and
TCP (RFC 9293 §3.1)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from secmob._buffer import Reader
from secmob.errors import DecodeError, UsageError

__all__ = ["check_option_words", "decode_kind_length", "encode_kind_length"]

T = TypeVar("T")

END_OF_LIST, NO_OPERATION = 0, 1


def decode_kind_length(
    r: Reader, header: str, noun: str, make: Callable[[int, bytes], T],
) -> tuple[tuple[T, ...], bytes]:
    """Decode options up to the end of ``r``.

    Kind 0 (End of Option List) ends the list: the octets after it are
    padding and are returned as they are. Kind 1 (No-Operation) is one octet.
    Every other kind has a length octet that counts the kind and length
    octets too, so it is at least 2 and may not run past the end.
    ``make(kind, data)`` builds each option; ``noun`` names the kind field in
    error messages ("option type" for IPv4, "option kind" for TCP).
    """
    out: list[T] = []
    while not r.at_end():
        start = r.pos
        kind = r.u8()
        if kind == END_OF_LIST:
            out.append(make(kind, b""))
            return tuple(out), r.rest()
        if kind == NO_OPERATION:
            out.append(make(kind, b""))
            continue
        length = r.u8()
        if length < 2 or length - 2 > r.remaining():
            raise DecodeError(
                header, f"{noun} {kind} has length {length}, "
                f"valid is 2..{r.remaining() + 2}", start + 1,
            )
        out.append(make(kind, r.take(length - 2)))
    return tuple(out), b""


def encode_kind_length(options: Iterable[tuple[int, bytes]], padding: bytes = b"") -> bytes:
    """``(kind, data)`` options and trailing padding as they go on the wire
    (kinds 0 and 1 are one octet, the others kind | length | data)."""
    out = bytearray()
    for kind, data in options:
        if kind in (END_OF_LIST, NO_OPERATION):
            out.append(kind)
        else:
            out += bytes((kind, 2 + len(data))) + data
    return bytes(out + padding)


def check_option_words(header: str, options: bytes, hint: str) -> None:
    """Raise :class:`UsageError` unless ``options`` fill whole 32-bit words,
    at most 40 octets (what the IPv4 IHL and the TCP Data Offset can count)."""
    if len(options) % 4 or len(options) > 40:
        raise UsageError(
            f"{header} options take {len(options)} octets; they must fill whole 32-bit "
            f"words, at most 40 octets ({hint})"
        )
