"""ESP payload processing (RFC 4303) against independent computations."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import struct

import pytest
from esp_reference import K_SHA1, K_SHA256, esp_gcm, esp_hmac, trailer
from hypothesis import given
from hypothesis import strategies as st
from ipsec_algs import AES_CBC, AES_GCM16, NULL_AUTH_AES_GMAC

from secmob.algorithms import ENCRYPTION, INTEGRITY, CipherAlgorithm, CipherContext
from secmob.errors import (
    DecodeError,
    IntegrityError,
    PaddingError,
    ReplayError,
    SAExpired,
    SecmobError,
    SequenceOverflow,
    Truncated,
    UnknownSPI,
    UsageError,
)
from secmob.ipsec import esp
from secmob.ipsec.sad import SAD, Direction, Lifetime, SecurityAssociation

NULL = ENCRYPTION.get("null")
SHA1 = INTEGRITY.get("sha1")
SHA256 = INTEGRITY.get("sha256")
SPI = 0xC0FFEE01
GCM_KEY = bytes(range(16)) + b"salt"
CBC_KEY = bytes(range(100, 116))


def pair(**kw: object) -> tuple[SecurityAssociation, SecurityAssociation]:
    out = SecurityAssociation(SPI, direction=Direction.OUTBOUND, **kw)  # type: ignore[arg-type]
    inb = SecurityAssociation(SPI, direction=Direction.INBOUND, **kw)  # type: ignore[arg-type]
    return out, inb


def null_sha1(**kw: object) -> tuple[SecurityAssociation, SecurityAssociation]:
    return pair(cipher=NULL, integrity=SHA1, integrity_key=K_SHA1, **kw)


class Spy(CipherContext):
    """Counts decryptions of the wrapped context."""

    def __init__(self, inner: CipherContext) -> None:
        self.inner, self.opened = inner, 0

    def seal(self, iv: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        return self.inner.seal(iv, plaintext, aad)

    def open(self, iv: bytes, data: bytes, aad: bytes = b"") -> bytes:
        self.opened += 1
        return self.inner.open(iv, data, aad)


# -- outbound against independent layouts -------------------------------------------


@pytest.mark.parametrize(("esn", "start"), [
    (False, 0), (False, 0xFFFFFFFA), (True, 0), (True, 0xFFFFFFFD), (True, (7 << 32) - 2)])
@pytest.mark.parametrize(("integrity", "key"), [(SHA1, K_SHA1), (SHA256, K_SHA256)],
                         ids=["sha1", "sha256"])
def test_null_hmac_matches_hmac_module(esn: bool, integrity: object, key: bytes,
                                       start: int) -> None:
    out, inb = pair(cipher=NULL, integrity=integrity, integrity_key=key, esn=esn)
    out.seq_out = start
    if start:
        inb.replay.accept(start)
    for payload in (b"", b"x", b"abc", b"abcd", bytes(range(77))):
        pkt = esp.protect(out, 6, payload, now=0)
        seq = out.seq_out
        assert pkt == esp_hmac(SPI, seq, esn, trailer(payload, 6, 4), integrity.name, key)
        res = esp.unprotect(inb, pkt, now=0)
        assert (res.next_header, res.payload, res.sequence) == (6, payload, seq)


@pytest.mark.parametrize("esn", [False, True])
def test_aes_cbc_hmac_matches_cryptography(esn: bool) -> None:
    out, inb = pair(cipher=AES_CBC, cipher_key=CBC_KEY, integrity=SHA256,
                    integrity_key=K_SHA256, esn=esn)
    ivs = [bytes([i]) * 16 for i in range(1, 4)]
    for iv, payload in zip(ivs, (b"", b"q" * 14, b"z" * 40), strict=True):
        pkt = esp.protect(out, 4, payload, now=0, rng=lambda n, iv=iv: iv[:n])
        want = esp_hmac(SPI, out.seq_out, esn, trailer(payload, 4, 16), "HMAC-SHA-256-128",
                        K_SHA256, cbc_key=CBC_KEY, iv=iv)
        assert pkt == want
        assert esp.unprotect(inb, pkt, now=0).payload == payload


@pytest.mark.parametrize("esn", [False, True])
@pytest.mark.parametrize("alg", [AES_GCM16, NULL_AUTH_AES_GMAC], ids=lambda a: a.name)
def test_gcm_and_gmac_match_cryptography(esn: bool, alg: CipherAlgorithm) -> None:
    out, inb = pair(cipher=alg, cipher_key=GCM_KEY, esn=esn)
    out.seq_out = (1 << 32) - 2 if esn else 0
    if esn:
        inb.replay.accept((1 << 32) - 2)
    for payload in (b"", b"hello", bytes(64)):
        pkt = esp.protect(out, 17, payload, now=0)
        want = esp_gcm(SPI, out.seq_out, esn, trailer(payload, 17, 4), GCM_KEY,
                       gmac=alg is NULL_AUTH_AES_GMAC)
        assert pkt == want
        assert esp.unprotect(inb, pkt, now=0).payload == payload


def test_counter_ivs_never_repeat() -> None:
    out, _ = pair(cipher=AES_GCM16, cipher_key=GCM_KEY)
    ivs = {esp.protect(out, 17, b"x", now=0)[8:16] for _ in range(50)}
    assert len(ivs) == 50


def test_explicit_iv_replaces_the_generated_one() -> None:
    out, inb = pair(cipher=AES_GCM16, cipher_key=GCM_KEY)
    pkt = esp.protect(out, 17, b"hello", now=0, iv=bytes(range(8)))
    assert pkt[8:16] == bytes(range(8))
    assert esp.unprotect(inb, pkt, now=0).payload == b"hello"
    assert esp.protect(out, 17, b"x", now=0)[8:16] == (2).to_bytes(8, "big")  # counter again
    cbc, _ = pair(cipher=AES_CBC, cipher_key=CBC_KEY, integrity=SHA1, integrity_key=K_SHA1)
    assert esp.protect(cbc, 17, b"x", now=0, iv=bytes(16))[8:24] == bytes(16)  # no rng needed
    with pytest.raises(UsageError, match="8-octet IV"):
        esp.protect(out, 17, b"x", now=0, iv=bytes(16))


def test_cbc_needs_an_rng() -> None:
    out, _ = pair(cipher=AES_CBC, cipher_key=CBC_KEY, integrity=SHA1, integrity_key=K_SHA1)
    with pytest.raises(UsageError, match="rng"):
        esp.protect(out, 17, b"x", now=0)
    with pytest.raises(UsageError, match="octets"):
        esp.protect(out, 17, b"x", now=0, rng=lambda n: b"short")


def test_tfc_padding_and_dummy_packets() -> None:
    out, inb = null_sha1()
    pkt = esp.protect(out, 17, b"data", now=0, tfc_pad=10)
    assert pkt == esp_hmac(SPI, 1, False, trailer(b"data" + bytes(10), 17, 4), "HMAC-SHA1-96",
                           K_SHA1)
    assert esp.unprotect(inb, pkt, now=0).payload == b"data" + bytes(10)
    d = esp.dummy(out, 33, now=0, rng=os.urandom)
    res = esp.unprotect(inb, d, now=0)
    assert res.dummy and res.payload == b"" and res.next_header == esp.NO_NEXT_HEADER
    assert res.sequence == 2 and inb.replay.seen(2)


# -- inbound checks and their order -------------------------------------------------


def test_tampered_icv_changes_nothing_and_decrypts_nothing() -> None:
    out, inb = pair(cipher=AES_CBC, cipher_key=CBC_KEY, integrity=SHA1, integrity_key=K_SHA1)
    spy = Spy(inb.cipher_ctx)  # type: ignore[arg-type]
    inb.cipher_ctx = spy
    pkt = esp.protect(out, 17, b"secret", now=0, rng=os.urandom)
    for i in range(8, len(pkt)):  # every octet after the SPI and sequence number
        bad = bytearray(pkt)
        bad[i] ^= 0x40
        with pytest.raises(IntegrityError):
            esp.unprotect(inb, bytes(bad), now=0)
    assert spy.opened == 0 and inb.replay.top == 0 and inb.auth_failures == len(pkt) - 8
    assert esp.unprotect(inb, pkt, now=0).payload == b"secret" and spy.opened == 1


def test_tampered_aead_leaves_window_unchanged() -> None:
    out, inb = pair(cipher=AES_GCM16, cipher_key=GCM_KEY)
    pkt = bytearray(esp.protect(out, 17, b"secret", now=0))
    pkt[-1] ^= 1
    with pytest.raises(IntegrityError):
        esp.unprotect(inb, bytes(pkt), now=0)
    assert inb.replay.top == 0


def test_replayed_and_too_old() -> None:
    out, inb = null_sha1(replay_window=32)
    pkts = [esp.protect(out, 17, b"p", now=0) for _ in range(40)]
    esp.unprotect(inb, pkts[39], now=0)
    with pytest.raises(ReplayError, match="already"):
        esp.unprotect(inb, pkts[39], now=0)
    with pytest.raises(ReplayError, match="left of the window") as e:
        esp.unprotect(inb, pkts[0], now=0)
    assert e.value.sequence == 1 and inb.replay_drops == 2
    assert esp.unprotect(inb, pkts[20], now=0).sequence == 21  # late, inside the window


def test_window_moves_only_after_authentication() -> None:
    out, inb = null_sha1()
    pkt = bytearray(esp.protect(out, 17, b"p", now=0))
    pkt[-1] ^= 1
    with pytest.raises(IntegrityError):
        esp.unprotect(inb, bytes(pkt), now=0)
    pkt[-1] ^= 1
    assert esp.unprotect(inb, bytes(pkt), now=0).sequence == 1  # not marked seen before


def test_check_order_replay_before_icv() -> None:
    out, inb = null_sha1()
    pkt = esp.protect(out, 17, b"p", now=0)
    esp.unprotect(inb, pkt, now=0)
    bad = pkt[:-1] + bytes([pkt[-1] ^ 1])
    with pytest.raises(ReplayError):  # not IntegrityError: the replay pre-check runs first
        esp.unprotect(inb, bad, now=0)


@pytest.mark.parametrize(("plaintext", "why"), [
    (b"abcd" + bytes([1, 3, 2, 17]), "not 1, 2, 3"),
    (b"ab" + bytes([9, 17]), "exceeds"),
    (b"abcde" + bytes([0, 1, 17]), "not 1, 2, 3"),
])
def test_bad_padding(plaintext: bytes, why: str) -> None:
    _out, inb = null_sha1()
    pkt = esp_hmac(SPI, 1, False, plaintext, "HMAC-SHA1-96", K_SHA1)
    with pytest.raises(PaddingError, match=why):
        esp.unprotect(inb, pkt, now=0)


def test_unknown_spi_with_sad_and_sa() -> None:
    out, inb = null_sha1()
    pkt = esp.protect(out, 17, b"p", now=0)
    sad = SAD()
    with pytest.raises(UnknownSPI) as e:
        esp.unprotect(sad, pkt, now=0)
    assert e.value.spi == SPI
    other = SecurityAssociation(SPI + 1, cipher=NULL, integrity=SHA1, integrity_key=K_SHA1)
    with pytest.raises(UnknownSPI):
        esp.unprotect(other, pkt, now=0)
    sad.insert(inb)
    assert esp.unprotect(sad, pkt, now=0, destination="2001:db8::1").payload == b"p"


def test_truncated_at_every_length_raises_only_secmob_errors() -> None:
    for make in (null_sha1,
                 lambda: pair(cipher=AES_GCM16, cipher_key=GCM_KEY),
                 lambda: pair(cipher=AES_CBC, cipher_key=CBC_KEY, integrity=SHA1,
                              integrity_key=K_SHA1)):
        out, inb = make()
        pkt = esp.protect(out, 17, b"some payload", now=0, rng=os.urandom)
        for n in range(len(pkt)):
            with pytest.raises(SecmobError) as e:
                esp.unprotect(inb, pkt[:n], now=0)
            assert isinstance(e.value, (DecodeError, IntegrityError)), e.value
            if isinstance(e.value, DecodeError):
                assert e.value.header == "ESP" and e.value.offset is not None
        with pytest.raises(Truncated, match="ESP at offset 0"):
            esp.unprotect(inb, pkt[:5], now=0)


def test_misaligned_ciphertext_is_a_decode_error() -> None:
    out, inb = null_sha1()
    pkt = esp.protect(out, 17, b"abcdefgh", now=0)
    with pytest.raises(DecodeError, match="multiple of 4"):
        esp.unprotect(inb, pkt[:8] + b"x" + pkt[8:], now=0)


@given(st.binary(max_size=80))
def test_garbage_raises_only_secmob_errors(data: bytes) -> None:
    _, inb = null_sha1()
    with contextlib.suppress(SecmobError):
        esp.unprotect(inb, struct.pack("!I", SPI) + data, now=0)


# -- sequence numbers and lifetimes -------------------------------------------------


@pytest.mark.parametrize(("esn", "limit"), [(False, (1 << 32) - 1), (True, (1 << 64) - 1)])
def test_sequence_overflow(esn: bool, limit: int) -> None:
    out, _ = null_sha1(esn=esn)
    out.seq_out = limit - 1
    pkt = esp.protect(out, 17, b"last", now=0)
    assert pkt[4:8] == (limit & 0xFFFFFFFF).to_bytes(4, "big")
    with pytest.raises(SequenceOverflow):
        esp.protect(out, 17, b"one too many", now=0)


def test_soft_and_hard_lifetime_by_time() -> None:
    out, inb = null_sha1(lifetime=Lifetime(soft_seconds=10, hard_seconds=20), now=100.0)
    esp.unprotect(inb, esp.protect(out, 17, b"a", now=105), now=105)
    assert out.take_events() == () and not inb.soft_expired
    pkt = esp.protect(out, 17, b"b", now=111)
    (event,) = out.take_events()
    assert event.limit == "seconds" and event.spi == SPI
    assert esp.unprotect(inb, pkt, now=111).events[0].limit == "seconds"
    assert esp.unprotect(inb, esp.protect(out, 17, b"c", now=112), now=112).events == ()
    with pytest.raises(SAExpired):
        esp.protect(out, 17, b"d", now=120)
    with pytest.raises(SAExpired):
        esp.protect(out, 17, b"d", now=0)  # stays dead
    with pytest.raises(SAExpired):
        esp.unprotect(inb, pkt, now=120.5)


def test_soft_and_hard_lifetime_by_packets_and_bytes() -> None:
    out, inb = null_sha1(lifetime=Lifetime(soft_packets=2, hard_packets=3))
    results = [esp.unprotect(inb, esp.protect(out, 17, b"x", now=0), now=0) for _ in range(3)]
    assert [len(r.events) for r in results] == [0, 1, 0]
    with pytest.raises(SAExpired):
        esp.protect(out, 17, b"x", now=0)
    out, inb = null_sha1(lifetime=Lifetime(soft_bytes=10, hard_bytes=15))
    esp.unprotect(inb, esp.protect(out, 17, b"12345678", now=0), now=0)
    assert esp.unprotect(inb, esp.protect(out, 17, b"12", now=0), now=0).events[0].limit == \
        "bytes"
    with pytest.raises(SAExpired):
        esp.protect(out, 17, b"123456", now=0)
    pkt = esp_hmac(SPI, 3, False, trailer(b"123456", 17, 4), "HMAC-SHA1-96", K_SHA1)
    with pytest.raises(SAExpired):
        esp.unprotect(inb, pkt, now=0)
    assert inb.expired


def test_wrong_direction_or_protocol_is_a_usage_error() -> None:
    out, inb = null_sha1()
    with pytest.raises(UsageError):
        esp.protect(inb, 17, b"x", now=0)
    pkt = esp.protect(out, 17, b"x", now=0)
    with pytest.raises(UsageError):
        esp.unprotect(out, pkt, now=0)
    with pytest.raises(UsageError):
        esp.protect(out, 256, b"x", now=0)


def test_padding_helper_alignment() -> None:
    assert esp.padding(NULL, 2) == b""
    assert esp.padding(NULL, 3) == b"\x01\x02\x03"
    assert esp.padding(AES_CBC, 0) == bytes(range(1, 15))
    assert esp.counter_iv(AES_GCM16) and not esp.counter_iv(AES_CBC)


def test_padding_beyond_16_octets_is_refused_at_sa_creation() -> None:
    wide = dataclasses.replace(NULL, block_size=32)
    with pytest.raises(UsageError, match="padding to 32 octets"):
        SecurityAssociation(0x1000, direction=Direction.OUTBOUND, cipher=wide,
                            integrity=SHA1, integrity_key=bytes(20))


def test_tracer_records_icv_input_and_aad() -> None:
    from secmob.trace import Recorder

    rec = Recorder()
    out, _ = null_sha1(esn=True)
    out.seq_out = 1 << 32
    pkt = esp.protect(out, 17, b"hi", now=0, tracer=rec)
    icv_input = rec.find("ESP ICV input").output
    assert icv_input == pkt[:-12] + b"\x00\x00\x00\x01" and rec.find("ESP packet").output == pkt
    rec = Recorder()
    gout, _ = pair(cipher=AES_GCM16, cipher_key=GCM_KEY, esn=True)
    gout.seq_out = 1 << 32
    gpkt = esp.protect(gout, 17, b"hi", now=0, tracer=rec)
    assert rec.find("ESP AAD").output == gpkt[:4] + b"\x00\x00\x00\x01" + gpkt[4:8]


def test_explain_topic_runs() -> None:
    import argparse

    from secmob import explain

    topic = explain.topics()["esp"]
    parser = argparse.ArgumentParser()
    topic.configure(parser)
    rec = topic.run(parser.parse_args(["--esn", "--sequence", str((1 << 32) + 1)]))
    assert rec.find("ESP inbound").output == bytes.fromhex("68656c6c6f")
    assert rec.find("HMAC-SHA1-96").inputs["data"].endswith(b"\x00\x00\x00\x01")  # type: ignore[union-attr]


@given(st.binary(max_size=300), st.integers(0, 255), st.integers(0, 40), st.booleans(),
       st.sampled_from(["null", "cbc", "gcm", "gmac"]))
def test_roundtrip_property(payload: bytes, nh: int, tfc: int, esn: bool, kind: str) -> None:
    suites = {
        "null": {"cipher": NULL, "integrity": SHA256, "integrity_key": K_SHA256},
        "cbc": {"cipher": AES_CBC, "cipher_key": CBC_KEY, "integrity": SHA1,
                "integrity_key": K_SHA1},
        "gcm": {"cipher": AES_GCM16, "cipher_key": GCM_KEY},
        "gmac": {"cipher": NULL_AUTH_AES_GMAC, "cipher_key": GCM_KEY},
    }
    out, inb = pair(esn=esn, **suites[kind])
    pkt = esp.protect(out, nh, payload, now=0, rng=os.urandom, tfc_pad=tfc)
    align = 16 if kind == "cbc" else 4
    assert (len(pkt) - 8 - out.cipher.iv_size - out.icv_size) % align == 0  # type: ignore[union-attr]
    res = esp.unprotect(inb, pkt, now=0)
    if nh == esp.NO_NEXT_HEADER:
        assert res.dummy and res.payload == b""
    else:
        assert (res.next_header, res.payload) == (nh, payload + bytes(tfc))


def test_refused_protect_calls_leave_the_sa_untouched() -> None:
    """A UsageError (no rng for a CBC IV, a wrong-length rng or IV) is raised
    before the sequence number or the lifetime counters move."""
    from secmob.algorithms import ENCRYPTION, INTEGRITY
    from secmob.errors import UsageError
    from secmob.ipsec import esp as esp_mod
    from secmob.ipsec.sad import Direction, Lifetime, SecurityAssociation

    sa = SecurityAssociation(0x1234, direction=Direction.OUTBOUND,
                             cipher=ENCRYPTION.get("aes128"), cipher_key=bytes(16),
                             integrity=INTEGRITY.get("sha1"), integrity_key=bytes(20),
                             lifetime=Lifetime(hard_packets=2))
    for kwargs in ({}, {"rng": lambda n: bytes(n - 1)}, {"iv": bytes(3)}):
        with pytest.raises(UsageError):
            esp_mod.protect(sa, 17, b"data", now=0.0, **kwargs)  # type: ignore[arg-type]
    assert (sa.seq_out, sa.packets, sa.octets, sa.expired) == (0, 0, 0, False)
    esp_mod.protect(sa, 17, b"data", now=0.0, rng=bytes)
    assert sa.seq_out == 1


def test_cbc_chaining_survives_a_reused_input_buffer() -> None:
    """The CBC context keeps a copy of the last ciphertext block, not a view
    into the caller's buffer (RFC 3602: each packet is CBC under its own IV)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    from secmob.algorithms import ENCRYPTION

    key = bytes(range(16))
    ctx = ENCRYPTION.get("aes128").new(key)
    buf = bytearray(64)
    for n in range(5):
        iv, plain = bytes([n]) * 16, bytes([n + 1]) * 32
        ct = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor().update(plain)
        buf[:32] = ct
        assert ctx.open(iv, memoryview(buf)[:32]) == plain
        buf[:32] = bytes(32)  # the caller reuses its buffer
