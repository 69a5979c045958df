"""tshark dissects a whole secmob IKEv1 exchange (9 messages) and, given the
decryption table secmob exports, decrypts Main Mode messages 5-6 and Quick Mode."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from pathlib import Path

import pytest
from _ike_peers import counter_rng, ipsec_sa, peers

from secmob.errors import UsageError
from secmob.ike.ikev1_peers import negotiate
from secmob.ike.wireshark import (
    isakmp_capture,
    wireshark_esp_sa,
    wireshark_ikev1_table,
    wireshark_ikev1_uat,
)
from secmob.ipsec import esp
from secmob.trace import Recorder
from secmob.wire.ipv4 import IPv4Packet
from secmob.wire.l4 import UDP
from secmob.wire.pcap import PcapRecord, pcap_bytes, read_pcap

TSHARK = shutil.which("tshark") or ("/usr/bin/tshark" if Path("/usr/bin/tshark").exists()
                                    else None)
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")
SUITES = [("3des-md5-modp768", "3des-md5"), ("aes128-sha1-modp1024", "aes128-sha1"),
          ("aes256-sha256-modp2048", "aes128gcm16-modp2048"),
          ("aes128-sha256-ecp256", "aes128gcm16-ecp256")]


def _tshark(path: Path, *options: str) -> str:
    assert TSHARK is not None
    res = subprocess.run([TSHARK, "-n", "-r", str(path), "-V", *options],
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    return res.stdout


def _hex(v: object) -> str:
    assert isinstance(v, bytes)
    return v.hex()


def test_capture_holds_udp_500_datagrams() -> None:
    t = negotiate(*peers())
    linktype, records = read_pcap(isakmp_capture(t.messages))
    assert linktype == 101 and len(records) == 9
    for n, rec in enumerate(records):
        packet = IPv4Packet.parse(rec.data)
        assert isinstance(packet.payload, UDP)
        assert packet.payload.payload == t.messages[n]
        assert packet.payload.source_port == packet.payload.destination_port == 500
        assert packet.header.src[-1] == (1 if n % 2 == 0 else 2)


def test_decryption_table_lines() -> None:
    i, r = peers()
    with pytest.raises(UsageError):
        wireshark_ikev1_uat(i)  # no phase 1 SA yet
    t = negotiate(i, r)
    line = wireshark_ikev1_uat(t.initiator_events[0])  # type: ignore[arg-type]
    cookie, key = line.split(",")
    assert cookie == t.messages[0][:8].hex() and len(key) == 32
    assert wireshark_ikev1_table(i, r) == f"{line}\n{line}\n"
    assert line not in repr(t.initiator_events[0])


@needs_tshark
@pytest.mark.parametrize(("ike", "esp"), SUITES)
def test_tshark_dissects_and_decrypts(tmp_path: Path, ike: str, esp: str) -> None:
    rec = Recorder()
    i, r = peers(ike, esp, tracer_i=rec)
    t = negotiate(i, r)
    path = tmp_path / "ikev1.pcap"
    path.write_bytes(isakmp_capture(t.messages))

    plain = _tshark(path)
    assert plain.count("Internet Security Association and Key Management Protocol") == 9
    assert plain.count("Encryption: Encrypted") == 5
    assert "Identification Data" not in plain  # nothing decrypted without the table

    text = _tshark(path, "-o", f"uat:ikev1_decryption_table:{wireshark_ikev1_uat(i)}")
    assert "Malformed" not in text
    assert "[Expert Info (Error" not in text and "[Expert Info (Warning" not in text
    # message 5 (IDii, HASH_I) and 6 (IDir, HASH_R) as secmob computed them
    assert "Identification Data:192.0.2.1" in text and "Identification Data:192.0.2.2" in text
    for name in ("HASH_I", "HASH_R", "HASH(1)", "HASH(2)", "HASH(3)"):
        assert f"Hash DATA: {_hex(rec.find(name).output)}" in text, name
    # Quick Mode: the client identities and both nonces decrypted
    assert "Identification Data:10.0.0.0/255.0.0.0" in text
    keymat = next(s for s in rec if s.name == "KEYMAT")
    assert f"Nonce DATA: {_hex(keymat.inputs['Ni_b'])}" in text
    assert f"Nonce DATA: {_hex(keymat.inputs['Nr_b'])}" in text
    # a wrong key leaves the payloads unreadable
    assert i.phase1 is not None
    wrong = f"{i.phase1.initiator_cookie.hex()},{bytes(len(i.phase1.encryption_key)).hex()}"
    bad = _tshark(path, "-o", f"uat:ikev1_decryption_table:{wrong}")
    assert f"Hash DATA: {_hex(rec.find('HASH_I').output)}" not in bad


@needs_tshark
@pytest.mark.parametrize(("ike", "esp_proposal"), [
    ("aes128-sha1-modp1024", "aes128-sha1"), ("aes128-sha1-modp1024", "aes128gcm16"),
    ("3des-md5-modp768", "3des-md5"), ("aes256-sha256-modp2048", "aes256-sha256-modp2048")])
def test_tshark_decrypts_esp_keyed_from_the_handoff(tmp_path: Path, ike: str,
                                                     esp_proposal: str) -> None:
    """Each side protects one tunnelled datagram with its outbound SA; tshark,
    given only the hand-off records, decrypts both and finds the ICVs correct."""
    i, r = peers(ike, esp_proposal)
    negotiate(i, r)
    assert i.quick_mode is not None and r.quick_mode is not None
    records, options = [], ["-o", "esp.enable_encryption_decode:TRUE",
                            "-o", "esp.enable_authentication_check:TRUE"]
    rng = counter_rng(b"esp ivs")
    ends = (("192.0.2.1", "192.0.2.2"), ("192.0.2.2", "192.0.2.1"))
    for n, (sender, (src, dst)) in enumerate(zip((i, r), ends, strict=True)):
        handoff = sender.quick_mode.sas[n]  # type: ignore[union-attr]
        sa = ipsec_sa(handoff, sender is i)
        inner = IPv4Packet.build(bytes([10, 0, 0, 1]), bytes([10, 1, 0, 1]),
                                 payload=UDP.build(1234, 5678, b"hello %d" % n)).to_bytes()
        packet = esp.protect(sa, 4, inner, now=0.0, rng=rng)
        outer = IPv4Packet.build(ipaddress.ip_address(src).packed,
                                 ipaddress.ip_address(dst).packed, payload=packet, protocol=50)
        records.append(PcapRecord(n, 0, outer.to_bytes()))
        options += ["-o", f"uat:esp_sa:{wireshark_esp_sa(handoff, src, dst)}"]
    path = tmp_path / "esp.pcap"
    path.write_bytes(pcap_bytes(records))
    text = _tshark(path, *options)
    assert "Malformed" not in text
    for n in range(2):
        assert f"Data: {(b'hello %d' % n).hex()}" in text
    assert text.count("[correct]") == 2 and "[incorrect]" not in text
