"""tshark (Wireshark 4.0) decrypts and authenticates ESP written by secmob's engine.

Every packet of every SA goes into one capture (distinct SPIs), the SAs are
exported with :mod:`secmob.ipsec.export`, and one tshark run reports, per
frame, the SPI, ``esp.icv_good``/``esp.icv_bad`` and the inner UDP payload.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from interop_links import Link, check_key_refusals, link
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6

from secmob.errors import UsageError
from secmob.ipsec.export import (
    WIRESHARK_CIPHERS,
    WiresharkSA,
    esp_sa_file,
    tshark_options,
    wireshark_sa,
)
from secmob.ipsec.sad import Mode, Protocol
from secmob.wire.pcap import PcapRecord, pcap_bytes

TSHARK = shutil.which("tshark")
A6, B6, GA6, GB6 = "2001:db8::1", "2001:db8::2", "2001:db8:ffff::a", "2001:db8:ffff::b"
A4, B4, GA4, GB4 = "192.0.2.1", "192.0.2.2", "198.51.100.1", "198.51.100.2"

# (cipher, integrity, inner family, tunnel endpoints or None for transport mode)
CASES: list[tuple[str, str | None, int, tuple[str, str] | None]] = [
    ("aes128", "sha1", 6, None),
    ("aes128", "sha1", 4, None),
    ("aes256", "sha256", 6, (GA6, GB6)),
    ("aes192", "sha256", 4, (GA4, GB4)),
    ("3des", "md5", 6, None),
    ("3des", "md5", 4, (GA6, GB6)),
    ("des", "sha1", 4, None),
    ("aes128ctr", "sha1", 6, None),
    ("aes256ctr", "sha512", 6, (GA4, GB4)),
    ("aes128gcm16", None, 6, None),
    ("aes256gcm16", None, 4, (GA6, GB6)),
    ("aes128gcm8", None, 6, (GA6, GB6)),
    ("aes192gcm12", None, 4, None),
    ("null", "sha1", 6, None),
    ("null", "sha384", 4, (GA4, GB4)),
    ("aes128", "sha512", 6, None),
]


def udp(family: int, payload: bytes) -> bytes:
    ip = IPv6(src=A6, dst=B6) if family == 6 else IP(src=A4, dst=B4, id=1)
    # Ports without a Wireshark dissector: the payload shows as udp.payload.
    return bytes(ip / UDP(sport=40000, dport=40001) / payload)


def make_link(n: int, cipher: str, integrity: str | None, family: int,
              tunnel: tuple[str, str] | None, esn: bool = False) -> Link:
    a, b = (A6, B6) if family == 6 else (A4, B4)
    mode = Mode.TRANSPORT if tunnel is None else Mode.TUNNEL
    return link(Protocol.ESP, cipher, integrity, a=a, b=b, mode=mode, tunnel=tunnel,
                spi=0x5000 + n, esn=esn)


def run_tshark(tmp_path: Path, packets: list[bytes], sas: list[WiresharkSA],
               profile: bool = False) -> list[list[str]]:
    """tshark's view of ``packets``: the SAs as ``-o uat:esp_sa:`` options, or
    (``profile``) as the ``esp_sa`` file of a personal configuration directory."""
    capture = tmp_path / "esp.pcap"
    capture.write_bytes(pcap_bytes(PcapRecord(i, 0, p) for i, p in enumerate(packets)))
    assert TSHARK is not None
    env = dict(os.environ)
    options = tshark_options(sas)
    if profile:
        config = tmp_path / "wireshark"
        config.mkdir()
        (config / "esp_sa").write_text(esp_sa_file(sas))
        env["WIRESHARK_CONFIG_DIR"] = str(config)
        options = tshark_options([])
    out = subprocess.run(
        [TSHARK, "-n", *options, "-r", str(capture), "-T", "fields",
         "-e", "esp.spi", "-e", "esp.icv_good", "-e", "esp.icv_bad", "-e", "udp.payload"],
        capture_output=True, text=True, timeout=60, check=True, env=env)
    return [line.split("\t") for line in out.stdout.splitlines()]


needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")


@needs_tshark
def test_tshark_decrypts_and_verifies_every_algorithm(tmp_path: Path) -> None:
    packets: list[bytes] = []
    expected: list[tuple[int, str, str, bytes]] = []
    sas = []
    for n, (cipher, integrity, family, tunnel) in enumerate(CASES):
        lk = make_link(n, cipher, integrity, family, tunnel)
        sas.append(wireshark_sa(lk.out_sa, cipher_key=lk.cipher_key,
                                integrity_key=lk.integrity_key))
        for k in range(2):
            payload = f"case {n} packet {k}: {cipher}/{integrity}".encode()
            wire = lk.send(udp(family, payload))
            assert lk.receiver.inbound(wire, now=0).packet == udp(family, payload)
            packets.append(wire)
            expected.append((lk.out_sa.spi, "1", "0", payload))
        tampered = bytearray(wire)
        tampered[-1] ^= 0x80  # the last ICV octet
        packets.append(bytes(tampered))
        expected.append((lk.out_sa.spi, "0", "1", payload))
    rows = run_tshark(tmp_path, packets, sas)
    assert len(rows) == len(expected)
    cases = [c for c in CASES for _ in range(3)]
    for row, (spi, good, bad, payload), case in zip(rows, expected, cases, strict=True):
        assert row[:3] == [f"0x{spi:08x}", good, bad], (case, row)
        if good == "1" or "gcm" not in case[0]:
            # Wireshark decrypts a tampered CBC/CTR/NULL packet anyway (the
            # ICV octet is outside the ciphertext); only the ICV is bad.
            assert bytes.fromhex(row[3]) == payload, (case, row)


@needs_tshark
def test_wireshark_has_no_esn(tmp_path: Path) -> None:
    """Wireshark 4.0 leaves out the implicit high sequence half (RFC 4303
    §2.2.1): it still decrypts, but reports every ICV of an ESN SA as bad."""
    lk = make_link(99, "aes128", "sha256", 6, None, esn=True)
    with pytest.raises(UsageError, match="Extended Sequence Numbers"):
        wireshark_sa(lk.out_sa, cipher_key=lk.cipher_key, integrity_key=lk.integrity_key)
    sa = wireshark_sa(lk.out_sa, cipher_key=lk.cipher_key, integrity_key=lk.integrity_key,
                      allow_esn=True)
    wire = lk.send(udp(6, b"esn payload"))
    assert lk.receiver.inbound(wire, now=0).packet == udp(6, b"esn payload")
    [row] = run_tshark(tmp_path, [wire], [sa])
    assert row == [f"0x{lk.out_sa.spi:08x}", "0", "1", b"esn payload".hex()]


@needs_tshark
def test_esp_sa_file_in_a_profile_directory(tmp_path: Path) -> None:
    lk = make_link(7, "aes256", "sha384", 4, (GA6, GB6))
    sa = wireshark_sa(lk.out_sa, cipher_key=lk.cipher_key, integrity_key=lk.integrity_key)
    wire = lk.send(udp(4, b"from the esp_sa file"))
    [row] = run_tshark(tmp_path, [wire], [sa], profile=True)
    assert row == [f"0x{lk.out_sa.spi:08x}", "1", "0", b"from the esp_sa file".hex()]


def test_record_fields_and_order() -> None:
    lk = make_link(1, "aes128gcm16", None, 6, (GA6, GB6))
    sa = wireshark_sa(lk.out_sa, cipher_key=lk.cipher_key)
    assert sa.fields() == ("IPv6", GA6, GB6, "0x00005001", "AES-GCM with 16 octet ICV [RFC4106]",
                           "0x" + lk.cipher_key.hex(), "NULL", "")
    assert len(lk.cipher_key) == 20  # the salt follows the key (RFC 4106 §8.1)
    assert sa.record() == ",".join(f'"{f}"' for f in sa.fields())
    assert lk.cipher_key.hex() not in repr(sa)
    assert esp_sa_file([sa, sa]) == f"{sa.record()}\n{sa.record()}\n"
    assert tshark_options([sa], check_icv=False) == [
        "-o", "esp.enable_encryption_decode:TRUE", "-o", f"uat:esp_sa:{sa.record()}"]


def test_addresses_wildcards_and_overrides() -> None:
    lk = link(Protocol.ESP, "aes128", "sha1", a=A4, b=B4)
    sa = wireshark_sa(lk.out_sa, cipher_key=lk.cipher_key, integrity_key=lk.integrity_key,
                      source="*")
    assert sa.fields()[:3] == ("IPv4", "*", B4)
    bare = link(Protocol.ESP, "aes128", "sha1", a=A6, b=B6).out_sa
    bare.source = bare.destination = None
    with pytest.raises(UsageError, match="both unknown"):
        wireshark_sa(bare, cipher_key=lk.cipher_key, integrity_key=lk.integrity_key)
    got = wireshark_sa(bare, cipher_key=lk.cipher_key, integrity_key=lk.integrity_key,
                       destination="2001:DB8:0::2")
    assert got.fields()[:3] == ("IPv6", "*", B6)
    with pytest.raises(UsageError, match="mix IPv4 and IPv6"):
        wireshark_sa(bare, cipher_key=lk.cipher_key, integrity_key=lk.integrity_key,
                     source=A4, destination=B6)


@pytest.mark.parametrize(("cipher", "integrity", "name"), [
    ("chacha20poly1305", None, "ENCR_CHACHA20_POLY1305"),
    ("aes128ccm16", None, "ENCR_AES_CCM_16"),
    ("aes128gmac", None, "ENCR_NULL_AUTH_AES_GMAC"),
    ("aes128", "aesxcbc", "AES-XCBC-MAC-96"),
    ("aes128", "aescmac", "AES-CMAC-96"),
])
def test_unsupported_algorithms_are_named(cipher: str, integrity: str | None, name: str) -> None:
    lk = link(Protocol.ESP, cipher, integrity, a=A6, b=B6)
    with pytest.raises(UsageError, match=name):
        wireshark_sa(lk.out_sa, cipher_key=lk.cipher_key, integrity_key=lk.integrity_key)


def test_ah_and_bad_keys_are_refused() -> None:
    ah = link(Protocol.AH, None, "sha1", a=A6, b=B6)
    with pytest.raises(UsageError, match="ESP only"):
        wireshark_sa(ah.out_sa, cipher_key=b"", integrity_key=ah.integrity_key)
    check_key_refusals(wireshark_sa, A6, B6)


def test_every_wireshark_cipher_is_in_the_registry() -> None:
    from secmob.algorithms import ENCRYPTION
    for ikev2_id in WIRESHARK_CIPHERS:
        assert ENCRYPTION.get(ikev2_id).ikev2_id == ikev2_id
