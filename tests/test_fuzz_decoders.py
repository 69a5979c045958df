"""Every entry point that takes bytes from the wire, fed random bytes and
mutations of valid input (bit flips, truncations, extensions, overwrites):
the only exceptions allowed out are :class:`secmob.errors.SecmobError`."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _ike_peers import counter_rng, peers
from _wire_strategies import ipv4_packets, ipv6_packets
from hypothesis import given
from hypothesis import strategies as st
from test_engine import pair, udp4, udp6
from test_rr import CN, COA, HOA, handshake

from secmob import vectors
from secmob._buffer import Reader
from secmob.algorithms import DH_GROUPS, ENCRYPTION, INTEGRITY
from secmob.errors import (
    DecodeError,
    IntegrityError,
    ReplayError,
    SecmobError,
    UnknownSPI,
    VectorFileError,
)
from secmob.ike.ikev1_cipher import MessageCipher
from secmob.ike.ikev1_peers import negotiate
from secmob.ipsec import ah, esp
from secmob.ipsec.sad import Direction, Mode, Protocol, SecurityAssociation
from secmob.wire import isakmp, l4, mobility, mobility_options, options, pcap, skim
from secmob.wire.ah_mutable import ah_icv_input
from secmob.wire.checksum import internet_checksum
from secmob.wire.ipv4 import IPv4Packet
from secmob.wire.ipv6 import IPv6Packet, decode_chain

# -- mutations -----------------------------------------------------------------


@st.composite
def mutation_of(draw: Callable[..., Any], valid: bytes) -> bytes:
    """``valid`` after one to four bit flips, overwrites, cuts or extensions."""
    out = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "truncate", "extend", "insert", "delete"]))
        pos = draw(st.integers(0, max(len(out) - 1, 0)))
        if kind == "flip" and out:
            out[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and out:
            out[pos] = draw(st.sampled_from([0x00, 0xFF, 0x01, 0x80, 0x7F, 0x04, 0x06]))
        elif kind == "truncate":
            del out[pos:]
        elif kind == "extend":
            out += draw(st.binary(min_size=1, max_size=24))
        elif kind == "insert":
            out[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete" and out:
            del out[pos:pos + draw(st.integers(1, 8))]
    return bytes(out)


def wire_input(valid: st.SearchStrategy[bytes], max_size: int = 200) -> st.SearchStrategy[bytes]:
    """Random bytes, or a mutation of a valid encoding drawn from ``valid``."""
    return st.one_of(st.binary(max_size=max_size), valid.flatmap(mutation_of))


def only_secmob(fn: Callable[[], object]) -> None:
    """Run ``fn``; any exception other than a SecmobError fails the test."""
    with contextlib.suppress(SecmobError):
        fn()


def refused_before_authentication(fn: Callable[[], object]) -> bool:
    """Whether ``fn`` refused its packet before authenticating it (anything but a
    SecmobError fails the test). Such a refusal must leave no trace."""
    try:
        fn()
    except (IntegrityError, ReplayError, UnknownSPI):
        return True
    except DecodeError as exc:
        return exc.header in ("ESP", "AH")
    except SecmobError:
        return False
    return False


def refused_by(fn: Callable[[], object]) -> bool:
    """Whether ``fn`` raised a SecmobError (anything else fails the test)."""
    try:
        fn()
    except SecmobError:
        return True
    return False


# -- IP, extension headers, transport ------------------------------------------

ipv6_bytes = ipv6_packets().map(lambda p: p.to_bytes())
ipv4_bytes = ipv4_packets().map(lambda p: p.to_bytes())
ip_bytes = st.one_of(ipv6_bytes, ipv4_bytes)


@given(wire_input(ipv6_bytes), st.booleans())
def test_ipv6_parse(data: bytes, upper: bool) -> None:
    def run() -> None:
        pkt = IPv6Packet.parse(data, decode_upper=upper)
        pkt.verify_checksum()

    only_secmob(run)
    only_secmob(lambda: decode_chain(Reader(data, "IPv6"), 0, (6, 17, 58)))


@given(wire_input(ipv4_bytes), st.booleans())
def test_ipv4_parse(data: bytes, upper: bool) -> None:
    only_secmob(lambda: IPv4Packet.parse(data, decode_upper=upper))


segment_bytes = st.one_of(
    ipv6_bytes.map(lambda b: b[40:]), st.binary(min_size=8, max_size=60))


@given(wire_input(segment_bytes), st.sampled_from([6, 17, 58, 1, 135, 51, 50, 99]))
def test_l4_decoders(data: bytes, protocol: int) -> None:
    for cls in (l4.UDP, l4.TCP, l4.ICMPV6, l4.ICMP):
        only_secmob(lambda cls=cls: cls.parse(data).verify_checksum(bytes(16), bytes(16)))
    only_secmob(lambda: l4.decode_segment(protocol, Reader(data, "segment"), (6, 17, 58, 1)))


@given(wire_input(ip_bytes))
def test_skim(data: bytes) -> None:
    only_secmob(lambda: skim.skim(data))


@given(wire_input(ip_bytes), st.booleans())
def test_ah_icv_input(data: bytes, swap: bool) -> None:
    only_secmob(lambda: ah_icv_input(data, swap_home_address=swap))


@given(wire_input(st.binary(max_size=40).map(lambda b: b"\x01\x04" + b[:4] + b"\xc9\x10"
                                             + bytes(16))))
def test_ipv6_option_decoder(data: bytes) -> None:
    only_secmob(lambda: options.decode_options(Reader(data, "options")))


# -- Mobility Header -----------------------------------------------------------

def _mobility_samples() -> list[bytes]:
    cn, mn = handshake()
    bu = mn.binding_update(sequence=10, lifetime=100, now=1)
    ok = cn.verify_binding_update(bu, home_address=HOA, source_address=COA, now=2)
    ba = cn.acknowledge(ok, status=0, lifetime=100)
    hoti, coti = mn.start()
    return [bu, ba, hoti.to_bytes(), coti.to_bytes(),
            cn.home_test(hoti, HOA, 0).to_bytes(), cn.care_of_test(coti, COA, 0).to_bytes()]


MOBILITY = _mobility_samples()
mobility_bytes = st.sampled_from(MOBILITY)


@given(wire_input(mobility_bytes))
def test_mobility_header_decoders(data: bytes) -> None:
    only_secmob(lambda: mobility.decode(data))
    only_secmob(lambda: mobility.decode_prefix(data))
    only_secmob(lambda: mobility.verify_checksum(HOA, CN, data))
    only_secmob(lambda: mobility.mh_checksum(HOA, CN, data))
    only_secmob(lambda: mobility.authenticated_data(data))
    only_secmob(lambda: internet_checksum(data))
    only_secmob(lambda: mobility_options.decode_options(Reader(data, "options", 6)))


@given(wire_input(mobility_bytes))
def test_rr_verification(data: bytes) -> None:
    cn, mn = handshake()
    only_secmob(lambda: cn.verify_binding_update(data, home_address=HOA, source_address=COA,
                                                 now=2))
    mn.binding_update(sequence=10, lifetime=100, now=1)
    only_secmob(lambda: mn.verify_acknowledgement(data, now=3))

    def home_test() -> None:
        msg = mobility.decode(data)
        if isinstance(msg, mobility.HomeTest):
            mn.receive(msg, 1)

    only_secmob(home_test)


# -- ISAKMP, IKEv1 sessions, pcap ----------------------------------------------

IKE_MESSAGES = negotiate(*peers()).messages
ike_bytes = st.sampled_from(IKE_MESSAGES)


@given(wire_input(ike_bytes, 300), st.integers(0, 255), st.booleans())
def test_isakmp_decoders(data: bytes, first: int, padded: bool) -> None:
    only_secmob(lambda: isakmp.Message.parse(data))
    only_secmob(lambda: isakmp.Header.parse(data))
    only_secmob(lambda: isakmp.parse_payloads(data, first, padded=padded))
    only_secmob(lambda: isakmp.parse_payloads(data, first, 0, padded=padded))


@given(st.integers(0, len(IKE_MESSAGES) - 1), st.data())
def test_ikev1_session_receive(which: int, draw: st.DataObject) -> None:
    """The message a session waits for, mutated, or any other message of the exchange
    (mutated or not) arriving out of turn; a refused one leaves the session unchanged."""
    i, r = peers()
    assert i.start() == IKE_MESSAGES[0]
    turn = r
    for n in range(which):
        out = turn.receive(IKE_MESSAGES[n])
        assert out.message is not None or n == len(IKE_MESSAGES) - 1
        turn = i if turn is r else r
    data = draw.draw(st.one_of(wire_input(st.just(IKE_MESSAGES[which]), 300),
                               ike_bytes, ike_bytes.flatmap(mutation_of)))
    if refused_by(lambda: turn.receive(data)) and which < len(IKE_MESSAGES) - 1:
        assert turn.receive(IKE_MESSAGES[which]).message == IKE_MESSAGES[which + 1]


@given(st.sampled_from(["ENCR_DES", "ENCR_3DES", "ENCR_AES_CBC"]), st.binary(max_size=70))
def test_ikev1_message_cipher_decrypt(name: str, data: bytes) -> None:
    cipher = ENCRYPTION.get(name)
    mc = MessageCipher(cipher, bytes(range(cipher.key_sizes[0])), bytes(cipher.block_size))
    only_secmob(lambda: mc.decrypt(data))


pcap_bytes = st.lists(ip_bytes, max_size=3).map(
    lambda pkts: pcap.pcap_bytes([pcap.PcapRecord(i, 0, p) for i, p in enumerate(pkts)]))


@given(wire_input(pcap_bytes, 120))
def test_pcap_reader(data: bytes) -> None:
    only_secmob(lambda: pcap.read_pcap(data))


# -- ESP, AH, the engine -------------------------------------------------------

ESP_SUITES = [("aes128gcm16", None), ("aes128", "sha1"), ("3des", "md5"), ("null", "sha256"),
              ("aes128ctr", "sha512"), ("chacha20poly1305", None), ("aes128ccm12", None),
              ("aes128gmac", None), ("aes128", "aesxcbc")]


def _engine_samples() -> list[tuple[str, str | None, str | None, bytes]]:
    out = []
    for cipher, integrity in ESP_SUITES:
        sender, _ = pair(cipher, integrity)
        packet = sender.outbound(udp6(), now=0).packet
        assert packet is not None
        out.append((cipher, integrity, None, packet))
    for cipher, integrity, ah_alg in ((None, None, "sha1"), (None, None, "sha256"),
                                      (None, None, "aesxcbc"), (None, None, "aes128gmac"),
                                      ("aes128", "sha1", "sha256"),
                                      ("aes128gcm16", None, "sha1")):
        sender, _ = pair(cipher, integrity, ah=ah_alg)
        packet = sender.outbound(udp6(), now=0).packet
        assert packet is not None
        out.append((cipher or "", integrity, ah_alg, packet))
    sender, _ = pair("aes128", "sha1", mode=Mode.TUNNEL, tunnel=("192.0.2.9", "192.0.2.8"),
                     a="192.0.2.1", b="192.0.2.2")
    packet = sender.outbound(udp4(), now=0).packet
    assert packet is not None
    out.append(("aes128", "sha1", "tunnel4", packet))
    return out


ENGINE = _engine_samples()


@given(st.integers(0, len(ENGINE) - 1), st.data())
def test_engine_inbound(which: int, draw: st.DataObject) -> None:
    cipher, integrity, ah_alg, packet = ENGINE[which]
    if ah_alg == "tunnel4":
        _, receiver = pair(cipher, integrity, mode=Mode.TUNNEL,
                           tunnel=("192.0.2.9", "192.0.2.8"), a="192.0.2.1", b="192.0.2.2")
    else:
        _, receiver = pair(cipher or None, integrity, ah=ah_alg)
    data = draw.draw(wire_input(st.just(packet), 120))
    only_secmob(lambda: pair(cipher or None, integrity, ah=ah_alg)[0].outbound(data, now=0))
    if refused_before_authentication(lambda: receiver.inbound(data, now=0)):
        receiver.inbound(packet, now=0)  # nothing was lost: the genuine packet still passes


def _sa(spi: int, protocol: Protocol, cipher: str | None, integrity: str | None,
        esn: bool, direction: Direction = Direction.INBOUND) -> SecurityAssociation:
    kw: dict[str, Any] = {}
    if cipher is not None:
        choice = ENCRYPTION.choose(cipher)
        size = choice.key_size or choice.algorithm.key_sizes[-1]
        kw.update(cipher=choice.algorithm,
                  cipher_key=bytes(range(choice.algorithm.keymat_size(size))))
    if integrity is not None:
        ia = INTEGRITY.get(integrity)
        kw.update(integrity=ia, integrity_key=bytes(range(50, 50 + ia.key_size)))
    return SecurityAssociation(spi, protocol, direction=direction, esn=esn, **kw)


@given(st.sampled_from(ESP_SUITES), st.booleans(), st.data())
def test_esp_unprotect(suite: tuple[str, str | None], esn: bool, draw: st.DataObject) -> None:
    sa = _sa(0x1001, Protocol.ESP, *suite, esn)
    sender = _sa(0x1001, Protocol.ESP, *suite, esn, Direction.OUTBOUND)
    valid = esp.protect(sender, 17, b"payload", now=0, rng=bytes)
    data = draw.draw(wire_input(st.just(valid), 100))
    if refused_before_authentication(lambda: esp.unprotect(sa, data, now=0)):
        esp.unprotect(sa, valid, now=0)


@given(st.sampled_from(["sha1", "sha256", "md5", "aesxcbc", "aes128gmac", "sha512"]),
       st.booleans(), st.booleans(), st.data())
def test_ah_unprotect(integrity: str, esn: bool, ipv6: bool, draw: st.DataObject) -> None:
    sa = _sa(0x2002, Protocol.AH, None, integrity, esn)
    sender = _sa(0x2002, Protocol.AH, None, integrity, esn, Direction.OUTBOUND)
    valid = ah.protect(sender, 17, b"", b"after", now=0, ipv6=ipv6) + b"after"
    data = draw.draw(wire_input(st.just(valid), 100))
    if refused_before_authentication(lambda: ah.unprotect(sa, b"", data, now=0, ipv6=ipv6)):
        ah.unprotect(sa, b"", valid, now=0, ipv6=ipv6)


# -- algorithms with peer data -------------------------------------------------

GROUPS = ["toy", "MODP_768", "MODP_1024_160", "ECP_256", "ECP_521", "Curve25519"]


@given(st.sampled_from(GROUPS), st.data())
def test_dh_peer_values(name: str, draw: st.DataObject) -> None:
    group = DH_GROUPS.get(name)
    private, public = group.keypair(counter_rng(name.encode()))
    data = draw.draw(st.one_of(
        st.binary(max_size=group.public_size + 4),
        st.binary(min_size=group.public_size, max_size=group.public_size),
        mutation_of(public)))
    only_secmob(lambda: group.validate(data))
    only_secmob(lambda: group.shared(private, data))
    only_secmob(lambda: group.new(private).shared(data))


CIPHERS = [e.name for e in ENCRYPTION]
INTEGRITIES = [e.name for e in INTEGRITY]


@given(st.sampled_from(CIPHERS), st.binary(max_size=24), st.binary(max_size=70),
       st.binary(max_size=12))
def test_cipher_open(name: str, iv: bytes, data: bytes, aad: bytes) -> None:
    alg = ENCRYPTION.get(name)
    ctx = alg.new(bytes(range(alg.keymat_size(alg.key_sizes[0]))))
    only_secmob(lambda: ctx.open(iv, data, aad))


@given(st.sampled_from(INTEGRITIES), st.binary(max_size=70), st.binary(max_size=40),
       st.binary(max_size=12))
def test_integrity_verify(name: str, data: bytes, icv: bytes, iv: bytes) -> None:
    alg = INTEGRITY.get(name)
    ctx = alg.new(bytes(range(alg.key_size)))
    only_secmob(lambda: ctx.verify(data, icv, iv))


# -- vector files --------------------------------------------------------------

STORED = vectors.stored_files()
json_leaf = (st.none() | st.booleans() | st.integers(-5, 2**70) | st.text(max_size=10)
             | st.sampled_from(["", "00", "0", "zz", "aabb", "AABB", "ffffffffffffffff"]))
json_value = (json_leaf | st.lists(json_leaf, max_size=3)
              | st.dictionaries(st.text(max_size=6), json_leaf, max_size=3)
              | st.lists(st.dictionaries(st.text(max_size=6), json_leaf, max_size=3), max_size=2))


@given(st.sampled_from(STORED), st.data())
def test_vector_file_loader(path: Path, draw: st.DataObject) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    case = draw.draw(st.sampled_from(doc["cases"]))
    doc["cases"] = [case]
    for _ in range(draw.draw(st.integers(1, 2))):
        target = case if draw.draw(st.booleans()) or not doc.get("defaults") else doc["defaults"]
        keys = sorted(set(target) - {"id", "source", "expected", "error"}) or sorted(target)
        key = draw.draw(st.sampled_from(keys))
        value = target.get(key)
        if isinstance(value, str) and draw.draw(st.booleans()):
            target[key] = draw.draw(st.sampled_from(
                [value[:-1], value[:-2], value + "00", value[2:], "", value.upper()]))
        else:
            target[key] = draw.draw(json_value)
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "case.json"
        file.write_text(json.dumps(doc), encoding="utf-8")

        def run() -> None:
            for c in vectors.load_file(file):
                vectors.run_case(c)

        only_secmob(run)


@given(st.binary(max_size=60))
def test_vector_file_loader_random_bytes(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "case.json"
        file.write_bytes(raw)
        only_secmob(lambda: vectors.load_file(file))


def _stored_case(family_dir: str, case_id: str) -> dict[str, Any]:
    for path in STORED:
        if path.parent.name == family_dir:
            doc = json.loads(path.read_text(encoding="utf-8"))
            for case in doc["cases"]:
                if case["id"] == case_id:
                    return {**doc, "cases": [case]}
    raise LookupError(case_id)


@pytest.mark.parametrize(("family_dir", "case_id", "field", "value"), [
    ("binding", "invalid-prefix", "updates", None),
    ("binding", "invalid-prefix", "updates", ["x"]),
    ("binding", "invalid-prefix", "updates", [{"sequence": "1"}]),
    ("binding", "invalid-prefix", "cache", {"authorized": {"zz": ["00/1"]}}),
    ("binding", "invalid-prefix", "cache", {"authorized": {"00": ["00"]}}),
    ("binding", "invalid-prefix", "cache", {"capacity": "many"}),
    ("binding", "invalid-prefix", "cache", [["a"]]),
    ("rr", "nonces-fresh", "nonces", ["zz"]),
    ("rr", "nonces-fresh", "nonces", []),
    ("rr", "nonces-fresh", "created", 5),
    ("rr", "nonces-fresh", "created", [""]),
    ("rr", "nonces-fresh", "care_of_nonce_index", [1]),
    ("ikev1-kdf", "sp800-135-ikev1-dsa-sha1-example", "auth", "dsa0"),
    ("ikev1-kdf", "sp800-135-ikev1-dsa-sha1-example", "auth", True),
])
def test_vector_file_with_wrong_field_types_raises_vector_file_error(
        tmp_path: Path, family_dir: str, case_id: str, field: str, value: Any) -> None:
    doc = _stored_case(family_dir, case_id)
    doc["cases"][0][field] = value
    file = tmp_path / "case.json"
    file.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(VectorFileError, match=field if field != "cache" else "'"):
        for case in vectors.load_file(file):
            vectors.run_case(case)


def test_mutation_strategy_changes_input() -> None:
    """The mutations above do change the bytes (the fuzz tests would be idle otherwise)."""
    seen: set[bytes] = set()

    @given(mutation_of(b"0123456789"))
    def collect(data: bytes) -> None:
        seen.add(data)

    collect()
    assert len(seen - {b"0123456789"}) > 5
    with pytest.raises(IndexError):
        only_secmob(lambda: [0].pop(3))
