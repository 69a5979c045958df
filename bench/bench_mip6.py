"""Mobile IPv6 benchmarks: binding cache memory and lookups, NEMO prefix
routing, Return Routability authenticator verification, and a correspondent
node processing Binding Updates end to end.

Run from the repository root: ``PYTHONPATH=. python bench/bench_mip6.py``
(``--entries N`` to change the binding cache size, default 1,000,000).
Each figure is compared side by side with a plain-Python baseline in the same
run and printed as a ratio (baseline time / secmob time; 1.0 = as fast).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import hmac
import random
import time
import tracemalloc
from collections.abc import Callable

from secmob._rng import counter_rng
from secmob.mip6 import packets, rr
from secmob.mip6.binding import BindingCache
from secmob.mip6.cn import CorrespondentNode
from secmob.wire import mobility as mh
from secmob.wire.mobility_options import MobileNetworkPrefix

HOME_PREFIX = bytes.fromhex("20010db8000100000000")  # 2001:db8:1::/48 + 16 bits
CARE_PREFIX = bytes.fromhex("20010db8000200000000")


def best_of(fn: Callable[[], object], rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_cache(n: int) -> None:
    bu = mh.BindingUpdate(sequence=1, lifetime=0xFFFF, ack=True)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    cache = BindingCache(capacity=n, max_home_lifetime=0xFFFF)
    for i in range(n):
        tail = i.to_bytes(6, "big")
        cache.update(bu, home_address=HOME_PREFIX + tail, care_of_address=CARE_PREFIX + tail,
                     now=0.0)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    print(f"binding cache: {n:,} entries hold {used / 2**20:.1f} MiB "
          f"({used / n:.0f} octets each, home-address keys and records included)")

    rnd = random.Random(1)
    keys = [HOME_PREFIX + rnd.randrange(n).to_bytes(6, "big") for _ in range(min(n, 1_000_000))]
    raw = {e.home_address: e for e in cache}

    def raw_loop() -> None:
        get = raw.get
        for k in keys:
            get(k)

    def cache_loop() -> None:
        lookup = cache.lookup
        for k in keys:
            lookup(k, 1.0)

    t_raw, t_cache = best_of(raw_loop), best_of(cache_loop)
    print(f"binding cache lookup: {len(keys) / t_cache:,.0f}/s, dict.get {len(keys) / t_raw:,.0f}/s"
          f", ratio {t_raw / t_cache:.2f}x")


def bench_nemo(prefixes: int = 100_000, lookups: int = 200_000) -> None:
    rnd = random.Random(2)
    cache = BindingCache(capacity=prefixes, home_agent=True, mobile_routers=True)
    nets: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    while len(nets) < prefixes:
        plen = rnd.choice((40, 48, 56, 64))
        net = (0x20010DB8 << 96 | rnd.getrandbits(96)) >> (128 - plen) << (128 - plen)
        if (net, plen) in seen:
            continue
        seen.add((net, plen))
        i = len(nets)
        bu = mh.BindingUpdate(sequence=1, lifetime=1000, home_registration=True,
                              mobile_router=True,
                              options=(MobileNetworkPrefix(plen, net.to_bytes(16, "big")),))
        tail = i.to_bytes(6, "big")
        cache.update(bu, home_address=HOME_PREFIX + tail, care_of_address=CARE_PREFIX + tail,
                     now=0.0)
        nets.append((net, plen))
    dests = []
    for _ in range(lookups):
        net, plen = rnd.choice(nets)
        dests.append((net | rnd.getrandbits(128 - plen)).to_bytes(16, "big"))

    def route_loop() -> None:
        route = cache.route
        for d in dests:
            route(d, 1.0)

    t = best_of(route_loop)
    print(f"NEMO longest-prefix match over {prefixes:,} prefixes: {lookups / t:,.0f} lookups/s")


def bench_authenticator(count: int = 200_000) -> None:
    kbm, coa, cn = bytes(range(20)), bytes(16), bytes(range(16))
    bu = mh.BindingUpdate(sequence=1, lifetime=100, ack=True)
    _, wire = rr.sign_message(bu, kbm, coa, cn, coa, cn)
    data = mh.authenticated_data(wire)
    tag = wire[-12:]

    def raw_loop() -> None:
        digest = hmac.digest
        for _ in range(count):
            digest(kbm, coa + cn + data, "sha1")

    def secmob_loop() -> None:
        verify = rr.verify_authenticator
        for _ in range(count):
            verify(kbm, coa, cn, data, tag)

    t_raw, t_sec = best_of(raw_loop), best_of(secmob_loop)
    print(f"authenticator verification: {count / t_sec:,.0f}/s, raw hmac.digest "
          f"{count / t_raw:,.0f}/s, ratio {t_raw / t_sec:.2f}x")


def bench_correspondent(count: int = 20_000) -> None:
    """A correspondent node verifying Binding Updates (RFC 6275 §9.5.1) next
    to the bare Return Routability arithmetic of §5.2.5 and §6.2.7.

    (a) ``receive`` with the A flag set: parse, checksum, nonce indices,
    Kbm, Authenticator, binding cache update and the signed Binding
    Acknowledgement in its packet; (b) the same without the A flag (no
    acknowledgement is built); (c) per update, with plain hmac/hashlib: both
    keygen tokens, Kbm and the Authenticator over pre-sliced MH Data,
    compared with ``hmac.compare_digest``.
    """
    hoa = HOME_PREFIX + bytes(5) + b"\x10"
    coa = CARE_PREFIX + bytes(5) + b"\x10"
    cn_addr = bytes.fromhex("20010db8000400000000000000000001")

    def registered() -> tuple[CorrespondentNode, rr.MobileNode]:
        cn = CorrespondentNode(cn_addr, counter_rng(b"cn"))
        mn = rr.MobileNode(hoa, coa, cn_addr, counter_rng(b"mn"))
        hoti, coti = mn.start()
        [hot] = cn.receive(packets.mobility_packet(hoa, cn_addr, hoti), 0.0)
        [cot] = cn.receive(packets.mobility_packet(coa, cn_addr, coti), 0.0)
        for pkt in (hot, cot):
            msg = packets.parse(pkt).mobility()
            assert isinstance(msg, mh.HomeTest)
            mn.receive(msg, 0.0)
        return cn, mn

    def updates(mn: rr.MobileNode, ack: bool) -> list[bytes]:
        return [packets.mobility_packet(coa, cn_addr, mn.binding_update(seq, 100, 0.0, ack=ack),
                                        home_address=hoa) for seq in range(1, count + 1)]

    def secmob_time(ack: bool) -> float:
        times = []
        for _ in range(3):
            cn, mn = registered()
            batch = updates(mn, ack)
            receive = cn.receive
            t = time.perf_counter()
            for p in batch:
                receive(p, 1.0)
            times.append(time.perf_counter() - t)
            assert len(cn.cache) == 1 and cn.events[-1].kind == "accepted"
        return min(times)

    cn, mn = registered()
    kcn = cn.rr.nonces.kcn
    nonce = cn.rr.nonces.lookup(0, 1.0)
    assert nonce is not None
    value = nonce.value
    # MH Data (checksum zeroed, Authenticator cut) and the Authenticator, sliced beforehand.
    work = []
    for p in updates(mn, True):
        m = packets.parse(p).payload
        work.append((m[:4] + b"\0\0" + m[6:-12], m[-12:]))

    def raw_loop() -> None:
        digest, sha1, same = hmac.digest, hashlib.sha1, hmac.compare_digest
        for data, tag in work:
            home = digest(kcn, hoa + value + b"\0", "sha1")[:8]
            care = digest(kcn, coa + value + b"\1", "sha1")[:8]
            kbm = sha1(home + care).digest()
            if not same(digest(kbm, coa + cn_addr + data, "sha1")[:12], tag):
                raise AssertionError("authenticator")

    t_raw = best_of(raw_loop)
    t_full, t_verify = secmob_time(True), secmob_time(False)
    us = 1e6 / count
    print(f"correspondent Binding Update (a) receive + signed BA: {t_full * us:.1f} us, "
          f"(b) verification and cache update: {t_verify * us:.1f} us, "
          f"(c) raw RR arithmetic: {t_raw * us:.1f} us; "
          f"ratio raw/(a) {t_raw / t_full:.2f}x, raw/(b) {t_raw / t_verify:.2f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--entries", type=int, default=1_000_000)
    p.add_argument("--only-correspondent", action="store_true",
                   help="run only the correspondent node Binding Update benchmark")
    args = p.parse_args()
    bench_correspondent()
    if args.only_correspondent:
        return
    bench_cache(args.entries)
    bench_nemo()
    bench_authenticator()


if __name__ == "__main__":
    main()
