"""Fast paths compared with their general paths on adversarial input.

* The correspondent node's offset-read Binding Update path (RFC 6275 §9.5.1)
  against the general parser, on updates of the quick shape whose fields are
  changed and then re-signed and re-checksummed, so that they reach every
  check past the Authenticator.
* The SPD index (RFC 4301 §4.4.1) against the ordered scan, on random SPDs
  with OPAQUE and ANY in every field, many-range selectors and edits that
  force the sort keys to be renumbered.
* CBC decryption on a long-lived context (NIST SP 800-38A §6.2) against a
  fresh pycryptodome context per packet, interleaved, on bytearray and
  memoryview inputs and after refused inputs.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import pickle
import random

import pytest
from Crypto.Cipher import AES, DES3
from hypothesis import given
from hypothesis import strategies as st

from secmob.algorithms import ENCRYPTION
from secmob.errors import DecodeError, SecmobError
from secmob.ipsec.selectors import ANY, OPAQUE, Direction, Selector, Traffic
from secmob.ipsec.spd import SPD, Action, Entry
from secmob.mip6 import packets, rr
from secmob.mip6.cn import CorrespondentNode
from secmob.wire import mobility as mh
from tests._mip6_nodes import CN, COA, HOA, addr, rng
from tests.test_cn_fast_path import Twins, bu_packet, registered, with_checksum
from tests.test_spd_index import V4, V6, address_selectors, selectors

# -- correspondent node: re-signed mutations of the quick shape ---------------------


def resign(t: Twins, pkt: bytearray, now: float) -> bytes:
    """``pkt`` (96 octets, quick shape) with an Authenticator under the Kbm the
    node would derive from its fields, when its nonce indices are known, and
    the Mobility Header checksum over its home and destination addresses."""
    src, dst, home = bytes(pkt[8:24]), bytes(pkt[24:40]), bytes(pkt[48:64])
    dereg = pkt[74:76] == b"\0\0"
    table = t.general.rr.nonces
    h = table.lookup(pkt[78] << 8 | pkt[79], now)
    c = table.lookup(pkt[80] << 8 | pkt[81], now)
    if h is not None and (dereg or c is not None):
        token = hmac.digest(h.kcn, home + h.value + b"\0", "sha1")[:8]
        if not dereg:
            assert c is not None
            token += hmac.digest(c.kcn, src + c.value + b"\1", "sha1")[:8]
        kbm = hashlib.sha1(token).digest()
        signer = home if dereg else src
        message = bytes(pkt[64:])
        pkt[84:96] = hmac.digest(kbm, signer + CN + message[:4] + b"\0\0" + message[6:-12],
                                 "sha1")[:12]
    pkt[64:] = with_checksum(bytes(pkt[64:]), home, dst)
    return bytes(pkt)


_ADDRESSES = [addr("ff02::1"), addr("fe80::1"), bytes(16), addr("::1"), HOA, COA, CN,
              addr("::ffff:10.0.0.1"), addr("2001:db8:9::9")]
# Offsets that may change and still authenticate: the IPv6 header, the
# addresses, the MH Payload Proto and Reserved, Sequence #, flags, Lifetime.
_EDITS = st.one_of(
    st.tuples(st.sampled_from([0, 1, 2, 3, 7, 64, 67, 72, 73]), st.integers(0, 255)),
    st.tuples(st.sampled_from([70, 71, 74, 75]), st.sampled_from([0, 1, 0x7F, 0x80, 0xFF])),
    st.tuples(st.sampled_from([-8, -24, -48]), st.integers(0, len(_ADDRESSES) - 1)),
)


def _apply(pkt: bytearray, edits: list[tuple[int, int]]) -> None:
    for at, value in edits:
        if at < 0:  # an address field replaced: source, destination or home
            pkt[-at:-at + 16] = _ADDRESSES[value]
        else:
            pkt[at] = value


@pytest.mark.parametrize("prior", ["registered", "fresh", "full", "expired", "near expiry",
                                   "mobile routers"])
@given(edits=st.lists(_EDITS, min_size=1, max_size=4))
def test_resigned_mutations_of_the_quick_shape(prior: str,
                                               edits: list[tuple[int, int]]) -> None:
    cache = {"full": {"capacity": 1}, "mobile routers": {"mobile_routers": True,
                                                        "home_agent": True}}.get(prior, {})
    t, mn = registered(**cache)
    # the binding of 100 units made at 1 ends at 401; refresh_advance is 10
    now = {"expired": 500.0, "near expiry": 395.0}.get(prior, 2.0)
    if prior == "fresh":
        t.send(bu_packet(mn, 101, 0), 2)  # deleted: no binding left
    if now > 2:  # the nonces do not last as long as the binding: new ones
        t.run_rr(mn, home_at=now, care_at=now)
    pkt = bytearray(bu_packet(mn, 102, 100, now=now))
    _apply(pkt, edits)
    t.send(resign(t, pkt, now), now)
    t.send(resign(t, bytearray(bu_packet(mn, 0x8000, 50, now=now)), now), now)


@pytest.mark.parametrize(("last", "new"), [(0xFFFF, 0), (0xFFFF, 0x7FFF), (0xFFFF, 0x8000),
                                          (0x8000, 0), (0x7FFF, 0xFFFF), (5, 5), (5, 4)])
def test_sequence_numbers_around_the_wrap(last: int, new: int) -> None:
    t = Twins()
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    t.run_rr(mn)
    t.send(bu_packet(mn, last, 100), 1, quick=True)
    t.send(bu_packet(mn, new, 100), 2)
    t.send(bu_packet(mn, new, 0), 3)


def test_checksum_written_as_0xffff_where_0_is_computed() -> None:
    # The one's complement zero has two forms; both paths accept exactly the
    # computed form (verify_checksum). Sequence numbers are searched so that
    # the computed checksum is 0, then the field is sent as 0x0000 and 0xFFFF.
    t = Twins()
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    t.run_rr(mn)
    found = 0
    for seq in range(1, 0x10000):
        pkt = bytearray(resign(t, bytearray(bu_packet(mn, seq, 100)), 1))
        if pkt[68:70] == b"\0\0":
            found += 1
            t.send(bytes(pkt), 1, quick=True)
            pkt[68:70] = b"\xff\xff"
            t.send(bytes(pkt), 1, quick=False)
            if found == 2:
                break
    assert found == 2


# -- SPD: indexed lookup against the ordered scan ---------------------------------


@st.composite
def wide_selectors(draw: st.DrawFn) -> Selector:
    """Selectors the index places at coarse levels or in both families:
    ANY/ANY with OPAQUE, ICMP or MH selectors; many unaligned ranges; wide ranges."""
    kind = draw(st.sampled_from(["anyany", "many", "wide"]))
    if kind == "anyany":
        proto = draw(st.sampled_from([ANY, OPAQUE, 1, 58, 135, 6]))
        kw: dict[str, object] = {}
        if proto in (1, 58):
            kw["icmp_type"] = draw(st.sampled_from([ANY, OPAQUE, 0, 3]))
            if isinstance(kw["icmp_type"], int):
                kw["icmp_code"] = draw(st.sampled_from([ANY, OPAQUE, 1, (0, 2)]))
        elif proto == 135:
            kw["local_mh_type"] = draw(st.sampled_from([ANY, OPAQUE, 5]))
            kw["remote_mh_type"] = draw(st.sampled_from([ANY, OPAQUE, 6]))
        elif proto == 6:
            kw["local_port"] = draw(st.sampled_from([ANY, OPAQUE, 3, (2, 7)]))
        return Selector.make(ANY, ANY, proto, **kw)  # type: ignore[arg-type]
    version = draw(st.sampled_from([4, 6]))
    base = V4 if version == 4 else V6
    make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    if kind == "many":  # more than MAX_BLOCKS small ranges: a coarser level, tested
        starts = draw(st.lists(st.integers(0, 2000), min_size=9, max_size=14, unique=True))
        local: object = [f"{make(base + s)}-{make(base + s + draw(st.integers(0, 3)))}"
                         for s in starts]
    else:
        lo = base + draw(st.integers(0, 300))
        local = f"{make(lo)}-{make(lo + draw(st.integers(255, 1 << 20)))}"
    return Selector.make(local, draw(address_selectors(version)))


@st.composite
def packets_for(draw: st.DrawFn, version: int) -> Traffic:
    base = V4 if version == 4 else V6
    make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address

    def address() -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return make(base + draw(st.sampled_from([0, 1, 5, 7, 255, 256, 600, 1000, 2001,
                                                 2004, 1 << 20, draw(st.integers(0, 3000))])))

    proto = draw(st.sampled_from([OPAQUE, 1, 6, 17, 50, 58, 135]))
    small = st.one_of(st.just(OPAQUE), st.integers(0, 10))
    return Traffic(address(), address(), proto, draw(small), draw(small),
                   draw(small), draw(small), draw(small))


@given(entries=st.lists(st.one_of(selectors(), wide_selectors()), min_size=1, max_size=10),
       edits=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=4),
       data=st.data())
def test_lookup_is_the_ordered_scan_after_edits(entries: list[Selector],
                                                edits: list[tuple[int, int]],
                                                data: st.DataObject) -> None:
    spd = SPD()
    for n, sel in enumerate(entries):
        spd.append(Entry(sel, Action.BYPASS if n % 2 else Action.DISCARD,
                         directions=data.draw(st.sampled_from([Direction.OUTBOUND,
                                                               Direction.INBOUND, None]))
                         or (Direction.OUTBOUND, Direction.INBOUND)))
    traffic = [data.draw(packets_for(v)) for v in (4, 6) for _ in range(8)]

    def agree() -> None:
        for d in (Direction.OUTBOUND, Direction.INBOUND):
            for tr in traffic:
                assert spd.lookup(d, tr) is spd.lookup_naive(d, tr), (d, tr)

    agree()
    for a, b in edits:  # move entry a to position b (a reorder is remove then insert)
        if not len(spd):
            break
        e = spd[a % len(spd)]
        spd.remove(e)
        agree()
        spd.insert(b % (len(spd) + 1), e)
        agree()


def test_lookup_after_the_keys_are_renumbered(monkeypatch: pytest.MonkeyPatch) -> None:
    # Inserting again and again at the same place halves the gap until the
    # keys are renumbered (and every group's floor recomputed).
    spd = SPD()
    renumbered = []
    renumber = spd._renumber
    monkeypatch.setattr(spd, "_renumber", lambda: renumbered.append(renumber()))
    last = spd.append(Entry(Selector.make(), Action.DISCARD))
    catch = spd.insert(0, Entry(Selector.make("10.0.0.0/8", ANY), Action.BYPASS))
    made = []
    for n in range(40):
        sel = Selector.make(f"10.0.{n}.0/24", ANY, 6 if n % 2 else ANY)
        made.append(spd.insert(1, Entry(sel, Action.DISCARD)))
        spd.insert(0, Entry(Selector.make(f"10.0.{n}.9", ANY, 17), Action.BYPASS))
    assert renumbered
    spd.remove(catch)
    for n in range(40):
        for proto in (6, 17, 50):
            t = Traffic(f"10.0.{n}.9", "192.0.2.1", proto)
            for d in (Direction.OUTBOUND, Direction.INBOUND):
                assert spd.lookup(d, t) is spd.lookup_naive(d, t)
    assert spd.lookup(Direction.OUTBOUND, Traffic("10.0.3.1", "1.2.3.4", 6)) is made[3]
    assert spd.lookup(Direction.INBOUND, Traffic("11.0.0.1", "1.2.3.4", 6)) is last


# -- CBC on a long-lived context ----------------------------------------------------


def _reference(name: str, key: bytes, iv: bytes, ct: bytes) -> bytes:
    if name == "3des":
        return DES3.new(key, DES3.MODE_CBC, iv=iv).decrypt(ct)
    return AES.new(key, AES.MODE_CBC, iv=iv).decrypt(ct)


_CBC = [("aes-cbc", 16), ("aes-cbc", 24), ("aes-cbc", 32), ("3des", 24)]


@pytest.mark.parametrize(("name", "key_size"), _CBC)
@given(data=st.data())
def test_cbc_interleaved_packets_and_buffer_types(name: str, key_size: int,
                                                  data: st.DataObject) -> None:
    key = bytes.fromhex("0123456789abcdef23456789abcdef01456789abcdef0123")[:24] * 2
    key = key[:key_size]
    block = 8 if name == "3des" else 16
    sender, receiver = ENCRYPTION.get(name).new(key), ENCRYPTION.get(name).new(key)
    wrap = [bytes, bytearray, memoryview, lambda b: memoryview(bytearray(b))]
    for _ in range(4):
        iv = data.draw(st.binary(min_size=block, max_size=block))
        pt = data.draw(st.integers(0, 5).flatmap(
            lambda n: st.binary(min_size=block * n, max_size=block * n)))
        kind = data.draw(st.sampled_from(wrap))
        ct = sender.seal(kind(iv), kind(pt))
        assert ct == _reference_encrypt(name, key, iv, pt)
        # the same ciphertext twice, then a refused one, then it again
        assert receiver.open(kind(iv), kind(ct)) == pt == _reference(name, key, iv, ct)
        assert receiver.open(iv, ct) == pt
        if ct:
            with pytest.raises(DecodeError):
                receiver.open(iv, ct[:-1])
        with pytest.raises(SecmobError):
            receiver.open(iv[:-1], ct)
        assert receiver.open(kind(iv), kind(ct)) == pt


def _reference_encrypt(name: str, key: bytes, iv: bytes, pt: bytes) -> bytes:
    if name == "3des":
        return DES3.new(key, DES3.MODE_CBC, iv=iv).encrypt(pt)
    return AES.new(key, AES.MODE_CBC, iv=iv).encrypt(pt)


@pytest.mark.parametrize(("name", "key_size"), _CBC)
def test_cbc_nothing_of_the_previous_packet_reaches_the_next(name: str, key_size: int) -> None:
    key = bytes(range(1, 1 + key_size))
    block = 8 if name == "3des" else 16
    fresh = ENCRYPTION.get(name).new(key)
    used = ENCRYPTION.get(name).new(key)
    iv, ct = bytes(block), bytes(range(3 * block))
    for garbage in (b"\xff" * block * 4, bytes(block), bytes(range(block))):
        used.open(bytes(reversed(range(block))), garbage)
        assert used.open(iv, ct) == fresh.open(iv, ct) == _reference(name, key, iv, ct)


def test_more_ranges_than_max_blocks_in_one_block_can_be_added() -> None:
    # Nine separate hosts of one /24 (and of one /16, /8): the level is chosen
    # by distinct blocks, so the selector is indexed (at /24, tested) instead
    # of finding no level at all.
    hosts = [f"10.0.0.{2 * n}" for n in range(9)] + [f"10.{n}.7.1" for n in range(1, 10)]
    spd = SPD()
    sparse = spd.append(Entry(Selector.make(hosts[:9], ANY), Action.BYPASS))
    spread = spd.append(Entry(Selector.make(hosts[9:], ANY, 6), Action.BYPASS))
    last = spd.append(Entry(Selector.make(), Action.DISCARD))
    for d in (Direction.OUTBOUND, Direction.INBOUND):
        for n in range(20):
            for local in (f"10.0.0.{n}", f"10.{n}.7.1"):
                t = Traffic(local, "192.0.2.1", 6)
                assert spd.lookup(d, t) is spd.lookup_naive(d, t)
    assert spd.lookup(Direction.OUTBOUND, Traffic("10.0.0.4", "192.0.2.1", 6)) is sparse
    assert spd.lookup(Direction.OUTBOUND, Traffic("10.5.7.1", "192.0.2.1", 6)) is spread
    assert spd.lookup(Direction.OUTBOUND, Traffic("10.0.0.5", "192.0.2.1", 6)) is last


# -- HMAC-SHA1 of Return Routability written out --------------------------------


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
@pytest.mark.parametrize("key_length", [0, 20, 64, 65])
def test_rr_hmac_takes_the_key_types_hmac_takes(kind: type, key_length: int) -> None:
    key, care_of, message = bytes(range(7, 7 + key_length)), COA, b"MH Data" * 3
    want = hmac.digest(key, care_of + CN + message, "sha1")
    assert rr.authenticator(kind(key), care_of, CN, message) == want[:12]
    rr.verify_authenticator(kind(key), care_of, CN, message, want[:12])
    assert rr.hmac_sha1_under(kind(key))(message) == hmac.digest(key, message, "sha1")


def test_a_correspondent_with_nonces_pickles_as_before() -> None:
    # A node whose rng pickles could be saved and restored before its nonces
    # kept a keyed HMAC state; the restored node answers like the original.
    node = CorrespondentNode(CN, random.Random(7).randbytes)
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    for src, init in zip((HOA, COA), mn.start(), strict=True):
        [answer] = node.receive(packets.mobility_packet(src, CN, init), 0)
        test = packets.parse(answer).mobility()
        assert isinstance(test, mh.HomeTest | mh.CareOfTest)
        mn.receive(test, 0)
    restored = pickle.loads(pickle.dumps(node))
    pkt = bu_packet(mn, 1, 100)
    assert restored.receive(pkt, 1) == node.receive(pkt, 1)
    assert list(restored.cache) == list(node.cache) and restored.events == node.events
    nonce = node.rr.nonces.lookup(mn.indices[0], 1)
    assert nonce is not None and pickle.loads(pickle.dumps(nonce)) == nonce


def test_payload_proto_other_than_59_is_discarded() -> None:
    # RFC 6275 §9.2: a Mobility Header whose Payload Proto is not IPPROTO_NONE
    # is discarded, even when it is well signed and checksummed.
    t = Twins()
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    t.run_rr(mn)
    pkt = bytearray(bu_packet(mn, 1, 100))
    pkt[64] = 6
    assert t.send(resign(t, pkt, 1), 1, quick=False) == []
    assert t.general.events[-1].kind == "discarded"
    assert "Payload Proto is 6" in t.general.events[-1].detail
    assert len(t.general.cache) == 0
    pkt[64] = mh.IPPROTO_NONE  # the same update, well formed: accepted
    t.send(resign(t, pkt, 1), 1, quick=True)
    assert len(t.general.cache) == 1
