"""AH header and ICV (RFC 4302, RFC 4543 §4) against independent computations."""

from __future__ import annotations

import pytest
from esp_reference import AFTER, BEFORE, K_SHA1, K_SHA256, ah_gmac, ah_hmac
from ipsec_algs import AES_GMAC_128

from secmob.algorithms import ENCRYPTION, INTEGRITY, IntegrityAlgorithm
from secmob.errors import (
    DecodeError,
    IntegrityError,
    ReplayError,
    SAExpired,
    SecmobError,
    SequenceOverflow,
    Truncated,
    UnknownSPI,
    UsageError,
)
from secmob.ipsec import ah
from secmob.ipsec.sad import SAD, Direction, Lifetime, Protocol, SecurityAssociation

SHA1 = INTEGRITY.get("sha1")
SHA256 = INTEGRITY.get("sha256")
SPI = 0x0A0B0C0D
GMAC_KEY = bytes(range(16)) + b"SALT"


def pair(integrity: IntegrityAlgorithm, key: bytes, **kw: object
         ) -> tuple[SecurityAssociation, SecurityAssociation]:
    def make(d: Direction) -> SecurityAssociation:
        return SecurityAssociation(SPI, Protocol.AH, direction=d, integrity=integrity,
                                   integrity_key=key, **kw)  # type: ignore[arg-type]
    return make(Direction.OUTBOUND), make(Direction.INBOUND)


@pytest.mark.parametrize(("integrity", "key", "v6", "v4"), [
    (SHA1, K_SHA1, 24, 24), (SHA256, K_SHA256, 32, 28), (AES_GMAC_128, GMAC_KEY, 40, 36)])
def test_header_lengths(integrity: IntegrityAlgorithm, key: bytes, v6: int, v4: int) -> None:
    sa, _ = pair(integrity, key)
    assert ah.header_length(sa) == v6 and ah.header_length(sa, ipv6=False) == v4


@pytest.mark.parametrize("ipv6", [True, False])
@pytest.mark.parametrize("esn", [False, True])
@pytest.mark.parametrize(("integrity", "key"), [(SHA1, K_SHA1), (SHA256, K_SHA256)],
                         ids=["sha1", "sha256"])
def test_hmac_icv_matches_hmac_module(integrity: IntegrityAlgorithm, key: bytes, esn: bool,
                                      ipv6: bool) -> None:
    out, inb = pair(integrity, key, esn=esn)
    start = (3 << 32) - 2 if esn else 0
    out.seq_out = start
    if start:
        inb.replay.accept(start)
    for _ in range(4):
        hdr = ah.protect(out, 17, BEFORE, AFTER, now=0, ipv6=ipv6)
        assert hdr == ah_hmac(SPI, out.seq_out, esn, 17, BEFORE, AFTER, integrity.name, key,
                              ipv6)
        assert hdr[1] == len(hdr) // 4 - 2  # Payload Len, RFC 4302 §2.2
        res = ah.unprotect(inb, BEFORE, hdr + AFTER, now=0, ipv6=ipv6)
        assert (res.next_header, res.header_length, res.sequence) == (17, len(hdr),
                                                                      out.seq_out)


def test_gmac_carries_its_iv() -> None:
    out, inb = pair(AES_GMAC_128, GMAC_KEY)
    for _ in range(3):
        hdr = ah.protect(out, 6, BEFORE, AFTER, now=0)
        assert hdr == ah_gmac(SPI, out.seq_out, 6, BEFORE, AFTER, GMAC_KEY)
        assert hdr[12:20] == out.seq_out.to_bytes(8, "big")
        assert ah.unprotect(inb, BEFORE, hdr + AFTER, now=0).sequence == out.seq_out


