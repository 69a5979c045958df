"""Whole-packet interoperability of secmob's Engine with scapy.layers.ipsec, both ways.

scapy -> secmob: scapy's ``SecurityAssociation.encrypt`` protects a packet,
``Engine.inbound`` must accept it and return the original packet byte for
byte. secmob -> scapy: ``Engine.outbound`` protects, scapy's ``decrypt``
(which verifies the ICV) must return the original packet. ESP in transport
and tunnel mode over IPv6 and IPv4 (and each family inside the other), with
ESN where scapy has it; AH likewise. Where scapy disagrees (AES-GCM with an
8 or 12 octet ICV, the Home Address option under AH) the difference itself
is asserted.
"""

from __future__ import annotations

import pytest
from interop_links import Link, link, pattern

from secmob.errors import IntegrityError
from secmob.ipsec.sad import Mode, Protocol

scapy_ipsec = pytest.importorskip("scapy.layers.ipsec")
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import HAO, IPv6, IPv6ExtHdrDestOpt  # noqa: E402
from scapy.packet import Packet  # noqa: E402

A6, B6, GA6, GB6 = "2001:db8::1", "2001:db8::2", "2001:db8:ffff::a", "2001:db8:ffff::b"
A4, B4, GA4, GB4 = "192.0.2.1", "192.0.2.2", "198.51.100.1", "198.51.100.2"

# scapy crypt name, secmob cipher, scapy auth name, secmob integrity, scapy crypt_icv_size
ESP_SUITES: list[tuple[str | None, str | None, str | None, str | None, int | None]] = [
    ("NULL", "null", "HMAC-SHA1-96", "sha1", None),
    ("AES-CBC", "aes128", "SHA2-256-128", "sha256", None),
    ("AES-CBC", "aes256", "SHA2-384-192", "sha384", None),
    ("AES-CBC", "aes192", "AES-CMAC-96", "aescmac", None),
    ("AES-CTR", "aes128ctr", "SHA2-512-256", "sha512", None),
    ("AES-CTR", "aes256ctr", "HMAC-MD5-96", "md5", None),
    ("3DES", "3des", "HMAC-MD5-96", "md5", None),
    ("DES", "des", "HMAC-SHA1-96", "sha1", None),
    ("AES-GCM", "aes128gcm16", None, None, None),
    ("AES-GCM", "aes256gcm16", None, None, None),
    ("AES-CCM", "aes128ccm16", None, None, 16),
    ("AES-CCM", "aes256ccm8", None, None, 8),
    ("AES-CCM", "aes192ccm12", None, None, 12),
    ("AES-NULL-GMAC", "aes128gmac", None, None, None),
    ("CHACHA20-POLY1305", "chacha20poly1305", None, None, None),
]
AH_SUITES: list[tuple[str | None, str | None, str | None, str | None, int | None]] = [
    (None, None, auth, integrity, None)
    for auth, integrity in [("HMAC-SHA1-96", "sha1"), ("SHA2-256-128", "sha256"),
                            ("SHA2-384-192", "sha384"), ("SHA2-512-256", "sha512"),
                            ("HMAC-MD5-96", "md5"), ("AES-CMAC-96", "aescmac")]]

# (inner family, outer tunnel endpoints or None for transport mode)
LAYOUTS: list[tuple[int, tuple[str, str] | None]] = [
    (6, None), (4, None), (6, (GA6, GB6)), (4, (GA4, GB4)), (6, (GA4, GB4)), (4, (GA6, GB6)),
]


def layout_id(layout: tuple[int, tuple[str, str] | None]) -> str:
    family, tunnel = layout
    if tunnel is None:
        return f"v{family}-transport"
    return f"v{family}-in-v{6 if ':' in tunnel[0] else 4}"


def inner(family: int, payload: bytes = b"interop payload") -> Packet:
    if family == 6:
        return IPv6(src=A6, dst=B6, hlim=17) / UDP(sport=5000, dport=6000) / payload
    return IP(src=A4, dst=B4, id=0x1234, flags="DF", ttl=17) / UDP(sport=5000, dport=6000) / payload


def outer(data: bytes) -> Packet:
    return IPv6(data) if data[0] >> 4 == 6 else IP(data)


def make(protocol: Protocol, cipher: str | None, integrity: str | None,
         layout: tuple[int, tuple[str, str] | None], esn: bool = False) -> Link:
    family, tunnel = layout
    a, b = (A6, B6) if family == 6 else (A4, B4)
    return link(protocol, cipher, integrity, a=a, b=b, esn=esn, tunnel=tunnel,
                mode=Mode.TRANSPORT if tunnel is None else Mode.TUNNEL, spi=0x3001)


