"""The correspondent node's offset-read path for Binding Updates of the common
shape gives the same answers, events, binding cache and nonce state as the
general path (RFC 6275 §9.5.1 checks in order, statuses 135-138, the 420 s
lifetime cap, silent discards).

Every case runs the same packets through two correspondent nodes made from
the same random source: one as it is, one whose offset-read path always
declines, so that it decides everything through ``parse``, the decoded
message and ``verify_binding_update``. After each packet the answers (or the
error raised), the events and the whole state are compared, and each case
says whether the offset-read path took the packet."""

from __future__ import annotations

import hashlib
import hmac
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secmob.errors import SecmobError, UsageError
from secmob.mip6 import packets, rr
from secmob.mip6.binding import BindingCache
from secmob.mip6.cn import CorrespondentNode
from secmob.mip6.rr_crypto import _ACK_OPTIONS, _sign_acknowledgement, _sign_draft
from secmob.trace import Recorder
from secmob.wire import mobility as mh
from secmob.wire.mobility_options import (
    AlternateCareOfAddress,
    BindingAuthorizationData,
    MobilityOption,
    NonceIndices,
    Pad1,
    PadN,
)
from tests._mip6_nodes import CN, COA, COA2, HOA, addr, rng

HOA2 = addr("2001:db8:1::20")


def state(cn: CorrespondentNode) -> tuple[object, ...]:
    """Everything a Binding Update can change at a correspondent node."""
    c = cn.cache
    nonces = cn.rr.nonces
    return (list(c), dict(c._entries), dict(c._in_use), set(c._asked),
            {k: list(v) for k, v in c._buckets.items()}, sorted(c._deadlines),
            c.next_deadline(), list(cn.events), list(cn.inbox),
            [(n.index, n.value, n.created, n.kcn) for n in nonces._nonces.values()],
            nonces.kcn)


def outcome(cn: CorrespondentNode, packet: bytes, now: float) -> object:
    try:
        return cn.receive(packet, now)
    except SecmobError as exc:
        return type(exc), str(exc)


class Twins:
    """Two correspondent nodes fed the same packets: ``fast`` as it is,
    ``general`` with the offset-read path turned off."""

    def __init__(self, cache: dict[str, object] | None = None) -> None:
        def make() -> CorrespondentNode:
            kw = {} if cache is None else {"cache": BindingCache(**cache)}  # type: ignore[arg-type]
            return CorrespondentNode(CN, rng("cn"), refresh_advance=10, **kw)

        self.fast, self.general = make(), make()
        self.general._quick_binding_update = lambda packet, now: None  # type: ignore[method-assign]
        self.taken: list[bool] = []
        quick = self.fast._quick_binding_update

        def spy(packet: bytes, now: float) -> list[bytes] | None:
            out = quick(packet, now)
            self.taken.append(out is not None)
            return out

        self.fast._quick_binding_update = spy  # type: ignore[method-assign]

    def send(self, packet: bytes, now: float, *, quick: bool | None = None) -> object:
        """``packet`` to both; same outcome and state. ``quick``: whether the
        offset-read path must (True) or must not (False) have answered it."""
        self.taken.clear()
        got = outcome(self.fast, packet, now)
        want = outcome(self.general, packet, now)
        assert got == want
        assert state(self.fast) == state(self.general)
        if quick is not None:
            assert self.taken == [quick]
        return got

    def run_rr(self, mn: rr.MobileNode, *, home_at: float = 0, care_at: float = 0,
               home_from: bytes = HOA) -> None:
        hoti, coti = mn.start()
        first = [(home_at, home_from, hoti, "home"), (care_at, mn.care_of_address, coti, "care")]
        answers = {}
        for at, src, msg, which in sorted(first, key=lambda x: x[0]):
            [answers[which]] = self.send(packets.mobility_packet(src, CN, msg), at)  # type: ignore[misc]
        for which, at in (("home", home_at), ("care", care_at)):
            msg = packets.parse(answers[which]).mobility()
            assert isinstance(msg, mh.HomeTest)
            mn.receive(msg, at)

    def kbm(self, home: bytes, care_of: bytes, indices: tuple[int, int], now: float, *,
            dereg: bool = False) -> bytes:
        """Kbm as plain hmac/hashlib compute it from the node's nonces."""
        table = self.general.rr.nonces
        h, c = table.lookup(indices[0], now), table.lookup(indices[1], now)
        assert h is not None and c is not None
        home_token = hmac.digest(h.kcn, home + h.value + b"\0", "sha1")[:8]
        if dereg:
            return hashlib.sha1(home_token).digest()
        care_token = hmac.digest(c.kcn, care_of + c.value + b"\1", "sha1")[:8]
        return hashlib.sha1(home_token + care_token).digest()


