"""Binding cache, NEMO prefix routing and the binding update list
(RFC 6275 §9.1, §9.5.1, §11.1, §11.8; RFC 3963 §6)."""

from __future__ import annotations

import ipaddress
import itertools
import random
from pathlib import Path

import pytest

from secmob import vectors
from secmob.errors import BindingError, UsageError
from secmob.mip6.binding import BindingCache, refusal, sequence_greater
from secmob.mip6.update_list import BindingUpdateList
from secmob.wire import mobility as mh
from secmob.wire.mobility_options import MobileNetworkPrefix


def ip(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


HOA, HOA2 = ip("2001:db8:1::10"), ip("2001:db8:1::20")
COA, COA2 = ip("2001:db8:2::10"), ip("2001:db8:3::10")
CN = ip("2001:db8:4::1")


def bu(seq: int, lifetime: int = 100, **kw: object) -> mh.BindingUpdate:
    return mh.BindingUpdate(sequence=seq, lifetime=lifetime, ack=True, **kw)  # type: ignore[arg-type]


def test_sequence_comparison_modulo_2_16() -> None:
    assert sequence_greater(42767, 10000) and not sequence_greater(42768, 10000)
    assert sequence_greater(0, 65535) and not sequence_greater(65535, 0)
    assert not sequence_greater(5, 5)


def test_behaviour_vectors_10000_then_42767_and_42768() -> None:
    cache = BindingCache()
    cache.update(bu(10000), home_address=HOA, care_of_address=COA, now=0)
    acc = cache.update(bu(42767), home_address=HOA, care_of_address=COA2, now=1)
    assert acc.entry is not None and acc.entry.care_of_address == COA2
    other = BindingCache()
    other.update(bu(10000), home_address=HOA, care_of_address=COA, now=0)
    with pytest.raises(BindingError) as exc:
        other.update(bu(42768), home_address=HOA, care_of_address=COA2, now=1)
    assert exc.value.status == 135 and exc.value.expected_sequence == 10000
    ba = refusal(bu(42768), exc.value)
    assert (ba.status, ba.sequence) == (135, 10000)
    assert other.lookup(HOA, 2).care_of_address == COA  # type: ignore[union-attr]


def test_stored_binding_vectors() -> None:
    path = Path(__file__).resolve().parent.parent / "vectors" / "binding" / "rfc6275-behaviour.json"
    results = list(vectors.run_files([path]))
    assert len(results) >= 15 and all(r.ok for r in results), [r for r in results if not r.ok]


@pytest.mark.parametrize(("config", "updates", "status"), [
    ({"capacity": 1}, [(HOA, bu(1)), (HOA2, bu(1))], 130),
    ({}, [(HOA, bu(1, home_registration=True))], 131),
    ({"home_agent": True}, [(HOA, bu(1, 0, home_registration=True))], 133),
    ({}, [(HOA, bu(1)), (HOA, bu(1))], 135),
    ({"home_agent": True}, [(HOA, bu(1)), (HOA, bu(2, home_registration=True))], 139),
    ({"home_agent": True}, [(HOA, bu(1, mobile_router=True, home_registration=True))], 140),
])
def test_each_status_from_its_cause(config: dict[str, object],
                                    updates: list[tuple[bytes, mh.BindingUpdate]],
                                    status: int) -> None:
    cache = BindingCache(**config)  # type: ignore[arg-type]
    *first, last = updates
    for home, u in first:
        cache.update(u, home_address=home, care_of_address=COA, now=0)
    with pytest.raises(BindingError) as exc:
        cache.update(last[1], home_address=last[0], care_of_address=COA, now=0)
    assert exc.value.status == status


def test_rfc6275_section_9_5_1_checks_come_before_home_agent_ones() -> None:
    # §10.3.1: a Binding Update is first validated as §9.5.1 says (sequence
    # number 135, registration type change 139), then the home agent tests
    # (131). A correspondent with a binding answers an H=1 update with 139.
    cache = BindingCache()
    cache.update(bu(5), home_address=HOA, care_of_address=COA, now=0)
    for update, status in ((bu(6, home_registration=True), 139),
                           (bu(5, home_registration=True), 135)):
        with pytest.raises(BindingError) as exc:
            cache.update(update, home_address=HOA, care_of_address=COA, now=1)
        assert exc.value.status == status


def nemo_home_agent() -> BindingCache:
    return BindingCache(home_agent=True, mobile_routers=True,
                        authorized_prefixes={HOA: [(ip("2001:db8:aa::"), 48)]})


def test_mobile_router_flag_without_home_registration() -> None:
    # RFC 3963 §6.2: "The Home Registration (H) Flag MUST be set. If it is
    # not, the Home Agent MUST reject the Binding Update" with status 140.
    with pytest.raises(BindingError) as exc:
        nemo_home_agent().update(bu(1, mobile_router=True), home_address=HOA,
                                 care_of_address=COA, now=0)
    assert exc.value.status == 140
    # To a node without NEMO support the R bit is a Reserved bit, which "MUST
    # be ignored by the receiver" (RFC 6275 §6.1.7).
    acc = BindingCache().update(bu(1, mobile_router=True), home_address=HOA,
                                care_of_address=COA, now=0)
    assert acc.entry is not None and not acc.entry.mobile_router


def test_mobile_router_flag_change_is_a_registration_type_change() -> None:
    # RFC 3963 §6.2: an R flag different from the existing entry's gives 139,
    # except in a deregistration, which ignores R.
    for first, second in ((False, True), (True, False)):
        cache = nemo_home_agent()
        cache.update(bu(1, home_registration=True, mobile_router=first), home_address=HOA,
                     care_of_address=COA, now=0)
        with pytest.raises(BindingError) as exc:
            cache.update(bu(2, home_registration=True, mobile_router=second),
                         home_address=HOA, care_of_address=COA, now=1)
        assert exc.value.status == 139
        gone = cache.update(bu(3, 0, home_registration=True, mobile_router=second),
                            home_address=HOA, care_of_address=COA, now=2)
        assert gone.entry is None and len(cache) == 0


def test_mobile_router_care_of_equal_to_home_deletes() -> None:
    # RFC 3963 §6.2 keeps the RFC 3775 rule for mobile routers: "If the
    # Lifetime specified in the Binding Update is 0 or the specified Care-of
    # address matches the Home Address ... this is a request to delete".
    cache = nemo_home_agent()
    cache.update(bu(1, home_registration=True, mobile_router=True), home_address=HOA,
                 care_of_address=COA, now=0)
    gone = cache.update(bu(2, home_registration=True, mobile_router=True),
                        home_address=HOA, care_of_address=HOA, now=1)
    assert gone.entry is None and len(cache) == 0 and cache.prefixes(HOA) == []


def test_lifetime_expiry_and_timers() -> None:
    cache = BindingCache(refresh_advance=10)
    acc = cache.update(bu(1, 25), home_address=HOA, care_of_address=COA, now=0)
    assert acc.lifetime == 25 and acc.entry is not None and acc.entry.expires == 100.0
    assert cache.next_deadline() == 100
    assert cache.lookup(HOA, 50) == acc.entry
    assert cache.poll(99).expired == []
    assert cache.lookup(HOA, 100) is None  # expired even before the timer runs
    assert cache.poll(100).expired == [acc.entry] and len(cache) == 0
    assert cache.next_deadline() is None


def test_refresh_request_for_bindings_in_use_near_expiry() -> None:
    cache = BindingCache(refresh_advance=10)
    cache.update(bu(1, 25), home_address=HOA, care_of_address=COA, now=0)
    cache.update(bu(1, 25), home_address=HOA2, care_of_address=COA, now=0)
    cache.lookup(HOA, 80)  # used, not yet near expiry
    assert cache.poll(85).refresh == []
    cache.lookup(HOA, 91)
    assert cache.next_deadline() == 91
    refresh = cache.poll(92).refresh
    assert [e.home_address for e in refresh] == [HOA]
    cache.lookup(HOA, 93)
    assert cache.poll(94).refresh == []  # asked once
    cache.update(bu(2, 25), home_address=HOA, care_of_address=COA, now=95)  # refreshed
    assert cache.lookup(HOA, 96) is not None and cache.poll(96).refresh == []
    assert [e.home_address for e in cache.poll(100).expired] == [HOA2]


def test_deregistration_and_correspondent_lifetime_cap() -> None:
    cache = BindingCache()
    acc = cache.update(bu(1, 5000), home_address=HOA, care_of_address=COA, now=0)
    assert acc.lifetime == 105 and acc.acknowledgement().lifetime == 105
    gone = cache.update(bu(2, 0), home_address=HOA, care_of_address=COA, now=1)
    assert gone.entry is None and cache.lookup(HOA, 1) is None
    cache.update(bu(3), home_address=HOA, care_of_address=COA, now=2)
    gone = cache.update(bu(4, 0), home_address=HOA, care_of_address=HOA, now=3)
    assert gone.entry is None and len(cache) == 0


def test_only_lifetime_zero_deletes() -> None:
    # RFC 6275 §6.1.7: "The deletion of a binding MUST be indicated by setting
    # the Lifetime field to 0"; §9.5.1: a non-zero Lifetime is a request to
    # cache a binding. (RFC 3775 also read a care-of address equal to the home
    # address as a deletion; RFC 6275 dropped that rule.)
    cache = BindingCache()
    acc = cache.update(bu(1, 10), home_address=HOA, care_of_address=HOA, now=0)
    assert acc.entry is not None and acc.lifetime == 10
    assert cache.lookup(HOA, 1) == acc.entry


def test_entries_are_compact_records() -> None:
    cache = BindingCache(home_agent=True)
    acc = cache.update(bu(7, 10, home_registration=True, key_management=True),
                       home_address=HOA, care_of_address=COA, now=5)
    e = acc.entry
    assert e is not None
    assert (e.home_address, e.care_of_address, e.sequence, e.lifetime) == (HOA, COA, 7, 10)
    assert e.home_registration and not e.mobile_router and e.flags & 0x10
    assert e.remaining(15) == 30 and "2001:db8:1::10 -> 2001:db8:2::10" in repr(e)
    assert len(bytes(e)) == 45 and not hasattr(e, "__dict__")


def nemo_cache() -> BindingCache:
    pfx48 = (ip("2001:db8:aa::"), 48)
    pfx56 = (ip("2001:db8:aa:bb00::"), 56)
    return BindingCache(home_agent=True, mobile_routers=True,
                        authorized_prefixes={HOA: [pfx48], HOA2: [pfx56]})


def test_nemo_longest_prefix_match() -> None:
    cache = nemo_cache()
    cache.update(bu(1, 10, home_registration=True, mobile_router=True,
                    options=(MobileNetworkPrefix(48, ip("2001:db8:aa::")),)),
                 home_address=HOA, care_of_address=COA, now=0)
    cache.update(bu(1, 20, home_registration=True, mobile_router=True),  # implicit mode
                 home_address=HOA2, care_of_address=COA2, now=0)
    assert cache.prefixes(HOA2) == [(ip("2001:db8:aa:bb00::"), 56)]
    assert cache.route(ip("2001:db8:aa:bb12::1"), 1).care_of_address == COA2  # type: ignore[union-attr]
    assert cache.route(ip("2001:db8:aa:cc00::1"), 1).care_of_address == COA  # type: ignore[union-attr]
    assert cache.route(HOA, 1).care_of_address == COA  # type: ignore[union-attr]
    assert cache.route(ip("2001:db8:ab::1"), 1) is None
    cache.poll(40)  # the first mobile router's binding expires
    assert cache.route(ip("2001:db8:aa:cc00::1"), 41) is None
    assert cache.route(ip("2001:db8:aa:bb12::1"), 41) is not None
    with pytest.raises(BindingError) as exc:  # prefix of another mobile router
        cache.update(bu(2, 20, home_registration=True, mobile_router=True,
                        options=(MobileNetworkPrefix(56, ip("2001:db8:aa:bb00::")),)),
                     home_address=HOA, care_of_address=COA, now=42)
    assert exc.value.status == 142


def test_nemo_lookup_over_many_prefixes_matches_a_linear_scan() -> None:
    rnd = random.Random(5)
    cache = BindingCache(home_agent=True, mobile_routers=True)
    nets = []
    for i in range(300):
        n = rnd.choice([32, 40, 48, 56, 64])
        net = ipaddress.IPv6Network((rnd.getrandbits(128) >> (128 - n) << (128 - n), n))
        if any(net == o for o, _ in nets):
            continue
        home = ip(f"2001:db8:ffff::{i + 1:x}")
        cache.update(bu(1, 100, home_registration=True, mobile_router=True,
                        options=(MobileNetworkPrefix(n, net.network_address.packed),)),
                     home_address=home, care_of_address=COA, now=0)
        nets.append((net, home))
    for _ in range(300):
        net, _ = rnd.choice(nets)
        host = rnd.getrandbits(128 - net.prefixlen)
        addr = ipaddress.IPv6Address(int(net.network_address) | host)
        best = max((n for n in nets if addr in n[0]), key=lambda n: n[0].prefixlen)
        got = cache.route(addr.packed, 1)
        assert got is not None and got.home_address == best[1]


# -- binding update list -----------------------------------------------------

def test_retransmission_doubles_to_max_and_sequence_grows() -> None:
    bul = BindingUpdateList(first_sequence=100)
    bul.update(CN, HOA, COA, 100, now=0)
    sent = bul.poll(0)
    assert [(t.sequence, t.retransmission) for t in sent] == [(100, False)]
    times, t = [0.0], 0.0
    for _ in range(8):
        t = bul.next_deadline(t)  # type: ignore[assignment]
        out = bul.poll(t)
        assert len(out) == 1 and out[0].retransmission
        times.append(t)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == [1, 2, 4, 8, 16, 32, 32, 32]
    assert bul.get(CN, HOA).sequence == 108  # type: ignore[union-attr]


def test_first_home_registration_timeout_and_acknowledgement() -> None:
    bul = BindingUpdateList()
    bul.update(CN, HOA, COA, 100, now=0, home_registration=True)
    (tx,) = bul.poll(0)
    assert tx.home_registration and tx.ack and bul.next_deadline(0) == 1.5
    stale = mh.BindingAcknowledgement(status=0, sequence=tx.sequence + 1, lifetime=100)
    assert bul.acknowledge(CN, HOA, stale, 0.5) is None
    ok = mh.BindingAcknowledgement(status=0, sequence=tx.sequence, lifetime=50)
    e = bul.acknowledge(CN, HOA, ok, 1)
    # RFC 6275 §11.7.3: the granted lifetime counts down "beginning at the time
    # that the Binding Update was sent" (0 here), not when the ack arrived.
    assert e is not None and e.expires == 200 and e.status == 0
    assert bul.next_deadline(1) == pytest.approx(200 * 0.9)  # refresh before expiry
    bul.update(CN, HOA, COA2, 100, now=2, home_registration=True)
    bul.poll(2)
    assert bul.next_deadline(2) == 3  # not the first registration any more


def test_status_135_resynchronises_the_sequence() -> None:
    bul = BindingUpdateList(first_sequence=5)
    bul.update(CN, HOA, COA, 100, now=0)
    bul.poll(0)
    ba = mh.BindingAcknowledgement(status=135, sequence=40000, lifetime=0)
    assert bul.acknowledge(CN, HOA, ba, 0.1) is not None
    (tx,) = bul.poll(0.1)
    assert tx.sequence == 40001 and not tx.retransmission


def test_refusal_stops_retransmission_and_deregistration_removes() -> None:
    bul = BindingUpdateList()
    bul.update(CN, HOA, COA, 100, now=0)
    (tx,) = bul.poll(0)
    bul.acknowledge(CN, HOA, mh.BindingAcknowledgement(status=129, sequence=tx.sequence,
                                                       lifetime=0), 0.2)
    assert bul.next_deadline(0.2) is None and bul.get(CN, HOA).status == 129  # type: ignore[union-attr]
    bul.update(CN, HOA, HOA, 0, now=1)
    (tx,) = bul.poll(1)
    bul.acknowledge(CN, HOA, mh.BindingAcknowledgement(status=0, sequence=tx.sequence,
                                                       lifetime=0), 1.1)
    assert len(bul) == 0


def test_rate_limit_three_per_second_per_peer() -> None:
    bul = BindingUpdateList()
    for k in range(4):
        bul.update(CN, ip(f"2001:db8:1::{k + 1}"), COA, 10, now=0)
    bul.update(HOA, HOA2, COA, 10, now=0)  # another peer is not limited
    assert len(bul.poll(0)) == 4
    assert bul.next_deadline(0.5) == 1.0
    assert bul.poll(0.5) == []
    late = bul.poll(1.0)
    assert [t.home_address for t in late][:1] == [ip("2001:db8:1::4")]


def test_update_list_transmission_builds_a_binding_update() -> None:
    bul = BindingUpdateList()
    bul.update(CN, HOA, COA, 30, now=0, home_registration=True)
    (tx,) = bul.poll(0)
    msg = tx.message()
    assert msg.home_registration and msg.ack and msg.lifetime == 30
    assert mh.decode(msg.to_bytes()) == msg
    with pytest.raises(UsageError):
        bul.update(CN, HOA, COA, 1 << 16, now=0)
    with pytest.raises(UsageError):
        BindingUpdateList(initial_timeout=0)
