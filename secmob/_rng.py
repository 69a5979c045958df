"""A deterministic octet source for scenarios, worked examples and benchmarks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

__all__ = ["counter_rng"]


def counter_rng(label: bytes) -> Callable[[int], bytes]:
    """Deterministic octets: SHA-256(label | 32-bit counter) blocks, in order.

    The same label gives the same octets, so runs reproduce exactly. For
    scenarios and teaching only -- never for keys that protect anything.
    """
    state = [0]

    def rng(n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(label + state[0].to_bytes(4, "big")).digest()
            state[0] += 1
        return out[:n]

    return rng
