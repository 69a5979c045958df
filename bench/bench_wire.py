"""Parse and rebuild an IPv6 packet (Hop-by-Hop, type 0 Routing, Destination
Options with Home Address, Fragment, AH, UDP): secmob against scapy.

Run from the repository root: ``PYTHONPATH=. python bench/bench_wire.py``.
"""

from __future__ import annotations

import ipaddress
import timeit

from scapy.layers.inet6 import IPv6

from secmob.wire.ah_mutable import ah_icv_input
from secmob.wire.ipsec_headers import AH
from secmob.wire.ipv6 import DestinationOptions, Fragment, HopByHop, IPv6Packet, RoutingType0
from secmob.wire.l4 import UDP
from secmob.wire.options import HomeAddressOption, RawOption, layout_options


def addr(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


def main() -> None:
    src, dst, hoa, coa = (addr(a) for a in ("2001:db8::1", "2001:db8::2",
                                            "2001:db8:1::77", "2001:db8:2::99"))
    raw = IPv6Packet.build(
        src, dst,
        [HopByHop(0, layout_options([RawOption(5, b"\x00\x00")])),
         RoutingType0(0, 2, (hoa, coa)),
         DestinationOptions(0, layout_options([HomeAddressOption(hoa)])),
         Fragment(0, 0, False, 0x1234), AH(0, 0x100, 7, bytes(12))],
        UDP.build(500, 4500, b"payload" * 8),
    ).to_bytes()
    n = 3000
    rows = [
        ("parse", lambda: IPv6Packet.parse(raw), lambda: IPv6(raw)),
        ("parse + rebuild", lambda: IPv6Packet.parse(raw).to_bytes(), lambda: bytes(IPv6(raw))),
    ]
    for name, ours, theirs in rows:
        a = timeit.timeit(ours, number=n) / n
        b = timeit.timeit(theirs, number=n) / n
        print(f"{name:16} secmob {a * 1e6:7.1f} us   scapy {b * 1e6:7.1f} us   "
              f"scapy/secmob {b / a:5.1f}x")
    c = timeit.timeit(lambda: ah_icv_input(raw), number=n) / n
    print(f"{'ah_icv_input':16} secmob {c * 1e6:7.1f} us")


if __name__ == "__main__":
    main()
