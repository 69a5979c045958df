"""Interoperability with scapy's ESP implementation (scapy.layers.ipsec), both directions."""

from __future__ import annotations

import os

import pytest
from ipsec_algs import AES_CBC, AES_GCM16, NULL_AUTH_AES_GMAC

from secmob.algorithms import ENCRYPTION, INTEGRITY, CipherAlgorithm, IntegrityAlgorithm
from secmob.ipsec import esp
from secmob.ipsec.sad import Direction, SecurityAssociation

scapy_ipsec = pytest.importorskip("scapy.layers.ipsec")
from scapy.layers.inet import UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.packet import Raw, raw  # noqa: E402

SPI = 0x1000
HMAC_KEY = bytes(range(20))
SHA256_KEY = bytes(range(32))
CBC_KEY = bytes(range(50, 66))
GCM_KEY = bytes(range(16)) + b"salt"

# (scapy crypt, scapy key, secmob cipher, scapy auth, secmob integrity, key)
SUITES: list[tuple[str, bytes | None, CipherAlgorithm, str | None,
                   IntegrityAlgorithm | None, bytes]] = [
    ("NULL", None, ENCRYPTION.get("null"), "HMAC-SHA1-96", INTEGRITY.get("sha1"), HMAC_KEY),
    ("AES-CBC", CBC_KEY, AES_CBC, "SHA2-256-128", INTEGRITY.get("sha256"), SHA256_KEY),
    ("AES-GCM", GCM_KEY, AES_GCM16, None, None, b""),
    ("AES-NULL-GMAC", GCM_KEY, NULL_AUTH_AES_GMAC, None, None, b""),
    # The registry's own combined modes (secmob.algorithms.aead): RFC 4106 §5
    # and RFC 4543 §3.3/§3.5 AAD, with and without ESN.
    ("AES-GCM", GCM_KEY, ENCRYPTION.get("aes128gcm16"), None, None, b""),
    ("AES-NULL-GMAC", GCM_KEY, ENCRYPTION.get("aes128gmac"), None, None, b""),
]
SUITE_IDS = [f"{s[0]}-{s[2].name}" for s in SUITES]


def inner() -> IPv6:
    return IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=500, dport=4500) / b"hi there"


def scapy_sa(suite: tuple[object, ...], esn: bool, seq: int) -> object:
    crypt, ckey, _, auth, _, akey = suite
    kw = {"auth_algo": auth, "auth_key": akey} if auth else {}
    return scapy_ipsec.SecurityAssociation(
        scapy_ipsec.ESP, spi=SPI, crypt_algo=crypt, crypt_key=ckey,
        esn_en=esn, esn=seq >> 32, **kw)


def secmob_sa(suite: tuple[object, ...], esn: bool, direction: Direction) -> SecurityAssociation:
    _, ckey, cipher, _, integrity, akey = suite
    return SecurityAssociation(SPI, direction=direction, cipher=cipher,  # type: ignore[arg-type]
                               cipher_key=ckey or b"", integrity=integrity,  # type: ignore[arg-type]
                               integrity_key=akey, esn=esn)  # type: ignore[arg-type]


@pytest.mark.parametrize("esn", [False, True])
@pytest.mark.parametrize("suite", SUITES, ids=SUITE_IDS)
def test_scapy_to_secmob(suite: tuple[object, ...], esn: bool) -> None:
    seq = (2 << 32) + 7 if esn else 7
    pkt = inner()
    iv = seq.to_bytes(8, "big") if suite[2].aead else os.urandom(16)  # type: ignore[attr-defined]
    enc = scapy_sa(suite, esn, seq).encrypt(pkt, seq_num=seq & 0xFFFFFFFF,
                                           iv=None if suite[0] == "NULL" else iv)
    wire = raw(enc[scapy_ipsec.ESP])
    inb = secmob_sa(suite, esn, Direction.INBOUND)
    if esn:
        inb.replay.accept(seq - 1)
    res = esp.unprotect(inb, wire, now=0)
    assert res.next_header == 17 and res.payload == raw(pkt[UDP]) and res.sequence == seq


@pytest.mark.parametrize("esn", [False, True])
@pytest.mark.parametrize("suite", SUITES, ids=SUITE_IDS)
def test_secmob_to_scapy(suite: tuple[object, ...], esn: bool) -> None:
    seq = (3 << 32) + 9 if esn else 9
    pkt = inner()
    out = secmob_sa(suite, esn, Direction.OUTBOUND)
    out.seq_out = seq - 1
    wire = esp.protect(out, 17, raw(pkt[UDP]), now=0, rng=os.urandom)
    outer = IPv6(raw(IPv6(src="2001:db8::1", dst="2001:db8::2", nh=50) / Raw(wire)))
    dec = scapy_sa(suite, esn, seq).decrypt(outer)
    assert raw(dec[UDP]) == raw(pkt[UDP])
