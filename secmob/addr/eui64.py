"""Modified EUI-64 interface identifiers, link-local and SLAAC addresses.

RFC 4291 §2.5.1 and Appendix A: an IEEE EUI-64 becomes a *modified* EUI-64
interface identifier by inverting the universal/local ("u") bit, bit 6 of the
first octet (left-most bit numbered 0). A 48-bit IEEE 802 MAC is first
widened to an EUI-64 by inserting the octets ``0xFF 0xFE`` between its
company id (first three octets) and its extension identifier (last three)::

    MAC       cccccc0g cccccccc cccccccc mmmmmmmm mmmmmmmm mmmmmmmm
    IID       cccccc1g cccccccc cccccccc 11111111 11111110 mmmmmmmm mmmmmmmm mmmmmmmm

RFC 2464 §4 works the example ``34-56-78-9A-BC-DE`` -> ``36-56-78-FF-FE-9A-BC-DE``.

RFC 4862 §5.3 forms the link-local address ``fe80::/64 | IID``; §5.5.3 (d)
forms an autoconfigured address from a 64-bit Prefix Information prefix the
same way. A Mobile IPv6 mobile node forms its care-of address this way from
the prefix of a Router Advertisement on the visited link (RFC 6275 §11.5.3).
"""

from __future__ import annotations

import ipaddress
import re

from secmob.addr.iid import (
    IID_OCTETS,
    U_BIT,
    PrefixLike,
    check_iid,
    form_address,
    prefix64,
)
from secmob.errors import UsageError
from secmob.trace import Tracer, emit

__all__ = [
    "LINK_LOCAL_PREFIX",
    "MAC_OCTETS",
    "eui64_from_iid",
    "format_mac",
    "link_local_address",
    "mac_from_iid",
    "mac_to_eui64",
    "modified_eui64",
    "parse_mac",
    "slaac_address",
    "slaac_ignore_reason",
    "updated_valid_lifetime",
]

MAC_OCTETS = 6
LINK_LOCAL_PREFIX = ipaddress.IPv6Network("fe80::/64")
"""The link-local prefix used for autoconfiguration (RFC 4862 §5.3, RFC 4291 §2.5.6)."""

_FFFE = b"\xff\xfe"
_HEX_RUN = re.compile(r"[0-9a-fA-F]+")


def parse_mac(text: str | bytes) -> bytes:
    """A 48-bit MAC (or 64-bit EUI-64) from its usual notations.

    Accepted: IEEE ``34-56-78-9A-BC-DE``, colon ``34:56:78:9a:bc:de``, dotted
    ``3456.789a.bcde`` and bare ``3456789abcde`` (and the same with 8 octets for
    an EUI-64). Single-digit groups in colon notation (``2:0:5e:0:1:1``) are
    accepted. Bytes of length 6 or 8 are returned unchanged. Anything else raises
    :class:`UsageError`.
    """
    if isinstance(text, (bytes, bytearray)):
        if len(text) not in (MAC_OCTETS, IID_OCTETS):
            raise UsageError(f"a MAC is 6 octets (an EUI-64 8), got {len(text)}")
        return bytes(text)
    if not isinstance(text, str):
        raise UsageError(f"MAC must be text or bytes, got {type(text).__name__}")
    s = text.strip()
    out: bytes | None = None
    for sep, width in ((":", 2), ("-", 2), (".", 4)):
        if sep in s:
            groups = s.split(sep)
            if not all(_HEX_RUN.fullmatch(g) and len(g) <= width for g in groups):
                break
            if width == 2:
                out = bytes(int(g, 16) for g in groups)
            elif all(len(g) == 4 for g in groups):
                out = bytes.fromhex("".join(groups))
            break
    else:
        if _HEX_RUN.fullmatch(s) and len(s) % 2 == 0:
            out = bytes.fromhex(s)
    if out is None or len(out) not in (MAC_OCTETS, IID_OCTETS):
        raise UsageError(
            f"not a MAC address: {text!r} (expected 6 octets such as 34-56-78-9A-BC-DE, "
            "34:56:78:9a:bc:de or 3456.789a.bcde; or 8 octets for an EUI-64)"
        )
    return out


def format_mac(mac: bytes, sep: str = ":") -> str:
    """``mac`` as lowercase hex octets joined by ``sep`` (``"-"`` gives IEEE style)."""
    return sep.join(f"{b:02x}" for b in mac)


def mac_to_eui64(mac: bytes | str) -> bytes:
    """IEEE EUI-64 from a 48-bit MAC: insert ``FF FE`` after the company id
    (RFC 4291 Appendix A). The u bit is *not* touched here."""
    raw = parse_mac(mac)
    if len(raw) != MAC_OCTETS:
        raise UsageError(f"expected a 48-bit MAC (6 octets), got {len(raw)} octets")
    return raw[:3] + _FFFE + raw[3:]


