"""vectors/esp-packet/*.json: whole packets through the IPsec packet path.

Every stored case must pass through secmob (the vector runner). Beyond
that, each file is checked by code that is not secmob's:

* derived.json must equal the hand-laid computation of ``esp_packet_reference``;
* the transcribed packets (RFC 3602, draft-mcgrew-gcm-test-01, RFC 7634) must
  open with pyca/cryptography to the published plaintext, so a transcription
  slip cannot hide behind a matching mistake in secmob;
* the derived ESP and AH packets are opened by scapy's implementation.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import esp_packet_reference as ref
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from secmob import vectors

ROOT = Path(__file__).resolve().parent.parent / "vectors" / "esp-packet"
FILES = sorted(ROOT.glob("*.json"))


def _cases(name: str) -> list[dict[str, Any]]:
    doc = json.loads((ROOT / name).read_text(encoding="utf-8"))
    cases: list[dict[str, Any]] = doc["cases"]
    return cases


def test_derived_file_is_the_independent_computation() -> None:
    assert json.loads((ROOT / "derived.json").read_text(encoding="utf-8")) == ref.build()


@pytest.mark.parametrize("result", list(vectors.run_files(FILES)), ids=lambda r: r.id)
def test_secmob_reproduces_every_case(result: vectors.CaseResult) -> None:
    assert result.ok, result.detail


def test_every_inbound_check_has_a_negative_case() -> None:
    errors = {c.data.get("error") for path in FILES for c in vectors.load_file(path)}
    assert {"IntegrityError", "PaddingError", "ReplayError", "UnknownSPI",
            "PolicyViolation"} <= errors


def test_every_case_names_its_source() -> None:
    for path in FILES:
        for case in vectors.load_file(path):
            published = case.source.startswith(("RFC ", "draft-mcgrew-gcm-test-01"))
            assert published or case.source.startswith("derived: "), case.id
            if "error" in case.data and path.name != "derived.json":
                assert case.source.startswith("derived: "), case.id


# -- RFC 3602: AES-CBC, no ICV ---------------------------------------------------

def _cbc_open(key: bytes, esp: bytes) -> bytes:
    dec = Cipher(algorithms.AES(key), modes.CBC(esp[8:24])).decryptor()
    return dec.update(esp[24:]) + dec.finalize()


def _strip_trailer(plaintext: bytes) -> tuple[bytes, int]:
    pad_len, nh = plaintext[-2], plaintext[-1]
    assert plaintext[-2 - pad_len:-2] == bytes(range(1, pad_len + 1))
    return plaintext[:-2 - pad_len], nh


@pytest.mark.parametrize("case", [c for c in _cases("rfc3602-aes-cbc.json")
                                  if "expected" in c and c["direction"] == "inbound"],
                         ids=lambda c: c["id"])
def test_rfc3602_packets_open_with_cryptography(case: dict[str, Any]) -> None:
    wire = bytes.fromhex(case["packet"])
    key = bytes.fromhex(case["sas"][0]["cipher_key"])
    expected = case["expected"]
    if case.get("layer") == "esp":
        payload, nh = _strip_trailer(_cbc_open(key, wire))
        assert (payload.hex(), nh) == (expected["payload"], expected["next_header"])
        return
    assert ref.checksum(wire[:20]) == 0  # the published outer header is consistent
    payload, nh = _strip_trailer(_cbc_open(key, wire[20:]))
    delivered = bytes.fromhex(expected["packet"])
    assert ref.checksum(delivered[:20]) == 0
    if case["sas"][0].get("mode") == "tunnel":
        assert (payload, nh) == (delivered, 4)
    else:  # transport: the original header differs only in protocol, length, checksum
        assert (payload, nh) == (delivered[20:], delivered[9])
        assert wire[:2] + wire[4:9] + wire[12:20] == delivered[:2] + delivered[4:9] + \
            delivered[12:20]


# -- draft-mcgrew-gcm-test-01 and RFC 7634: combined modes ------------------------------

def _aead_cases(name: str) -> list[dict[str, Any]]:
    return [c for c in _cases(name) if c["direction"] == "outbound"]


@pytest.mark.parametrize("case", _aead_cases("draft-mcgrew-gcm-test-01.json") +
                         _aead_cases("rfc7634-chacha20-poly1305.json"), ids=lambda c: c["id"])
def test_combined_mode_packets_open_with_cryptography(case: dict[str, Any]) -> None:
    sa = case["sas"][0]
    keymat = bytes.fromhex(sa["cipher_key"])
    key, salt = keymat[:-4], keymat[-4:]
    packet = bytes.fromhex(case["expected"]["packet"])
    seq = sa["sequence"]
    spi_seq, iv = packet[:8], packet[8:16]
    assert spi_seq == struct.pack("!II", sa["spi"], seq & 0xFFFFFFFF)
    aad = spi_seq[:4] + struct.pack("!Q", seq) if sa.get("esn") else spi_seq  # RFC 4106 §5
    trailer_pt = bytes.fromhex(case["packet"])
    if sa["cipher"] == "aes128gmac":  # RFC 4543 §3.3: AAD = SPI || Seq || IV || payload
        body = packet[16:-16]
        assert AESGCM(key).encrypt(salt + iv, b"", aad + iv + body) == packet[-16:]
    else:
        aead = ChaCha20Poly1305(key) if sa["cipher"] == "chacha20poly1305" else AESGCM(key)
        body = aead.decrypt(salt + iv, packet[16:], aad)
    payload, nh = _strip_trailer(body)
    assert (payload, nh) == (trailer_pt, case["next_header"])


# -- scapy ------------------------------------------------------------------------

SCAPY_AUTH = {"HMAC-MD5-96": "HMAC-MD5-96", "HMAC-SHA1-96": "HMAC-SHA1-96",
              "HMAC-SHA-256-128": "SHA2-256-128", "HMAC-SHA-384-192": "SHA2-384-192",
              "HMAC-SHA-512-256": "SHA2-512-256"}
SCAPY_CASES = [f"{name}-inbound" for name in (
    "esp-v6-aes128-sha256", "esp-v6-aes256-sha384", "esp-v4-aes192-sha512", "esp-v6-esn",
    "esp-tunnel-6in6", "esp-tunnel-4in6", "esp-tunnel-6in4", "ah-v6-md5", "ah-v4-sha256")] + [
    "ah-v6-md5-hop-limit-changed"]


@pytest.mark.parametrize("case_id", SCAPY_CASES)
def test_scapy_opens_the_derived_packets(case_id: str) -> None:
    """scapy's ESP/AH (its own layout, its own mutable-field rules) agrees."""
    scapy_ipsec = pytest.importorskip("scapy.layers.ipsec")
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6

    case = next(c for c in _cases("derived.json") if c["id"] == case_id)
    sa = case["sas"][0]
    wire = bytes.fromhex(case["packet"])
    layer = IPv6 if wire[0] >> 4 == 6 else IP
    kw: dict[str, Any] = {"auth_algo": SCAPY_AUTH[sa["integrity"]],
                          "auth_key": bytes.fromhex(sa["integrity_key"])}
    if sa.get("protocol") == "ah":
        proto = scapy_ipsec.AH
    else:
        proto = scapy_ipsec.ESP
        kw.update(crypt_algo="AES-CBC", crypt_key=bytes.fromhex(sa["cipher_key"]))
        if sa.get("esn"):
            kw.update(esn_en=True, esn=1)
        if sa.get("mode") == "tunnel":
            kw["tunnel_header"] = layer(src=sa["tunnel_source"], dst=sa["tunnel_destination"])
    peer = scapy_ipsec.SecurityAssociation(proto, spi=sa["spi"], **kw)
    assert bytes(peer.decrypt(layer(wire))) == bytes.fromhex(case["expected"]["packet"])


