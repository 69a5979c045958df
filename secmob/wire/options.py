"""IPv6 Hop-by-Hop and Destination option TLVs (RFC 8200 §4.2) and their layout.

An options area is an ordered sequence of TLVs::

    Option Type (8) | Opt Data Len (8) | Option Data (Opt Data Len octets)

except Pad1 (type 0), which is a single zero octet. The two highest-order bits
of the type say what an unrecognising node does; the third-highest bit
(``0x20``) says whether the option data may change en route, which decides
whether AH covers it (RFC 4302 §3.3.3.1.2.2).

Options decode to :class:`Pad1`, :class:`PadN`, :class:`HomeAddressOption`
(type 201, RFC 6275 §6.3) or :class:`RawOption` (any other type, kept
verbatim). :func:`layout_options` inserts the padding that meets each option's
alignment requirement (``xn+y``, RFC 8200 §4.2) and rounds the area to a
multiple of 8 octets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from secmob._buffer import Reader, Writer
from secmob.errors import DecodeError, UsageError

__all__ = [
    "HOME_ADDRESS_OPTION",
    "OPTION_MUTABLE_BIT",
    "HomeAddressOption",
    "Option",
    "Pad1",
    "PadN",
    "RawOption",
    "decode_options",
    "encode_options",
    "layout_options",
    "pad_to",
]

PAD1 = 0
PADN = 1
HOME_ADDRESS_OPTION = 201
OPTION_MUTABLE_BIT = 0x20
"""Third-highest bit of the option type: "option data may change en route"."""


@dataclass(frozen=True, slots=True)
class Pad1:
    """A single octet of padding (RFC 8200 §4.2)."""

    @property
    def option_type(self) -> int:
        return PAD1

    @property
    def data(self) -> bytes:
        return b""

    def encode(self, w: Writer) -> None:
        w.u8(PAD1)


@dataclass(frozen=True, slots=True)
class PadN:
    """Two or more octets of padding; ``data`` is normally zeros but kept as received."""

    data: bytes = b""

    @property
    def option_type(self) -> int:
        return PADN

    def encode(self, w: Writer) -> None:
        w.u8(PADN).u8(len(self.data)).put(self.data)


@dataclass(frozen=True, slots=True)
class HomeAddressOption:
    """The Home Address destination option (RFC 6275 §6.3): type 201, 16 octets of
    data, alignment 8n+6 so that the address is 8-octet aligned."""

    home_address: bytes

    ALIGNMENT = (8, 6)

    def __post_init__(self) -> None:
        if len(self.home_address) != 16:
            raise UsageError(f"a home address has 16 octets, got {len(self.home_address)}")

    @property
    def option_type(self) -> int:
        return HOME_ADDRESS_OPTION

    @property
    def data(self) -> bytes:
        return self.home_address

    def encode(self, w: Writer) -> None:
        w.u8(HOME_ADDRESS_OPTION).u8(16).put(self.home_address)


@dataclass(frozen=True, slots=True)
class RawOption:
    """Any other option, kept as type and data."""

    option_type: int
    data: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.option_type <= 255 or self.option_type == PAD1:
            raise UsageError(f"option type {self.option_type} cannot be a TLV option")
        if len(self.data) > 255:
            raise UsageError(f"option data is at most 255 octets, got {len(self.data)}")

    def encode(self, w: Writer) -> None:
        w.u8(self.option_type).u8(len(self.data)).put(self.data)


Option = Pad1 | PadN | HomeAddressOption | RawOption


def decode_options(r: Reader) -> tuple[Option, ...]:
    """Decode every option up to the end of ``r`` (an options area)."""
    out: list[Option] = []
    while not r.at_end():
        start = r.pos
        otype = r.u8()
        if otype == PAD1:
            out.append(Pad1())
            continue
        length = r.u8()
        if length > r.remaining():
            raise DecodeError(
                r.header,
                f"option type {otype} has {length} data octet(s) but only "
                f"{r.remaining()} remain in the header",
                start,
            )
        data = r.take(length)
        if otype == PADN:
            out.append(PadN(data))
        elif otype == HOME_ADDRESS_OPTION:
            if length != 16:
                raise DecodeError(
                    r.header, f"Home Address option data length {length}, expected 16", start
                )
            out.append(HomeAddressOption(data))
        else:
            out.append(RawOption(otype, data))
    return tuple(out)


def encode_options(options: Sequence[Option]) -> bytes:
    """The options area exactly as given (no padding added)."""
    w = Writer()
    for opt in options:
        opt.encode(w)
    return w.getvalue()


def pad_to(n: int) -> tuple[Option, ...]:
    """Padding of exactly ``n`` octets: nothing, Pad1, or one PadN of zeros."""
    if n == 0:
        return ()
    if n == 1:
        return (Pad1(),)
    return (PadN(bytes(n - 2)),)


def _alignment(opt: Option) -> tuple[int, int]:
    if isinstance(opt, HomeAddressOption):
        return HomeAddressOption.ALIGNMENT
    return (1, 0)


def layout_options(
    options: Sequence[Option],
    alignments: dict[int, tuple[int, int]] | None = None,
) -> tuple[Option, ...]:
    """Insert Pad1/PadN so that each option starts at its ``xn+y`` alignment and
    the whole extension header (2 octets of next header and length, then the
    options) is a multiple of 8 octets (RFC 8200 §4.2, §4.3, §4.6).

    Padding options already in ``options`` are kept as given. The Home Address
    option is aligned 8n+6 (RFC 6275 §6.3); ``alignments`` maps further option
    types to ``(x, y)``.
    """
    extra = alignments or {}
    out: list[Option] = []
    offset = 2  # offset within the extension header
    for opt in options:
        x, y = extra.get(opt.option_type, _alignment(opt))
        gap = (y - offset) % x
        out.extend(pad_to(gap))
        offset += gap
        out.append(opt)
        offset += 1 if isinstance(opt, Pad1) else 2 + len(opt.data)
    out.extend(pad_to((-offset) % 8))
    return tuple(out)
