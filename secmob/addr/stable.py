"""Stable, semantically opaque interface identifiers (RFC 7217 §5, §6).

::

    RID = F(Prefix | Net_Iface | Network_ID | DAD_Counter | secret_key)
    IID = the least significant 64 bits of RID

F is SHA-256 unless the caller passes another hashlib name or a callable (the
RFC names SHA-1 and SHA-256 as options and rules out MD5). ``Prefix`` is the
64-bit prefix from a Router Advertisement, or the link-local prefix;
``Net_Iface`` a stable identifier of the interface (e.g. its name or MAC);
``Network_ID`` optional data naming the network (e.g. an SSID); DAD_Counter
starts at 0, secmob hashes it as one octet.

A reserved IID (RFC 5453) or one already in use increments DAD_Counter and
starts over (§5). After Duplicate Address Detection fails the host increments
DAD_Counter and tries again, at most IDGEN_RETRIES (3) times (§6); asking for
a larger DAD_Counter raises :class:`~secmob.errors.UsageError`.

The address is the same every time the host returns to a network (stable)
but differs between networks, and reveals nothing about the hardware.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection

from secmob.addr._prf import PRF, HashedIID, rid_iid
from secmob.addr.iid import PrefixLike, form_address, prefix64
from secmob.errors import UsageError
from secmob.trace import Tracer

__all__ = ["IDGEN_RETRIES", "stable_address", "stable_iid"]

IDGEN_RETRIES = 3
"""How many times DAD_Counter is incremented after DAD failures before the host
gives up (RFC 7217 §6)."""

_RFC = "RFC 7217 §5"
_FORMULA = "RID = F(Prefix | Net_Iface | Network_ID | DAD_Counter | secret_key)"


def stable_iid(
    prefix: PrefixLike,
    net_iface: bytes,
    secret_key: bytes,
    *,
    network_id: bytes = b"",
    dad_counter: int = 0,
    prf: PRF = "sha256",
    in_use: Collection[bytes] = (),
    idgen_retries: int = IDGEN_RETRIES,
    tracer: Tracer | None = None,
) -> HashedIID:
    """The RFC 7217 IID for ``prefix`` on ``net_iface`` (§5).

    ``dad_counter`` is 0 for the first attempt; after a DAD failure call again
    with the returned ``dad_counter + 1``. More than ``idgen_retries`` DAD
    retries raises :class:`UsageError` (§6: give up and log). The secret key
    must be at least 128 bits (§5 recommends that length; secmob requires it).
    """
    if isinstance(dad_counter, bool) or not isinstance(dad_counter, int) or dad_counter < 0:
        raise UsageError(f"DAD_Counter must be a non-negative integer, got {dad_counter!r}")
    if dad_counter > idgen_retries:
        raise UsageError(
            f"DAD_Counter {dad_counter} exceeds IDGEN_RETRIES ({idgen_retries}): RFC 7217 §6 "
            "stops trying here; no stable address can be configured for this prefix"
        )
    if not isinstance(secret_key, bytes) or len(secret_key) < 16:
        raise UsageError("secret_key must be bytes of at least 128 bits (the length RFC 7217 §5 "
                         "recommends)")
    return rid_iid(
        _RFC, _FORMULA,
        [("Prefix", prefix64(prefix)), ("Net_Iface", net_iface), ("Network_ID", network_id)],
        secret_key, dad_counter, prf, in_use, tracer,
    )


def stable_address(
    prefix: PrefixLike,
    net_iface: bytes,
    secret_key: bytes,
    *,
    network_id: bytes = b"",
    dad_counter: int = 0,
    prf: PRF = "sha256",
    tracer: Tracer | None = None,
) -> ipaddress.IPv6Address:
    """``prefix | stable_iid(...)`` (RFC 7217 §5 with RFC 4862 §5.5.3 d)."""
    result = stable_iid(prefix, net_iface, secret_key, network_id=network_id,
                        dad_counter=dad_counter, prf=prf, tracer=tracer)
    return form_address(prefix, result.iid)
