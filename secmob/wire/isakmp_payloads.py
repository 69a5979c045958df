"""ISAKMP payloads and data attributes (RFC 2408 §3.2 - §3.16, RFC 2407 §4.6).

Each payload class writes and parses its body (everything after the generic
payload header); :mod:`secmob.wire.isakmp` chains them into messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import ClassVar, TypeVar

from secmob._buffer import Reader, Writer
from secmob.errors import DecodeError, UsageError

__all__ = [
    "DOI_IPSEC",
    "HEADER_SIZE",
    "SIT_IDENTITY_ONLY",
    "SIT_INTEGRITY",
    "SIT_SECRECY",
    "Attribute",
    "Certificate",
    "CertificateRequest",
    "Delete",
    "ExchangeType",
    "Flags",
    "Hash",
    "IdType",
    "Identification",
    "KeyExchange",
    "Nonce",
    "Notification",
    "Payload",
    "PayloadType",
    "Proposal",
    "Protocol",
    "SecurityAssociation",
    "Signature",
    "Transform",
    "UnknownPayload",
    "VendorID",
    "parse_attributes",
    "read_generic",
    "write_generic",
]

HEADER_SIZE = 28
_GENERIC = 4


class PayloadType(IntEnum):
    """Next Payload values (RFC 2408 §3.1)."""

    NONE = 0
    SA = 1
    PROPOSAL = 2
    TRANSFORM = 3
    KE = 4
    ID = 5
    CERT = 6
    CR = 7
    HASH = 8
    SIG = 9
    NONCE = 10
    NOTIFICATION = 11
    DELETE = 12
    VENDOR_ID = 13


class ExchangeType(IntEnum):
    """Exchange types (RFC 2408 §3.1, RFC 2409 §5 and §5.5)."""

    BASE = 1
    IDENTITY_PROTECTION = 2  # Main Mode
    AUTHENTICATION_ONLY = 3
    AGGRESSIVE = 4
    INFORMATIONAL = 5
    QUICK_MODE = 32
    NEW_GROUP_MODE = 33


class Flags(IntFlag):
    """Header flags (RFC 2408 §3.1): Encryption, Commit, Authentication Only."""

    ENCRYPTION = 0x01
    COMMIT = 0x02
    AUTH_ONLY = 0x04


class Protocol(IntEnum):
    """Protocol identifiers of the IPsec DOI (RFC 2407 §4.4.1)."""

    ISAKMP = 1
    IPSEC_AH = 2
    IPSEC_ESP = 3
    IPCOMP = 4


class IdType(IntEnum):
    """Identification types of the IPsec DOI (RFC 2407 §4.6.2.1)."""

    IPV4_ADDR = 1
    FQDN = 2
    USER_FQDN = 3
    IPV4_ADDR_SUBNET = 4
    IPV6_ADDR = 5
    IPV6_ADDR_SUBNET = 6
    IPV4_ADDR_RANGE = 7
    IPV6_ADDR_RANGE = 8
    DER_ASN1_DN = 9
    DER_ASN1_GN = 10
    KEY_ID = 11


#: Exact identification data lengths for the address types (RFC 2407 §4.6.2.2 - .11).
_ID_LENGTHS = {IdType.IPV4_ADDR: 4, IdType.IPV4_ADDR_SUBNET: 8, IdType.IPV4_ADDR_RANGE: 8,
               IdType.IPV6_ADDR: 16, IdType.IPV6_ADDR_SUBNET: 32, IdType.IPV6_ADDR_RANGE: 32}

#: IPsec DOI number (RFC 2407 §6) and situation bits (RFC 2407 §4.2).
DOI_IPSEC = 1
SIT_IDENTITY_ONLY = 0x01
SIT_SECRECY = 0x02
SIT_INTEGRITY = 0x04


# --------------------------------------------------------------------------
# Data attributes (RFC 2408 §3.3)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Attribute:
    """A data attribute: Type/Value (AF=1, a 16-bit ``int``) or Type/Length/Value
    (AF=0, ``bytes``) -- the form is the type of ``value`` (RFC 2408 §3.3)."""

    type: int
    value: int | bytes

    @property
    def basic(self) -> bool:
        """True for the TV ("basic") form."""
        return isinstance(self.value, int)

    def as_int(self) -> int:
        """The value as an unsigned integer, whichever form carried it."""
        return self.value if isinstance(self.value, int) else int.from_bytes(self.value, "big")

    def write(self, w: Writer) -> None:
        if not 0 <= self.type < 0x8000:
            raise UsageError(f"attribute type {self.type} does not fit in 15 bits")
        if isinstance(self.value, int):
            if not 0 <= self.value <= 0xFFFF:
                raise UsageError(f"basic attribute value {self.value} does not fit in 16 bits")
            w.u16(0x8000 | self.type).u16(self.value)
        else:
            if len(self.value) > 0xFFFF:
                raise UsageError("variable attribute longer than 65535 octets")
            w.u16(self.type).u16(len(self.value)).put(self.value)


def parse_attributes(r: Reader) -> tuple[Attribute, ...]:
    """Every attribute up to the end of ``r`` (RFC 2408 §3.3)."""
    out: list[Attribute] = []
    while not r.at_end():
        start = r.pos
        word = r.u16()
        if word & 0x8000:
            out.append(Attribute(word & 0x7FFF, r.u16()))
        else:
            length = r.u16()
            if length > r.remaining():
                raise DecodeError(
                    r.header,
                    f"attribute type {word} declares {length} octet(s) of value but only "
                    f"{r.remaining()} remain in the payload", start)
            out.append(Attribute(word, r.take(length)))
    return tuple(out)


# --------------------------------------------------------------------------
# Payloads
# --------------------------------------------------------------------------


class Payload:
    """Base of all payloads: ``TYPE`` is the Next Payload value announcing it."""

    TYPE: ClassVar[int]

    @property
    def payload_type(self) -> int:
        return self.TYPE

    def write_body(self, w: Writer) -> None:
        raise NotImplementedError


def _reserved_zero(r: Reader, n: int, what: str) -> None:
    at = r.pos
    if r.uint(n) != 0:
        raise DecodeError(r.header, f"{what} must be zero", at)


def write_generic(w: Writer, next_payload: int, body: Callable[[Writer], None],
                   header: str) -> None:
    start = len(w)
    w.u8(next_payload).u8(0).u16(0)
    body(w)
    length = len(w) - start
    if length > 0xFFFF:
        raise UsageError(f"{header} payload longer than 65535 octets")
    w.patch_u16(start + 2, length)


def read_generic(r: Reader, header: str) -> tuple[int, Reader]:
    """Read a generic payload header (§3.2); return (next payload, body reader)."""
    start = r.pos
    sub = Reader(r.data, header, start, r.end)
    nxt = sub.u8()
    _reserved_zero(sub, 1, "RESERVED octet of the generic payload header")
    length = sub.u16()
    if length < _GENERIC:
        raise DecodeError(header, f"payload length {length} is shorter than the 4-octet "
                                  "generic header", start + 2)
    if length > r.remaining():
        raise DecodeError(header, f"payload length {length} overruns the enclosing data "
                                  f"({r.remaining()} octet(s) left)", start + 2)
    r.skip(length)
    return nxt, Reader(r.data, header, start + _GENERIC, start + length)


@dataclass(frozen=True)
class Transform:
    """Transform payload (RFC 2408 §3.6): number, transform id, SA attributes."""

    number: int
    transform_id: int
    attributes: tuple[Attribute, ...] = ()

    def attribute(self, type_: int) -> Attribute | None:
        """The first attribute of ``type_``, if present."""
        return next((a for a in self.attributes if a.type == type_), None)

    def write(self, w: Writer, last: bool) -> None:
        def body(w: Writer) -> None:
            w.u8(self.number).u8(self.transform_id).u16(0)
            for a in self.attributes:
                a.write(w)

        write_generic(w, 0 if last else PayloadType.TRANSFORM, body, "Transform")

    @classmethod
    def parse(cls, r: Reader) -> Transform:
        number = r.u8()
        tid = r.u8()
        _reserved_zero(r, 2, "RESERVED2 of the Transform payload")
        return cls(number, tid, parse_attributes(r))


@dataclass(frozen=True)
class Proposal:
    """Proposal payload (RFC 2408 §3.5): number, protocol id, SPI, transforms."""

    number: int
    protocol_id: int
    spi: bytes = b""
    transforms: tuple[Transform, ...] = ()

    def write(self, w: Writer, last: bool) -> None:
        def body(w: Writer) -> None:
            w.u8(self.number).u8(self.protocol_id).u8(len(self.spi)).u8(len(self.transforms))
            w.put(self.spi)
            for i, t in enumerate(self.transforms):
                t.write(w, i == len(self.transforms) - 1)

        write_generic(w, 0 if last else PayloadType.PROPOSAL, body, "Proposal")

    @classmethod
    def parse(cls, r: Reader) -> Proposal:
        number = r.u8()
        protocol = r.u8()
        spi_size = r.u8()
        count_at = r.pos
        count = r.u8()
        spi = r.take(spi_size)
        transforms = _parse_chain(r, PayloadType.TRANSFORM, "Transform", Transform.parse)
        if len(transforms) != count:
            raise DecodeError("Proposal", f"# of transforms says {count}, found "
                                          f"{len(transforms)}", count_at)
        return cls(number, protocol, spi, tuple(transforms))


_T = TypeVar("_T")


def _parse_chain(r: Reader, kind: int, header: str,
                 parse: Callable[[Reader], _T]) -> list[_T]:
    """Parse the payloads of one kind chained to the end of ``r`` (Proposal/Transform)."""
    out: list[_T] = []
    while True:
        at = r.pos
        nxt, body = read_generic(r, header)
        item = parse(body)
        body.finish()
        out.append(item)
        if nxt == 0:
            break
        if nxt != kind:
            raise DecodeError(header, f"next payload {nxt} inside an SA payload; only "
                                      f"{int(kind)} or 0 may follow a {header} payload", at)
    r.finish()
    return out


def _situation_tail_length(r: Reader) -> int:
    """Octets of the labelled-domain fields after SIT_SECRECY/SIT_INTEGRITY (RFC 2407 §4.6.1)."""
    start = r.pos
    probe = Reader(r.data, r.header, start, r.end)
    probe.skip(4)  # Labeled Domain Identifier
    for _ in range(2):  # secrecy then integrity
        level = probe.u16()
        probe.skip(2)
        probe.skip(level)
        probe.skip((-level) % 4)
        bits = probe.u16()
        probe.skip(2)
        nbytes = (bits + 7) // 8
        probe.skip(nbytes + (-nbytes) % 4)
    return probe.pos - start


@dataclass(frozen=True)
class SecurityAssociation(Payload):
    """SA payload (RFC 2408 §3.4) with the IPsec DOI situation (RFC 2407 §4.6.1).

    ``situation_data`` holds the labelled-domain fields that follow the
    situation when SIT_SECRECY or SIT_INTEGRITY is set (raw, length-checked).
    """

    TYPE: ClassVar[int] = PayloadType.SA
    proposals: tuple[Proposal, ...] = ()
    doi: int = DOI_IPSEC
    situation: int = SIT_IDENTITY_ONLY
    situation_data: bytes = b""

    def write_body(self, w: Writer) -> None:
        w.u32(self.doi).u32(self.situation).put(self.situation_data)
        for i, p in enumerate(self.proposals):
            p.write(w, i == len(self.proposals) - 1)

    @classmethod
    def parse(cls, r: Reader) -> SecurityAssociation:
        doi = r.u32()
        situation = r.u32()
        tail = b""
        if doi == DOI_IPSEC and situation & (SIT_SECRECY | SIT_INTEGRITY):
            tail = r.take(_situation_tail_length(r))
        proposals = _parse_chain(r, PayloadType.PROPOSAL, "Proposal", Proposal.parse)
        return cls(tuple(proposals), doi, situation, tail)


@dataclass(frozen=True)
class _Opaque(Payload):
    data: bytes = b""

    def write_body(self, w: Writer) -> None:
        w.put(self.data)

    @classmethod
    def parse(cls, r: Reader) -> _Opaque:
        return cls(r.rest())


@dataclass(frozen=True)
class KeyExchange(_Opaque):
    """Key Exchange payload (RFC 2408 §3.7): the public DH value."""

    TYPE: ClassVar[int] = PayloadType.KE


@dataclass(frozen=True)
class Hash(_Opaque):
    """Hash payload (RFC 2408 §3.11)."""

    TYPE: ClassVar[int] = PayloadType.HASH


@dataclass(frozen=True)
class Signature(_Opaque):
    """Signature payload (RFC 2408 §3.12)."""

    TYPE: ClassVar[int] = PayloadType.SIG


@dataclass(frozen=True)
class Nonce(_Opaque):
    """Nonce payload (RFC 2408 §3.13)."""

    TYPE: ClassVar[int] = PayloadType.NONCE


@dataclass(frozen=True)
class VendorID(_Opaque):
    """Vendor ID payload (RFC 2408 §3.16)."""

    TYPE: ClassVar[int] = PayloadType.VENDOR_ID


@dataclass(frozen=True)
class Certificate(Payload):
    """Certificate payload (RFC 2408 §3.9): encoding and data."""

    TYPE: ClassVar[int] = PayloadType.CERT
    encoding: int = 0
    data: bytes = b""

    def write_body(self, w: Writer) -> None:
        w.u8(self.encoding).put(self.data)

    @classmethod
    def parse(cls, r: Reader) -> Certificate:
        return cls(r.u8(), r.rest())


@dataclass(frozen=True)
class CertificateRequest(Certificate):
    """Certificate Request payload (RFC 2408 §3.10): certificate type and authority."""

    TYPE: ClassVar[int] = PayloadType.CR


@dataclass(frozen=True)
class Identification(Payload):
    """Identification payload with the IPsec DOI fields (RFC 2407 §4.6.2):
    ID type, IP protocol id, port, identification data."""

    TYPE: ClassVar[int] = PayloadType.ID
    id_type: int = IdType.IPV4_ADDR
    data: bytes = b""
    protocol_id: int = 0
    port: int = 0

    def write_body(self, w: Writer) -> None:
        w.u8(self.id_type).u8(self.protocol_id).u16(self.port).put(self.data)

    @classmethod
    def parse(cls, r: Reader) -> Identification:
        id_type = r.u8()
        protocol = r.u8()
        port = r.u16()
        at = r.pos
        data = r.rest()
        want = _ID_LENGTHS.get(id_type)  # type: ignore[call-overload]
        if want is not None and len(data) != want:
            raise DecodeError(r.header, f"{IdType(id_type).name} identification data must be "
                                        f"{want} octets, got {len(data)}", at)
        return cls(id_type, data, protocol, port)


@dataclass(frozen=True)
class Notification(Payload):
    """Notification payload (RFC 2408 §3.14): DOI, protocol, SPI, type, data."""

    TYPE: ClassVar[int] = PayloadType.NOTIFICATION
    notify_type: int = 0
    protocol_id: int = 0
    spi: bytes = b""
    data: bytes = b""
    doi: int = DOI_IPSEC

    def write_body(self, w: Writer) -> None:
        w.u32(self.doi).u8(self.protocol_id).u8(len(self.spi)).u16(self.notify_type)
        w.put(self.spi).put(self.data)

    @classmethod
    def parse(cls, r: Reader) -> Notification:
        doi = r.u32()
        protocol = r.u8()
        spi_size = r.u8()
        ntype = r.u16()
        spi = r.take(spi_size)
        return cls(ntype, protocol, spi, r.rest(), doi)


@dataclass(frozen=True)
class Delete(Payload):
    """Delete payload (RFC 2408 §3.15): DOI, protocol, SPI size and the SPIs."""

    TYPE: ClassVar[int] = PayloadType.DELETE
    protocol_id: int = Protocol.IPSEC_ESP
    spis: tuple[bytes, ...] = ()
    spi_size: int = 4
    doi: int = DOI_IPSEC

    def write_body(self, w: Writer) -> None:
        w.u32(self.doi).u8(self.protocol_id).u8(self.spi_size).u16(len(self.spis))
        for spi in self.spis:
            if len(spi) != self.spi_size:
                raise UsageError(f"Delete: SPI of {len(spi)} octets, SPI size is {self.spi_size}")
            w.put(spi)

    @classmethod
    def parse(cls, r: Reader) -> Delete:
        doi = r.u32()
        protocol = r.u8()
        size = r.u8()
        count_at = r.pos
        count = r.u16()
        if size * count != r.remaining():
            raise DecodeError(r.header, f"{count} SPI(s) of {size} octet(s) need {size * count} "
                                        f"octet(s), the payload holds {r.remaining()}", count_at)
        spis = tuple(r.take(size) for _ in range(count))
        return cls(protocol, spis, size, doi)


@dataclass(frozen=True)
class UnknownPayload(Payload):
    """A payload of a type this codec does not interpret (kept verbatim)."""

    TYPE: ClassVar[int] = -1
    type: int = 0
    data: bytes = b""

    @property
    def payload_type(self) -> int:
        return self.type

    def write_body(self, w: Writer) -> None:
        w.put(self.data)
