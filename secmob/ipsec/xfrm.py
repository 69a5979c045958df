"""Export SPD entries as Linux ``ip xfrm policy add`` command lines.

The syntax follows the ip-xfrm(8) grammar of iproute2::

    ip xfrm policy add SELECTOR dir DIR [ action ACTION ] [ priority PRIORITY ] [ TMPL-LIST ]
    SELECTOR := [ src ADDR[/PLEN] ] [ dst ADDR[/PLEN] ] [ UPSPEC ]
    UPSPEC   := proto { PROTO | { tcp | udp | sctp | dccp } [ sport PORT ] [ dport PORT ] |
                { icmp | ipv6-icmp | mobility-header } [ type NUMBER ] [ code NUMBER ] }
    TMPL     := [ src ADDR ] [ dst ADDR ] [ proto esp | ah ] [ mode transport | tunnel ]
                [ reqid REQID ]

Mapping (RFC 4301 terms to xfrm):

* SPD order becomes ``priority``: entry *n* gets ``base + n`` (a lower value
  wins in the kernel), so the first match of the SPD is the policy the kernel
  picks.
* Outbound entries become ``dir out`` with src = local, dst = remote; inbound
  entries ``dir in`` (and, if asked, ``dir fwd`` for a security gateway) with
  src = remote, dst = local. Ports follow the same swap.
* DISCARD is ``action block``; BYPASS is ``action allow`` without templates;
  PROTECT is ``action allow`` with one ``tmpl`` per protocol, ESP first (the
  inner one) and AH after it. Tunnel templates carry the tunnel endpoints.
* xfrm selectors hold one prefix and one port per field: address ranges are
  split into CIDR prefixes, port and ICMP code ranges into single values, one
  command per combination (at most ``max_lines`` per entry). ANY is omitted
  (``0.0.0.0/0``/``::/0`` for addresses). The MH type of ``dir out`` is the
  entry's local MH type, that of ``dir in`` its remote MH type. OPAQUE and
  entries needing more than ``max_lines`` commands cannot be expressed and
  raise :class:`~secmob.errors.UsageError`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from secmob.errors import UsageError
from secmob.ipsec.selectors import (
    ANY,
    OPAQUE,
    PORT_PROTOCOLS,
    AddressSet,
    Direction,
    Ports,
    Special,
)
from secmob.ipsec.spd import SPD, Action, Entry, Mode

__all__ = ["PROTOCOL_NAMES", "xfrm_commands", "xfrm_policy_lines"]

#: iproute2 names for the protocols that take ports or type/code in UPSPEC.
PROTOCOL_NAMES = {
    6: "tcp",
    17: "udp",
    33: "dccp",
    132: "sctp",
    1: "icmp",
    58: "ipv6-icmp",
    135: "mobility-header",
}
_PORT_NAMES = {6, 17, 33, 132}


def _prefixes(sel: AddressSet | Special, version: int) -> list[str]:
    if not isinstance(sel, AddressSet):
        return ["0.0.0.0/0" if version == 4 else "::/0"]
    return [str(net) for net in sel.networks()]


def _values(sel: Ports, what: str) -> list[int | None]:
    if sel is ANY:
        return [None]
    if sel is OPAQUE:
        raise UsageError(f"xfrm cannot express an OPAQUE {what} selector")
    assert not isinstance(sel, Special)
    return [v for lo, hi in sel for v in range(lo, hi + 1)]


def _single(value: int | Special, what: str) -> list[int | None]:
    if value is ANY:
        return [None]
    if value is OPAQUE:
        raise UsageError(f"xfrm cannot express an OPAQUE {what} selector")
    assert isinstance(value, int)
    return [value]


def _upspecs(entry: Entry, direction: Direction) -> list[str]:
    sel = entry.selector
    proto = sel.protocol
    if proto is ANY:
        return [""]
    if proto is OPAQUE:
        raise UsageError("xfrm cannot express an OPAQUE next layer protocol")
    assert isinstance(proto, int)
    if proto in PORT_PROTOCOLS:
        local = _values(sel.local_port, "local port")
        remote = _values(sel.remote_port, "remote port")
        if proto not in _PORT_NAMES and (local != [None] or remote != [None]):
            raise UsageError(f"iproute2 takes ports only for tcp, udp, sctp and dccp, not {proto}")
        src, dst = (local, remote) if direction is Direction.OUTBOUND else (remote, local)
        name = PROTOCOL_NAMES.get(proto, str(proto))
        return [
            f"proto {name}" + (f" sport {s}" if s is not None else "")
            + (f" dport {d}" if d is not None else "")
            for s, d in itertools.product(src, dst)
        ]
    if proto in (1, 58):
        types = _single(sel.icmp_type, "ICMP type")
        codes = _values(sel.icmp_code, "ICMP code")
        return [
            f"proto {PROTOCOL_NAMES[proto]}" + (f" type {t}" if t is not None else "")
            + (f" code {c}" if c is not None else "")
            for t, c in itertools.product(types, codes)
        ]
    if proto == 135:
        mh = sel.local_mh_type if direction is Direction.OUTBOUND else sel.remote_mh_type
        types = _single(mh, "MH type")
        return ["proto mobility-header" + (f" type {t}" if t is not None else "") for t in types]
    return [f"proto {proto}"]


def _templates(entry: Entry, direction: Direction) -> str:
    tmpl = entry.template
    if tmpl is None:
        return ""
    parts = []
    for protocol in tmpl.protocols:
        words = ["tmpl"]
        if tmpl.mode is Mode.TUNNEL:
            src, dst = tmpl.tunnel_local, tmpl.tunnel_remote
            if direction is not Direction.OUTBOUND:
                src, dst = dst, src
            words += ["src", str(src), "dst", str(dst)]
        words += ["proto", protocol, "mode", tmpl.mode.value, "reqid", str(tmpl.reqid)]
        parts.append(" ".join(words))
    return " " + " ".join(parts)


def xfrm_policy_lines(
    entry: Entry,
    priority: int,
    *,
    forward: bool = False,
    max_lines: int = 256,
) -> list[str]:
    """``ip xfrm policy add`` lines for one entry at the given priority.

    ``forward`` adds ``dir fwd`` copies of inbound entries (security gateways).
    """
    sel = entry.selector
    versions = [sel.version] if sel.version is not None else [4, 6]
    dirs: list[tuple[Direction, str]] = []
    if Direction.OUTBOUND in entry.directions:
        dirs.append((Direction.OUTBOUND, "out"))
    if Direction.INBOUND in entry.directions:
        dirs.append((Direction.INBOUND, "in"))
        if forward:
            dirs.append((Direction.INBOUND, "fwd"))
    action = "block" if entry.action is Action.DISCARD else "allow"
    lines: list[str] = []
    for direction, word in dirs:
        upspecs = _upspecs(entry, direction)
        tmpl = _templates(entry, direction)
        for version in versions:
            local = _prefixes(sel.local, version)
            remote = _prefixes(sel.remote, version)
            src, dst = (local, remote) if direction is Direction.OUTBOUND else (remote, local)
            count = len(src) * len(dst) * len(upspecs)
            if len(lines) + count > max_lines:
                raise UsageError(
                    f"SPD entry {entry.name or '(unnamed)'} needs more than {max_lines} xfrm "
                    "policies (address ranges and port ranges are split into single values)"
                )
            for s, d, up in itertools.product(src, dst, upspecs):
                upspec = f" {up}" if up else ""
                lines.append(
                    f"ip xfrm policy add src {s} dst {d}{upspec} dir {word} "
                    f"action {action} priority {priority}{tmpl}"
                )
    return lines


def xfrm_commands(
    spd: SPD | Iterable[Entry],
    *,
    priority_base: int = 1000,
    forward: bool = False,
    max_lines: int = 256,
) -> list[str]:
    """The whole SPD, in order, as ``ip xfrm policy add`` lines (entry n gets
    priority ``priority_base + n``)."""
    out: list[str] = []
    for n, entry in enumerate(spd):
        out.extend(xfrm_policy_lines(entry, priority_base + n, forward=forward,
                                     max_lines=max_lines))
    return out
