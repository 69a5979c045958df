"""Side-by-side throughput: secmob transforms against the raw library calls.

For each transform and payload size (64 and 1400 octets) this prints the
operations per second of secmob's ``seal``/``open`` (AEADs) or
``compute``/``verify`` (ICVs) and of the equivalent direct call into
``cryptography`` or :mod:`hmac`, and the ratio secmob/raw (goal: >= 0.8).

Run from the repository root::

    PYTHONPATH=. python bench/bench_algorithms.py

Each pair is timed alternately, REPEAT rounds, keeping the best round of
each (``time.perf_counter``), so that load from other processes affects both
sides alike. The raw side reuses one AEAD object per key, as secmob does, and
builds the nonce ``salt || IV`` per packet, as every ESP implementation must.
"""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

from secmob.algorithms import ENCRYPTION, INTEGRITY

REPEAT = 40
SIZES = (64, 1400)


def _loops_for(fn: Callable[[], object], seconds: float) -> int:
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed > seconds / 4:
            return max(1, int(loops * seconds / elapsed))
        loops *= 2


def _best(fn: Callable[[], object], loops: int, best: float) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        fn()
    return min(best, time.perf_counter() - start)


def row(label: str, ours: Callable[[], object], raw: Callable[[], object]) -> float:
    """Time both alternately (REPEAT rounds, best of each) and print one line."""
    loops = _loops_for(raw, 0.005)
    best_ours = best_raw = float("inf")
    for _ in range(REPEAT):
        best_ours = _best(ours, loops, best_ours)
        best_raw = _best(raw, loops, best_raw)
    a, b = loops / best_ours, loops / best_raw
    print(f"{label:<42} {a:>12,.0f} {b:>12,.0f} {a / b:>7.2f}x")
    return a / b


def aead_pair(label: str, keyword: str, key_size: int, raw_cls: type, salt_size: int,
              size: int) -> list[float]:
    aad = bytes.fromhex("0000123400000001")  # SPI || sequence number
    iv = bytes(range(8))
    data = bytes(size)
    key, salt = bytes(range(key_size)), bytes(range(100, 100 + salt_size))
    ctx = ENCRYPTION.choose(keyword).algorithm.new(key + salt)
    raw = raw_cls(key)
    nonce = salt + iv
    sealed = ctx.seal(iv, data, aad)
    assert sealed == raw.encrypt(nonce, data, aad)
    return [
        row(f"{label} seal {size}B",
            lambda: ctx.seal(iv, data, aad), lambda: raw.encrypt(salt + iv, data, aad)),
        row(f"{label} open {size}B",
            lambda: ctx.open(iv, sealed, aad), lambda: raw.decrypt(salt + iv, sealed, aad)),
    ]


def icv_pair(keyword: str, digest: str, key_size: int, icv_size: int, size: int) -> list[float]:
    data = bytes(size)
    alg = INTEGRITY.get(keyword)
    key = bytes(range(key_size))
    ctx = alg.new(key)
    icv = ctx.compute(data)
    assert icv == hmac.digest(key, data, digest)[:icv_size]

    def raw_compute() -> bytes:
        return hmac.digest(key, data, digest)[:icv_size]

    def raw_verify() -> bool:
        return hmac.compare_digest(hmac.digest(key, data, digest)[:icv_size], icv)

    return [
        row(f"{alg.name} compute {size}B", lambda: ctx.compute(data), raw_compute),
        row(f"{alg.name} verify {size}B", lambda: ctx.verify(data, icv), raw_verify),
    ]


def main() -> None:
    warm_until = time.perf_counter() + 0.5  # let the CPU clock ramp up first
    while time.perf_counter() < warm_until:
        pass
    print(f"{'operation':<42} {'secmob op/s':>12} {'raw op/s':>12} {'ratio':>8}")
    ratios = []
    for size in SIZES:
        ratios += aead_pair("AES-GCM-16 (128)", "aes128gcm16", 16, AESGCM, 4, size)
        ratios += aead_pair("AES-CCM-16 (128)", "aes128ccm16", 16, AESCCM, 3, size)
        ratios += aead_pair("ChaCha20-Poly1305", "chacha20poly1305", 32, ChaCha20Poly1305, 4, size)
    for size in SIZES:
        ratios += icv_pair("sha1", "sha1", 20, 12, size)
        ratios += icv_pair("sha256", "sha256", 32, 16, size)
    print(f"lowest ratio {min(ratios):.2f}x, geometric mean "
          f"{math.prod(ratios) ** (1 / len(ratios)):.2f}x")


if __name__ == "__main__":
    main()
