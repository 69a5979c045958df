"""SPD lookups per second: the index against the naive ordered scan.

Policy mix (per 100 entries): 55 host-to-host (IPv4 and IPv6), 25
subnet-to-subnet (/24, /64, /48), 10 host-to-subnet TCP port policies, 6
address ranges (not prefix-aligned), 4 ICMP / Mobility Header policies; a
final DISCARD catches the rest. Run: ``PYTHONPATH=. python bench/bench_spd.py``.

What is measured, for SPDs of 1,000, 10,000 and 100,000 entries made by the
same generator:

* index lookups/s: ``SPD.lookup(OUTBOUND, t)`` over one stream of 100,000
  distinct Traffic objects (built before timing, as the engine builds one per
  packet), 90% aimed at an entry drawn uniformly from the whole SPD and 10% at
  random IPv4 addresses. Every size gets a stream of the same kind and size:
  at 100,000 entries it reaches most entries once, at 1,000 each about 90
  times. The target line compares this column at 1,000 and 100,000 entries.
* index, 1k-entry working set: the same, with the stream aimed at the first
  1,000 entries only. The per-lookup work is that of the column before; what
  differs is how much of the SPD the stream reads, i.e. what the CPU caches
  can hold.
* naive lookups/s: ``lookup_naive`` on the first packets of the stream; before
  any timing the index and the scan are checked to agree on each of them.

The sizes are measured interleaved and each rate is the best of five passes:
the machine is shared, and another process filling the shared CPU cache slows
whole passes.
"""

from __future__ import annotations

import ipaddress
import random
import time

from secmob.ipsec.selectors import ANY, Direction, Selector, Traffic
from secmob.ipsec.spd import SPD, Action, Entry, SATemplate

OUT = Direction.OUTBOUND
V4 = int(ipaddress.IPv4Address("10.0.0.0"))
V6 = int(ipaddress.IPv6Address("2001:db8::"))


def _v4(n: int) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(V4 + n)


def _v6(n: int) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(V6 + n)


