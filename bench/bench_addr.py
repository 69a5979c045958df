"""Address construction: secmob side by side with scapy and plain hashlib.

Run: PYTHONPATH=. python bench/bench_addr.py
Prints operations per second for each pair and the ratio secmob / other.
The scapy helpers work on text; secmob on bytes (and checks its input).
"""

from __future__ import annotations

import hashlib
import ipaddress
import timeit
from collections.abc import Callable

from scapy.utils6 import in6_mactoifaceid

from secmob.addr.eui64 import modified_eui64
from secmob.addr.selection import SourceCandidate, select_source
from secmob.addr.stable import stable_iid
from secmob.addr.temporary import rfc4941_step

MAC = bytes.fromhex("3456789abcde")
MAC_TEXT = "34:56:78:9a:bc:de"
HIST, IID = bytes(8), bytes.fromhex("365678fffe9abcde")
KEY = bytes(range(16))
PREFIX8 = bytes.fromhex("20010db800010002")


def rate(fn: Callable[[], object], n: int) -> float:
    return n / min(timeit.repeat(fn, number=n, repeat=3))


def plain_eui64() -> bytes:
    return bytes([MAC[0] ^ 2]) + MAC[1:3] + b"\xff\xfe" + MAC[3:]


def plain_rfc4941() -> tuple[bytes, bytes]:
    d = hashlib.md5(HIST + IID).digest()
    return bytes([d[0] & 0xFD]) + d[1:8], d[8:]


def plain_rfc7217() -> bytes:
    return hashlib.sha256(PREFIX8 + b"eth0" + b"\x00" + KEY).digest()[-8:]


CANDS = [SourceCandidate.of("2001:db8:1::2", care_of=True),
         SourceCandidate.of("2001:db8:3::2", home=True), SourceCandidate.of("fe80::1")]
DEST = ipaddress.ip_address("2001:db8:1::1")

PAIRS: list[tuple[str, Callable[[], object], str, Callable[[], object]]] = [
    ("modified EUI-64", lambda: modified_eui64(MAC), "scapy in6_mactoifaceid",
     lambda: in6_mactoifaceid(MAC_TEXT)),
    ("modified EUI-64", lambda: modified_eui64(MAC), "plain bytes", plain_eui64),
    ("RFC 4941 step", lambda: rfc4941_step(HIST, IID), "plain hashlib", plain_rfc4941),
    ("RFC 7217 IID", lambda: stable_iid("2001:db8:1:2::/64", b"eth0", KEY), "plain hashlib",
     plain_rfc7217),
]


def main() -> None:
    n = 20000
    print(f"{'secmob':<18}{'ops/s':>12}  {'other':<24}{'ops/s':>12}  ratio")
    for name, ours, other_name, other in PAIRS:
        a, b = rate(ours, n), rate(other, n)
        print(f"{name:<18}{a:>12,.0f}  {other_name:<24}{b:>12,.0f}  {a / b:5.2f}")
    sel = rate(lambda: select_source(DEST, CANDS), 2000)
    print(f"{'RFC 6724 source':<18}{sel:>12,.0f}  (3 candidates, no peer to compare)")


if __name__ == "__main__":
    main()
