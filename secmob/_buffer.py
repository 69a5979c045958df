"""Length-checked reading and writing of wire formats.

:class:`Reader` pulls big-endian integers and byte strings from a buffer and
raises :class:`~secmob.errors.Truncated` (naming the structure and the
offset) instead of ``IndexError`` or ``struct.error``. :meth:`Reader.block`
hands out a sub-reader over a length-prefixed block and the caller checks
it was consumed exactly with :meth:`Reader.finish`.

:class:`Writer` is the mirror image over a ``bytearray``.
"""

from __future__ import annotations

import struct

from secmob.errors import DecodeError, Truncated

__all__ = ["Reader", "Writer"]

_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
_U64 = struct.Struct("!Q")


class Reader:
    """A cursor over ``data[start:end]`` for decoding the structure ``header``.

    Offsets reported in errors are relative to the start of ``data``, so a
    sub-reader made by :meth:`block` reports positions in the outer packet.
    """

    __slots__ = ("_data", "_end", "header", "pos")

    def __init__(
        self, data: bytes | bytearray | memoryview, header: str, start: int = 0,
        end: int | None = None,
    ) -> None:
        self._data = bytes(data) if not isinstance(data, bytes) else data
        self._end = len(self._data) if end is None else end
        self.pos = start
        self.header = header

    # -- position -------------------------------------------------------------

    @property
    def data(self) -> bytes:
        """The whole underlying buffer."""
        return self._data

    @property
    def end(self) -> int:
        """Offset one past the last octet this reader may consume."""
        return self._end

    def remaining(self) -> int:
        """Number of octets left before :attr:`end`."""
        return self._end - self.pos

    def at_end(self) -> bool:
        return self.pos >= self._end

    def _need(self, n: int) -> int:
        pos = self.pos
        if n < 0 or pos + n > self._end:
            raise Truncated(self.header, pos, n, self._end - pos)
        self.pos = pos + n
        return pos

    # -- integers -------------------------------------------------------------

    def u8(self) -> int:
        return self._data[self._need(1)]

    def u16(self) -> int:
        return int(_U16.unpack_from(self._data, self._need(2))[0])

    def u32(self) -> int:
        return int(_U32.unpack_from(self._data, self._need(4))[0])

    def u64(self) -> int:
        return int(_U64.unpack_from(self._data, self._need(8))[0])

    def uint(self, n: int) -> int:
        """An ``n``-octet unsigned big-endian integer."""
        start = self._need(n)
        return int.from_bytes(self._data[start : start + n], "big")

    # -- bytes ----------------------------------------------------------------

    def take(self, n: int) -> bytes:
        """The next ``n`` octets."""
        start = self._need(n)
        return self._data[start : start + n]

    def rest(self) -> bytes:
        """Everything up to :attr:`end`."""
        start = self.pos
        self.pos = self._end
        return self._data[start : self._end]

    def skip(self, n: int) -> None:
        self._need(n)

    def peek_u8(self) -> int:
        if self.pos >= self._end:
            raise Truncated(self.header, self.pos, 1, 0)
        return self._data[self.pos]

    def block(self, n: int, header: str | None = None) -> Reader:
        """A sub-reader over the next ``n`` octets; this reader moves past them."""
        start = self._need(n)
        return Reader(self._data, header or self.header, start, start + n)

    def finish(self) -> None:
        """Raise :class:`DecodeError` unless every octet was consumed."""
        if self.pos != self._end:
            raise DecodeError(
                self.header, f"{self._end - self.pos} unexpected trailing octet(s)", self.pos
            )


class Writer:
    """Appends big-endian fields to a growing ``bytearray``."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = bytearray()

    def __len__(self) -> int:
        return len(self.buf)

    def u8(self, v: int) -> Writer:
        self.buf.append(v)
        return self

    def u16(self, v: int) -> Writer:
        self.buf += _U16.pack(v)
        return self

    def u32(self, v: int) -> Writer:
        self.buf += _U32.pack(v)
        return self

    def u64(self, v: int) -> Writer:
        self.buf += _U64.pack(v)
        return self

    def uint(self, v: int, n: int) -> Writer:
        self.buf += v.to_bytes(n, "big")
        return self

    def put(self, b: bytes | bytearray | memoryview) -> Writer:
        self.buf += b
        return self

    def patch_u16(self, offset: int, v: int) -> None:
        """Overwrite two octets at ``offset`` (for lengths and checksums known late)."""
        _U16.pack_into(self.buf, offset, v)

    def patch_u8(self, offset: int, v: int) -> None:
        self.buf[offset] = v

    def getvalue(self) -> bytes:
        return bytes(self.buf)
