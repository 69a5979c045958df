"""The Mobile IPv6 Mobility Header (RFC 6275 §6.1, NEMO flags of RFC 3963 §4).

Layout (§6.1.1)::

    Payload Proto (8) | Header Len (8) | MH Type (8) | Reserved (8)
    Checksum (16)     | Message Data ...

Header Len counts 8-octet units after the first 8 octets; the whole header is
a multiple of 8 octets. The Message Data is a fixed part per MH Type followed
by mobility options (:mod:`secmob.wire.mobility_options`).

Each message is a frozen dataclass; :func:`decode` parses one and
``to_bytes()`` reproduces the parsed bytes exactly (padding options, reserved
bits and the checksum field included). Build new messages with
``.padded()`` to insert the alignment padding of §6.2.1, then
``.to_bytes(source, destination)`` to fill in the checksum.

**Checksum addresses** (§6.1.1 with RFC 8200 §8.1): the pseudo-header source
is the packet's source address, *except* that when the packet carries a Home
Address destination option the home address is used; the destination is the
final destination (the home address of a type 2 routing header when present).
The caller passes the addresses to use.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, TypeVar

from secmob._buffer import Reader, Writer
from secmob.errors import DecodeError, Truncated, UsageError
from secmob.wire.checksum import transport_checksum
from secmob.wire.mobility_codes import BAStatus, BEStatus, MHType
from secmob.wire.mobility_options import (
    BindingAuthorizationData,
    MobilityOption,
    NonceIndices,
    Pad1,
    PadN,
    align_options,
    decode_options,
    encode_options,
)

__all__ = [
    "IPPROTO_NONE",
    "MH_PROTOCOL",
    "BAStatus",
    "BEStatus",
    "BindingAcknowledgement",
    "BindingError",
    "BindingRefreshRequest",
    "BindingUpdate",
    "CareOfTest",
    "CareOfTestInit",
    "HomeTest",
    "HomeTestInit",
    "MHType",
    "MobilityMessage",
    "UnknownMessage",
    "authenticated_data",
    "checksum_matches",
    "decode",
    "decode_prefix",
    "mh_checksum",
    "verify_checksum",
]

MH_PROTOCOL = 135
"""IPv6 Next Header value of the Mobility Header (§6.1.1)."""
IPPROTO_NONE = 59
"""The Payload Proto value senders use (§6.1.1)."""

_HEADER = "Mobility Header"
_M = TypeVar("_M", bound="MobilityMessage")
_O = TypeVar("_O")


def _u(name: str, value: int, bits: int) -> None:
    if not 0 <= value < 1 << bits:
        raise UsageError(f"{name} must fit in {bits} bits, got {value}")


def _octets(name: str, value: bytes, n: int) -> None:
    if len(value) != n:
        raise UsageError(f"{name} must be {n} octets, got {len(value)}")


@dataclass(frozen=True, kw_only=True)
class MobilityMessage:
    """Fields common to every Mobility Header message.

    ``options`` are the mobility options in wire order, padding included.
    ``payload_proto``, ``reserved`` and ``checksum`` are the header fields of
    §6.1.1 (the checksum is kept as received, or filled by ``to_bytes``).
    """

    MH_TYPE: ClassVar[int]
    NAME: ClassVar[str]
    FIXED: ClassVar[int]  # octets of Message Data before the options

    options: tuple[MobilityOption, ...] = ()
    payload_proto: int = IPPROTO_NONE
    reserved: int = 0
    checksum: int = 0

    def __post_init__(self) -> None:
        _u("Payload Proto", self.payload_proto, 8)
        _u("Reserved", self.reserved, 8)
        _u("Checksum", self.checksum, 16)
        object.__setattr__(self, "options", tuple(self.options))

    @property
    def mh_type(self) -> int:
        return self.MH_TYPE

    # -- layout ----------------------------------------------------------------

    def _fixed(self, w: Writer) -> None:
        raise NotImplementedError

    @classmethod
    def _parse_fixed(cls, r: Reader) -> dict[str, Any]:
        raise NotImplementedError

    def padded(self: _M) -> _M:
        """A copy whose options are aligned and padded as §6.2.1 requires."""
        return replace(self, options=align_options(self.options, 6 + self.FIXED))

    def option(self, kind: type[_O]) -> _O | None:
        """The first option of class ``kind``, or ``None``."""
        for o in self.options:
            if isinstance(o, kind):
                return o
        return None

    def to_bytes(self, source: bytes | None = None, destination: bytes | None = None) -> bytes:
        """The Mobility Header bytes.

        With ``source`` and ``destination`` the checksum is computed (see the
        module docstring for which addresses); otherwise ``self.checksum`` is
        written as it is. Raises :class:`UsageError` when the message is not a
        multiple of 8 octets (use :meth:`padded`) or longer than 2048 octets.
        """
        w = Writer()
        w.u8(self.payload_proto).u8(0).u8(self.MH_TYPE).u8(self.reserved).u16(0)
        self._fixed(w)
        encode_options(w, self.options)
        n = len(w)
        if n % 8 or n > 2048:
            raise UsageError(
                f"{self.NAME} is {n} octets; it must be a multiple of 8 and at most 2048 "
                "(call .padded() to add the padding options)"
            )
        w.patch_u8(1, n // 8 - 1)
        if source is not None and destination is not None:
            w.patch_u16(4, mh_checksum(source, destination, w.getvalue()))
        else:
            w.patch_u16(4, self.checksum)
        return w.getvalue()

    def with_checksum(self: _M, source: bytes, destination: bytes) -> _M:
        """A copy carrying the checksum computed over the given addresses."""
        return replace(self, checksum=mh_checksum(source, destination, self.to_bytes()))


@dataclass(frozen=True, kw_only=True)
class BindingRefreshRequest(MobilityMessage):
    """Binding Refresh Request (§6.1.2): a 16-bit Reserved field, then options."""

    MH_TYPE: ClassVar[int] = MHType.BINDING_REFRESH_REQUEST
    NAME: ClassVar[str] = "Binding Refresh Request"
    FIXED: ClassVar[int] = 2
    message_reserved: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        _u("Reserved", self.message_reserved, 16)

    def _fixed(self, w: Writer) -> None:
        w.u16(self.message_reserved)

    @classmethod
    def _parse_fixed(cls, r: Reader) -> dict[str, Any]:
        return {"message_reserved": r.u16()}


@dataclass(frozen=True, kw_only=True)
class HomeTestInit(MobilityMessage):
    """Home Test Init (§6.1.3): Reserved (16), Home Init Cookie (64), options."""

    MH_TYPE: ClassVar[int] = MHType.HOME_TEST_INIT
    NAME: ClassVar[str] = "Home Test Init"
    FIXED: ClassVar[int] = 10
    cookie: bytes
    message_reserved: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        _octets("Init Cookie", self.cookie, 8)
        _u("Reserved", self.message_reserved, 16)

    def _fixed(self, w: Writer) -> None:
        w.u16(self.message_reserved).put(self.cookie)

    @classmethod
    def _parse_fixed(cls, r: Reader) -> dict[str, Any]:
        return {"message_reserved": r.u16(), "cookie": r.take(8)}


@dataclass(frozen=True, kw_only=True)
class CareOfTestInit(HomeTestInit):
    """Care-of Test Init (§6.1.4): Reserved (16), Care-of Init Cookie (64), options."""

    MH_TYPE: ClassVar[int] = MHType.CARE_OF_TEST_INIT
    NAME: ClassVar[str] = "Care-of Test Init"


@dataclass(frozen=True, kw_only=True)
class HomeTest(MobilityMessage):
    """Home Test (§6.1.5): Home Nonce Index (16), Home Init Cookie (64),
    Home Keygen Token (64), options."""

    MH_TYPE: ClassVar[int] = MHType.HOME_TEST
    NAME: ClassVar[str] = "Home Test"
    FIXED: ClassVar[int] = 18
    nonce_index: int
    cookie: bytes
    keygen_token: bytes

    def __post_init__(self) -> None:
        super().__post_init__()
        _u("Nonce Index", self.nonce_index, 16)
        _octets("Init Cookie", self.cookie, 8)
        _octets("Keygen Token", self.keygen_token, 8)

    def _fixed(self, w: Writer) -> None:
        w.u16(self.nonce_index).put(self.cookie).put(self.keygen_token)

    @classmethod
    def _parse_fixed(cls, r: Reader) -> dict[str, Any]:
        return {"nonce_index": r.u16(), "cookie": r.take(8), "keygen_token": r.take(8)}

    def __repr__(self) -> str:  # the token is key material
        return f"{type(self).__name__}(nonce_index={self.nonce_index}, cookie={self.cookie.hex()})"


@dataclass(frozen=True, kw_only=True, repr=False)
class CareOfTest(HomeTest):
    """Care-of Test (§6.1.6): Care-of Nonce Index, Care-of Init Cookie,
    Care-of Keygen Token, options."""

    MH_TYPE: ClassVar[int] = MHType.CARE_OF_TEST
    NAME: ClassVar[str] = "Care-of Test"


# Binding Update flag bits in the 16-bit word after the Sequence Number (§6.1.7,
# RFC 3963 §4.1): A H L K M R, then reserved bits.
BU_A, BU_H, BU_L, BU_K, BU_R = 0x8000, 0x4000, 0x2000, 0x1000, 0x0400
_BU_KNOWN = BU_A | BU_H | BU_L | BU_K | BU_R
# Binding Acknowledgement flags octet (§6.1.8, RFC 3963 §4.2): K R, reserved bits.
BA_K, BA_R = 0x80, 0x40
_THREE_WORDS = struct.Struct("!HHH")


@dataclass(frozen=True, kw_only=True)
class BindingUpdate(MobilityMessage):
    """Binding Update (§6.1.7, R flag of RFC 3963 §4.1).

    ``lifetime`` is in units of 4 seconds (0 deletes the binding).
    ``flags_reserved`` holds every other bit of the flags word (M, P, ...)
    so that decoding round-trips.
    """

    MH_TYPE: ClassVar[int] = MHType.BINDING_UPDATE
    NAME: ClassVar[str] = "Binding Update"
    FIXED: ClassVar[int] = 6
    sequence: int
    lifetime: int
    ack: bool = False
    home_registration: bool = False
    link_local_compat: bool = False
    key_management: bool = False
    mobile_router: bool = False
    flags_reserved: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        _u("Sequence #", self.sequence, 16)
        _u("Lifetime", self.lifetime, 16)
        if self.flags_reserved & ~0xFFFF or self.flags_reserved & _BU_KNOWN:
            raise UsageError("flags_reserved must not overlap the A, H, L, K or R bits")

    @property
    def flags(self) -> int:
        """The 16-bit flags word as sent."""
        return (
            (BU_A if self.ack else 0) | (BU_H if self.home_registration else 0)
            | (BU_L if self.link_local_compat else 0) | (BU_K if self.key_management else 0)
            | (BU_R if self.mobile_router else 0) | self.flags_reserved
        )

    def _fixed(self, w: Writer) -> None:
        w.u16(self.sequence).u16(self.flags).u16(self.lifetime)

    @classmethod
    def _parse_fixed(cls, r: Reader) -> dict[str, Any]:
        seq, flags, lifetime = _THREE_WORDS.unpack(r.take(6))
        return {
            "sequence": seq, "lifetime": lifetime, "ack": bool(flags & BU_A),
            "home_registration": bool(flags & BU_H), "link_local_compat": bool(flags & BU_L),
            "key_management": bool(flags & BU_K), "mobile_router": bool(flags & BU_R),
            "flags_reserved": flags & ~_BU_KNOWN & 0xFFFF,
        }


@dataclass(frozen=True, kw_only=True)
class BindingAcknowledgement(MobilityMessage):
    """Binding Acknowledgement (§6.1.8, R flag of RFC 3963 §4.2).

    ``lifetime`` is the granted lifetime in units of 4 seconds.
    """

    MH_TYPE: ClassVar[int] = MHType.BINDING_ACKNOWLEDGEMENT
    NAME: ClassVar[str] = "Binding Acknowledgement"
    FIXED: ClassVar[int] = 6
    status: int
    sequence: int
    lifetime: int
    key_management: bool = False
    mobile_router: bool = False
    flags_reserved: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        _u("Status", self.status, 8)
        _u("Sequence #", self.sequence, 16)
        _u("Lifetime", self.lifetime, 16)
        if self.flags_reserved & ~0x3F:
            raise UsageError("flags_reserved holds the 6 low bits of the flags octet")

    @property
    def accepted(self) -> bool:
        """Status values below 128 accept the Binding Update (§6.1.8)."""
        return self.status < 128

    def _fixed(self, w: Writer) -> None:
        flags = (BA_K if self.key_management else 0) | (BA_R if self.mobile_router else 0)
        w.u8(self.status).u8(flags | self.flags_reserved).u16(self.sequence).u16(self.lifetime)

    @classmethod
    def _parse_fixed(cls, r: Reader) -> dict[str, Any]:
        status, flags, seq, lifetime = r.u8(), r.u8(), r.u16(), r.u16()
        return {
            "status": status, "sequence": seq, "lifetime": lifetime,
            "key_management": bool(flags & BA_K), "mobile_router": bool(flags & BA_R),
            "flags_reserved": flags & 0x3F,
        }


@dataclass(frozen=True, kw_only=True)
class BindingError(MobilityMessage):
    """Binding Error (§6.1.9): Status (8), Reserved (8), Home Address (128), options."""

    MH_TYPE: ClassVar[int] = MHType.BINDING_ERROR
    NAME: ClassVar[str] = "Binding Error"
    FIXED: ClassVar[int] = 18
    status: int
    home_address: bytes
    message_reserved: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        _u("Status", self.status, 8)
        _u("Reserved", self.message_reserved, 8)
        _octets("Home Address", self.home_address, 16)

    def _fixed(self, w: Writer) -> None:
        w.u8(self.status).u8(self.message_reserved).put(self.home_address)

    @classmethod
    def _parse_fixed(cls, r: Reader) -> dict[str, Any]:
        return {"status": r.u8(), "message_reserved": r.u8(), "home_address": r.take(16)}

    def __repr__(self) -> str:
        return (f"BindingError(status={self.status}, "
                f"home_address={ipaddress.IPv6Address(self.home_address)})")


@dataclass(frozen=True, kw_only=True)
class UnknownMessage(MobilityMessage):
    """A message whose MH Type this module does not interpret: the Message
    Data after the Checksum is kept verbatim in ``data`` (§9.2: answered with
    a Binding Error, status 2)."""

    MH_TYPE: ClassVar[int] = -1
    NAME: ClassVar[str] = "Mobility Header message"
    FIXED: ClassVar[int] = 0
    type: int
    data: bytes = field(default=b"")

    def __post_init__(self) -> None:
        super().__post_init__()
        _u("MH Type", self.type, 8)
        if self.type in _MESSAGES:
            raise UsageError(f"MH Type {self.type} is a known message; use its class")

    @property
    def mh_type(self) -> int:
        return self.type

    def to_bytes(self, source: bytes | None = None, destination: bytes | None = None) -> bytes:
        n = 6 + len(self.data)
        if n % 8 or n > 2048:
            raise UsageError(f"MH Type {self.type} message is {n} octets; need a multiple of 8")
        out = bytearray((self.payload_proto, n // 8 - 1, self.type, self.reserved, 0, 0))
        out += self.data
        if source is not None and destination is not None:
            ck = mh_checksum(source, destination, bytes(out))
        else:
            ck = self.checksum
        out[4:6] = ck.to_bytes(2, "big")
        return bytes(out)


_MESSAGES: dict[int, type[MobilityMessage]] = {
    c.MH_TYPE: c
    for c in (
        BindingRefreshRequest, HomeTestInit, CareOfTestInit, HomeTest, CareOfTest,
        BindingUpdate, BindingAcknowledgement, BindingError,
    )
}


def decode_prefix(data: bytes) -> tuple[MobilityMessage, int]:
    """Decode the Mobility Header at the start of ``data``; return it and its
    length in octets (octets after it are left to the caller).

    Raises :class:`~secmob.errors.Truncated` when ``data`` is shorter than
    Header Len announces, and :class:`~secmob.errors.DecodeError` when Header
    Len is too small for the MH Type (§9.2) or an option is malformed.
    """
    head = Reader(data, _HEADER)
    payload_proto, header_len, mh_type, reserved, checksum = (
        head.u8(), head.u8(), head.u8(), head.u8(), head.u16())
    total = (header_len + 1) * 8
    cls = _MESSAGES.get(mh_type)
    name = cls.NAME if cls is not None else f"Mobility Header (MH Type {mh_type})"
    if len(data) < total:  # Header Len announces ``total`` octets
        raise Truncated(name, 0, total, len(data))
    common: dict[str, Any] = {"payload_proto": payload_proto, "reserved": reserved,
                              "checksum": checksum}
    r = Reader(data, name, 6, total)
    if cls is None:
        return UnknownMessage(type=mh_type, data=r.rest(), **common), total
    if total < 6 + cls.FIXED:
        raise DecodeError(
            name, f"Header Len {header_len} gives {total} octets, "
            f"less than the {6 + cls.FIXED} a {cls.NAME} needs (RFC 6275 §9.2)", 1)
    fields = cls._parse_fixed(r)
    return cls(options=decode_options(r), **fields, **common), total


_PAD1 = Pad1()


def _quick_options(data: bytes, i: int, end: int) -> tuple[MobilityOption, ...] | None:
    """The options of ``data[i:end]`` when they are only padding, Nonce
    Indices and a final Binding Authorization Data (the options of a Return
    Routability signed message), each well formed; ``None`` otherwise."""
    out: list[MobilityOption] = []
    while i < end:
        kind = data[i]
        if kind == Pad1.TYPE:
            out.append(_PAD1)
            i += 1
            continue
        if i + 2 > end:
            return None
        body, i = i + 2, i + 2 + data[i + 1]
        if i > end:
            return None
        if kind == PadN.TYPE:
            out.append(PadN(data[body:i]))
        elif kind == NonceIndices.TYPE and i - body == NonceIndices.LENGTH:
            out.append(_filled(NonceIndices, {
                "home_nonce_index": data[body] << 8 | data[body + 1],
                "care_of_nonce_index": data[body + 2] << 8 | data[body + 3]}))
        elif kind == BindingAuthorizationData.TYPE and i == end and (
                i - body == BindingAuthorizationData.LENGTH):
            out.append(_filled(BindingAuthorizationData, {"authenticator": data[body:i]}))
        else:
            return None
    return tuple(out)


def _filled(cls: type[_O], fields: dict[str, Any]) -> _O:
    """A frozen ``cls`` holding ``fields`` read from the wire: octets, 16-bit
    words and slices of their exact lengths, within the ranges
    ``__post_init__`` checks by construction, so the checks are not run again."""
    obj = object.__new__(cls)
    obj.__dict__.update(fields)
    return obj


def _decode_quick(data: bytes) -> MobilityMessage | None:
    """:func:`decode` for a well-formed message of a known MH Type whose
    options :func:`_quick_options` reads, found from offsets; ``None`` for
    anything else (the full decoder then runs and raises what it raises)."""
    n = len(data)
    if n < 8 or (data[1] + 1) * 8 != n:
        return None
    cls = _MESSAGES.get(data[2])
    if cls is None or n < 6 + cls.FIXED:
        return None
    options = _quick_options(data, 6 + cls.FIXED, n)
    if options is None:
        return None
    fields = cls._parse_fixed(Reader(data, cls.NAME, 6, n))
    fields["options"] = options
    fields["payload_proto"] = data[0]
    fields["reserved"] = data[3]
    fields["checksum"] = data[4] << 8 | data[5]
    return _filled(cls, fields)


def decode(data: bytes) -> MobilityMessage:
    """Decode exactly one Mobility Header; trailing octets raise :class:`DecodeError`."""
    if type(data) is bytes and (quick := _decode_quick(data)) is not None:
        return quick
    msg, n = decode_prefix(data)
    if n != len(data):
        raise DecodeError(
            type(msg).NAME if not isinstance(msg, UnknownMessage) else _HEADER,
            f"{len(data) - n} octet(s) after the {n} announced by Header Len", n)
    return msg


def mh_checksum(source: bytes, destination: bytes, mh: bytes) -> int:
    """The Mobility Header checksum (§6.1.1) of ``mh`` (its own Checksum field
    is treated as zero) over the IPv6 pseudo-header with Next Header 135."""
    if len(source) != 16 or len(destination) != 16:
        raise UsageError("the Mobility Header checksum needs 16-octet IPv6 addresses")
    if len(mh) < 6:
        return transport_checksum(source, destination, MH_PROTOCOL, mh[:4] + b"\0\0" + mh[6:])
    return transport_checksum(source, destination, MH_PROTOCOL, mh, checksum_at=4)


def checksum_matches(source: bytes, destination: bytes, mh: bytes) -> bool:
    """Whether the Checksum field of ``mh`` (at least 6 octets) is
    :func:`mh_checksum` of it (§6.1.1, §9.2)."""
    return (mh[4] << 8 | mh[5]) == mh_checksum(source, destination, mh)


def verify_checksum(source: bytes, destination: bytes, mh: bytes) -> None:
    """Raise :class:`DecodeError` unless the Checksum field of ``mh`` is right
    (§9.2: a message with a bad checksum is discarded)."""
    if len(mh) < 6:
        raise DecodeError(_HEADER, "too short to hold a checksum", 0)
    if not checksum_matches(source, destination, mh):
        raise DecodeError(_HEADER, "checksum does not match the pseudo-header and contents", 4)


def authenticated_data(mh: bytes, message: MobilityMessage | None = None) -> bytes:
    """The "MH Data" of §6.2.7 for a Binding Update or Acknowledgement: the
    whole Mobility Header with the Checksum field taken as zero and the
    Authenticator excluded.

    The Binding Authorization Data option must be the last option, and the
    message ends with it (its 8n+2 alignment makes the Authenticator end on an
    8-octet boundary), so the Authenticator is the final 12 octets.
    ``message`` is ``mh`` already decoded by the caller (:func:`decode`), so
    that it is not decoded twice.
    Raises :class:`DecodeError` when ``mh`` does not decode or carries no
    Binding Authorization Data option.
    """
    msg = decode(mh) if message is None else message
    if not msg.options or not isinstance(msg.options[-1], BindingAuthorizationData):
        raise DecodeError(
            type(msg).NAME if not isinstance(msg, UnknownMessage) else _HEADER,
            "no Binding Authorization Data option ends the message", len(mh))
    return mh[:4] + b"\0\0" + mh[6:-12]
