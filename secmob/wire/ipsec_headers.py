"""The AH and ESP headers as they appear in an IPv6 extension-header chain or
after an IPv4 header. Layout only: the ICV and the encryption are computed
elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from secmob._buffer import Reader, Writer
from secmob.errors import DecodeError, UsageError

__all__ = ["AH", "ESP"]


@dataclass(frozen=True, slots=True)
class AH:
    """IP Authentication Header (RFC 4302 §2).

    ``Payload Len`` is the length of AH in 32-bit words minus 2 (RFC 4302 §2.2),
    derived from the ICV length: 12 fixed octets plus the ICV must be a whole
    number of 32-bit words. ``reserved`` is kept as received.
    """

    next_header: int
    spi: int
    sequence: int
    icv: bytes = b""
    reserved: int = 0

    NAME = "AH"
    CODE = 51

    def __post_init__(self) -> None:
        if (12 + len(self.icv)) % 4:
            raise UsageError(
                f"AH length must be a multiple of 4 octets: ICV of {len(self.icv)} octets"
            )

    @property
    def payload_length(self) -> int:
        return (12 + len(self.icv)) // 4 - 2

    @property
    def length(self) -> int:
        return 12 + len(self.icv)

    @classmethod
    def decode(cls, r: Reader) -> AH:
        start = r.pos
        nh = r.u8()
        plen = r.u8()
        if plen < 1:
            raise DecodeError(
                "AH", f"Payload Len {plen} is below 1 (the header has 12 fixed octets)", start + 1
            )
        reserved = r.u16()
        spi = r.u32()
        seq = r.u32()
        icv = r.take((plen + 2) * 4 - 12)
        return cls(nh, spi, seq, icv, reserved)

    def encode(self, w: Writer) -> None:
        w.u8(self.next_header).u8(self.payload_length).u16(self.reserved)
        w.u32(self.spi).u32(self.sequence).put(self.icv)


@dataclass(frozen=True, slots=True)
class ESP:
    """Encapsulating Security Payload (RFC 4303 §2): SPI, sequence number and the
    opaque remainder (IV, ciphertext, padding, trailer, ICV). The header chain
    ends here: nothing after the sequence number can be read without the SA."""

    spi: int
    sequence: int
    data: bytes = b""

    NAME = "ESP"
    CODE = 50

    @property
    def length(self) -> int:
        return 8 + len(self.data)

    @classmethod
    def decode(cls, r: Reader) -> ESP:
        spi = r.u32()
        seq = r.u32()
        return cls(spi, seq, r.rest())

    def encode(self, w: Writer) -> None:
        w.u32(self.spi).u32(self.sequence).put(self.data)