def bu_packet(mn: rr.MobileNode, seq: int, lifetime: int, *, ack: bool = True,
              now: float = 1, home: bytes = HOA) -> bytes:
    bu = mn.binding_update(seq, lifetime, now, ack=ack)
    return packets.mobility_packet(mn.care_of_address, CN, bu, home_address=home)


def signed(options: tuple[MobilityOption, ...], kbm: bytes, signer: bytes, *, seq: int,
           lifetime: int, flags: int = mh.BU_A, home: bytes = HOA, proto: int = 59,
           reserved: int = 0) -> bytes:
    """A Binding Update with exactly ``options`` then Binding Authorization
    Data, signed with plain hmac (§6.2.7) and checksummed over ``home``."""
    bu = mh.BindingUpdate(sequence=seq, lifetime=lifetime, ack=bool(flags & mh.BU_A),
                          home_registration=bool(flags & mh.BU_H),
                          link_local_compat=bool(flags & mh.BU_L),
                          key_management=bool(flags & mh.BU_K),
                          mobile_router=bool(flags & mh.BU_R),
                          flags_reserved=flags & 0x03FF, payload_proto=proto, reserved=reserved,
                          options=(*options, BindingAuthorizationData(bytes(12))))
    raw = bu.to_bytes()
    tag = hmac.digest(kbm, signer + CN + raw[:4] + b"\0\0" + raw[6:-12], "sha1")[:12]
    body = raw[:-12] + tag
    return with_checksum(body, home)


def with_checksum(message: bytes, home: bytes, destination: bytes = CN) -> bytes:
    ck = mh.mh_checksum(home, destination, message)
    return message[:4] + ck.to_bytes(2, "big") + message[6:]


