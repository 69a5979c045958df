"""ESP protect + unprotect throughput: secmob against scapy.layers.ipsec.

Run: PYTHONPATH=. python bench/bench_esp.py

Both sides process the same 100-octet UDP segment in transport mode with
ENCR_NULL and HMAC-SHA1-96 (scapy needs the whole IPv6 packet; secmob works
on the ESP payload only, which is the layer it implements).
"""

from __future__ import annotations

import time

from scapy.layers.inet import UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import ESP
from scapy.layers.ipsec import SecurityAssociation as ScapySA
from scapy.packet import raw

from secmob.algorithms import ENCRYPTION, INTEGRITY
from secmob.ipsec import esp
from secmob.ipsec.sad import Direction, SecurityAssociation

KEY = bytes(range(20))


def secmob_run(n: int, segment: bytes) -> float:
    kw = {"cipher": ENCRYPTION.get("null"), "integrity": INTEGRITY.get("sha1"),
          "integrity_key": KEY}
    out = SecurityAssociation(0x1000, direction=Direction.OUTBOUND, **kw)  # type: ignore[arg-type]
    inb = SecurityAssociation(0x1000, replay_window=1024, **kw)  # type: ignore[arg-type]
    t = time.perf_counter()
    for _ in range(n):
        esp.unprotect(inb, esp.protect(out, 17, segment, now=0.0), now=0.0)
    return time.perf_counter() - t


def scapy_run(n: int, pkt: IPv6) -> float:
    sa = ScapySA(ESP, spi=0x1000, crypt_algo="NULL", crypt_key=None,
                 auth_algo="HMAC-SHA1-96", auth_key=KEY)
    t = time.perf_counter()
    for _ in range(n):
        sa.decrypt(sa.encrypt(pkt))
    return time.perf_counter() - t


def main() -> None:
    pkt = IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=1, dport=2) / (b"x" * 92)
    segment = raw(pkt[UDP])
    n = 5000
    ours, theirs = secmob_run(n, segment), scapy_run(n, pkt)
    print(f"secmob  {ours / n * 1e6:8.1f} µs per protect+unprotect")
    print(f"scapy   {theirs / n * 1e6:8.1f} µs per encrypt+decrypt")
    print(f"ratio   {theirs / ours:8.1f}x")


if __name__ == "__main__":
    main()
