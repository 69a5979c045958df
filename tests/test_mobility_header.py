"""Mobility Header codec (RFC 6275 §6.1, §6.2; RFC 3963 §4): round trips,
truncation, malformed input, scapy and tshark interop."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secmob.errors import DecodeError, SecmobError, Truncated, UsageError
from secmob.wire import mobility as mh
from secmob.wire.mobility_options import (
    AlternateCareOfAddress,
    BindingAuthorizationData,
    BindingRefreshAdvice,
    MobileNetworkPrefix,
    NonceIndices,
    Pad1,
    PadN,
    UnknownOption,
    align_options,
    padding,
)

SRC = bytes.fromhex("20010db8000000010000000000000001")
DST = bytes.fromhex("20010db8000000020000000000000002")
HOA = bytes.fromhex("20010db8000000030000000000000003")
PREFIX = bytes.fromhex("20010db8abcd00000000000000000000")
AUTH = bytes(range(1, 13))


def messages() -> list[mh.MobilityMessage]:
    return [
        mh.BindingRefreshRequest().padded(),
        mh.HomeTestInit(cookie=bytes.fromhex("0102030405060708")).padded(),
        mh.CareOfTestInit(cookie=bytes.fromhex("1112131415161718")).padded(),
        mh.HomeTest(nonce_index=7, cookie=bytes(8), keygen_token=b"\xaa" * 8).padded(),
        mh.CareOfTest(nonce_index=65535, cookie=b"\x01" * 8, keygen_token=b"\xbb" * 8).padded(),
        mh.BindingUpdate(sequence=42, lifetime=105, ack=True,
                         options=(NonceIndices(3, 4), BindingAuthorizationData(AUTH))).padded(),
        mh.BindingUpdate(sequence=65535, lifetime=1000, ack=True, home_registration=True,
                         link_local_compat=True, key_management=True, mobile_router=True,
                         options=(AlternateCareOfAddress(SRC),
                                  MobileNetworkPrefix(48, PREFIX))).padded(),
        mh.BindingAcknowledgement(status=0, sequence=42, lifetime=105,
                                  options=(BindingRefreshAdvice(90),
                                           BindingAuthorizationData(AUTH))).padded(),
        mh.BindingAcknowledgement(status=135, sequence=10000, lifetime=0, key_management=True,
                                  mobile_router=True).padded(),
        mh.BindingError(status=2, home_address=HOA).padded(),
    ]


CASES = messages()
IDS = [f"{type(m).__name__}-{i}" for i, m in enumerate(CASES)]


@pytest.mark.parametrize("msg", CASES, ids=IDS)
def test_whole_round_trip(msg: mh.MobilityMessage) -> None:
    data = msg.to_bytes(SRC, DST)
    assert len(data) % 8 == 0 and data[1] == len(data) // 8 - 1
    back = mh.decode(data)
    assert back.to_bytes() == data
    assert back == msg.with_checksum(SRC, DST)
    mh.verify_checksum(SRC, DST, data)


@pytest.mark.parametrize("msg", CASES, ids=IDS)
def test_byte_by_byte_truncation_raises_only_secmob_errors(msg: mh.MobilityMessage) -> None:
    data = msg.to_bytes(SRC, DST)
    for i in range(len(data)):
        with pytest.raises(Truncated):
            mh.decode(data[:i])


@pytest.mark.parametrize("msg", CASES, ids=IDS)
def test_trailing_bytes(msg: mh.MobilityMessage) -> None:
    data = msg.to_bytes()
    with pytest.raises(DecodeError, match="after the"):
        mh.decode(data + b"\x00")
    got, n = mh.decode_prefix(data + b"\x3b\x00")
    assert n == len(data) and got == msg


def _independent_checksum(src: bytes, dst: bytes, segment: bytes) -> int:
    data = src + dst + len(segment).to_bytes(4, "big") + b"\0\0\0\x87" + segment
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return 0xFFFF - total


def test_known_bytes_of_a_binding_update() -> None:
    bu = CASES[5]
    body = "002a" "8000" "0069" "0404" "00030004" "050c" + AUTH.hex()
    ck = _independent_checksum(SRC, DST, bytes.fromhex("3b030500" "0000" + body))
    assert ck == 0xB608
    assert bu.to_bytes(SRC, DST).hex() == "3b030500" f"{ck:04x}" + body


def test_checksum_mismatch_is_a_decode_error() -> None:
    data = bytearray(CASES[5].to_bytes(SRC, DST))
    data[-1] ^= 1
    with pytest.raises(DecodeError, match="checksum"):
        mh.verify_checksum(SRC, DST, bytes(data))


def test_wrong_option_lengths_name_the_option_and_offset() -> None:
    # Nonce Indices with scapy's default length 16 and BAD with length 16
    body = bytes.fromhex("002a80000069") + bytes.fromhex("0410") + bytes(16) + bytes(6)
    data = bytes([59, (6 + len(body)) // 8 - 1, 5, 0, 0, 0]) + body
    with pytest.raises(DecodeError) as exc:
        mh.decode(data)
    assert exc.value.offset == 13 and "Nonce Indices option" in str(exc.value)
    assert "Binding Update" in str(exc.value)
    body = bytes.fromhex("002a80000069") + bytes.fromhex("010400000000050c") + bytes(12)
    ok = bytes([59, 3, 5, 0, 0, 0]) + body
    assert isinstance(mh.decode(ok).options[-1], BindingAuthorizationData)
    bad = bytearray(ok)
    bad[19] = 16
    with pytest.raises(Truncated):
        mh.decode(bytes(bad))


def test_header_len_too_small_for_the_type() -> None:
    data = bytes([59, 0, 3, 0, 0, 0, 0, 0])  # a Home Test needs 24 octets
    with pytest.raises(DecodeError, match="Header Len 0") as exc:
        mh.decode(data)
    assert exc.value.offset == 1


def test_option_after_binding_authorization_data_is_rejected() -> None:
    msg = mh.BindingUpdate(sequence=1, lifetime=1,
                           options=(BindingAuthorizationData(AUTH), PadN(bytes(4))))
    data = msg.to_bytes()
    with pytest.raises(DecodeError, match="last option"):
        mh.decode(data)
    with pytest.raises(UsageError):
        align_options([BindingAuthorizationData(AUTH), NonceIndices(1, 2)], 12)


def test_alignment_of_each_option() -> None:
    for opt in (BindingRefreshAdvice(1), AlternateCareOfAddress(SRC), NonceIndices(1, 2),
                BindingAuthorizationData(AUTH), MobileNetworkPrefix(64, PREFIX)):
        for start in range(6, 30, 2):
            laid = align_options([opt], start)
            pos = start
            for o in laid:
                if o is opt:
                    x, y = opt.ALIGN
                    assert pos % x == y
                pos += o.size()
            assert pos % 8 == 0
    assert padding(1) == (Pad1(),) and padding(5) == (PadN(bytes(3)),) and padding(0) == ()


def test_unknown_type_and_unknown_option_round_trip() -> None:
    raw = bytes([59, 1, 200, 0, 0x12, 0x34]) + bytes(range(10))
    msg = mh.decode(raw)
    assert isinstance(msg, mh.UnknownMessage) and msg.mh_type == 200
    assert msg.to_bytes() == raw
    bu = mh.BindingUpdate(sequence=1, lifetime=2, options=(UnknownOption(77, b"xyz"),)).padded()
    assert mh.decode(bu.to_bytes()) == bu


def test_unpadded_message_is_refused_on_build() -> None:
    with pytest.raises(UsageError, match="padded"):
        mh.BindingUpdate(sequence=1, lifetime=2).to_bytes()
    with pytest.raises(UsageError):
        mh.HomeTestInit(cookie=b"short")


def test_authenticated_data_excludes_authenticator_and_zeroes_checksum() -> None:
    data = CASES[5].to_bytes(SRC, DST)
    got = mh.authenticated_data(data)
    assert got == data[:4] + b"\0\0" + data[6:-12] and len(got) == len(data) - 12
    with pytest.raises(DecodeError):
        mh.authenticated_data(CASES[6].to_bytes())


# -- hypothesis -------------------------------------------------------------

addr = st.binary(min_size=16, max_size=16)
u16 = st.integers(0, 0xFFFF)
opts = st.lists(st.one_of(
    st.builds(BindingRefreshAdvice, u16),
    st.builds(AlternateCareOfAddress, addr),
    st.builds(NonceIndices, u16, u16),
    st.builds(MobileNetworkPrefix, st.integers(0, 255), addr, st.integers(0, 255)),
    st.builds(UnknownOption, st.integers(7, 255), st.binary(max_size=20)),
), max_size=4)
auth = st.one_of(st.none(), st.builds(BindingAuthorizationData, st.binary(min_size=12,
                                                                         max_size=12)))


@st.composite
def any_message(draw: st.DrawFn) -> mh.MobilityMessage:
    o = draw(opts)
    a = draw(auth)
    options = tuple(o) + ((a,) if a is not None else ())
    cookie = draw(st.binary(min_size=8, max_size=8))
    kind = draw(st.sampled_from(range(8)))
    common = {"options": options, "reserved": draw(st.integers(0, 255))}
    made: list[mh.MobilityMessage] = [
        mh.BindingRefreshRequest(message_reserved=draw(u16), **common),
        mh.HomeTestInit(cookie=cookie, **common),
        mh.CareOfTestInit(cookie=cookie, **common),
        mh.HomeTest(nonce_index=draw(u16), cookie=cookie, keygen_token=cookie, **common),
        mh.CareOfTest(nonce_index=draw(u16), cookie=cookie, keygen_token=cookie, **common),
        mh.BindingUpdate(sequence=draw(u16), lifetime=draw(u16), ack=draw(st.booleans()),
                         home_registration=draw(st.booleans()),
                         mobile_router=draw(st.booleans()),
                         flags_reserved=draw(st.integers(0, 0x3FF)) & ~0x0400, **common),
        mh.BindingAcknowledgement(status=draw(st.integers(0, 255)), sequence=draw(u16),
                                  lifetime=draw(u16), key_management=draw(st.booleans()),
                                  flags_reserved=draw(st.integers(0, 63)), **common),
        mh.BindingError(status=draw(st.integers(0, 255)), home_address=draw(addr), **common),
    ]
    return made[kind].padded()


@given(any_message(), addr, addr)
def test_hypothesis_round_trip(msg: mh.MobilityMessage, src: bytes, dst: bytes) -> None:
    data = msg.to_bytes(src, dst)
    assert mh.decode(data) == msg.with_checksum(src, dst)
    mh.verify_checksum(src, dst, data)


@given(st.binary(max_size=80))
def test_fuzz_decode_raises_only_secmob_errors(data: bytes) -> None:
    try:
        msg = mh.decode(data)
    except SecmobError:
        return
    assert msg.to_bytes() == data


@given(any_message(), st.integers(0, 200), st.integers(0, 255))
def test_fuzz_mutations(msg: mh.MobilityMessage, where: int, value: int) -> None:
    data = bytearray(msg.to_bytes())
    data[where % len(data)] = value
    try:
        back = mh.decode(bytes(data))
    except SecmobError:
        return
    assert back.to_bytes() == bytes(data)


# -- scapy interop ----------------------------------------------------------

scapy_inet6 = pytest.importorskip("scapy.layers.inet6")


def _scapy_pairs() -> list[tuple[object, mh.MobilityMessage]]:
    s = scapy_inet6
    auth_int = int.from_bytes(AUTH, "big")
    return [
        (s.MIP6MH_BRR(), CASES[0]),
        (s.MIP6MH_HoTI(cookie=bytes.fromhex("0102030405060708")), CASES[1]),
        (s.MIP6MH_CoTI(cookie=bytes.fromhex("1112131415161718")), CASES[2]),
        (s.MIP6MH_HoT(index=7, cookie=bytes(8), token=b"\xaa" * 8), CASES[3]),
        (s.MIP6MH_CoT(index=65535, cookie=b"\x01" * 8, token=b"\xbb" * 8), CASES[4]),
        (s.MIP6MH_BU(seq=42, flags="A", mhtime=105, options=[
            s.MIP6OptNonceIndices(olen=4, hni=3, coni=4),
            s.MIP6OptBindingAuthData(olen=12, authenticator=auth_int)]), CASES[5]),
        (s.MIP6MH_BU(seq=65535, flags="AHLKR", mhtime=1000, options=[
            s.MIP6OptAltCoA(acoa="2001:db8:0:1::1"),
            s.MIP6OptMobNetPrefix(plen=48, prefix="2001:db8:abcd::")]), CASES[6]),
        (s.MIP6MH_BA(status=0, flags=0, seq=42, mhtime=105, options=[
            s.MIP6OptBRAdvice(rinter=90),
            s.MIP6OptBindingAuthData(olen=12, authenticator=auth_int)]), CASES[7]),
        (s.MIP6MH_BA(status=135, flags="KR", seq=10000, mhtime=0), CASES[8]),
        (s.MIP6MH_BE(status=2, ha="2001:db8:0:3::3"), CASES[9]),
    ]


def test_scapy_builds_what_secmob_builds_checksum_included() -> None:
    from scapy.all import raw
    for pkt, msg in _scapy_pairs():
        ip = scapy_inet6.IPv6(src="2001:db8:0:1::1", dst="2001:db8:0:2::2") / pkt
        theirs = raw(ip)[40:]
        assert theirs == msg.to_bytes(SRC, DST), type(msg).__name__
        assert mh.decode(theirs) == msg.with_checksum(SRC, DST)


def test_scapy_parses_secmob_bytes() -> None:
    s = scapy_inet6
    for _, msg in _scapy_pairs():
        data = msg.to_bytes(SRC, DST)
        pkt = s.IPv6(bytes(s.IPv6(src="2001:db8:0:1::1", dst="2001:db8:0:2::2", nh=135,
                                   plen=len(data))) + data)
        layer = pkt.payload
        assert layer.mhtype == msg.mh_type and layer.len == len(data) // 8 - 1
        assert layer.cksum == msg.with_checksum(SRC, DST).checksum
        if isinstance(msg, mh.BindingUpdate):
            assert layer.seq == msg.sequence and layer.mhtime == msg.lifetime
            assert int(layer.flags) << 9 == msg.flags
            ni = layer.getlayer(s.MIP6OptNonceIndices)
            if ni is not None:
                assert (ni.olen, ni.hni, ni.coni) == (4, 3, 4)
                bad = layer.getlayer(s.MIP6OptBindingAuthData)
                assert bad.olen == 12 and bad.authenticator == int.from_bytes(AUTH, "big")
        if isinstance(msg, mh.BindingAcknowledgement):
            assert (layer.status, layer.seq, layer.mhtime) == (
                msg.status, msg.sequence, msg.lifetime)
        if isinstance(msg, mh.HomeTest):
            assert (layer.index, layer.cookie, layer.token) == (
                msg.nonce_index, msg.cookie, msg.keygen_token)
        if isinstance(msg, mh.BindingError):
            assert layer.status == 2 and layer.ha == "2001:db8:0:3::3"
        assert bytes(layer) == data


# -- tshark -----------------------------------------------------------------

TSHARK = shutil.which("tshark") or ("/usr/bin/tshark" if Path("/usr/bin/tshark").exists()
                                    else None)


def _ipv6(src: bytes, dst: bytes, payload: bytes) -> bytes:
    return struct.pack("!IHBB", 6 << 28, len(payload), mh.MH_PROTOCOL, 64) + src + dst + payload


def _pcap(packets: list[bytes]) -> bytes:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)  # LINKTYPE_RAW
    for i, p in enumerate(packets):
        out += struct.pack("<IIII", i, 0, len(p), len(p)) + p
    return out


@pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
def test_tshark_dissects_every_message(tmp_path: Path) -> None:
    assert TSHARK is not None
    path = tmp_path / "mh.pcap"
    path.write_bytes(_pcap([_ipv6(SRC, DST, m.to_bytes(SRC, DST)) for m in CASES]))
    out = subprocess.run(
        [TSHARK, "-r", str(path), "-T", "fields", "-E", "separator=|",
         "-e", "mip6.mhtype", "-e", "_ws.malformed", "-e", "_ws.expert.severity",
         "-e", "mip6.bu.seqnr", "-e", "mip6.ni.hni", "-e", "mip6.nemo.mnp.pfl",
         "-e", "mip6.bad.auth", "-e", "mip6.nemo.bu.r_flag",
         "-e", "mip6.ba.k_flag", "-e", "mip6.nemo.ba.r_flag", "-e", "mip6.ba.seqnr"],
        capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    assert len(out) == len(CASES)
    for line, msg in zip(out, CASES, strict=True):
        mtype, malformed, severity, seq, hni, pfl, bad, rflag, bak, bar, baseq = line.split("|")
        assert mtype == str(int(msg.mh_type)) and not malformed and not severity, line
        if msg is CASES[5]:
            assert seq == "42" and hni == "3" and bad.replace(":", "") == AUTH.hex()
        if msg is CASES[6]:
            assert pfl == "48" and rflag in ("1", "True")
        if msg is CASES[8]:
            assert bak in ("1", "True") and bar in ("1", "True") and baseq == "10000"


def test_status_registries_match_rfc_6275_and_3963() -> None:
    # RFC 6275 §6.1.8 lists 0, 1, 128-139 and 174 (Invalid Care-of Address);
    # RFC 3963 §4.2 adds 140-143. §6.1.9: Binding Error status 1 and 2.
    assert sorted(int(s) for s in mh.BAStatus) == [0, 1, *range(128, 144), 174]
    assert mh.BAStatus(174).name == "INVALID_CARE_OF_ADDRESS"
    assert not mh.BindingAcknowledgement(status=174, sequence=1, lifetime=0).accepted
    assert sorted(int(s) for s in mh.BEStatus) == [1, 2]
