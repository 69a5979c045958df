"""Mobility options (RFC 6275 §6.2, RFC 3963 §4.3) and their alignment.

Every option but Pad1 is Type (8 bits), Length (8 bits, octets of data after
the Length field) and data. Each option class knows its fixed data length and
its alignment requirement ``xn+y``: the Option Type must start at an offset
from the beginning of the Mobility Header that is a multiple of ``x`` plus
``y`` (§6.2.1). :func:`align_options` lays a list of options out with the
Pad1/PadN options this needs and pads the message to a multiple of 8 octets.

Decoding (:func:`decode_options`) keeps every option, padding included, in
wire order, so that a message re-encodes to the same bytes. An option of a
known type with the wrong Option Length raises :class:`DecodeError`; unknown
types are kept as :class:`UnknownOption` (§9.2: receivers skip options they
do not understand).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from secmob._buffer import Reader, Writer
from secmob.errors import DecodeError, UsageError

__all__ = [
    "AlternateCareOfAddress",
    "BindingAuthorizationData",
    "BindingRefreshAdvice",
    "MobileNetworkPrefix",
    "MobilityOption",
    "NonceIndices",
    "Pad1",
    "PadN",
    "UnknownOption",
    "align_options",
    "decode_options",
    "encode_options",
    "padding",
]


def _check_u16(name: str, value: int) -> None:
    if not 0 <= value <= 0xFFFF:
        raise UsageError(f"{name} must fit in 16 bits, got {value}")


def _check_len(name: str, value: bytes, n: int) -> None:
    if len(value) != n:
        raise UsageError(f"{name} must be {n} octets, got {len(value)}")


@dataclass(frozen=True)
class Pad1:
    """Pad1 (§6.2.2): a single zero octet, no Length field."""

    TYPE: ClassVar[int] = 0
    ALIGN: ClassVar[tuple[int, int]] = (1, 0)

    def size(self) -> int:
        return 1


@dataclass(frozen=True)
class PadN:
    """PadN (§6.2.3): ``data`` holds the N-2 octets after the Length field
    (zero when sent; kept as received so that decoding round-trips)."""

    data: bytes = b""
    TYPE: ClassVar[int] = 1
    ALIGN: ClassVar[tuple[int, int]] = (1, 0)

    def __post_init__(self) -> None:
        if len(self.data) > 255:
            raise UsageError(f"PadN carries at most 255 data octets, got {len(self.data)}")

    def size(self) -> int:
        return 2 + len(self.data)

    def payload(self) -> bytes:
        return self.data


@dataclass(frozen=True)
class BindingRefreshAdvice:
    """Binding Refresh Advice (§6.2.4, Length 2, alignment 2n): the interval,
    in units of 4 seconds, after which the mobile node should refresh."""

    refresh_interval: int
    TYPE: ClassVar[int] = 2
    LENGTH: ClassVar[int] = 2
    ALIGN: ClassVar[tuple[int, int]] = (2, 0)
    NAME: ClassVar[str] = "Binding Refresh Advice option"

    def __post_init__(self) -> None:
        _check_u16("Refresh Interval", self.refresh_interval)

    def size(self) -> int:
        return 4

    def payload(self) -> bytes:
        return self.refresh_interval.to_bytes(2, "big")

    @classmethod
    def from_payload(cls, r: Reader) -> BindingRefreshAdvice:
        return cls(r.u16())


@dataclass(frozen=True)
class AlternateCareOfAddress:
    """Alternate Care-of Address (§6.2.5, Length 16, alignment 8n+6)."""

    address: bytes
    TYPE: ClassVar[int] = 3
    LENGTH: ClassVar[int] = 16
    ALIGN: ClassVar[tuple[int, int]] = (8, 6)
    NAME: ClassVar[str] = "Alternate Care-of Address option"

    def __post_init__(self) -> None:
        _check_len("Alternate Care-of Address", self.address, 16)

    def size(self) -> int:
        return 18

    def payload(self) -> bytes:
        return self.address

    @classmethod
    def from_payload(cls, r: Reader) -> AlternateCareOfAddress:
        return cls(r.take(16))

    def __repr__(self) -> str:
        return f"AlternateCareOfAddress({ipaddress.IPv6Address(self.address)})"


@dataclass(frozen=True)
class NonceIndices:
    """Nonce Indices (§6.2.6, Length 4, alignment 2n): the Home and Care-of
    Nonce Indices of the HoT and CoT messages the Binding Update relies on."""

    home_nonce_index: int
    care_of_nonce_index: int
    TYPE: ClassVar[int] = 4
    LENGTH: ClassVar[int] = 4
    ALIGN: ClassVar[tuple[int, int]] = (2, 0)
    NAME: ClassVar[str] = "Nonce Indices option"

    def __post_init__(self) -> None:
        _check_u16("Home Nonce Index", self.home_nonce_index)
        _check_u16("Care-of Nonce Index", self.care_of_nonce_index)

    def size(self) -> int:
        return 6

    def payload(self) -> bytes:
        return self.home_nonce_index.to_bytes(2, "big") + self.care_of_nonce_index.to_bytes(
            2, "big"
        )

    @classmethod
    def from_payload(cls, r: Reader) -> NonceIndices:
        return cls(r.u16(), r.u16())


@dataclass(frozen=True)
class BindingAuthorizationData:
    """Binding Authorization Data (§6.2.7, Length 12, implicit alignment 8n+2):
    the 96-bit Authenticator. It must be the last option of the message."""

    authenticator: bytes
    TYPE: ClassVar[int] = 5
    LENGTH: ClassVar[int] = 12
    ALIGN: ClassVar[tuple[int, int]] = (8, 2)
    NAME: ClassVar[str] = "Binding Authorization Data option"

    def __post_init__(self) -> None:
        _check_len("Authenticator", self.authenticator, 12)

    def size(self) -> int:
        return 14

    def payload(self) -> bytes:
        return self.authenticator

    @classmethod
    def from_payload(cls, r: Reader) -> BindingAuthorizationData:
        return cls(r.take(12))


@dataclass(frozen=True)
class MobileNetworkPrefix:
    """Mobile Network Prefix (RFC 3963 §4.3, Length 18, alignment 8n+4):
    Reserved (8 bits), Prefix Length (8 bits), prefix (128 bits)."""

    prefix_length: int
    prefix: bytes
    reserved: int = 0
    TYPE: ClassVar[int] = 6
    LENGTH: ClassVar[int] = 18
    ALIGN: ClassVar[tuple[int, int]] = (8, 4)
    NAME: ClassVar[str] = "Mobile Network Prefix option"

    def __post_init__(self) -> None:
        _check_len("Mobile Network Prefix", self.prefix, 16)
        if not 0 <= self.prefix_length <= 255 or not 0 <= self.reserved <= 255:
            raise UsageError("Prefix Length and Reserved are 8-bit fields")

    def size(self) -> int:
        return 20

    def payload(self) -> bytes:
        return bytes((self.reserved, self.prefix_length)) + self.prefix

    @classmethod
    def from_payload(cls, r: Reader) -> MobileNetworkPrefix:
        reserved = r.u8()
        length = r.u8()
        return cls(length, r.take(16), reserved)

    def __repr__(self) -> str:
        return f"MobileNetworkPrefix({ipaddress.IPv6Address(self.prefix)}/{self.prefix_length})"


@dataclass(frozen=True)
class UnknownOption:
    """An option of a type this module does not interpret, kept verbatim."""

    type: int
    data: bytes
    ALIGN: ClassVar[tuple[int, int]] = (1, 0)

    def __post_init__(self) -> None:
        if not 2 <= self.type <= 255 or len(self.data) > 255:
            raise UsageError("unknown option: type 2..255 and at most 255 data octets")

    def size(self) -> int:
        return 2 + len(self.data)

    def payload(self) -> bytes:
        return self.data


MobilityOption: TypeAlias = (
    "Pad1 | PadN | BindingRefreshAdvice | AlternateCareOfAddress | NonceIndices"
    " | BindingAuthorizationData | MobileNetworkPrefix | UnknownOption"
)

_FIXED: dict[
    int,
    type[BindingRefreshAdvice]
    | type[AlternateCareOfAddress]
    | type[NonceIndices]
    | type[BindingAuthorizationData]
    | type[MobileNetworkPrefix],
] = {
    c.TYPE: c
    for c in (
        BindingRefreshAdvice,
        AlternateCareOfAddress,
        NonceIndices,
        BindingAuthorizationData,
        MobileNetworkPrefix,
    )
}


def _type_of(opt: MobilityOption) -> int:
    return opt.type if isinstance(opt, UnknownOption) else opt.TYPE


def encode_options(w: Writer, options: tuple[MobilityOption, ...]) -> None:
    """Append ``options`` exactly as given (no padding is added)."""
    for opt in options:
        if isinstance(opt, Pad1):
            w.u8(0)
            continue
        data = opt.payload()
        w.u8(_type_of(opt)).u8(len(data)).put(data)


def decode_options(r: Reader) -> tuple[MobilityOption, ...]:
    """Every option up to the end of ``r``, in wire order.

    Raises :class:`~secmob.errors.Truncated` when an option runs past the end
    of the message and :class:`~secmob.errors.DecodeError` when a known option
    has the wrong Option Length, or when any option follows the Binding
    Authorization Data option (§6.2.7: it must be the last one).
    """
    out: list[MobilityOption] = []
    while not r.at_end():
        start = r.pos
        if out and isinstance(out[-1], BindingAuthorizationData):
            raise DecodeError(
                r.header,
                "an option follows the Binding Authorization Data option, "
                "which must be the last option (RFC 6275 §6.2.7)",
                start,
            )
        otype = r.u8()
        if otype == Pad1.TYPE:
            out.append(Pad1())
            continue
        length = r.u8()
        body = r.block(length)
        cls = _FIXED.get(otype)
        if cls is None:
            data = body.rest()
            out.append(PadN(data) if otype == PadN.TYPE else UnknownOption(otype, data))
            continue
        if length != cls.LENGTH:
            raise DecodeError(
                r.header,
                f"{cls.NAME} has Option Length {length}, expected {cls.LENGTH}",
                start + 1,
            )
        out.append(cls.from_payload(body))
    return tuple(out)


def padding(n: int) -> tuple[MobilityOption, ...]:
    """Options filling exactly ``n`` octets: nothing, one Pad1, or one PadN."""
    if n < 0 or n > 257:
        raise UsageError(f"cannot pad {n} octets with one option")
    if n == 0:
        return ()
    if n == 1:
        return (Pad1(),)
    return (PadN(bytes(n - 2)),)


def align_options(options: tuple[MobilityOption, ...] | list[MobilityOption],
                  start: int) -> tuple[MobilityOption, ...]:
    """Lay ``options`` out from offset ``start`` of the Mobility Header (§6.2.1).

    Existing Pad1/PadN options are dropped, the padding each option's ``xn+y``
    alignment needs is inserted before it, and the message is padded to a
    multiple of 8 octets. A Binding Authorization Data option that is not the
    last one raises :class:`~secmob.errors.UsageError`.
    """
    kept = [o for o in options if not isinstance(o, (Pad1, PadN))]
    for o in kept[:-1]:
        if isinstance(o, BindingAuthorizationData):
            raise UsageError("the Binding Authorization Data option must be the last option")
    out: list[MobilityOption] = []
    pos = start
    for opt in kept:
        x, y = opt.ALIGN
        gap = (y - pos) % x
        out.extend(padding(gap))
        out.append(opt)
        pos += gap + opt.size()
    out.extend(padding(-pos % 8))
    return tuple(out)