def test_rfc7634_packet_in_a_derived_outer_header() -> None:
    cases = {c["id"]: c for c in _cases("rfc7634-chacha20-poly1305.json")}
    wrapped = bytes.fromhex(cases["rfc7634-a-engine-inbound"]["packet"])
    published = bytes.fromhex(cases["rfc7634-a-inbound"]["packet"])
    assert wrapped == ref.ipv4("203.0.113.1", "203.0.113.2", 50, published)
    assert cases["rfc7634-a-engine-inbound"]["expected"]["packet"] == \
        cases["rfc7634-a-inbound"]["expected"]["payload"]


@pytest.mark.parametrize(("change", "message"), [
    ({"direction": "sideways"}, "direction must be"),
    ({"layer": "udp"}, "layer must be"),
    ({"rng": "00"}, "'rng' ran out"),
    ({"sas": []}, "'sas' must be"),
    ({"sas": [{"spi": 0x1001, "cipher": "aes128", "cipher_key": "AA" * 16}]}, "lowercase"),
    ({"sas": [{"spi": 0x1001, "protocol": "gre"}]}, "protocol must be"),
    ({"sas": [{"spi": 0x1001, "cipher": "aes128", "cipher_key": "00" * 16, "sequence": 0}]},
     "at least 1"),
])
def test_malformed_cases_name_the_field(change: dict[str, Any], message: str) -> None:
    base = next(c for c in _cases("derived.json") if c["id"] == "esp-v6-aes128-sha256-outbound")
    case = vectors.Case("mine.json", "esp-packet", {**base, **change})
    with pytest.raises(vectors.VectorFileError, match=message):
        vectors.run_case(case)
