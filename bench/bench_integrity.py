"""ICV computation: secmob contexts side by side with direct library calls.

Run: PYTHONPATH=. python bench/bench_integrity.py
For each transform and packet size, prints packets per second for secmob's
context (key schedule done once) and for a direct call of the underlying
library that sets the key up per packet, and their ratio.
"""

from __future__ import annotations

import hmac
import timeit
from collections.abc import Callable
from functools import partial

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secmob.algorithms import INTEGRITY


def rate(fn: Callable[[], object], n: int) -> float:
    return n / min(timeit.repeat(fn, number=n, repeat=3))


def direct_cmac(key: bytes, data: bytes) -> bytes:
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()[:12]


def direct_hmac(key: bytes, data: bytes, hash_name: str, size: int) -> bytes:
    return hmac.digest(key, data, hash_name)[:size]


def direct_gmac(key: bytes, data: bytes) -> bytes:
    return AESGCM(key).encrypt(bytes(12), b"", data)


def main() -> None:
    print(f"{'transform':<12}{'size':>6}{'secmob/s':>12}{'direct/s':>12}{'ratio':>8}  direct")
    k16, k20, k32 = bytes(16), bytes(20), bytes(32)
    for size in (64, 1400):
        data = bytes(size)
        cases: list[tuple[str, bytes, bytes, Callable[[], object], str]] = [
            ("sha1", k20, b"", partial(direct_hmac, k20, data, "sha1", 12), "hmac.digest"),
            ("sha256", k32, b"", partial(direct_hmac, k32, data, "sha256", 16), "hmac.digest"),
            ("aescmac", k16, b"", partial(direct_cmac, k16, data), "cryptography CMAC"),
            ("aes128gmac", k20, bytes(8), partial(direct_gmac, k16, data), "AESGCM per packet"),
            ("aesxcbc", k16, b"", partial(direct_cmac, k16, data),
             "cryptography CMAC (XCBC has no library peer)"),
        ]
        for name, key, iv, direct, label in cases:
            ctx = INTEGRITY.get(name).new(key)
            ours = rate(partial(ctx.compute, data, iv), 3000)
            theirs = rate(direct, 3000)
            print(f"{name:<12}{size:>6}{ours:>12.0f}{theirs:>12.0f}{ours / theirs:>8.2f}  {label}")


if __name__ == "__main__":
    main()
