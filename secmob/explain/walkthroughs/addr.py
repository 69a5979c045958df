"""Worked example ``secmob explain addr``: how a node forms its IPv6 addresses.

With fixed, documented inputs (all overridable):

1. the modified EUI-64 of the MAC ``34-56-78-9A-BC-DE`` (RFC 4291 Appendix A;
   the example of RFC 2464 §4), giving ``36-56-78-FF-FE-9A-BC-DE``;
2. a temporary IID by RFC 4941 §3.2.1 from that IID and a history value
   (default all zeros);
3. a Unique Local prefix by RFC 4193 §3.2.2 from an NTP time (default Unix
   time 1700000000) and the EUI-64;
4. a stable IID by RFC 7217 §5 for a Router Advertisement prefix (default
   ``2001:db8:1:2::/64``), interface ``eth0`` and secret key 00 01 .. 0f.
"""

from __future__ import annotations

import argparse

from secmob.addr.eui64 import modified_eui64
from secmob.addr.stable import stable_iid
from secmob.addr.temporary import rfc4941_iid
from secmob.addr.ula import global_id, ntp_timestamp
from secmob.explain import topic
from secmob.trace import Recorder


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mac", default="34-56-78-9A-BC-DE", help="48-bit MAC (any usual notation)")
    p.add_argument("--history", default="00" * 8, help="RFC 4941 history value, 8 octets hex")
    p.add_argument("--unix-time", type=float, default=1_700_000_000,
                   help="time of day for the ULA Global ID, Unix seconds")
    p.add_argument("--prefix", default="2001:db8:1:2::/64", help="Router Advertisement /64")
    p.add_argument("--interface", default="eth0", help="Net_Iface for RFC 7217")
    p.add_argument("--secret", default=bytes(range(16)).hex(), help="RFC 7217 secret key, hex")


@topic("addr", "IPv6 interface identifiers: EUI-64, RFC 4941, ULA, RFC 7217", _options)
def addr(args: argparse.Namespace) -> Recorder:
    rec = Recorder()
    iid = modified_eui64(args.mac, rec)
    rfc4941_iid(bytes.fromhex(args.history), iid, tracer=rec)
    global_id(ntp_timestamp(args.unix_time), iid, rec)
    stable_iid(args.prefix, args.interface.encode(), bytes.fromhex(args.secret), tracer=rec)
    return rec