def scapy_sa(lk: Link, crypt: str | None, auth: str | None, icv: int | None,
             tunnel: tuple[str, str] | None, seq: int, esn: bool) -> object:
    kw: dict[str, object] = {}
    if tunnel is not None:
        kw["tunnel_header"] = (IPv6(src=tunnel[0], dst=tunnel[1]) if ":" in tunnel[0]
                               else IP(src=tunnel[0], dst=tunnel[1]))
    if crypt is not None:
        kw.update(crypt_algo=crypt, crypt_key=lk.cipher_key or None, crypt_icv_size=icv)
    if auth is not None:
        kw.update(auth_algo=auth, auth_key=lk.integrity_key)
    proto = scapy_ipsec.ESP if crypt is not None else scapy_ipsec.AH
    return scapy_ipsec.SecurityAssociation(proto, spi=lk.out_sa.spi, esn_en=esn,
                                           esn=seq >> 32, **kw)


def sequence(esn: bool) -> int:
    return (5 << 32) + 41 if esn else 41


def prime(lk: Link, seq: int) -> None:
    """Put the sender's counter and the receiver's window just before ``seq``
    (with ESN the receiver infers the high half from its window, RFC 4303 App. A)."""
    lk.out_sa.seq_out = seq - 1
    lk.in_sa.replay.accept(seq - 1)


def scapy_iv(crypt: str, seq: int) -> bytes:
    return pattern(scapy_ipsec.CRYPT_ALGOS[crypt].iv_size, seq & 0xFF)


Suite = tuple[str | None, str | None, str | None, str | None, int | None]


def prepared(suite: Suite, layout: tuple[int, tuple[str, str] | None], esn: bool,
             ) -> tuple[Link, int, Packet, object]:
    """The secmob link, the sequence number, the inner packet and scapy's SA."""
    crypt, cipher, auth, integrity, icv = suite
    lk = make(Protocol.ESP if crypt else Protocol.AH, cipher, integrity, layout, esn)
    seq = sequence(esn)
    prime(lk, seq)
    return lk, seq, inner(layout[0]), scapy_sa(lk, crypt, auth, icv, layout[1], seq, esn)


def scapy_rejects_tampered(ssa: object, wire: bytes) -> None:
    tampered = bytearray(wire)
    tampered[-1] ^= 1
    with pytest.raises(scapy_ipsec.IPSecIntegrityError):
        ssa.decrypt(outer(bytes(tampered)))  # type: ignore[attr-defined]


def cases(suites: list[Suite], esn_layout: tuple[int, tuple[str, str] | None]) -> list[object]:
    """Every suite in every layout, and once with ESN."""
    out = []
    for suite in suites:
        name = suite[1] or suite[3]
        for layout in LAYOUTS:
            out.append(pytest.param(suite, layout, False, id=f"{name}-{layout_id(layout)}"))
        out.append(pytest.param(suite, esn_layout, True, id=f"{name}-esn"))
    return out


@pytest.mark.parametrize(("suite", "layout", "esn"), cases(ESP_SUITES, LAYOUTS[0]))
def test_esp_scapy_to_secmob(suite: Suite, layout: tuple[int, tuple[str, str] | None],
                             esn: bool) -> None:
    lk, seq, pkt, ssa = prepared(suite, layout, esn)
    assert suite[0] is not None
    wire = bytes(ssa.encrypt(pkt, seq_num=seq & 0xFFFFFFFF,  # type: ignore[attr-defined]
                             iv=scapy_iv(suite[0], seq)))
    got = lk.receiver.inbound(wire, now=0)
    assert got.packet == bytes(pkt)
    assert got.sas == (lk.in_sa,) and lk.in_sa.replay.esn is esn


@pytest.mark.parametrize(("suite", "layout", "esn"), cases(ESP_SUITES, LAYOUTS[0]))
def test_esp_secmob_to_scapy(suite: Suite, layout: tuple[int, tuple[str, str] | None],
                             esn: bool) -> None:
    lk, _, pkt, ssa = prepared(suite, layout, esn)
    wire = lk.send(bytes(pkt))
    assert bytes(ssa.decrypt(outer(wire))) == bytes(pkt)  # type: ignore[attr-defined]
    scapy_rejects_tampered(ssa, wire)


@pytest.mark.parametrize(("suite", "layout", "esn"), cases(AH_SUITES, LAYOUTS[1]))
def test_ah_scapy_to_secmob(suite: Suite, layout: tuple[int, tuple[str, str] | None],
                            esn: bool) -> None:
    lk, seq, pkt, ssa = prepared(suite, layout, esn)
    signed = ssa.encrypt(pkt, seq_num=seq & 0xFFFFFFFF)  # type: ignore[attr-defined]
    got = lk.receiver.inbound(bytes(signed), now=0)
    assert got.packet == bytes(pkt)