def test_any_change_fails_and_leaves_window() -> None:
    out, inb = pair(SHA256, K_SHA256)
    hdr = ah.protect(out, 17, BEFORE, AFTER, now=0)
    packet = BEFORE + hdr + AFTER
    cut = len(BEFORE)
    # IP header, Next Header, RESERVED, Sequence Number, ICV and everything after AH.
    for i in [*range(0, cut, 7), cut, cut + 2, cut + 3, *range(cut + 8, len(packet))]:
        bad = bytearray(packet)
        bad[i] ^= 0x02
        with pytest.raises(IntegrityError):
            ah.unprotect(inb, bytes(bad[:cut]), bytes(bad[cut:]), now=0)
    assert inb.replay.top == 0 and inb.auth_failures > 0
    assert ah.unprotect(inb, BEFORE, hdr + AFTER, now=0).sequence == 1


def test_replay_unknown_spi_and_order() -> None:
    out, inb = pair(SHA1, K_SHA1)
    hdr = ah.protect(out, 17, BEFORE, AFTER, now=0)
    sad = SAD()
    with pytest.raises(UnknownSPI):
        ah.unprotect(sad, BEFORE, hdr + AFTER, now=0)
    sad.insert(inb)
    ah.unprotect(sad, BEFORE, hdr + AFTER, now=0, destination="2001:db8::2")
    with pytest.raises(ReplayError):
        ah.unprotect(sad, BEFORE, hdr + AFTER, now=0)
    bad = hdr[:-1] + bytes([hdr[-1] ^ 1])
    with pytest.raises(ReplayError):  # the replay pre-check comes before the ICV
        ah.unprotect(sad, BEFORE, bad + AFTER, now=0)
    esp_sa = SecurityAssociation(SPI, Protocol.ESP, cipher=ENCRYPTION.get("null"),
                                 integrity=SHA1, integrity_key=K_SHA1)
    with pytest.raises(UnknownSPI):
        ah.unprotect(esp_sa, BEFORE, hdr + AFTER, now=0)


def test_truncated_and_bad_length() -> None:
    out, inb = pair(SHA256, K_SHA256)
    hdr = ah.protect(out, 17, BEFORE, b"", now=0)
    for n in range(len(hdr)):
        with pytest.raises((Truncated, DecodeError)) as e:
            ah.unprotect(inb, BEFORE, hdr[:n], now=0)
        assert e.value.header == "AH"
    bad_len = hdr[:1] + bytes([hdr[1] + 2]) + hdr[2:]
    with pytest.raises(DecodeError, match="Payload Len"):
        ah.unprotect(inb, BEFORE, bad_len, now=0)
    with pytest.raises(DecodeError):  # an IPv4-sized header on IPv6
        ah.unprotect(inb, BEFORE, ah.protect(out, 17, BEFORE, b"", now=0, ipv6=False), now=0)
    for n in range(len(hdr) + 5):
        with pytest.raises(SecmobError):
            ah.unprotect(inb, BEFORE, (hdr + AFTER)[:n][::-1], now=0)


def test_sequence_overflow_and_lifetimes() -> None:
    out, inb = pair(SHA1, K_SHA1, lifetime=Lifetime(soft_packets=1, hard_packets=2))
    h1 = ah.protect(out, 17, BEFORE, AFTER, now=0)
    assert out.take_events()[0].limit == "packets"
    assert ah.unprotect(inb, BEFORE, h1 + AFTER, now=0).events[0].protocol is Protocol.AH
    ah.protect(out, 17, BEFORE, AFTER, now=0)
    with pytest.raises(SAExpired):
        ah.protect(out, 17, BEFORE, AFTER, now=0)
    out2, _ = pair(SHA1, K_SHA1)
    out2.seq_out = (1 << 32) - 1
    with pytest.raises(SequenceOverflow):
        ah.protect(out2, 17, BEFORE, AFTER, now=0)


def test_usage_errors() -> None:
    out, inb = pair(SHA1, K_SHA1)
    with pytest.raises(UsageError):
        ah.protect(inb, 17, BEFORE, AFTER, now=0)
    with pytest.raises(UsageError):
        ah.protect(out, 300, BEFORE, AFTER, now=0)
    hdr = ah.protect(out, 17, BEFORE, AFTER, now=0)
    with pytest.raises(UsageError):
        ah.unprotect(out, BEFORE, hdr + AFTER, now=0)
