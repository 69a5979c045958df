"""The Authentication Header at the header-and-ICV level (RFC 4302).

Layout (§2)::

    Next Header (1) | Payload Len (1) | RESERVED (2) | SPI (4) | Sequence Number (4)
    [IV (8), AES-GMAC only, RFC 4543 §4] | ICV | padding

Payload Len is the AH length in 4-octet units minus 2 (§2.2). The ICV field
is padded so that the header is a multiple of 8 octets over IPv6 and of 4
octets over IPv4 (§2.6, §3.3.3.2.1).

The ICV covers the whole IP packet with its mutable fields normalised
(§3.3.3.1): this module does not parse IP headers. The caller (the wire
codec) hands over the octets before the AH header and the octets after it,
both already normalised, and this module supplies the AH header, with the
ICV field set to zero for the computation and, with ESN, the high-order 32
bits of the sequence number appended after the packet (§3.3.3.2.2, the
"implicit" ESN: "appended (implicitly) immediately after the end of the
payload"). Padding octets (zero when sent) are covered as received.

AES-GMAC as an AH integrity transform (``iv_size`` 8) carries its IV at the
start of the Authentication Data field, before the 16-octet ICV (RFC 4543 §4,
Figure 5); it is the 64-bit sequence number, unique per SA (§3.1), and is
handed to ``IntegrityContext.compute(data, iv)`` (the GMAC nonce is
``salt || IV``, §3.2). The GMAC AAD is the packet as RFC 4302 §3.1
authenticates it (§4); the IV stays in it as sent, since RFC 4543 §4 calls the
IV "an input to the authentication algorithm" and the tag its output: only
the ICV is zeroed for the computation.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from secmob.errors import (
    DecodeError,
    IntegrityError,
    ReplayError,
    Truncated,
    UsageError,
)
from secmob.ipsec.sad import (
    SAD,
    Address,
    Direction,
    LifetimeEvent,
    Protocol,
    SecurityAssociation,
    inbound_sa,
)

__all__ = ["AHResult", "header_length", "protect", "unprotect"]

_FIXED = struct.Struct("!BBHII")  # next header, payload len, reserved, SPI, sequence


@dataclass(frozen=True, slots=True)
class AHResult:
    """What :func:`unprotect` releases: the AH header's ``next_header``, its
    ``header_length`` (octets to strip), the SA and the full sequence number."""

    next_header: int
    header_length: int
    sa: SecurityAssociation
    sequence: int
    events: tuple[LifetimeEvent, ...] = ()


def _sizes(sa: SecurityAssociation) -> tuple[int, int]:
    integrity = sa.integrity
    if integrity is None:  # pragma: no cover - SecurityAssociation forbids it
        raise UsageError("an AH SA needs an integrity algorithm")
    return integrity.iv_size, integrity.icv_size


def header_length(sa: SecurityAssociation, *, ipv6: bool = True) -> int:
    """Octets of the AH header for ``sa``: 12 + IV + ICV, padded to 8 (IPv6) or 4 (IPv4).

    The caller needs it to fill in the IP payload length before the ICV is computed.
    """
    iv_size, icv_size = _sizes(sa)
    align = 8 if ipv6 else 4
    return -(-(12 + iv_size + icv_size) // align) * align


def protect(sa: SecurityAssociation, next_header: int, before: bytes, after: bytes, *,
            now: float, ipv6: bool = True) -> bytes:
    """The AH header (with its ICV) to insert between ``before`` and ``after``.

    ``before`` is the IP header (and extension headers preceding AH) and
    ``after`` everything that follows AH, both with mutable fields
    normalised as RFC 4302 §3.3.3.1 prescribes (for ``before``, the payload
    length must already count :func:`header_length` octets of AH).
    ``next_header`` is the protocol of the header following AH.

    Raises :class:`~secmob.errors.SAExpired`,
    :class:`~secmob.errors.SequenceOverflow` or
    :class:`~secmob.errors.UsageError`; soft lifetime events are queued on
    the SA.
    """
    if sa.protocol is not Protocol.AH or sa.direction is not Direction.OUTBOUND:
        raise UsageError(f"ah.protect() needs an outbound AH SA, got {sa!r}")
    if not 0 <= next_header <= 255:
        raise UsageError(f"next_header must be 0-255, got {next_header}")
    ctx = sa.integrity_ctx
    assert ctx is not None
    iv_size, icv_size = _sizes(sa)
    length = header_length(sa, ipv6=ipv6)
    full = sa.next_sequence()
    sa.account(len(after), now)
    iv = full.to_bytes(8, "big")[-iv_size:] if iv_size else b""
    fixed = _FIXED.pack(next_header, length // 4 - 2, 0, sa.spi, full & 0xFFFFFFFF) + iv
    zeroed = fixed + bytes(length - len(fixed))
    covered = before + zeroed + after
    if sa.esn:
        covered += (full >> 32).to_bytes(4, "big")
    icv = ctx.compute(covered, iv)
    return fixed + icv + bytes(length - len(fixed) - icv_size)


def unprotect(sad_or_sa: SAD | SecurityAssociation, before: bytes, data: bytes, *,
              now: float, destination: Address | None = None,
              source: Address | None = None, ipv6: bool = True) -> AHResult:
    """Verify the AH header at the start of ``data`` (RFC 4302 §3.4).

    ``before`` holds the normalised octets that precede AH, ``data`` the AH
    header as received followed by the normalised rest of the packet. The
    checks run in the order of §3.4: SA lookup
    (:class:`~secmob.errors.UnknownSPI`), replay pre-check
    (:class:`~secmob.errors.ReplayError`), ICV verification in constant time
    (:class:`~secmob.errors.IntegrityError`), then the window update and the
    lifetime accounting (:class:`~secmob.errors.SAExpired`). A header too
    short or of the wrong length raises :class:`~secmob.errors.Truncated` or
    :class:`~secmob.errors.DecodeError` naming "AH" and the offset.
    """
    n = len(data)
    if n < 12:
        raise Truncated("AH", 0, 12, n)
    next_header, plen, _reserved, spi, seql = _FIXED.unpack_from(data)
    sa = inbound_sa(sad_or_sa, spi, Protocol.AH, destination, source)
    ctx = sa.integrity_ctx
    assert ctx is not None
    iv_size, icv_size = _sizes(sa)
    length = (plen + 2) * 4
    if length != header_length(sa, ipv6=ipv6):
        raise DecodeError("AH", f"Payload Len {plen} gives {length} octets; "
                                f"{header_length(sa, ipv6=ipv6)} expected for "
                                f"{sa.integrity.name if sa.integrity else 'this SA'}", 1)
    if n < length:
        raise Truncated("AH", 0, length, n)
    sa.check_alive(now)
    try:
        full = sa.replay.check(seql)
    except ReplayError:
        sa.replay_drops += 1
        raise
    start = 12 + iv_size
    iv = data[12:start]
    covered = before + data[:start] + bytes(icv_size) + data[start + icv_size:]
    if sa.esn:
        covered += (full >> 32).to_bytes(4, "big")
    try:
        ctx.verify(covered, data[start:start + icv_size], iv)
    except IntegrityError:
        sa.auth_failures += 1
        raise
    sa.replay.accept(full)
    sa.account(n - length, now)
    return AHResult(next_header, length, sa, full, sa.take_events())
