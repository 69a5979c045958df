"""IPv4 packets (RFC 791 §3.1) with options, and the AH/ESP chain after them.

``IPv4Packet(header, chain, payload)``: ``chain`` holds the
:class:`~secmob.wire.ipsec_headers.AH` and
:class:`~secmob.wire.ipsec_headers.ESP` headers that follow the IPv4 header
in order (RFC 4302 §3.1, RFC 4303 §3.1); ``payload`` is a parsed UDP, TCP or
ICMP segment, or raw bytes (other protocols, fragments).

The header checksum is a stored field: :func:`header_checksum` computes it,
:func:`verify_header_checksum` checks it, :meth:`IPv4Header.with_checksum`
returns a copy carrying it. Nothing fills it implicitly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from secmob._buffer import Reader, Writer
from secmob.errors import DecodeError, UsageError
from secmob.wire._encode import encoded
from secmob.wire._tlv import check_option_words, decode_kind_length, encode_kind_length
from secmob.wire.checksum import internet_checksum
from secmob.wire.ipsec_headers import AH, ESP
from secmob.wire.ipv6 import AH_NH, ESP_NH, decode_chain, encode_chain, link_chain
from secmob.wire.l4 import Segment

__all__ = [
    "IPv4Header",
    "IPv4Option",
    "IPv4Packet",
    "header_checksum",
    "verify_header_checksum",
]

_IPV4_UPPER = (1, 6, 17)
_IPV4_EXTENSIONS = frozenset({AH_NH, ESP_NH})
EOL, NOP, LSRR, SSRR = 0, 1, 131, 137


@dataclass(frozen=True, slots=True)
class IPv4Option:
    """An IPv4 option (RFC 791 §3.1): End of Option List (0) and No Operation (1)
    are one octet; every other type is ``type, length, data``. ``type`` is the
    whole octet (copied flag, class and number)."""

    type: int
    data: bytes = b""

    def __post_init__(self) -> None:
        if self.type in (EOL, NOP) and self.data:
            raise UsageError(f"IPv4 option type {self.type} is a single octet, it has no data")

    @property
    def length(self) -> int:
        return 1 if self.type in (EOL, NOP) else 2 + len(self.data)

    def encode(self, w: Writer) -> None:
        if self.type in (EOL, NOP):
            w.u8(self.type)
        else:
            w.u8(self.type).u8(2 + len(self.data)).put(self.data)


def _decode_options(r: Reader) -> tuple[tuple[IPv4Option, ...], bytes]:
    return decode_kind_length(r, "IPv4", "option type", IPv4Option)


@dataclass(frozen=True, slots=True)
class IPv4Header:
    """The IPv4 header (RFC 791 §3.1). ``tos`` is the whole octet (DSCP and
    ECN, RFC 2474/3168); ``flags`` the three bits (reserved, DF, MF);
    ``padding`` the octets after an End of Option List. IHL is derived from
    the options, which with ``padding`` must fill whole 32-bit words."""

    tos: int
    total_length: int
    identification: int
    flags: int
    fragment_offset: int
    ttl: int
    protocol: int
    checksum: int
    src: bytes
    dst: bytes
    options: tuple[IPv4Option, ...] = ()
    padding: bytes = b""
    version: int = 4

    NAME = "IPv4"
    DF, MF = 2, 1

    @classmethod
    def decode(cls, r: Reader) -> IPv4Header:
        start = r.pos
        vihl = r.u8()
        if vihl >> 4 != 4:
            raise DecodeError("IPv4", f"version {vihl >> 4}, expected 4", start)
        ihl = vihl & 0x0F
        if ihl < 5:
            raise DecodeError("IPv4", f"IHL {ihl} is below 5", start)
        tos, total, ident, word = r.u8(), r.u16(), r.u16(), r.u16()
        ttl, proto, csum = r.u8(), r.u8(), r.u16()
        src, dst = r.take(4), r.take(4)
        opts, pad = _decode_options(r.block(ihl * 4 - 20))
        return cls(tos, total, ident, word >> 13, word & 0x1FFF, ttl, proto, csum, src, dst,
                   opts, pad)

    @property
    def header_length(self) -> int:
        return 20 + len(self.options_bytes())

    def options_bytes(self) -> bytes:
        return encode_kind_length(((o.type, o.data) for o in self.options), self.padding)

    def encode(self, w: Writer) -> None:
        opts = self.options_bytes()
        check_option_words("IPv4", opts, "end them with End of Option List and padding")
        if len(self.src) != 4 or len(self.dst) != 4:
            raise UsageError("IPv4 addresses are 4 octets")
        if not (0 <= self.flags <= 7 and 0 <= self.fragment_offset <= 0x1FFF):
            raise UsageError("flags are 3 bits and the fragment offset 13 bits")
        w.u8((self.version << 4) | (5 + len(opts) // 4)).u8(self.tos).u16(self.total_length)
        w.u16(self.identification).u16((self.flags << 13) | self.fragment_offset)
        w.u8(self.ttl).u8(self.protocol).u16(self.checksum).put(self.src).put(self.dst)
        w.put(opts)

    def to_bytes(self) -> bytes:
        return encoded(self.NAME, self.encode)

    def with_checksum(self) -> IPv4Header:
        return dataclasses.replace(self, checksum=header_checksum(self))

    @property
    def is_fragment(self) -> bool:
        return bool(self.flags & self.MF) or self.fragment_offset != 0


def header_checksum(header: IPv4Header) -> int:
    """The header checksum of RFC 791 §3.1 (checksum field taken as zero)."""
    return internet_checksum(dataclasses.replace(header, checksum=0).to_bytes())


def verify_header_checksum(header: IPv4Header) -> None:
    """Raise :class:`DecodeError` unless the stored header checksum is right."""
    expected = header_checksum(header)
    if header.checksum != expected:
        raise DecodeError(
            "IPv4", f"header checksum 0x{header.checksum:04x} does not verify "
            f"(expected 0x{expected:04x})", 10,
        )


@dataclass(frozen=True, slots=True)
class IPv4Packet:
    """An IPv4 packet: header, AH/ESP chain, payload."""

    header: IPv4Header
    chain: tuple[AH | ESP, ...] = ()
    payload: Segment | bytes = b""

    @classmethod
    def parse(cls, data: bytes, *, decode_upper: bool = True) -> IPv4Packet:
        """Decode a whole packet. Octets beyond Total Length are rejected
        (:class:`DecodeError`); a shorter buffer raises :class:`Truncated`."""
        r = Reader(data, "IPv4")
        header = IPv4Header.decode(r)
        hlen = r.pos
        if header.total_length < hlen:
            raise DecodeError(
                "IPv4", f"Total Length {header.total_length} is below the header length {hlen}", 2
            )
        body = r.block(header.total_length - hlen)
        r.finish()
        chain, payload = decode_chain(
            body, header.protocol, _IPV4_UPPER, decode_upper and not header.is_fragment,
            _IPV4_EXTENSIONS,
        )
        return cls(header, chain, payload)  # type: ignore[arg-type]

    @classmethod
    def build(
        cls, src: bytes, dst: bytes, chain: Sequence[AH | ESP] = (),
        payload: Segment | bytes = b"", *, protocol: int | None = None, ttl: int = 64,
        tos: int = 0, identification: int = 0, flags: int = 0,
        options: Sequence[IPv4Option] = (), padding: bytes = b"", fill_checksums: bool = True,
    ) -> IPv4Packet:
        """A packet with protocol fields linked and Total Length set; when
        ``fill_checksums``, the upper-layer and header checksums computed.
        ``protocol`` names the upper layer of a raw ``payload`` (default 255)."""
        last = protocol if protocol is not None else getattr(payload, "PROTOCOL", 255)
        linked = link_chain(chain, last)
        first = linked[0].CODE if linked else last
        if fill_checksums and not isinstance(payload, bytes):
            payload = payload.with_checksum(src, dst)
        seg = payload
        body = encoded("IPv4", lambda w: encode_chain(w, linked, seg))
        header = IPv4Header(tos, 0, identification, flags, 0, ttl, first, 0, src, dst,
                            tuple(options), padding)
        header = dataclasses.replace(header, total_length=header.header_length + len(body))
        if fill_checksums:
            header = header.with_checksum()
        return cls(header, linked, payload)  # type: ignore[arg-type]

    def to_bytes(self) -> bytes:
        def encode(w: Writer) -> None:
            self.header.encode(w)
            encode_chain(w, self.chain, self.payload)

        return encoded("IPv4", encode)