@pytest.mark.parametrize(("suite", "layout", "esn"), cases(AH_SUITES, LAYOUTS[1]))
def test_ah_secmob_to_scapy(suite: Suite, layout: tuple[int, tuple[str, str] | None],
                            esn: bool) -> None:
    lk, _, pkt, ssa = prepared(suite, layout, esn)
    wire = lk.send(bytes(pkt))
    en_route = outer(wire)
    if en_route.version == 6:  # mutable fields change in flight (RFC 4302 §3.3.3.1.2.1)
        en_route.hlim, en_route.tc, en_route.fl = 3, 0x28, 0xABCDE
        if layout[1] is None:
            pkt.hlim, pkt.tc, pkt.fl = 3, 0x28, 0xABCDE
    assert bytes(ssa.decrypt(en_route)) == bytes(pkt)  # type: ignore[attr-defined]
    scapy_rejects_tampered(ssa, wire)


# -- where scapy disagrees ------------------------------------------------------

@pytest.mark.parametrize(("cipher", "icv"), [("aes128gcm8", 8), ("aes256gcm12", 12)])
def test_scapy_gcm_short_icv_defect(cipher: str, icv: int) -> None:
    """scapy 2.8 ignores ``crypt_icv_size`` for AES-GCM: it sends the full
    16-octet tag where RFC 4106 §6 asks for 8 or 12, so secmob rejects its
    packets, and scapy cannot open secmob's (correct) ones."""
    lk = make(Protocol.ESP, cipher, None, LAYOUTS[0])
    prime(lk, 41)
    pkt = inner(6)
    ssa = scapy_sa(lk, "AES-GCM", None, icv, None, 41, False)
    theirs = bytes(ssa.encrypt(pkt, seq_num=41, iv=scapy_iv("AES-GCM", 41)))  # type: ignore[attr-defined]
    ours = lk.send(bytes(pkt))
    assert len(theirs) - len(ours) == 16 - icv  # same IV size and padding, longer tag
    with pytest.raises(IntegrityError):
        lk.receiver.inbound(theirs, now=0)
    with pytest.raises(scapy_ipsec.IPSecIntegrityError):
        ssa.decrypt(outer(ours))  # type: ignore[attr-defined]


HOME, CARE_OF = "2001:db8:1::100", "2001:db8:99::5"


def hao_packet(src: str, home: str) -> Packet:
    return (IPv6(src=src, dst=B6) / IPv6ExtHdrDestOpt(options=[HAO(hoa=home)])
            / UDP(sport=5000, dport=6000) / b"from a mobile node")


def test_scapy_home_address_option_defect() -> None:
    """RFC 6275 §6.3: AH covers the packet as the receiver sees it after
    swapping the Home Address option and the source address. secmob does;
    scapy computes the ICV over the packet as sent, so the two disagree."""
    lk = link(Protocol.AH, None, "sha256", a=HOME, b=B6, spi=0x3002)
    pkt = bytes(hao_packet(CARE_OF, HOME))
    wire = lk.send(pkt)
    assert lk.receiver.inbound(wire, now=0).packet == pkt  # secmob verifies its own
    ssa = scapy_sa(lk, None, "SHA2-256-128", None, None, 1, False)
    with pytest.raises(scapy_ipsec.IPSecIntegrityError):
        ssa.decrypt(IPv6(wire))  # type: ignore[attr-defined]
    # scapy over the swapped packet (source = home address, option = care-of
    # address) computes exactly secmob's ICV: the difference is the swap alone.
    swapped = IPv6(wire)
    swapped.src, swapped[HAO].hoa = HOME, CARE_OF
    ours = bytes(IPv6(wire)[scapy_ipsec.AH].icv)[:16]  # without the IPv6 alignment padding
    scapy_over_wire = scapy_icv(ssa, IPv6(wire))
    assert scapy_over_wire != ours
    assert scapy_icv(ssa, swapped) == ours
    # And scapy's own AH for the packet is refused by secmob.
    theirs = ssa.encrypt(IPv6(pkt), seq_num=2)  # type: ignore[attr-defined]
    with pytest.raises(IntegrityError):
        lk.receiver.inbound(bytes(theirs), now=0)


def scapy_icv(ssa: object, pkt: Packet) -> bytes:
    """The ICV scapy computes for an AH packet (its own signing routine)."""
    clone = pkt.copy()
    algo = ssa.auth_algo  # type: ignore[attr-defined]
    clone[scapy_ipsec.AH].icv = b"\x00" * algo.icv_size
    clone[scapy_ipsec.AH].padding = b"\x00" * (len(pkt[scapy_ipsec.AH].icv) - algo.icv_size)
    signed = algo.sign(clone, ssa.auth_key)  # type: ignore[attr-defined]
    return bytes(signed[scapy_ipsec.AH].icv)