def modified_eui64(identifier: bytes | str, tracer: Tracer | None = None) -> bytes:
    """The modified EUI-64 interface identifier (RFC 4291 §2.5.1, Appendix A).

    ``identifier`` is a 48-bit MAC (widened with ``FF FE`` first) or a 64-bit
    IEEE EUI-64, as bytes or text; the u bit (0x02 of the first octet) is then
    inverted, so a universally administered MAC (u = 0) gives an IID with u = 1.
    """
    raw = parse_mac(identifier)
    eui = mac_to_eui64(raw) if len(raw) == MAC_OCTETS else raw
    out = bytes([eui[0] ^ U_BIT]) + eui[1:]
    if tracer is not None:
        widened = "(MAC[0..2] | FF FE | MAC[3..5])" if len(raw) == MAC_OCTETS else "EUI-64"
        formula = f"IID = {widened} with the u bit (0x02 of octet 0) inverted"
        emit(tracer, "modified EUI-64", formula, "RFC 4291 §2.5.1, Appendix A",
             {"identifier": raw}, out)
    return out


def eui64_from_iid(iid: bytes) -> bytes:
    """The IEEE EUI-64 behind a modified EUI-64 IID: invert the u bit back."""
    raw = check_iid(iid)
    return bytes([raw[0] ^ U_BIT]) + raw[1:]


def mac_from_iid(iid: bytes) -> bytes:
    """The 48-bit MAC behind an IID formed from one (RFC 4291 Appendix A, reversed).

    Raises :class:`UsageError` unless octets 3 and 4 are ``FF FE``, the mark of
    an IID widened from a MAC; temporary, stable (RFC 7217) and random IIDs do
    not have it (and when one does by chance the result names no real MAC).
    """
    eui = eui64_from_iid(iid)
    if eui[3:5] != _FFFE:
        raise UsageError(
            f"interface identifier {iid.hex()} does not have the FF-FE form of a "
            f"48-bit MAC (octets 3-4 are {eui[3:5].hex()}, expected fffe)"
        )
    return eui[:3] + eui[5:]


def _iid_of(iid_or_mac: bytes | str) -> bytes:
    raw = parse_mac(iid_or_mac) if isinstance(iid_or_mac, str) else bytes(iid_or_mac)
    if len(raw) == MAC_OCTETS:
        return modified_eui64(raw)
    return check_iid(raw, "interface identifier (or 6-octet MAC)")


def link_local_address(iid_or_mac: bytes | str) -> ipaddress.IPv6Address:
    """The link-local address ``fe80::/64 | IID`` (RFC 4862 §5.3).

    ``iid_or_mac`` is an 8-octet IID, or a 6-octet MAC (bytes or text), which
    is turned into its modified EUI-64 first.
    """
    return form_address(LINK_LOCAL_PREFIX, _iid_of(iid_or_mac))


def slaac_address(prefix: PrefixLike, iid_or_mac: bytes | str) -> ipaddress.IPv6Address:
    """An address autoconfigured from a Prefix Information option (RFC 4862 §5.5.3 d).

    ``prefix`` must be a /64 (prefix length + 64-bit IID = 128) and not the
    link-local prefix, which §5.5.3 (b) ignores (use :func:`link_local_address`).
    ``iid_or_mac`` as for :func:`link_local_address`.
    """
    bits = prefix64(prefix)
    if bits[0] == 0xFE and bits[1] & 0xC0 == 0x80:
        raise UsageError(
            f"prefix {ipaddress.IPv6Address(bits + bytes(8))}/64 is link-local: RFC 4862 "
            "§5.5.3 (b) ignores it in a Prefix Information option; use link_local_address()"
        )
    return form_address(bits, _iid_of(iid_or_mac))


def slaac_ignore_reason(
    prefix: ipaddress.IPv6Network | str,
    *,
    autonomous: bool = True,
    valid_lifetime: float,
    preferred_lifetime: float,
) -> str | None:
    """Why RFC 4862 §5.5.3 ignores a Prefix Information option, or None if it
    may be used for autoconfiguration.

    Checks (a) the Autonomous flag, (b) the link-local prefix, (c) preferred
    lifetime greater than valid lifetime and (d) prefix length + 64 != 128.
    """
    try:
        net = ipaddress.IPv6Network(prefix) if isinstance(prefix, str) else prefix
    except ValueError as exc:
        raise UsageError(f"not an IPv6 prefix {prefix!r}: {exc}") from None
    if not autonomous:
        return "autonomous flag not set (RFC 4862 §5.5.3 a)"
    if net.subnet_of(ipaddress.IPv6Network("fe80::/10")):
        return "link-local prefix (RFC 4862 §5.5.3 b)"
    if preferred_lifetime > valid_lifetime:
        return "preferred lifetime greater than valid lifetime (RFC 4862 §5.5.3 c)"
    if net.prefixlen + 64 != 128:
        return f"prefix length {net.prefixlen} + 64-bit IID != 128 (RFC 4862 §5.5.3 d)"
    return None


TWO_HOURS = 7200


def updated_valid_lifetime(received: float, remaining: float, authenticated: bool = False
                           ) -> float:
    """The valid lifetime of an existing autoconfigured address after a new
    Prefix Information option for its prefix (RFC 4862 §5.5.3 e):

    1. received > 2 hours or received > RemainingLifetime: take ``received``;
    2. else if RemainingLifetime <= 2 hours: keep ``remaining`` unless the Router
       Advertisement was authenticated (e.g. SEND), then take ``received``;
    3. otherwise: 2 hours.

    The rule keeps a forged advertisement from expiring an address at once.
    """
    if received < 0 or remaining < 0:
        raise UsageError("lifetimes cannot be negative")
    if received > TWO_HOURS or received > remaining:
        return received
    if remaining <= TWO_HOURS:
        return received if authenticated else remaining
    return TWO_HOURS
