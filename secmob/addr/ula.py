"""Unique Local IPv6 Unicast Addresses (RFC 4193).

The format (§3.1)::

    | 7 bits |1|  40 bits   |  16 bits  |          64 bits           |
    | Prefix |L| Global ID  | Subnet ID |        Interface ID        |

Prefix ``FC00::/7`` with L = 1 gives ``fd00::/8`` (L = 0 is reserved). The
Global ID is pseudo-random, computed by §3.2.2::

    key       = NTP time of day (64 bits) | EUI-64 (64 bits)
    Global ID = least significant 40 bits of SHA-1(key)
    prefix    = fd | Global ID           (a /48)

Sans-IO: the time is passed in, as an NTP timestamp (:func:`ntp_timestamp`
converts Unix seconds) and the EUI-64 as 8 octets (or a MAC, turned into its
modified EUI-64 as RFC 4193 §3.2.2 step 2 directs by citing RFC 4291).
"""

from __future__ import annotations

import hashlib
import ipaddress
from fractions import Fraction

from secmob.addr.eui64 import MAC_OCTETS, modified_eui64, parse_mac
from secmob.addr.iid import check_iid
from secmob.errors import UsageError
from secmob.trace import Tracer, emit

__all__ = [
    "GLOBAL_ID_OCTETS",
    "NTP_UNIX_OFFSET",
    "ULA_PREFIX",
    "global_id",
    "global_id_of",
    "ntp_timestamp",
    "ula_prefix",
    "ula_prefix_from",
    "ula_subnet",
]

GLOBAL_ID_OCTETS = 5
ULA_PREFIX = ipaddress.IPv6Network("fd00::/8")
"""``FC00::/7`` with the L bit set: locally assigned ULAs (RFC 4193 §3.1)."""
NTP_UNIX_OFFSET = 2_208_988_800
"""Seconds from the NTP era 0 origin (1900-01-01) to the Unix epoch (1970-01-01)."""


def ntp_timestamp(unix_seconds: float | Fraction | int) -> bytes:
    """The 64-bit NTP timestamp (RFC 5905 §6: 32-bit seconds since 1900, 32-bit
    fraction) of a Unix time. Times outside NTP era 0 (1900-2036) raise UsageError."""
    if isinstance(unix_seconds, bool) or not isinstance(unix_seconds, (int, float, Fraction)):
        raise UsageError(f"time must be a number of seconds, got {type(unix_seconds).__name__}")
    value = Fraction(unix_seconds) + NTP_UNIX_OFFSET
    whole = int(value)
    fraction = int((value - whole) * 2**32)
    if not 0 <= whole < 2**32:
        raise UsageError(f"Unix time {unix_seconds} is outside NTP era 0 (1900-2036)")
    return whole.to_bytes(4, "big") + fraction.to_bytes(4, "big")


def _eui64_of(eui64: bytes | str) -> bytes:
    raw = parse_mac(eui64)
    return modified_eui64(raw) if len(raw) == MAC_OCTETS else raw


def global_id(ntp_time: bytes, eui64: bytes | str, tracer: Tracer | None = None) -> bytes:
    """The 40-bit Global ID of RFC 4193 §3.2.2 (steps 3-5).

    ``ntp_time`` is the 8-octet NTP timestamp, ``eui64`` the system's 8-octet
    EUI-64 (a 6-octet MAC is turned into its modified EUI-64 first).
    """
    t = check_iid(ntp_time, "NTP timestamp")
    e = _eui64_of(eui64)
    digest = hashlib.sha1(t + e).digest()
    gid = digest[-GLOBAL_ID_OCTETS:]
    if tracer is not None:
        emit(tracer, "SHA-1(time | EUI-64)", "digest = SHA-1(NTP time (64 bits) | EUI-64)",
             "RFC 4193 §3.2.2 steps 3-4", {"ntp_time": t, "eui64": e}, digest)
        emit(tracer, "Global ID", "Global ID = least significant 40 bits of digest",
             "RFC 4193 §3.2.2 step 5", {"digest": digest}, gid)
    return gid


def ula_prefix(gid: bytes) -> ipaddress.IPv6Network:
    """``fd00::/8`` followed by the 40-bit Global ID: the site's /48 (RFC 4193 §3.2.2 step 6)."""
    if not isinstance(gid, bytes) or len(gid) != GLOBAL_ID_OCTETS:
        raise UsageError(f"Global ID must be {GLOBAL_ID_OCTETS} octets (40 bits)")
    return ipaddress.IPv6Network((b"\xfd" + gid + bytes(10), 48))


def global_id_of(prefix: ipaddress.IPv6Network | str) -> bytes:
    """The Global ID of a ULA /48 (or longer prefix inside ``fd00::/8``)."""
    try:
        net = ipaddress.IPv6Network(prefix) if isinstance(prefix, str) else prefix
    except ValueError as exc:
        raise UsageError(f"not an IPv6 prefix {prefix!r}: {exc}") from None
    if not isinstance(net, ipaddress.IPv6Network) or not net.subnet_of(ULA_PREFIX) \
            or net.prefixlen < 48:
        raise UsageError(f"{net} is not a locally assigned ULA prefix of length >= 48 in fd00::/8")
    return net.network_address.packed[1:6]


def ula_prefix_from(ntp_time: bytes, eui64: bytes | str, tracer: Tracer | None = None
                    ) -> ipaddress.IPv6Network:
    """The whole of RFC 4193 §3.2.2: time and EUI-64 to a ``fdxx:xxxx:xxxx::/48``."""
    return ula_prefix(global_id(ntp_time, eui64, tracer))


def ula_subnet(prefix: ipaddress.IPv6Network | str | bytes, subnet_id: int
               ) -> ipaddress.IPv6Network:
    """The /64 with the 16-bit ``subnet_id`` inside a ULA /48 (RFC 4193 §3.1).

    ``prefix`` is the /48 (text or network) or the 5-octet Global ID.
    """
    gid = prefix if isinstance(prefix, bytes) else global_id_of(prefix)
    base = ula_prefix(gid)
    if isinstance(subnet_id, bool) or not isinstance(subnet_id, int) \
            or not 0 <= subnet_id <= 0xFFFF:
        raise UsageError(f"subnet ID must be an integer 0..65535 (16 bits), got {subnet_id!r}")
    return ipaddress.IPv6Network(
        (base.network_address.packed[:6] + subnet_id.to_bytes(2, "big") + bytes(8), 64)
    )
