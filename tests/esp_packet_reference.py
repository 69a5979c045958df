"""Independent whole-packet ESP/AH computations for vectors/esp-packet/derived.json.

Nothing here uses secmob: IP headers, ESP (RFC 4303 §2) and AH (RFC 4302 §2)
are laid out by hand with :mod:`struct`, the ICVs come from :mod:`hmac`,
encryption from pyca/cryptography, and the AH ICV input is normalised here
from RFC 4302 §3.3.3.1 (IPv6: Traffic Class, Flow Label, Hop Limit; IPv4:
TOS, Flags, Fragment Offset, TTL, Header Checksum). The engine's own
choices for what RFC 4301 leaves open are written out where they are used:
the outer header of a tunnel (IPv6: Traffic Class and Flow Label 0, Hop
Limit 64; IPv4: Identification 0, DF set, TTL 64) and the CBC IV, which
comes from the RNG the case gives.

Run as a script from the project root to (re)write the vector file.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import struct
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

OUT = Path(__file__).resolve().parent.parent / "vectors" / "esp-packet" / "derived.json"

#: integrity name -> (hashlib name, ICV octets, key octets)
MACS = {"HMAC-MD5-96": ("md5", 12, 16), "HMAC-SHA1-96": ("sha1", 12, 20),
        "HMAC-SHA-256-128": ("sha256", 16, 32), "HMAC-SHA-384-192": ("sha384", 24, 48),
        "HMAC-SHA-512-256": ("sha512", 32, 64)}

A, B, C = "2001:db8::1", "2001:db8::2", "2001:db8::9"
GW_A, GW_B = "2001:db8:ffff::a", "2001:db8:ffff::b"
A4, B4 = "192.0.2.1", "192.0.2.2"


# -- IP and UDP by hand ---------------------------------------------------------

def checksum(data: bytes) -> int:
    """RFC 1071 one's complement sum."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def packed(addr: str) -> bytes:
    return ipaddress.ip_address(addr).packed


def ipv6(src: str, dst: str, nh: int, payload: bytes, *, tc: int = 0, flow: int = 0,
         hlim: int = 64) -> bytes:
    first = (6 << 28) | (tc << 20) | flow
    return struct.pack("!IHBB", first, len(payload), nh, hlim) + packed(src) + packed(dst) + payload


def ipv4(src: str, dst: str, proto: int, payload: bytes, *, tos: int = 0, ident: int = 0,
         flags_frag: int = 0x4000, ttl: int = 64) -> bytes:
    head = struct.pack("!BBHHHBBH", 0x45, tos, 20 + len(payload), ident, flags_frag, ttl, proto,
                       0) + packed(src) + packed(dst)
    return head[:10] + struct.pack("!H", checksum(head)) + head[12:] + payload


