"""ISAKMP codec (RFC 2408 §3, RFC 2407 §4.6): whole, byte by byte, trailing bytes,
round trip, fuzzing, and interop with scapy (both directions) and tshark."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secmob.errors import DecodeError, SecmobError, UsageError
from secmob.wire.isakmp import (
    SIT_SECRECY,
    Attribute,
    Certificate,
    CertificateRequest,
    Delete,
    ExchangeType,
    Flags,
    Hash,
    Header,
    Identification,
    IdType,
    KeyExchange,
    Message,
    Nonce,
    Notification,
    Proposal,
    Protocol,
    SecurityAssociation,
    Signature,
    Transform,
    UnknownPayload,
    VendorID,
    payload_body,
    payload_bytes,
)

CKY_I = bytes.fromhex("0011223344556677")
CKY_R = bytes.fromhex("8899aabbccddeeff")


def _phase1_sa() -> SecurityAssociation:
    t1 = Transform(1, 1, (Attribute(1, 7), Attribute(2, 2), Attribute(3, 1), Attribute(4, 14),
                          Attribute(14, 256), Attribute(11, 1),
                          Attribute(12, (86400).to_bytes(3, "big"))))
    t2 = Transform(2, 1, (Attribute(1, 5), Attribute(2, 1), Attribute(3, 1), Attribute(4, 2),
                          Attribute(11, 1), Attribute(12, 28800)))
    return SecurityAssociation((Proposal(1, Protocol.ISAKMP, b"", (t1, t2)),))


def _esp_sa() -> SecurityAssociation:
    t = Transform(1, 12, (Attribute(1, 1), Attribute(2, 3600), Attribute(4, 1), Attribute(5, 2),
                          Attribute(6, 128)))
    return SecurityAssociation((Proposal(1, Protocol.IPSEC_ESP, b"\x11\x22\x33\x44", (t,)),))


def _messages() -> dict[str, Message]:
    h = Header(CKY_I, CKY_R)
    return {
        "main-1": Message(Header(CKY_I, bytes(8)), (_phase1_sa(), VendorID(b"v" * 16))),
        "main-3": Message(h, (KeyExchange(bytes(range(128))), Nonce(bytes(range(20))))),
        "main-5-clear": Message(h, (
            Identification(IdType.IPV4_ADDR, bytes([192, 0, 2, 1]), 17, 500),
            Hash(bytes(20)), Certificate(2, b"pgp-cert"), CertificateRequest(4, b""),
            Signature(b"sig"))),
        "main-5-sig": Message(h, (
            Identification(IdType.FQDN, b"responder.example"), Signature(bytes(40)))),
        "quick-1": Message(Header(CKY_I, CKY_R, exchange_type=ExchangeType.QUICK_MODE,
                                  message_id=0x01020304), (
            Hash(bytes(20)), _esp_sa(), Nonce(bytes(16)),
            Identification(IdType.IPV6_ADDR_SUBNET, bytes(32)),
            Identification(IdType.IPV6_ADDR, bytes(16), 6, 80))),
        "info": Message(Header(CKY_I, CKY_R, exchange_type=ExchangeType.INFORMATIONAL,
                               message_id=9), (
            Hash(bytes(20)), Notification(24576, 3, b"\xde\xad\xbe\xef", b"\x80\x01\x00\x01"),
            Delete(3, (b"\x01\x02\x03\x04", b"\x05\x06\x07\x08")),
            UnknownPayload(type=20, data=bytes(20)))),
        "secrecy": Message(h, (SecurityAssociation(
            _phase1_sa().proposals, situation=SIT_SECRECY,
            situation_data=bytes(4) + b"\x00\x02\x00\x00\xab\xcd\x00\x00"
            + b"\x00\x09\x00\x00\xff\x80\x00\x00" + bytes(8)),)),
        "encrypted": Message(Header(CKY_I, CKY_R, next_payload=5, flags=Flags.ENCRYPTION),
                             body=bytes(range(48))),
    }


MESSAGES = _messages()


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_whole_message_round_trips(name: str) -> None:
    raw = MESSAGES[name].to_bytes()
    parsed = Message.parse(raw)
    assert parsed.to_bytes() == raw
    assert parsed.payloads == MESSAGES[name].payloads
    assert parsed.header.length == len(raw)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_every_truncation_raises_decode_error(name: str) -> None:
    raw = MESSAGES[name].to_bytes()
    for n in range(len(raw)):
        with pytest.raises(DecodeError):
            Message.parse(raw[:n])
        if n >= 28:  # make the header agree with the cut, so the payloads are walked
            cut = raw[:24] + struct.pack("!I", n) + raw[28:n]
            try:
                Message.parse(cut)
            except DecodeError:
                pass
            else:
                assert MESSAGES[name].header.encrypted or n == len(raw)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_trailing_bytes_are_rejected(name: str) -> None:
    raw = MESSAGES[name].to_bytes()
    with pytest.raises(DecodeError, match="length field says"):
        Message.parse(raw + b"\x00")


def test_main_mode_1_layout_by_hand() -> None:
    raw = MESSAGES["main-1"].to_bytes()
    assert raw[:16] == CKY_I + bytes(8)
    assert raw[16] == 1 and raw[17] == 0x10 and raw[18] == 2 and raw[19] == 0
    assert struct.unpack("!I", raw[24:28])[0] == len(raw)
    # SA: next = Vendor ID (13), DOI 1, situation SIT_IDENTITY_ONLY
    assert raw[28] == 13 and raw[32:40] == b"\x00\x00\x00\x01\x00\x00\x00\x01"
    # Proposal: last (0), #1, PROTO_ISAKMP, SPI size 0, 2 transforms
    assert raw[40] == 0 and raw[44:48] == b"\x01\x01\x00\x02"
    # first transform: next = 3, #1, KEY_IKE, and the encryption attribute in TV form
    assert raw[48] == 3 and raw[52:56] == b"\x01\x01\x00\x00" and raw[56:60] == b"\x80\x01\x00\x07"


def test_errors_name_payload_and_offset() -> None:
    raw = bytearray(MESSAGES["main-3"].to_bytes())
    nonce_at = 28 + 4 + 128
    raw[nonce_at + 3] += 1  # Nonce length now overruns the message
    with pytest.raises(DecodeError) as info:
        Message.parse(bytes(raw))
    assert info.value.header == "Nonce" and info.value.offset == nonce_at + 2
    raw = bytearray(MESSAGES["main-1"].to_bytes())
    raw[29] = 1
    with pytest.raises(DecodeError, match="RESERVED") as info:
        Message.parse(bytes(raw))
    assert info.value.header == "SA" and info.value.offset == 29


@pytest.mark.parametrize(("mutate", "match"), [
    (lambda b: b.__setitem__(47, 3), "# of transforms"),
    (lambda b: b.__setitem__(48, 2), "next payload 2 inside an SA"),
    (lambda b: b.__setitem__(17, 0x20), "major version"),
])
def test_malformed_sa_contents(mutate: object, match: str) -> None:
    raw = bytearray(MESSAGES["main-1"].to_bytes())
    mutate(raw)  # type: ignore[operator]
    with pytest.raises(DecodeError, match=match):
        Message.parse(bytes(raw))


def test_bad_attribute_length_is_named() -> None:
    raw = bytearray(MESSAGES["main-1"].to_bytes())
    # the TLV life duration of transform 1 sits after six TV attributes
    tlv = 56 + 6 * 4
    assert raw[tlv:tlv + 2] == b"\x00\x0c"
    raw[tlv + 3] = 40
    with pytest.raises(DecodeError, match="attribute type 12 declares 40") as info:
        Message.parse(bytes(raw))
    assert info.value.header == "Transform" and info.value.offset == tlv


def test_payload_kinds_and_checks() -> None:
    with pytest.raises(DecodeError, match="IPV4_ADDR identification data must be 4"):
        Message.parse(Message(Header(CKY_I), (
            Identification(IdType.IPV4_ADDR, b"\x01\x02\x03"),)).to_bytes())
    bad_delete = bytearray(MESSAGES["info"].to_bytes())
    delete_at = 28 + 24 + 4 + 12 + 4
    bad_delete[delete_at + 10:delete_at + 12] = b"\x00\x03"  # claims 3 SPIs
    with pytest.raises(DecodeError, match="3 SPI"):
        Message.parse(bytes(bad_delete))
    raw = bytearray(Message(Header(CKY_I), (Nonce(b""),)).to_bytes())
    raw[16] = 2  # the header announces a Proposal payload at top level
    with pytest.raises(DecodeError, match="outside an SA"):
        Message.parse(bytes(raw))


def test_building_rejects_impossible_fields() -> None:
    for bad in (Attribute(1, 0x10000), Attribute(0x8000, 1)):
        with pytest.raises(UsageError):
            Message(Header(CKY_I), (SecurityAssociation((Proposal(1, 1, b"", (
                Transform(1, 1, (bad,)),)),)),)).to_bytes()
    with pytest.raises(UsageError):
        Message(Header(b"short"), ()).to_bytes()
    with pytest.raises(UsageError):
        Message(Header(CKY_I), (Delete(3, (b"\x01\x02",)),)).to_bytes()
    with pytest.raises(UsageError):
        Message(Header(CKY_I, flags=Flags.ENCRYPTION), (Nonce(b"x"),)).to_bytes()


def test_body_and_payload_helpers() -> None:
    n = Nonce(b"abc")
    assert payload_body(n) == b"abc"
    assert payload_bytes(n, 5) == b"\x05\x00\x00\x07abc"
    m = MESSAGES["quick-1"]
    assert len(m.find(Identification)) == 2


def test_attribute_forms() -> None:
    assert Attribute(14, 128).basic and Attribute(14, 128).as_int() == 128
    tlv = Attribute(12, b"\x01\x51\x80")
    assert not tlv.basic and tlv.as_int() == 86400


# -- fuzzing ---------------------------------------------------------------------

def _only_decode_errors_or_round_trip(raw: bytes) -> None:
    try:
        m = Message.parse(raw)
    except DecodeError:
        return
    except SecmobError as exc:  # pragma: no cover - would be a bug
        raise AssertionError(f"unexpected {type(exc).__name__}") from exc
    assert m.to_bytes() == raw


@given(st.binary(max_size=200))
def test_fuzz_random_bytes(raw: bytes) -> None:
    _only_decode_errors_or_round_trip(raw)


@given(st.sampled_from(sorted(MESSAGES)), st.data())
def test_fuzz_mutated_messages(name: str, data: st.DataObject) -> None:
    raw = bytearray(MESSAGES[name].to_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    _only_decode_errors_or_round_trip(bytes(raw))


# -- scapy, both directions -----------------------------------------------------

try:
    from scapy.layers import isakmp
except ImportError:  # pragma: no cover - scapy is a test dependency
    isakmp = None

needs_scapy = pytest.mark.skipif(isakmp is None, reason="scapy is not installed")


@needs_scapy
@pytest.mark.parametrize("name", sorted(set(MESSAGES) - {"secrecy"}))
def test_scapy_parses_secmob_bytes(name: str) -> None:
    raw = MESSAGES[name].to_bytes()
    pkt = isakmp.ISAKMP(raw)
    assert pkt.init_cookie == CKY_I and pkt.length == len(raw)
    assert bytes(pkt) == raw
    if name == "main-1":
        sa = pkt[isakmp.ISAKMP_payload_SA]
        t = sa.prop.trans
        assert sa.doi == 1 and sa.prop.trans_nb == 2
        assert dict(t.transforms)["Encryption"] == "AES-CBC"
        assert dict(t.transforms)["KeyLength"] == 256
        assert dict(t.transforms)["LifeDuration"] == 86400


@needs_scapy
def test_secmob_parses_scapy_bytes() -> None:
    pkt = (isakmp.ISAKMP(init_cookie=CKY_I, resp_cookie=CKY_R, exch_type=32, id=77,
                         next_payload=8)
           / isakmp.ISAKMP_payload_Hash(hash=b"h" * 20)
           / isakmp.ISAKMP_payload_SA(prop=isakmp.ISAKMP_payload_Proposal(
               proto=3, SPIsize=4, SPI=b"\xca\xfe\xba\xbe", trans_nb=1,
               trans=isakmp.ISAKMP_payload_Transform(
                   transform_count=1, transform_id=3,
                   transforms=[("EncapsulationMode", "Transport"),
                               ("AuthenticationAlgorithm", "HMAC-SHA2-256")])))
           / isakmp.ISAKMP_payload_Nonce(nonce=b"n" * 24)
           / isakmp.ISAKMP_payload_Delete(doi=1, proto=3, SPIsize=4, SPIcount=1,
                                          SPIs=[b"\x00\x00\x00\x2a"]))
    raw = bytes(pkt)
    m = Message.parse(raw)
    assert m.header.exchange_type == 32 and m.header.message_id == 77
    hash_, sa, nonce, delete = m.payloads
    assert isinstance(hash_, Hash) and hash_.data == b"h" * 20
    assert isinstance(sa, SecurityAssociation)
    prop = sa.proposals[0]
    assert prop.spi == b"\xca\xfe\xba\xbe" and prop.transforms[0].transform_id == 3
    assert prop.transforms[0].attributes == (Attribute(4, 2), Attribute(5, 5))
    assert isinstance(nonce, Nonce) and nonce.data == b"n" * 24
    assert isinstance(delete, Delete) and delete.spis == (b"\x00\x00\x00\x2a",)
    assert m.to_bytes() == raw


# -- tshark ----------------------------------------------------------------------

def _pcap(messages: list[bytes]) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # Ethernet
    for i, payload in enumerate(messages):
        udp = struct.pack("!HHHH", 500, 500, 8 + len(payload), 0) + payload
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                                   bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])))
        total = sum(struct.unpack("!10H", bytes(ip)))
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        ip[10:12] = struct.pack("!H", ~total & 0xFFFF)
        frame = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + b"\x08\x00" + bytes(ip) + udp
        out.append(struct.pack("<IIII", i, 0, len(frame), len(frame)) + frame)
    return b"".join(out)


@pytest.mark.skipif(shutil.which("tshark") is None and not Path("/usr/bin/tshark").exists(),
                    reason="tshark is not installed")
def test_tshark_dissects_without_errors(tmp_path: Path) -> None:
    # certificate payloads are left out: tshark DER-decodes their (dummy) contents
    names = sorted(set(MESSAGES) - {"secrecy", "main-5-clear"})
    path = tmp_path / "isakmp.pcap"
    path.write_bytes(_pcap([MESSAGES[n].to_bytes() for n in names]))
    tshark = shutil.which("tshark") or "/usr/bin/tshark"
    res = subprocess.run([tshark, "-n", "-r", str(path), "-V", "-o", "udp.check_checksum:FALSE"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    text = res.stdout
    assert text.count("Internet Security Association and Key Management Protocol") == len(names)
    assert "Malformed" not in text
    assert "[Expert Info (Error" not in text and "[Expert Info (Warning" not in text
    assert "Next payload: Security Association (1)" in text
    assert "Nonce" in text and "Delete" in text


# -- generated valid messages round-trip --------------------------------------------

_attr = st.one_of(
    st.builds(Attribute, st.integers(0, 0x7FFF), st.integers(0, 0xFFFF)),
    st.builds(Attribute, st.integers(0, 0x7FFF), st.binary(max_size=12)))
_transform = st.builds(Transform, st.integers(0, 255), st.integers(0, 255),
                       st.lists(_attr, max_size=5).map(tuple))
_proposal = st.builds(Proposal, st.integers(0, 255), st.integers(0, 255),
                      st.sampled_from([b"", b"\x01\x02\x03\x04"]),
                      st.lists(_transform, min_size=1, max_size=3).map(tuple))
_payload = st.one_of(
    st.builds(SecurityAssociation, st.lists(_proposal, min_size=1, max_size=2).map(tuple)),
    st.builds(KeyExchange, st.binary(max_size=64)),
    st.builds(Nonce, st.binary(max_size=32)),
    st.builds(Hash, st.binary(max_size=32)),
    st.builds(VendorID, st.binary(max_size=16)),
    st.builds(Identification, st.just(IdType.FQDN), st.binary(max_size=20),
              st.integers(0, 255), st.integers(0, 0xFFFF)),
    st.builds(Notification, st.integers(0, 0xFFFF), st.integers(0, 255),
              st.sampled_from([b"", b"\x00\x00\x00\x01"]), st.binary(max_size=8)),
    st.builds(Delete, st.integers(0, 255),
              st.lists(st.binary(min_size=4, max_size=4), max_size=3).map(tuple)),
)


@given(st.lists(_payload, max_size=5), st.integers(0, 0xFFFFFFFF), st.sampled_from([2, 5, 32]))
def test_generated_messages_round_trip(payloads: list[object], mid: int, exchange: int) -> None:
    m = Message(Header(CKY_I, CKY_R, exchange_type=exchange, message_id=mid),
                tuple(payloads))  # type: ignore[arg-type]
    raw = m.to_bytes()
    back = Message.parse(raw)
    assert back.payloads == m.payloads and back.to_bytes() == raw
    if isakmp is not None:
        assert isakmp.ISAKMP(raw).length == len(raw)