def ipv6_with_dstopts(src: bytes, area: bytes, message: bytes) -> bytes:
    """IPv6 ``src -> CN`` with a Destination Options header whose options
    area is ``area``, then ``message`` (Next Header 135)."""
    assert (2 + len(area)) % 8 == 0
    body = bytes((mh.MH_PROTOCOL, (2 + len(area)) // 8 - 1)) + area + message
    return struct.pack("!IHBB", 0x60000000, len(body), 60, 64) + src + CN + body


def hao(home: bytes = HOA) -> bytes:
    return bytes((201, 16)) + home


def registered(**cache: object) -> tuple[Twins, rr.MobileNode]:
    t = Twins(cache or None)
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    t.run_rr(mn)
    t.send(bu_packet(mn, 100, 100), 1, quick=True)
    return t, mn


# -- the shape the offset-read path takes ----------------------------------------


@pytest.mark.parametrize("ack", [True, False])
def test_accepted_updates_with_and_without_the_a_flag(ack: bool) -> None:
    t = Twins()
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    t.run_rr(mn)
    for seq in (1, 2, 3, 30000, 60000, 7000):  # the last after wrapping
        out = t.send(bu_packet(mn, seq, 100, ack=ack), 1 + seq / 1000, quick=True)
        assert isinstance(out, list) and len(out) == (1 if ack else 0)
    assert t.fast.events[-1].kind == "accepted" and t.fast.events[-1].status == 0
    entry = t.fast.cache.lookup(HOA, 10)
    assert entry is not None and entry.sequence == 7000 and entry.care_of_address == COA


def test_an_acknowledgement_from_the_offset_path_verifies_at_the_mobile_node() -> None:
    t, mn = registered()
    [ba] = t.send(bu_packet(mn, 101, 1000), 2, quick=True)  # type: ignore[misc]
    msg = mn.verify_acknowledgement(packets.parse(ba).payload, 2)
    assert (msg.status, msg.sequence, msg.lifetime) == (0, 101, 105)  # capped, §9.5.1
    a = packets.parse(ba)
    assert a.src == CN and a.dst == COA and a.routed_to == HOA
    assert t.fast.events[-1].detail == ("binding 2001:db8:1::10 -> 2001:db8:2::10, "
                                        "sequence 101, lifetime 105")


@pytest.mark.parametrize("lifetime", [1, 105, 106, 0xFFFF])
def test_lifetime_cap(lifetime: int) -> None:
    t, mn = registered()
    t.send(bu_packet(mn, 101, lifetime), 2, quick=True)
    entry = t.fast.cache.lookup(HOA, 2)
    assert entry is not None and entry.lifetime == min(lifetime, 105)


@pytest.mark.parametrize("ack", [True, False])
def test_deregistration_with_and_without_a_binding(ack: bool) -> None:
    t = Twins()
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    t.run_rr(mn)
    t.send(bu_packet(mn, 1, 0, ack=ack), 1, quick=True)  # nothing to delete
    t.send(bu_packet(mn, 2, 100, ack=ack), 1, quick=True)
    t.send(bu_packet(mn, 3, 0, ack=ack), 2, quick=True)
    assert len(t.fast.cache) == 0
    assert t.fast.events[-1].detail.endswith("sequence 3, deleted")


def test_sequence_numbers_wrap() -> None:
    t = Twins()
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    t.run_rr(mn)
    for seq in (0xFFFE, 0xFFFF, 0, 1):
        t.send(bu_packet(mn, seq, 100), 1, quick=True)


def test_a_mobile_node_at_home_gets_no_routing_header() -> None:
    t = Twins()
    mn = rr.MobileNode(HOA, HOA, CN, rng("mn"))
    t.run_rr(mn)
    [ba] = t.send(bu_packet(mn, 1, 100), 1, quick=True)  # type: ignore[misc]
    assert packets.parse(ba).routed_to is None
    t.send(bu_packet(mn, 2, 0), 1, quick=True)


def test_an_expired_binding_is_replaced() -> None:
    t, mn = registered()
    t.send(bu_packet(mn, 101, 1), 2, quick=True)  # expires at 6
    t.send(bu_packet(mn, 102, 100), 7, quick=True)
    t.send(bu_packet(mn, 50, 100), 8, quick=False)  # 135: the binding of 102 is live


def test_a_binding_in_use_near_expiry_is_refreshed_by_the_update() -> None:
    t, mn = registered()
    t.send(bu_packet(mn, 101, 3), 2, quick=True)  # expires at 14
    data = packets.build(COA, CN, b"payload", protocol=17, home_address=HOA)
    t.send(data, 8)  # a lookup within refresh_advance notes the binding in use
    assert t.fast.cache._in_use
    t.send(bu_packet(mn, 102, 100), 9, quick=True)
    assert not t.fast.cache._in_use
    assert t.fast.tick(10) == t.general.tick(10) == []


def test_flag_bits_other_than_h_are_kept_or_ignored_alike() -> None:
    t, mn = registered()
    indices = (mn.indices[0], mn.indices[1])
    kbm = t.kbm(HOA, COA, indices, 2)
    for seq, flags in enumerate((mh.BU_A | mh.BU_L | mh.BU_K, mh.BU_R, mh.BU_A | mh.BU_R,
                                 mh.BU_A | 0x0301, 0x0080), start=200):
        msg = signed((NonceIndices(*indices),), kbm, COA, seq=seq, lifetime=50, flags=flags,
                     proto=mh.IPPROTO_NONE, reserved=0xFF)
        t.send(packets.build(COA, CN, msg, protocol=135, home_address=HOA), 2, quick=True)
        entry = t.fast.cache.lookup(HOA, 2)
        assert entry is not None and entry.flags == (flags >> 8) & 0xB0


# -- refused and discarded updates: the offset path declines, same results ------


def test_stale_sequence_gets_a_signed_135() -> None:
    t, mn = registered()
    for seq in (100, 99, 100 + 0x8000):
        [ba] = t.send(bu_packet(mn, seq, 100), 2, quick=False)  # type: ignore[misc]
        msg = mn.verify_acknowledgement(packets.parse(ba).payload, 2)
        assert (msg.status, msg.sequence) == (135, 100)


@pytest.mark.parametrize(("home_at", "care_at", "status"), [
    (0, 100, 136), (100, 0, 137), (0, 0, 138)])
def test_expired_nonce_indices(home_at: float, care_at: float, status: int) -> None:
    t = Twins()
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    t.run_rr(mn, home_at=home_at, care_at=care_at)
    now = max(home_at, care_at) + 1
    t.send(bu_packet(mn, 1, 100, now=now), 250 if status != 138 else 260, quick=False)
    assert t.fast.events[-1].status == status


def test_bad_checksum_and_bad_authenticator_are_discarded() -> None:
    t, mn = registered()
    good = bu_packet(mn, 101, 100)
    bad_checksum = bytearray(good)
    bad_checksum[69] ^= 1
    t.send(bytes(bad_checksum), 2, quick=False)
    assert t.fast.events[-1].kind == "discarded" and "checksum" in t.fast.events[-1].detail
    forged = bytearray(good)
    forged[95] ^= 1
    forged[64:] = with_checksum(bytes(forged[64:]), HOA)
    t.send(bytes(forged), 2, quick=False)
    assert "Authenticator" in t.fast.events[-1].detail
    t.send(good, 3, quick=True)


@pytest.mark.parametrize("home_agent", [False, True])
def test_home_registration_gets_131(home_agent: bool) -> None:
    t = Twins({"home_agent": home_agent})  # a home agent's cache takes H registrations
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    t.run_rr(mn)
    kbm = t.kbm(HOA, COA, (mn.indices[0], mn.indices[1]), 2)
    msg = signed((NonceIndices(*mn.indices),), kbm, COA, seq=101, lifetime=10,
                 flags=mh.BU_A | mh.BU_H)
    t.send(packets.build(COA, CN, msg, protocol=135, home_address=HOA), 2, quick=False)
    assert t.fast.events[-1].status == 131 and len(t.fast.cache) == 0


@pytest.mark.parametrize(("at", "kind"), [(76, 0x30), (82, 0x30), (77, 5), (83, 11)])
def test_options_that_only_look_like_the_shape(at: int, kind: int) -> None:
    # An unknown option (or a wrong length) where Nonce Indices or Binding
    # Authorization Data stands, with a valid checksum and an Authenticator
    # computed over the changed octets: the general path finds the option
    # missing or malformed and discards the update.
    t, mn = registered()
    pkt = bytearray(bu_packet(mn, 101, 100))
    pkt[at] = kind
    message = bytes(pkt[64:])
    kbm = t.kbm(HOA, COA, (mn.indices[0], mn.indices[1]), 2)
    tag = hmac.digest(kbm, COA + CN + message[:4] + b"\0\0" + message[6:-12], "sha1")[:12]
    pkt[64:] = with_checksum(message[:-12] + tag, HOA)
    t.send(bytes(pkt), 2, quick=False)
    assert t.fast.events[-1].kind == "discarded" and len(t.fast.cache) == 1


@pytest.mark.parametrize("home", [addr("ff02::1"), addr("fe80::1"), bytes(16)])
def test_home_addresses_that_are_not_unicast_routable_are_discarded(home: bytes) -> None:
    t = Twins()
    mn = rr.MobileNode(home, COA, CN, rng("mn"))  # tokens for that address: it authenticates
    t.run_rr(mn, home_from=home)
    t.send(bu_packet(mn, 1, 100, home=home), 2, quick=False)
    assert t.fast.events[-1].kind == "discarded" and len(t.fast.cache) == 0
    assert "unicast routable" in t.fast.events[-1].detail


def test_a_full_cache_refuses_with_130_and_a_home_registration_with_139() -> None:
    t, mn = registered(capacity=1, home_agent=True)
    other = rr.MobileNode(HOA2, COA2, CN, rng("other"))
    t.run_rr(other, home_from=HOA2)
    t.send(bu_packet(other, 1, 100, home=HOA2), 2, quick=False)
    assert t.fast.events[-1].status == 130
    delete = mh.BindingUpdate(sequence=101, lifetime=0)
    home_reg = mh.BindingUpdate(sequence=102, lifetime=10, home_registration=True)
    for cn in (t.fast, t.general):
        cn.cache.update(delete, home_address=HOA, care_of_address=COA, now=3)
        cn.cache.update(home_reg, home_address=HOA, care_of_address=COA, now=3)
    t.send(bu_packet(mn, 103, 100), 3, quick=False)  # the H flag differs
    assert t.fast.events[-1].status == 139


@pytest.mark.parametrize("area", [
    bytes((1, 2, 0xAB, 0xCD)) + hao(),            # PadN with non-zero octets
    bytes(4) + hao(),                             # four Pad1
    hao() + bytes((1, 2, 0, 0)),                  # the option first, padding after
    bytes((1, 2, 0, 0)) + hao() + bytes((1, 6)) + bytes(6),  # a longer header
    bytes((1, 2, 0, 0)) + hao() + bytes((1, 4)) + bytes(4) + hao(COA2),  # two options
])
def test_other_destination_option_layouts(area: bytes) -> None:
    t, mn = registered()
    message = packets.parse(bu_packet(mn, 101, 100)).payload
    t.send(ipv6_with_dstopts(COA, area, message), 2, quick=False)
    assert t.fast.events[-1].kind == "accepted"


def test_other_mobility_option_layouts() -> None:
    t = Twins()
    mn = rr.MobileNode(HOA, COA2, CN, rng("mn"))  # tokens for COA2, sent from COA
    t.run_rr(mn)
    indices = (mn.indices[0], mn.indices[1])
    kbm = t.kbm(HOA, COA2, indices, 1)
    layouts: list[tuple[bytes, tuple[MobilityOption, ...]]] = [
        (COA2, (Pad1(), Pad1(), NonceIndices(*indices), PadN(bytes(4)))),
        (COA, (NonceIndices(*indices), AlternateCareOfAddress(COA2), PadN(bytes(4)))),
        (COA, (AlternateCareOfAddress(COA2), PadN(b""), NonceIndices(*indices),
               PadN(bytes(2)))),
    ]
    for seq, (src, options) in enumerate(layouts, start=1):
        raw = signed(options, kbm, COA2, seq=seq, lifetime=60)
        t.send(packets.build(src, CN, raw, protocol=135, home_address=HOA), 1, quick=False)
    assert [e.kind for e in t.fast.events[-3:]] == ["accepted"] * 3
    # The offset shape from COA2 itself, with the Alternate Care-of Address absent.
    t.send(packets.mobility_packet(COA2, CN, mn.binding_update(10, 60, 1), home_address=HOA),
           1, quick=True)


def test_routing_header_trailing_octets_and_truncation() -> None:
    t, mn = registered()
    bu = mn.binding_update(101, 100, 1)
    t.send(packets.mobility_packet(COA, CN, bu, home_address=HOA, routing_to=CN), 2,
           quick=False)
    good = bu_packet(mn, 102, 100)
    longer = bytearray(good + b"\0" * 8)
    longer[4:6] = (len(longer) - 40).to_bytes(2, "big")
    t.send(bytes(longer), 2, quick=False)
    assert isinstance(t.send(good[:-1], 2, quick=False), tuple)  # DecodeError raised
    t.send(good, 2, quick=True)


def test_a_node_with_a_tracer_takes_the_general_path_with_the_same_results() -> None:
    t = Twins()
    traced = CorrespondentNode(CN, rng("cn"), refresh_advance=10, tracer=Recorder())
    mn = rr.MobileNode(HOA, COA, CN, rng("mn"))
    hoti, coti = mn.start()
    for src, msg, at in ((HOA, hoti, 0), (COA, coti, 0)):
        pkt = packets.mobility_packet(src, CN, msg)
        [answer] = t.send(pkt, at)  # type: ignore[misc]
        assert traced.receive(pkt, at) == [answer]
        test = packets.parse(answer).mobility()
        assert isinstance(test, mh.HomeTest)
        mn.receive(test, at)
    for seq, lifetime, ack in ((1, 100, True), (2, 100, False), (3, 0, True)):
        pkt = bu_packet(mn, seq, lifetime, ack=ack)
        assert traced.receive(pkt, 1) == t.send(pkt, 1, quick=True)
        assert traced.events[-1] == t.fast.events[-1]
        assert list(traced.cache) == list(t.fast.cache)
    assert isinstance(traced.tracer, Recorder) and traced.tracer.steps


@given(st.lists(st.tuples(st.integers(0, 95), st.integers(0, 255)), min_size=1, max_size=3),
       st.booleans())
def test_mutated_updates_give_the_same_results(edits: list[tuple[int, int]],
                                               fix_checksum: bool) -> None:
    t, mn = registered()
    pkt = bytearray(bu_packet(mn, 101, 100, ack=edits[0][1] % 2 == 0))
    for at, value in edits:
        pkt[at] = value
    if fix_checksum and len(pkt) == 96:
        pkt[64:] = with_checksum(bytes(pkt[64:]), bytes(pkt[48:64]), bytes(pkt[24:40]))
    t.send(bytes(pkt), 2)
    t.send(bu_packet(mn, 102, 100), 2)  # both still agree afterwards


# -- the pieces shared by both paths ----------------------------------------------


@pytest.mark.parametrize(("status", "sequence", "lifetime"), [
    (0, 0, 0), (0, 0xFFFF, 105), (135, 1234, 0), (139, 7, 0xFFFF), (255, 0x8000, 1)])
def test_the_acknowledgement_template_is_the_encoded_message(status: int, sequence: int,
                                                             lifetime: int) -> None:
    kbm, coa = bytes(range(20)), COA
    draft = mh.BindingAcknowledgement(status=status, sequence=sequence, lifetime=lifetime,
                                      options=_ACK_OPTIONS)
    want = _sign_draft(draft, kbm, coa, CN, CN, HOA, None)[1]
    assert _sign_acknowledgement(kbm, coa, CN, HOA, status, sequence, lifetime, None) == want
    tag = hmac.digest(kbm, coa + CN + want[:4] + b"\0\0" + want[6:-12], "sha1")[:12]
    assert want[-12:] == tag


def test_acknowledge_checks_its_fields_as_before() -> None:
    t, mn = registered()
    nonce_ok = t.fast.rr.verify_binding_update(mn.binding_update(200, 10, 2),
                                               home_address=HOA, source_address=COA, now=2)
    with pytest.raises(UsageError, match="Lifetime must fit in 16 bits"):
        t.fast.rr.acknowledge(nonce_ok, 0, 0x10000)
    with pytest.raises(UsageError, match="Status must fit in 8 bits"):
        t.fast.rr.acknowledge(nonce_ok, 256, 1)


def test_register_checks_field_ranges() -> None:
    cache = BindingCache()
    with pytest.raises(UsageError):
        cache.register(HOA, COA, 0x10000, 0, 1, 0)
    with pytest.raises(UsageError):
        cache.register(HOA[:8], COA, 1, 0, 1, 0)
    assert cache.register(HOA, COA, 1, mh.BU_A, 200, 0)[0] == 105