def udp(src: str, dst: str, sport: int, dport: int, data: bytes) -> bytes:
    length = 8 + len(data)
    if ":" in src:
        pseudo = packed(src) + packed(dst) + struct.pack("!IxxxB", length, 17)
    else:
        pseudo = packed(src) + packed(dst) + struct.pack("!xBH", 17, length)
    seg = struct.pack("!HHHH", sport, dport, length, 0) + data
    csum = checksum(pseudo + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", csum) + seg[8:]


def udp6(src: str, dst: str, data: bytes, **kw: int) -> bytes:
    return ipv6(src, dst, 17, udp(src, dst, 4000, 53, data), **kw)


def udp4(src: str, dst: str, data: bytes, **kw: int) -> bytes:
    return ipv4(src, dst, 17, udp(src, dst, 4000, 53, data), **kw)


# -- ESP and AH by hand ------------------------------------------------------------

def mac(name: str, key: bytes, data: bytes) -> bytes:
    digest, size, _ = MACS[name]
    return hmac.new(key, data, getattr(hashlib, digest)).digest()[:size]


def esp_cbc(spi: int, seq: int, plaintext: bytes, key: bytes, iv: bytes, integrity: str,
            ikey: bytes, *, esn: bool = False) -> bytes:
    """RFC 4303 §2 with AES-CBC (RFC 3602) and an HMAC ICV (§3.3.2.1, §2.2.1 for ESN)."""
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    head = struct.pack("!II", spi, seq & 0xFFFFFFFF) + iv + enc.update(plaintext) + enc.finalize()
    return head + mac(integrity, ikey, head + (struct.pack("!I", seq >> 32) if esn else b""))


def trailer(payload: bytes, nh: int) -> bytes:
    """Payload, padding 1, 2, 3, ..., Pad Length, Next Header, to 16 octets (AES block)."""
    pad = -(len(payload) + 2) % 16
    return payload + bytes(range(1, pad + 1)) + bytes((pad, nh))


def ah_transport_v6(packet: bytes, spi: int, seq: int, integrity: str, key: bytes, *,
                    esn: bool = False) -> bytes:
    """AH after the IPv6 header (no extension headers), RFC 4302 §3.1.1, §3.3.3."""
    size = MACS[integrity][1]
    length = -(-(12 + size) // 8) * 8
    nh, rest = packet[6], packet[40:]
    plen = len(rest) + length
    def header(icv: bytes) -> bytes:
        return struct.pack("!BBHII", nh, length // 4 - 2, 0, spi, seq & 0xFFFFFFFF) + icv + \
            bytes(length - 12 - size)
    wire_ip = packet[:4] + struct.pack("!HBB", plen, 51, packet[7]) + packet[8:40]
    normal_ip = struct.pack("!IHBB", 6 << 28, plen, 51, 0) + packet[8:40]
    icv = mac(integrity, key, normal_ip + header(bytes(size)) + rest +
              (struct.pack("!I", seq >> 32) if esn else b""))
    return wire_ip + header(icv) + rest


def ah_transport_v4(packet: bytes, spi: int, seq: int, integrity: str, key: bytes) -> bytes:
    """AH after an option-free IPv4 header, RFC 4302 §3.1.1, §3.3.3.1.1."""
    size = MACS[integrity][1]
    length = -(-(12 + size) // 4) * 4
    proto, rest = packet[9], packet[20:]
    total = 20 + length + len(rest)
    def header(icv: bytes) -> bytes:
        return struct.pack("!BBHII", proto, length // 4 - 2, 0, spi, seq) + icv + \
            bytes(length - 12 - size)
    normal = struct.pack("!BBHHHBBH", 0x45, 0, total, packet[4] << 8 | packet[5], 0, 0, 51,
                         0) + packet[12:20]
    icv = mac(integrity, key, normal + header(bytes(size)) + rest)
    wire = bytearray(packet[:20])
    wire[2:4] = struct.pack("!H", total)
    wire[9], wire[10:12] = 51, b"\x00\x00"
    wire[10:12] = struct.pack("!H", checksum(bytes(wire)))
    return bytes(wire) + header(icv) + rest


def esp_transport_v6(packet: bytes, esp: bytes) -> bytes:
    return packet[:4] + struct.pack("!HBB", len(esp), 50, packet[7]) + packet[8:40] + esp


def esp_transport_v4(packet: bytes, esp: bytes) -> bytes:
    wire = bytearray(packet[:20])
    wire[2:4] = struct.pack("!H", 20 + len(esp))
    wire[9], wire[10:12] = 50, b"\x00\x00"
    wire[10:12] = struct.pack("!H", checksum(bytes(wire)))
    return bytes(wire) + esp


# -- the vector file -----------------------------------------------------------------

AES128, AES192, AES256 = bytes(range(16)), bytes(range(24)), bytes(range(32))
IKEY = {name: bytes(range(0x40, 0x40 + size)) for name, (_, _, size) in MACS.items()}
IV1, IV2 = bytes(range(0xA0, 0xB0)), bytes(range(0xB0, 0xC0))
HOW = ("derived: laid out by hand from RFC 4303 §2 / RFC 4302 §2 and §3.3.3.1, AES-CBC from "
       "pyca/cryptography, ICV from Python hmac (tests/esp_packet_reference.py)")


def _esp_sa(spi: int, key: bytes, integrity: str, **extra: Any) -> dict[str, Any]:
    return {"spi": spi, "cipher": f"aes{8 * len(key)}", "cipher_key": key.hex(),
            "integrity": integrity, "integrity_key": IKEY[integrity].hex(), **extra}


def _ah_sa(spi: int, integrity: str, **extra: Any) -> dict[str, Any]:
    return {"spi": spi, "protocol": "ah", "integrity": integrity,
            "integrity_key": IKEY[integrity].hex(), **extra}


def _pair(name: str, how: str, sas: list[dict[str, Any]], plain: bytes, wire: bytes,
          rng: bytes = b"", inbound_sas: list[dict[str, Any]] | None = None,
          ) -> list[dict[str, Any]]:
    """An outbound case (plain -> wire) and the inbound case (wire -> plain)."""
    spis = " ".join(f"0x{sa['spi']:08x}" for sa in reversed(sas))
    out: dict[str, Any] = {"id": f"{name}-outbound", "source": how, "direction": "outbound",
                           "sas": sas, "packet": plain.hex()}
    if rng:
        out["rng"] = rng.hex()
    out["expected"] = {"verdict": "protected", "packet": wire.hex()}
    clean = [{k: v for k, v in sa.items() if k != "sequence"} for sa in sas]
    return [out, {"id": f"{name}-inbound", "source": how, "direction": "inbound",
                  "sas": inbound_sas or clean, "packet": wire.hex(),
                  "expected": {"packet": plain.hex(), "spis": spis}}]


def _flip_last(data: bytes) -> str:
    return (data[:-1] + bytes((data[-1] ^ 1,))).hex()


def build() -> dict[str, Any]:
    cases: list[dict[str, Any]] = []
    data = b"secmob esp-packet vector"

    # ESP transport, IPv6 and IPv4, HMAC-SHA-2 (RFC 4868).
    p1 = udp6(A, B, data)
    e1 = esp_cbc(0x1001, 1, trailer(p1[40:], 17), AES128, IV1, "HMAC-SHA-256-128",
                 IKEY["HMAC-SHA-256-128"])
    w1 = esp_transport_v6(p1, e1)
    sa1 = _esp_sa(0x1001, AES128, "HMAC-SHA-256-128")
    cases += _pair("esp-v6-aes128-sha256", HOW + "; ESP transport mode over IPv6",
                   [sa1], p1, w1, IV1)
    p2 = udp6(A, B, data * 3, tc=0x28, flow=0xBEEF5)
    e2 = esp_cbc(0x1002, 42, trailer(p2[40:], 17), AES256, IV2, "HMAC-SHA-384-192",
                 IKEY["HMAC-SHA-384-192"])
    cases += _pair("esp-v6-aes256-sha384", HOW + "; sequence number 42, Traffic Class and "
                   "Flow Label kept", [_esp_sa(0x1002, AES256, "HMAC-SHA-384-192",
                                               sequence=42)],
                   p2, esp_transport_v6(p2, e2), IV2)
    p3 = udp4(A4, B4, data, ident=7)
    e3 = esp_cbc(0x1003, 1, trailer(p3[20:], 17), AES192, IV1, "HMAC-SHA-512-256",
                 IKEY["HMAC-SHA-512-256"])
    cases += _pair("esp-v4-aes192-sha512", HOW + "; ESP transport mode over IPv4 (Total Length "
                   "and Header Checksum rewritten)", [_esp_sa(0x1003, AES192,
                                                              "HMAC-SHA-512-256")],
                   p3, esp_transport_v4(p3, e3), IV1)

    # Extended sequence numbers: the high half is in the ICV, not on the wire (RFC 4303 §2.2.1).
    esn_seq = (1 << 32) | 5
    e4 = esp_cbc(0x1004, esn_seq, trailer(p1[40:], 17), AES128, IV1, "HMAC-SHA-256-128",
                 IKEY["HMAC-SHA-256-128"], esn=True)
    w4 = esp_transport_v6(p1, e4)
    sa4 = _esp_sa(0x1004, AES128, "HMAC-SHA-256-128", esn=True)
    cases += _pair("esp-v6-esn", HOW + "; 64-bit ESN 0x100000005 (ICV over ... || 00000001); "
                   "the receiver's window holds 0x100000004", [{**sa4, "sequence": esn_seq}],
                   p1, w4, IV1, [{**sa4, "accepted": [esn_seq - 1]}])

    # Tunnel mode: outer header as the engine writes it.
    p5 = udp6(A, B, data)
    e5 = esp_cbc(0x1005, 1, trailer(p5, 41), AES128, IV1, "HMAC-SHA1-96", IKEY["HMAC-SHA1-96"])
    tun6 = {"mode": "tunnel", "tunnel_source": GW_A, "tunnel_destination": GW_B}
    cases += _pair("esp-tunnel-6in6", HOW + "; tunnel mode, outer IPv6 header Traffic Class 0, "
                   "Flow Label 0, Hop Limit 64", [_esp_sa(0x1005, AES128, "HMAC-SHA1-96",
                                                          **tun6)],
                   p5, ipv6(GW_A, GW_B, 50, e5), IV1)
    p6 = udp4(A4, B4, data, ident=9)
    e6 = esp_cbc(0x1006, 1, trailer(p6, 4), AES128, IV1, "HMAC-SHA-256-128",
                 IKEY["HMAC-SHA-256-128"])
    cases += _pair("esp-tunnel-4in6", HOW + "; IPv4 inside an IPv6 tunnel (Next Header 4)",
                   [_esp_sa(0x1006, AES128, "HMAC-SHA-256-128", **tun6)], p6,
                   ipv6(GW_A, GW_B, 50, e6), IV1)
    e7 = esp_cbc(0x1007, 1, trailer(p5, 41), AES128, IV1, "HMAC-SHA-256-128",
                 IKEY["HMAC-SHA-256-128"])
    tun4 = {"mode": "tunnel", "tunnel_source": "198.51.100.1",
            "tunnel_destination": "198.51.100.2"}
    cases += _pair("esp-tunnel-6in4", HOW + "; IPv6 inside an IPv4 tunnel: outer Identification "
                   "0, DF, TTL 64", [_esp_sa(0x1007, AES128, "HMAC-SHA-256-128", **tun4)], p5,
                   ipv4("198.51.100.1", "198.51.100.2", 50, e7), IV1)

    # AH: mutable fields normalised for the ICV, kept on the wire.
    p8 = udp6(A, B, data, tc=0xB8, flow=0x12345, hlim=255)
    w8 = ah_transport_v6(p8, 0xBB9, 1, "HMAC-MD5-96", IKEY["HMAC-MD5-96"])
    cases += _pair("ah-v6-md5", HOW + "; AH transport mode over IPv6, Traffic Class, Flow "
                   "Label and Hop Limit zeroed for the ICV", [_ah_sa(0xBB9, "HMAC-MD5-96")],
                   p8, w8)
    hop = bytearray(w8)
    hop[7] = 200  # a router decremented the Hop Limit: AH still verifies
    delivered = bytearray(p8)
    delivered[7] = 200
    cases.append({"id": "ah-v6-md5-hop-limit-changed", "source": HOW + "; the packet of "
                  "ah-v6-md5 after routers lowered the Hop Limit to 200 (a mutable field)",
                  "direction": "inbound", "sas": [_ah_sa(0xBB9, "HMAC-MD5-96")],
                  "packet": hop.hex(), "expected": {"packet": delivered.hex(),
                                                    "spis": "0x00000bb9"}})
    ah_esn = (7 << 32) | 1
    w9 = ah_transport_v6(p1, 0x2009, ah_esn, "HMAC-SHA1-96", IKEY["HMAC-SHA1-96"], esn=True)
    sa9 = _ah_sa(0x2009, "HMAC-SHA1-96", esn=True)
    cases += _pair("ah-v6-sha1-esn", HOW + "; AH with 64-bit ESN 0x700000001 (ICV over the "
                   "packet || 00000007); the receiver's window holds 0x700000000",
                   [{**sa9, "sequence": ah_esn}], p1, w9, b"",
                   [{**sa9, "accepted": [ah_esn - 1]}])
    p10 = udp4(A4, B4, data, tos=0x10, ident=0x1234, ttl=33)
    w10 = ah_transport_v4(p10, 0x200A, 1, "HMAC-SHA-256-128", IKEY["HMAC-SHA-256-128"])
    cases += _pair("ah-v4-sha256", HOW + "; AH transport mode over IPv4: TOS, Flags, Fragment "
                   "Offset, TTL and Header Checksum zeroed for the ICV",
                   [_ah_sa(0x200A, "HMAC-SHA-256-128")], p10, w10)

    # ESP then AH (RFC 4301 §4.5 bundle), transport mode over IPv6.
    e11 = esp_cbc(0x100B, 1, trailer(p1[40:], 17), AES128, IV1, "HMAC-SHA1-96",
                  IKEY["HMAC-SHA1-96"])
    w11 = ah_transport_v6(esp_transport_v6(p1, e11), 0x200B, 1, "HMAC-SHA-256-128",
                          IKEY["HMAC-SHA-256-128"])
    cases += _pair("esp-ah-bundle-v6", HOW + "; ESP applied first, AH outside it",
                   [_esp_sa(0x100B, AES128, "HMAC-SHA1-96"), _ah_sa(0x200B, "HMAC-SHA-256-128")],
                   p1, w11, IV1)

    # Negative cases, each for one inbound check.
    cases.append({"id": "esp-v6-icv-bit", "source": HOW + "; esp-v6-aes128-sha256 with the "
                  "last ICV bit flipped", "direction": "inbound", "sas": [sa1],
                  "packet": _flip_last(w1), "error": "IntegrityError"})
    bad = bytearray(trailer(p1[40:], 17))
    bad[len(p1) - 40 + 7] = 9  # padding octet 8 (of 14) is 9
    ebad = esp_cbc(0x1001, 1, bytes(bad), AES128, IV1, "HMAC-SHA-256-128", IKEY["HMAC-SHA-256-128"])
    cases.append({"id": "esp-v6-bad-padding", "source": HOW + "; padding octet 8 is 9 (RFC 4303 "
                  "§2.4: 1, 2, 3, ...) under a valid ICV", "direction": "inbound", "sas": [sa1],
                  "packet": esp_transport_v6(p1, ebad).hex(), "error": "PaddingError"})
    cases.append({"id": "esp-v6-replayed", "source": HOW + "; esp-v6-aes128-sha256 when "
                  "sequence number 1 was already accepted", "direction": "inbound",
                  "sas": [{**sa1, "accepted": [1]}], "packet": w1.hex(), "error": "ReplayError"})
    cases.append({"id": "esp-v6-esn-replayed", "source": HOW + "; esp-v6-esn when 0x100000005 "
                  "was already accepted", "direction": "inbound",
                  "sas": [{**sa4, "accepted": [esn_seq]}], "packet": w4.hex(),
                  "error": "ReplayError"})
    cases.append({"id": "esp-v6-unknown-spi", "source": HOW + "; esp-v6-aes128-sha256 where "
                  "the SAD holds SPI 0x1000 only", "direction": "inbound",
                  "sas": [{**sa1, "spi": 0x1000}], "packet": w1.hex(), "error": "UnknownSPI"})
    cases.append({"id": "esp-v6-policy", "source": HOW + "; esp-v6-aes128-sha256 (UDP) on an "
                  "SA whose policy admits TCP only", "direction": "inbound", "sas": [sa1],
                  "policy": {"local": B, "remote": A, "protocol": 6}, "packet": w1.hex(),
                  "error": "PolicyViolation"})
    cases.append({"id": "esp-v6-policy-other-host", "source": HOW + "; esp-v6-aes128-sha256 "
                  f"from {A} on an SA whose policy admits {C} only", "direction": "inbound",
                  "sas": [sa1], "policy": {"local": B, "remote": C}, "packet": w1.hex(),
                  "error": "PolicyViolation"})
    tampered = bytearray(w8)
    tampered[-1] ^= 0x80
    cases.append({"id": "ah-v6-md5-payload-bit", "source": HOW + "; ah-v6-md5 with a payload "
                  "bit flipped", "direction": "inbound", "sas": [_ah_sa(0xBB9, "HMAC-MD5-96")],
                  "packet": tampered.hex(), "error": "IntegrityError"})
    cases.append({"id": "ah-v4-sha256-replayed", "source": HOW + "; ah-v4-sha256 when sequence "
                  "number 1 was already accepted", "direction": "inbound",
                  "sas": [_ah_sa(0x200A, "HMAC-SHA-256-128", accepted=[1])],
                  "packet": w10.hex(), "error": "ReplayError"})
    return {"family": "esp-packet",
            "title": "Whole-packet ESP and AH without a published vector: HMAC-SHA-2 ESP, ESN, "
                     "tunnel mode (both families), AH over IPv6 and IPv4, an ESP+AH bundle, "
                     "and one negative case per inbound check",
            "cases": cases}


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(build(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")