def build(n: int, rng: random.Random) -> tuple[SPD, list[Traffic]]:
    """An SPD of ``n`` entries and, per entry, a packet aimed at it."""
    spd = SPD()
    aims: list[Traffic] = []
    template = SATemplate()
    for _ in range(n):
        r = rng.randrange(100)
        six = rng.random() < 0.5
        action = rng.choice((Action.PROTECT, Action.BYPASS, Action.DISCARD))
        if r < 55:  # host to host
            a = (_v6 if six else _v4)(rng.randrange(1 << 24))
            b = (_v6 if six else _v4)(rng.randrange(1 << 24))
            sel = Selector.make(a, b)
            aim = Traffic(a, b, 6, 1000, 80)
        elif r < 80:  # subnet to subnet
            if six:
                la = V6 + (rng.randrange(1 << 16) << 64)
                lb = V6 + (rng.randrange(1 << 16) << 80)
                sel = Selector.make(f"{ipaddress.IPv6Address(la)}/64",
                                    f"{ipaddress.IPv6Address(lb)}/48")
                aim = Traffic(ipaddress.IPv6Address(la + 5), ipaddress.IPv6Address(lb + 9), 17)
            else:
                la, lb = V4 + (rng.randrange(1 << 16) << 8), V4 + (rng.randrange(1 << 16) << 8)
                sel = Selector.make(f"{_v4(la - V4)}/24", f"{_v4(lb - V4)}/24")
                aim = Traffic(_v4(la - V4 + 7), _v4(lb - V4 + 200), 17)
        elif r < 90:  # host to subnet, TCP port
            a = _v4(rng.randrange(1 << 24))
            lb = rng.randrange(1 << 16) << 8
            port = rng.choice((22, 80, 443, 8080))
            sel = Selector.make(a, f"{_v4(lb)}/24", 6, remote_port=port)
            aim = Traffic(a, _v4(lb + 1), 6, 40000, port)
        elif r < 96:  # ranges
            lo = rng.randrange(1 << 24)
            hi = lo + rng.randrange(1, 300)
            b = _v4(rng.randrange(1 << 24))
            sel = Selector.make(f"{_v4(lo)}-{_v4(hi)}", b)
            aim = Traffic(_v4((lo + hi) // 2), b, 6, 1, 2)
        else:  # ICMPv6 / Mobility Header
            a, b = _v6(rng.randrange(1 << 24)), _v6(rng.randrange(1 << 24))
            if rng.random() < 0.5:
                sel = Selector.make(a, b, 58, icmp_type=1, icmp_code=(0, 4))
                aim = Traffic(a, b, 58, icmp_type=1, icmp_code=3)
            else:
                sel = Selector.make(a, b, 135, local_mh_type=5, remote_mh_type=6)
                aim = Traffic(a, b, 135, mh_type=5)
        spd.append(Entry(sel, action, template if action is Action.PROTECT else None))
        aims.append(aim)
    spd.append(Entry(Selector.make(ANY, ANY), Action.DISCARD))
    return spd, aims


def traffic_mix(aims: list[Traffic], count: int, rng: random.Random) -> list[Traffic]:
    """``count`` distinct Traffic objects (the engine builds one per packet), so
    that every SPD size is measured on the same kind of packet stream."""
    out = []
    for _ in range(count):
        if rng.random() < 0.9:
            t = rng.choice(aims)
            out.append(Traffic(ipaddress.ip_address(t.local.packed),
                               ipaddress.ip_address(t.remote.packed), t.protocol,
                               t.local_port, t.remote_port, t.icmp_type, t.icmp_code,
                               t.mh_type))
        else:
            out.append(Traffic(_v4(rng.randrange(1 << 24)), _v4(rng.randrange(1 << 24)), 6, 1, 2))
    return out


def rate(fn: object, packets: list[Traffic]) -> float:
    lookup = fn
    start = time.perf_counter()
    for t in packets:
        lookup(OUT, t)  # type: ignore[operator]
    return len(packets) / (time.perf_counter() - start)


def main() -> None:
    rng = random.Random(4301)
    sizes = (1_000, 10_000, 100_000)
    setups = {}
    for n in sizes:
        t0 = time.perf_counter()
        spd, aims = build(n, rng)
        built = time.perf_counter() - t0
        packets = traffic_mix(aims, 100_000, rng)
        hot = traffic_mix(aims[:1_000], 100_000, rng)
        naive_packets = packets[: max(200, 2_000_000 // n)]
        for t in naive_packets:  # the index and the scan agree on every packet measured
            assert spd.lookup(OUT, t) is spd.lookup_naive(OUT, t)
        setups[n] = (spd, packets, hot, naive_packets, built)
    fast: dict[int, float] = {}
    warm: dict[int, float] = {}
    for _ in range(5):  # sizes interleaved, best of five: the machine is shared
        for n in sizes:
            spd, packets, hot, _, _ = setups[n]
            fast[n] = max(fast.get(n, 0.0), rate(spd.lookup, packets))
            warm[n] = max(warm.get(n, 0.0), rate(spd.lookup, hot))
    print(f"{'policies':>9} {'build s':>8} {'index lookups/s':>16} {'naive lookups/s':>16} "
          f"{'index/naive':>12} {'index, 1k-entry working set':>28}")
    for n in sizes:
        spd, _, _, naive_packets, built = setups[n]
        slow = rate(spd.lookup_naive, naive_packets)
        print(f"{n:>9} {built:>8.2f} {fast[n]:>16,.0f} {slow:>16,.0f} {fast[n] / slow:>11,.0f}x "
              f"{warm[n]:>28,.0f}")
    print(f"per-lookup cost 100k/1k: {fast[1_000] / fast[100_000]:.2f}x (target <= 2x); "
          f"same with traffic aimed at 1k entries: {warm[1_000] / warm[100_000]:.2f}x; "
          f"index at 100k: {fast[100_000]:,.0f}/s (target >= 100,000/s)")


if __name__ == "__main__":
    main()
