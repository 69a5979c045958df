"""ISAKMP messages (RFC 2408 §3) with the IPsec DOI fields (RFC 2407 §4.6).

A :class:`Message` is the 28-octet header (§3.1) followed either by a chain
of payloads (§3.2, each starting with the generic payload header: next
payload, RESERVED, payload length) or -- when the Encryption flag is set --
by the encrypted body, kept as opaque bytes for the IKE layer to decrypt.

``Message.parse(data)`` and ``message.to_bytes()`` round-trip byte for byte.
Lengths and the "next payload" chain are computed when building, and checked
when parsing: any inconsistency raises :class:`~secmob.errors.DecodeError`
(or :class:`~secmob.errors.Truncated`) naming the payload and the offset.
RESERVED fields must be zero (RFC 2408 §5.2 treats a non-zero RESERVED field
as INVALID-RESERVED-FIELD), so the codec never has to invent bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from secmob._buffer import Reader, Writer
from secmob.errors import DecodeError, UsageError
from secmob.wire.isakmp_payloads import (
    DOI_IPSEC,
    HEADER_SIZE,
    SIT_IDENTITY_ONLY,
    SIT_INTEGRITY,
    SIT_SECRECY,
    Attribute,
    Certificate,
    CertificateRequest,
    Delete,
    ExchangeType,
    Flags,
    Hash,
    Identification,
    IdType,
    KeyExchange,
    Nonce,
    Notification,
    Payload,
    PayloadType,
    Proposal,
    Protocol,
    SecurityAssociation,
    Signature,
    Transform,
    UnknownPayload,
    VendorID,
    parse_attributes,
    read_generic,
    write_generic,
)

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
    "Header",
    "IdType",
    "Identification",
    "KeyExchange",
    "Message",
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
    "encode_payloads",
    "parse_attributes",
    "parse_payloads",
    "payload_body",
    "payload_bytes",
]

_PARSERS: dict[int, tuple[str, Callable[[Reader], Payload]]] = {
    PayloadType.SA: ("SA", SecurityAssociation.parse),
    PayloadType.KE: ("Key Exchange", KeyExchange.parse),
    PayloadType.ID: ("Identification", Identification.parse),
    PayloadType.CERT: ("Certificate", Certificate.parse),
    PayloadType.CR: ("Certificate Request", CertificateRequest.parse),
    PayloadType.HASH: ("Hash", Hash.parse),
    PayloadType.SIG: ("Signature", Signature.parse),
    PayloadType.NONCE: ("Nonce", Nonce.parse),
    PayloadType.NOTIFICATION: ("Notification", Notification.parse),
    PayloadType.DELETE: ("Delete", Delete.parse),
    PayloadType.VENDOR_ID: ("Vendor ID", VendorID.parse),
}


def _payload_name(t: int) -> str:
    entry = _PARSERS.get(t)
    return entry[0] if entry else f"payload type {t}"


def parse_payloads(data: bytes, first: int, start: int = HEADER_SIZE,
                   end: int | None = None, padded: bool = False) -> list[Payload]:
    """Walk the payload chain that starts with type ``first`` at ``start``.

    With ``padded`` the octets after the last payload are ignored (the
    padding of a decrypted message body, RFC 2408 §3.1); otherwise they are
    an error.
    """
    r = Reader(data, "ISAKMP", start, end)
    out: list[Payload] = []
    kind = first
    while kind != PayloadType.NONE:
        name = _payload_name(kind)
        if r.at_end():
            raise DecodeError(name, f"next payload announces {name} but the message ends", r.pos)
        if kind in (PayloadType.PROPOSAL, PayloadType.TRANSFORM):
            raise DecodeError(name, f"{name} payload outside an SA payload", r.pos)
        nxt, body = read_generic(r, name)
        entry = _PARSERS.get(kind)
        payload = entry[1](body) if entry else UnknownPayload(type=kind, data=body.rest())
        body.finish()
        out.append(payload)
        kind = nxt
    if not padded:
        r.finish()
    return out


# --------------------------------------------------------------------------
# Header and message
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """The ISAKMP header (RFC 2408 §3.1)."""

    initiator_cookie: bytes
    responder_cookie: bytes = bytes(8)
    next_payload: int = 0
    exchange_type: int = ExchangeType.IDENTITY_PROTECTION
    flags: int = 0
    message_id: int = 0
    length: int = HEADER_SIZE
    major_version: int = 1
    minor_version: int = 0

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & Flags.ENCRYPTION)

    def write(self, w: Writer) -> None:
        if len(self.initiator_cookie) != 8 or len(self.responder_cookie) != 8:
            raise UsageError("ISAKMP cookies are 8 octets each")
        w.put(self.initiator_cookie).put(self.responder_cookie)
        w.u8(self.next_payload).u8((self.major_version << 4) | self.minor_version)
        w.u8(self.exchange_type).u8(self.flags).u32(self.message_id).u32(self.length)

    @classmethod
    def parse(cls, data: bytes) -> Header:
        r = Reader(data, "ISAKMP header")
        icky, rcky = r.take(8), r.take(8)
        nxt = r.u8()
        version = r.u8()
        exch = r.u8()
        flags = r.u8()
        mid = r.u32()
        length = r.u32()
        return cls(icky, rcky, nxt, exch, flags, mid, length, version >> 4, version & 0x0F)


@dataclass(frozen=True)
class Message:
    """A whole ISAKMP message: header plus payloads, or header plus encrypted body.

    When ``header.flags`` has :attr:`Flags.ENCRYPTION`, ``body`` holds the
    ciphertext after the header and ``payloads`` is empty; otherwise ``body``
    is empty. :meth:`to_bytes` fills in the header's next payload (from the
    first payload, unless encrypted) and length.
    """

    header: Header
    payloads: tuple[Payload, ...] = ()
    body: bytes = b""

    @classmethod
    def parse(cls, data: bytes) -> Message:
        """Decode one message; ``data`` must be exactly the message (no trailing octets)."""
        header = Header.parse(data)
        if header.major_version != 1:
            raise DecodeError("ISAKMP header", f"major version {header.major_version}, "
                                               "expected 1 (RFC 2408 §3.1)", 17)
        if header.length < HEADER_SIZE:
            raise DecodeError("ISAKMP header", f"length {header.length} is shorter than the "
                                               f"{HEADER_SIZE}-octet header", 24)
        if header.length != len(data):
            raise DecodeError("ISAKMP header", f"length field says {header.length} octet(s), "
                                               f"the message has {len(data)}", 24)
        if header.encrypted:
            return cls(header, (), data[HEADER_SIZE:])
        return cls(header, tuple(parse_payloads(data, header.next_payload)))

    def to_bytes(self) -> bytes:
        w = Writer()
        w.put(bytes(HEADER_SIZE))
        if self.header.encrypted:
            if self.payloads:
                raise UsageError("an encrypted message carries its payloads in 'body'")
            first = self.header.next_payload
            w.put(self.body)
        else:
            if self.body:
                raise UsageError("'body' is only for messages with the Encryption flag")
            first = self.payloads[0].payload_type if self.payloads else 0
            w.put(encode_payloads(self.payloads))
        hw = Writer()
        h = self.header
        Header(h.initiator_cookie, h.responder_cookie, first, h.exchange_type, h.flags,
               h.message_id, len(w), h.major_version, h.minor_version).write(hw)
        return hw.getvalue() + w.getvalue()[HEADER_SIZE:]

    def find(self, kind: type[Payload]) -> list[Payload]:
        """All payloads of class ``kind``, in order."""
        return [p for p in self.payloads if type(p) is kind]


def encode_payloads(payloads: Sequence[Payload]) -> bytes:
    """The payload chain alone (what an encrypted message encrypts, RFC 2408 §3.1)."""
    w = Writer()
    for i, p in enumerate(payloads):
        nxt = payloads[i + 1].payload_type if i + 1 < len(payloads) else 0
        write_generic(w, nxt, p.write_body, type(p).__name__)
    return w.getvalue()


def payload_body(p: Payload) -> bytes:
    """The payload without its generic header (what IKEv1 hashes as e.g. ``SAi_b``)."""
    w = Writer()
    p.write_body(w)
    return w.getvalue()


def payload_bytes(p: Payload, next_payload: int = 0) -> bytes:
    """The payload with its generic header (what Quick Mode HASH(1) covers)."""
    w = Writer()
    write_generic(w, next_payload, p.write_body, type(p).__name__)
    return w.getvalue()

