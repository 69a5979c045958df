"""Anti-replay window throughput, and SAD memory for 100,000 SAs.

Run: PYTHONPATH=. python bench/bench_replay.py

1. check()+accept() per packet for secmob's RFC 6479 block ring against a
   classic RFC 4303 Appendix A-style window held as one Python integer that
   is shifted on every advance (O(window) per shift), for window sizes 64,
   1024 and 4096, in order and with reordering.
2. Memory of 100,000 inbound ESP SAs (ENCR_NULL + HMAC-SHA1-96, window 64):
   Python heap (tracemalloc) and the process RSS growth (includes OpenSSL's
   HMAC contexts, which tracemalloc does not see).
"""

from __future__ import annotations

import gc
import random
import time
import tracemalloc

from secmob.algorithms import ENCRYPTION, INTEGRITY
from secmob.errors import ReplayError
from secmob.ipsec.replay import ReplayWindow
from secmob.ipsec.sad import SAD, SecurityAssociation


class ShiftWindow:
    """A straightforward window: one integer bitmap shifted on every advance."""

    def __init__(self, size: int) -> None:
        self.size, self.top, self.bits = size, 0, 0

    def check(self, seq: int) -> int:
        if seq > self.top:
            return seq
        if seq == 0 or seq + self.size <= self.top or self.bits >> (self.top - seq) & 1:
            raise ReplayError("replay", seq)
        return seq

    def accept(self, seq: int) -> None:
        self.check(seq)
        if seq > self.top:
            self.bits = ((self.bits << (seq - self.top)) | 1) & ((1 << self.size) - 1)
            self.top = seq
        else:
            self.bits |= 1 << (self.top - seq)


def stream(n: int, reorder: int) -> list[int]:
    seqs = list(range(1, n + 1))
    if reorder:
        rnd = random.Random(1)
        for i in range(0, n - reorder, reorder):
            chunk = seqs[i:i + reorder]
            rnd.shuffle(chunk)
            seqs[i:i + reorder] = chunk
    return seqs


def run(window: ReplayWindow | ShiftWindow, seqs: list[int]) -> float:
    check, accept = window.check, window.accept
    t = time.perf_counter()
    for s in seqs:
        accept(check(s))
    return time.perf_counter() - t


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def memory(n: int = 100_000) -> None:
    null, sha1 = ENCRYPTION.get("null"), INTEGRITY.get("sha1")
    gc.collect()
    rss0 = rss_kib()
    tracemalloc.start()
    sad = SAD()
    for i in range(n):
        sad.insert(SecurityAssociation(0x10000 + i, cipher=null, integrity=sha1,
                                       integrity_key=i.to_bytes(20, "big"),
                                       destination="2001:db8::1"))
    heap, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = rss_kib() - rss0
    print(f"{n} SAs: Python heap {heap / 2**20:.1f} MiB ({heap / n:.0f} B/SA), "
          f"RSS growth {rss / 1024:.1f} MiB ({rss * 1024 / n:.0f} B/SA incl. OpenSSL HMAC state)")


def main() -> None:
    n = 100_000
    print(f"{'window':>7} {'reorder':>7} {'ring (ns/pkt)':>14} {'shift (ns/pkt)':>15} {'ratio':>6}")
    for size in (64, 1024, 4096, 65536, 1 << 20):
        for reorder in (0, 32):
            seqs = stream(n, reorder)
            ring = run(ReplayWindow(size), seqs)
            shift = run(ShiftWindow(size), seqs)
            print(f"{size:>7} {reorder:>7} {ring / n * 1e9:>14.0f} {shift / n * 1e9:>15.0f} "
                  f"{shift / ring:>6.2f}")
    memory()


if __name__ == "__main__":
    main()
