"""Shared fixtures for the Mobile IPv6 node tests: fixed addresses and a
deterministic random source."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable


def addr(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


HOA = addr("2001:db8:1::10")
HA = addr("2001:db8:1::1")
COA = addr("2001:db8:2::10")
COA2 = addr("2001:db8:3::10")
CN = addr("2001:db8:4::1")


def rng(label: str) -> Callable[[int], bytes]:
    """Octets of SHA-256(label | counter): the same values on every run."""
    state = [0]

    def draw(n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(label.encode() + state[0].to_bytes(4, "big")).digest()
            state[0] += 1
        return out[:n]

    return draw
