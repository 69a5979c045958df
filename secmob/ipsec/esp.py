"""ESP payload processing (RFC 4303 §2 and §3), bytes in, bytes out.

Layout of an ESP packet (§2)::

    SPI (4) | Sequence Number (4) | IV | ciphertext | ICV
    ciphertext = E(payload | TFC padding | Padding | Pad Length | Next Header)

:func:`protect` builds it for an outbound SA; :func:`unprotect` checks and
opens it for an inbound SA in the order of §3.4: SA lookup, replay
pre-check, ICV verification (constant time, before any decryption), window
update, decryption, padding check, lifetime accounting.

Integrity (§3.3.2.1, §2.2.1): with a separate integrity transform the ICV
covers ``SPI | Sequence Number | IV | ciphertext`` and, with ESN, the
high-order 32 bits of the sequence number appended for the computation only.
Combined modes (AES-GCM RFC 4106 §5, AES-CCM RFC 4309 §5,
ChaCha20-Poly1305 RFC 7634 §2.1, AES-GMAC RFC 4543 §3.3) authenticate the
AAD ``SPI | Sequence Number`` (8 octets), or ``SPI | ESN high | ESN low``
(12 octets) with ESN; the transform's own ``seal``/``open`` add the rest
(GMAC appends the IV and the payload to it).

IVs (§3.3.2, RFC 3602 §3, RFC 4106 §3.1): a CBC transform (its IV is one
cipher block) takes a fresh unpredictable IV from the ``rng`` the caller
passes; every other transform (CTR, GCM, CCM, ChaCha20-Poly1305, GMAC)
needs an IV that never repeats under one key, and gets the 64-bit sequence
number, which never repeats on an SA.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import NamedTuple

from secmob.algorithms.base import CipherAlgorithm
from secmob.algorithms.esp_layout import counter_iv, pad_alignment
from secmob.errors import (
    DecodeError,
    IntegrityError,
    PaddingError,
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
from secmob.trace import Tracer, emit

__all__ = [
    "NO_NEXT_HEADER",
    "ESPResult",
    "InboundPath",
    "OutboundPath",
    "counter_iv",
    "dummy",
    "inbound_path",
    "outbound_path",
    "padding",
    "protect",
    "unprotect",
]

#: Next Header value of a dummy packet (RFC 4303 §2.6, IPv6 "No Next Header").
NO_NEXT_HEADER = 59

RNG = Callable[[int], bytes]

_HEADER = struct.Struct("!II")
_U32 = struct.Struct("!I")
_U64 = struct.Struct("!Q")
_PADS = bytes(range(1, 256))


class ESPResult(NamedTuple):
    """What :func:`unprotect` releases.

    ``dummy`` is true for a dummy packet (Next Header 59, RFC 4303 §2.6):
    it authenticated and counted, but carries nothing to deliver
    (``payload`` is empty). ``sequence`` is the full (ESN) sequence number.
    ``payload`` still contains any TFC padding (§2.7); the inner header's
    length field tells where the real data ends.
    """

    next_header: int
    payload: bytes
    sa: SecurityAssociation
    sequence: int
    events: tuple[LifetimeEvent, ...] = ()
    dummy: bool = False


def padding(cipher: CipherAlgorithm, length: int) -> bytes:
    """Padding for ``length`` octets of payload (RFC 4303 §2.4): 1, 2, 3, ...

    ``length + len(padding) + 2`` becomes a multiple of both the cipher's
    block size and 4 (so the ICV is 4-octet aligned), the alignment each SA
    uses (:func:`secmob.algorithms.esp_layout.pad_alignment`).
    """
    return _PADS[: -(length + 2) % pad_alignment(cipher)]


def _aad(spi_seq: bytes, full: int, esn: bool) -> bytes:
    if esn:  # SPI | ESN high | ESN low
        return spi_seq[:4] + _U32.pack(full >> 32) + spi_seq[4:]
    return spi_seq


# -- the per-SA fast paths ------------------------------------------------------------
#
# Built once per SA (on first use) and kept as ``sa.fast_path``: the common case
# of protect() (no tracer, no TFC padding, no caller-chosen IV) and of
# unprotect() once the SA is found, as closures over the SA's fixed parameters.
# They make the same checks, in the same order, with the same errors as the
# general code below; only attribute look-ups and calls are saved. The SA's
# state (sequence counter, counters, window, expiry) is read from the SA on
# every packet, so both paths can serve one SA alternately.

#: Trailer ``1, 2, ..., pad | Pad Length | Next Header`` by ``pad * 256 + next_header``
#: for the paddings of blocks up to 16 octets (RFC 4303 §2.4).
_TRAILERS = tuple(_PADS[:pad] + bytes((pad, nh)) for pad in range(16) for nh in range(256))

#: ``(next_header, payload, now, rng) -> ESP packet`` of an outbound SA.
OutboundPath = Callable[[int, bytes, float, "RNG | None"], bytes]
#: ``(data, sequence low 32 bits, now) -> ESPResult`` of an inbound SA; ``data``
#: is the whole ESP packet, at least 8 octets, whose SPI selected the SA.
InboundPath = Callable[[bytes, int, float], ESPResult]


def outbound_path(sa: SecurityAssociation) -> OutboundPath:
    """The fast :func:`protect` of the outbound ESP SA ``sa`` (built once, kept on the SA).

    It performs, in order, the checks of :func:`protect`: Next Header range,
    sequence number overflow (RFC 4303 §3.3.3, before the counter moves),
    lifetimes (RFC 4301 §4.4.2.1: hard limits raise, soft ones queue an
    event), the IV (the sequence number for counter modes, ``rng`` for CBC,
    RFC 4303 §3.3.2), padding (§2.4), then the combined mode's AAD (RFC 4106
    §5 ...) or the separate ICV over ``SPI | Seq | IV | ciphertext (| ESN
    high)`` (§3.3.2.1, §2.2.1).
    """
    fast: OutboundPath | None = sa.fast_path
    if fast is not None:
        return fast
    layout, ctx = sa.esp_layout, sa.cipher_ctx
    if layout is None or ctx is None or sa.direction is not Direction.OUTBOUND:
        raise UsageError(f"protect() needs an outbound ESP SA, got {sa!r}")
    aead, iv_size, counter, align = layout
    seal = ctx.seal
    compute = None if sa.integrity_ctx is None else sa.integrity_ctx.compute
    spi, esn, advance = sa.spi, sa.esn, sa.advance
    pack_header, pack_u32, pack_u64 = _HEADER.pack, _U32.pack, _U64.pack
    name = sa.cipher.name if sa.cipher else "CBC"

    def protect_fast(next_header: int, payload: bytes, now: float, rng: RNG | None) -> bytes:
        if not 0 <= next_header <= 255:
            raise UsageError("next_header must be 0-255 and tfc_pad non-negative")
        if iv_size and not counter:  # a random IV, drawn before the SA's state moves
            if rng is None:
                raise UsageError(f"{name} needs random IVs: pass rng=os.urandom (or similar)")
            iv = rng(iv_size)
            if len(iv) != iv_size:
                raise UsageError(f"rng returned {len(iv)} octets, {iv_size} were asked for")
        full = advance(len(payload), now)  # RFC 4303 §3.3.3, RFC 4301 §4.4.2.1
        spi_seq = pack_header(spi, full & 0xFFFFFFFF)
        if not iv_size:
            iv = b""
        elif counter:  # the 64-bit sequence number: never repeats on an SA
            iv = pack_u64(full) if iv_size == 8 else pack_u64(full)[-iv_size:]
        pad = -(len(payload) + 2) % align
        plaintext = payload + _TRAILERS[pad << 8 | next_header]  # align <= 16 (the SA checks)
        if aead:
            aad = spi_seq[:4] + pack_u32(full >> 32) + spi_seq[4:] if esn else spi_seq
            return b"".join((spi_seq, iv, seal(iv, plaintext, aad)))
        packet = b"".join((spi_seq, iv, seal(iv, plaintext)))
        if compute is not None:
            packet += compute(packet + pack_u32(full >> 32) if esn else packet)
        return packet

    sa.fast_path = protect_fast
    return protect_fast


def inbound_path(sa: SecurityAssociation) -> InboundPath:
    """The fast :func:`unprotect` of the inbound ESP SA ``sa``, once the SA is
    found (built once, kept on the SA).

    It performs, in order, the checks of :func:`unprotect` after the SA
    lookup: length and alignment, hard lifetime, the anti-replay pre-check
    (RFC 4303 §3.4.3), ICV verification in constant time before any
    decryption (§3.4.4; the combined mode verifies its tag before it
    releases anything), the window update only after that, decryption, the
    padding check (§2.4, §3.4.4.1) and lifetime accounting.
    """
    fast: InboundPath | None = sa.fast_path
    if fast is not None:
        return fast
    layout, ctx = sa.esp_layout, sa.cipher_ctx
    if layout is None or ctx is None or sa.direction is not Direction.INBOUND:
        raise UsageError(f"inbound processing needs an inbound ESP SA, got {sa!r}")
    aead, iv_size, _counter, align = layout
    open_ = ctx.open
    verify = None if sa.integrity_ctx is None else sa.integrity_ctx.verify
    replay = sa.replay
    check, accept = replay.check, replay.accept
    esn, unlimited, received = sa.esn, sa._unlimited, sa.received
    pack_u32 = _U32.pack
    iv_end = 8 + iv_size
    icv_size = sa.icv_size
    smallest = iv_end + align + icv_size
    new_result = tuple.__new__  # ESPResult without its Python-level __new__

    def unprotect_fast(data: bytes, seql: int, now: float) -> ESPResult:
        n = len(data)
        if n < smallest:
            raise Truncated("ESP", 0, smallest, n)
        ct_end = n - icv_size
        if (ct_end - iv_end) % align:
            raise DecodeError(
                "ESP", f"ciphertext of {ct_end - iv_end} octets is not a multiple of {align}",
                iv_end)
        if not unlimited or sa.expired:
            sa.check_alive(now)
        try:
            full = check(seql)
        except ReplayError:
            sa.replay_drops += 1
            raise
        iv = data[8:iv_end]
        try:
            if aead:
                aad = data[:4] + pack_u32(full >> 32) + data[4:8] if esn else data[:8]
                plaintext = open_(iv, data[iv_end:], aad)
            elif verify is not None:
                covered = data[:ct_end]
                verify(covered + pack_u32(full >> 32) if esn else covered, data[ct_end:])
        except IntegrityError:
            sa.auth_failures += 1
            raise
        accept(full)  # only now, after authentication (§3.4.3)
        if not aead:
            plaintext = open_(iv, data[iv_end:ct_end])
        size = len(plaintext)
        if size < 2:
            raise PaddingError(f"ESP: decrypted payload of {size} octets has no trailer")
        pad_length, next_header = plaintext[-2], plaintext[-1]
        end = size - 2 - pad_length
        if end < 0:
            raise PaddingError(
                f"ESP: Pad Length {pad_length} exceeds the {size - 2} octets "
                f"before the trailer (packet offset {iv_end})")
        if pad_length and plaintext[end:-2] != _PADS[:pad_length]:
            raise PaddingError("ESP: padding octets are not 1, 2, 3, ... (RFC 4303 §2.4)")
        events = received(end, now)
        if next_header == NO_NEXT_HEADER:
            return new_result(ESPResult, (next_header, b"", sa, full, events, True))
        return new_result(ESPResult, (next_header, plaintext[:end], sa, full, events, False))

    sa.fast_path = unprotect_fast
    return unprotect_fast


def protect(sa: SecurityAssociation, next_header: int, payload: bytes, *,
            now: float, rng: RNG | None = None, iv: bytes | None = None, tfc_pad: int = 0,
            tracer: Tracer | None = None) -> bytes:
    """Build the ESP packet carrying ``payload`` (RFC 4303 §3.3).

    ``next_header`` is the IP protocol number of ``payload`` (4 or 41 in
    tunnel mode, 6, 17, ... in transport mode). ``rng(n)`` supplies ``n``
    random octets for CBC IVs; it is required for CBC transforms and unused
    otherwise. ``tfc_pad`` zero octets of Traffic Flow Confidentiality
    padding (§2.7) are inserted after the payload.

    ``iv`` sends this packet with the given IV instead of the one chosen
    above (to reproduce a published packet or a peer's capture, whose IV
    generator need not be the sequence number: RFC 4106 §3.1 and RFC 7634
    §2 only require uniqueness). The caller then answers for that
    requirement: a counter-mode IV used twice under one key reveals the XOR
    of two plaintexts, and with GCM or GMAC the authentication key.

    Raises :class:`~secmob.errors.SAExpired` (hard lifetime reached),
    :class:`~secmob.errors.SequenceOverflow` (counter exhausted) and
    :class:`~secmob.errors.UsageError` (wrong SA or arguments). Soft
    lifetime events are queued on the SA (:meth:`SecurityAssociation.take_events`).
    A ``tracer`` receives the plaintext, the authenticated data and the packet.
    """
    layout = sa.esp_layout
    if layout is None or sa.direction is not Direction.OUTBOUND:
        raise UsageError(f"protect() needs an outbound ESP SA, got {sa!r}")
    if tracer is None and iv is None and not tfc_pad:
        return (sa.fast_path or outbound_path(sa))(next_header, payload, now, rng)
    if not 0 <= next_header <= 255 or tfc_pad < 0:
        raise UsageError("next_header must be 0-255 and tfc_pad non-negative")
    aead, iv_size, counter, align = layout
    ctx = sa.cipher_ctx
    assert ctx is not None  # guaranteed for ESP SAs
    # Arguments are checked, and a random IV drawn, before the SA's state moves.
    if iv is not None:
        if len(iv) != iv_size:
            raise UsageError(f"{sa.cipher.name if sa.cipher else 'ESP'} takes a {iv_size}-octet "
                             f"IV, got {len(iv)}")
    elif iv_size and not counter:
        if rng is None:
            raise UsageError(f"{sa.cipher.name if sa.cipher else 'CBC'} needs random IVs: "
                             "pass rng=os.urandom (or similar)")
        iv = rng(iv_size)
        if len(iv) != iv_size:
            raise UsageError(f"rng returned {len(iv)} octets, {iv_size} were asked for")
    full = sa.advance(len(payload), now)
    spi_seq = _HEADER.pack(sa.spi, full & 0xFFFFFFFF)
    if iv is None:
        # no IV, or the 64-bit sequence number, which never repeats on an SA
        iv = b"" if not iv_size else (
            _U64.pack(full) if iv_size == 8 else _U64.pack(full)[-iv_size:])
    pad = -(len(payload) + tfc_pad + 2) % align
    trailer = _PADS[:pad] + bytes((pad, next_header))
    plaintext = payload + bytes(tfc_pad) + trailer if tfc_pad else payload + trailer
    if tracer is not None:
        emit(tracer, "ESP plaintext",
             "payload | TFC padding | 1, 2, 3, ... | Pad Length | Next Header",
             "RFC 4303 §2.4", {"payload": payload, "sequence": full, "iv": iv}, plaintext)
    if aead:
        aad = _aad(spi_seq, full, sa.esn)
        packet = b"".join((spi_seq, iv, ctx.seal(iv, plaintext, aad)))
        if tracer is not None:
            emit(tracer, "ESP AAD", "SPI | Seq (| ESN high before Seq)",
                 "RFC 4106 §5, RFC 4309 §5, RFC 7634 §2.1, RFC 4543 §3.3", {}, aad)
    else:
        packet = b"".join((spi_seq, iv, ctx.seal(iv, plaintext)))
        if sa.integrity_ctx is not None:
            covered = packet + _U32.pack(full >> 32) if sa.esn else packet
            if tracer is not None:
                emit(tracer, "ESP ICV input", "SPI | Seq | IV | ciphertext (| ESN high)",
                     "RFC 4303 §3.3.2.1, §2.2.1", {}, covered)
            packet += sa.integrity_ctx.compute(covered)
    if tracer is not None:
        emit(tracer, "ESP packet", "SPI | Seq | IV | ciphertext | ICV", "RFC 4303 §2",
             {}, packet)
    return packet


def dummy(sa: SecurityAssociation, length: int, *, now: float, rng: RNG) -> bytes:
    """A dummy packet of ``length`` random octets (RFC 4303 §2.6, Next Header 59).

    It is a regular ESP packet (sequence number, ICV) that the receiver
    authenticates and then discards; :func:`unprotect` reports it with
    ``dummy=True``.
    """
    return protect(sa, NO_NEXT_HEADER, rng(length), now=now, rng=rng)


def unprotect(sad_or_sa: SAD | SecurityAssociation, data: bytes, *, now: float,
              destination: Address | None = None, source: Address | None = None,
              ) -> ESPResult:
    """Authenticate and decrypt the ESP packet ``data`` (RFC 4303 §3.4).

    ``sad_or_sa`` is the SAD (the SA is looked up by SPI, ``destination``
    and ``source``, RFC 4301 §4.1) or the inbound SA itself. Raises, in the
    order of the checks:

    * :class:`~secmob.errors.Truncated` (naming "ESP") for a packet shorter
      than its SPI and Sequence Number,
    * :class:`~secmob.errors.UnknownSPI` when no SA matches,
    * :class:`~secmob.errors.Truncated` / :class:`~secmob.errors.DecodeError`
      (naming "ESP" and the offset) for a packet too short or misaligned for
      the SA's transforms,
    * :class:`~secmob.errors.SAExpired` when the SA is past its hard lifetime,
    * :class:`~secmob.errors.ReplayError` for a duplicate or too old number,
    * :class:`~secmob.errors.IntegrityError` when the ICV does not verify
      (nothing was decrypted and the window did not move),
    * :class:`~secmob.errors.PaddingError` for an invalid trailer,
    * :class:`~secmob.errors.SAExpired` when this packet passes a hard
      byte or packet limit.
    """
    n = len(data)
    if n < 8:
        raise Truncated("ESP", 0, 8, n)
    spi, seql = _HEADER.unpack_from(data)
    sa = inbound_sa(sad_or_sa, spi, Protocol.ESP, destination, source)
    return (sa.fast_path or inbound_path(sa))(data, seql, now)

