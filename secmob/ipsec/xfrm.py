"""Export SPD entries and SAs as Linux ``ip xfrm policy add`` / ``ip xfrm state add`` lines.

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

SAs (:func:`xfrm_state_line`) follow the ``ip xfrm state`` grammar::

    ip xfrm state add ID [ ALGO-LIST ] [ mode MODE ] [ reqid REQID ]
        [ replay-window SIZE ] [ flag FLAG-LIST ] [ LIMIT-LIST ]
    ID    := [ src ADDR ] [ dst ADDR ] [ proto XFRM-PROTO ] [ spi SPI ]
    ALGO  := { enc | auth } ALGO-NAME ALGO-KEYMAT |
             auth-trunc ALGO-NAME ALGO-KEYMAT ALGO-TRUNC-LEN |
             aead ALGO-NAME ALGO-KEYMAT ALGO-ICV-LEN
    LIMIT := { time-soft | time-hard } SECONDS | { byte-soft | byte-hard } SIZE |
             { packet-soft | packet-hard } COUNT

with the kernel's algorithm names (net/xfrm/xfrm_algo.c, tables below).
Integrity always uses ``auth-trunc`` with the RFC truncation, because the
kernel's default for ``hmac(sha256)`` is 96 bits, not RFC 4868's 128. Keys
are ``key || salt`` as ESP uses them (RFC 3686 nonce, RFC 4106/4309/4543/7634
salt). ESN SAs get ``flag esn`` and a replay window of at least 1 (Linux
refuses an ESN SA without one); AH over IPv4 gets ``flag align4`` (Linux pads
IPv4 AH to 64 bits unless told; RFC 4302 §2.6 asks for 32).
"""

from __future__ import annotations

import ipaddress
import itertools
import shlex
from collections.abc import Iterable

from secmob.algorithms.base import check_length
from secmob.errors import UsageError
from secmob.ipsec.sad import Address, Protocol, SecurityAssociation, packed_address
from secmob.ipsec.selectors import (
    ANY,
    OPAQUE,
    PORT_PROTOCOLS,
    AddressSet,
    Direction,
    Ports,
    Special,
)
from secmob.ipsec.spd import SPD, Action, Entry, Mode, SATemplate

__all__ = [
    "PROTOCOL_NAMES",
    "XFRM_AEAD",
    "XFRM_ENCRYPTION",
    "XFRM_INTEGRITY",
    "xfrm_commands",
    "xfrm_policy_lines",
    "xfrm_state_line",
]

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


# -- SAs -----------------------------------------------------------------------

#: IKEv2 encryption transform id -> kernel name, for ``enc``.
XFRM_ENCRYPTION: dict[int, str] = {
    2: "cbc(des)",
    3: "cbc(des3_ede)",
    11: "ecb(cipher_null)",
    12: "cbc(aes)",
    13: "rfc3686(ctr(aes))",
}

#: IKEv2 encryption transform id -> kernel name, for ``aead`` (ICV length from the SA).
XFRM_AEAD: dict[int, str] = {
    **dict.fromkeys((14, 15, 16), "rfc4309(ccm(aes))"),
    **dict.fromkeys((18, 19, 20), "rfc4106(gcm(aes))"),
    21: "rfc4543(gcm(aes))",
    28: "rfc7539esp(chacha20,poly1305)",
}

#: IKEv2 integrity transform id -> kernel name, for ``auth-trunc``.
XFRM_INTEGRITY: dict[int, str] = {
    1: "hmac(md5)",
    2: "hmac(sha1)",
    5: "xcbc(aes)",
    8: "cmac(aes)",
    12: "hmac(sha256)",
    13: "hmac(sha384)",
    14: "hmac(sha512)",
}

_ESN_BITMAP_MAX = 4096  # XFRMA_REPLAY_ESN_MAX: 128 32-bit words of bitmap


def _key(key: bytes) -> str:
    return "0x" + key.hex() if key else shlex.quote("")


def _algorithms(sa: SecurityAssociation, cipher_key: bytes, integrity_key: bytes) -> list[str]:
    words: list[str] = []
    cipher, integrity = sa.cipher, sa.integrity
    if cipher is not None:
        cipher.split_keymat(cipher_key)  # checks the key || salt length
        if cipher.aead:
            name = XFRM_AEAD.get(cipher.ikev2_id)
            if name is None:
                raise UsageError(f"Linux xfrm has no AEAD for {cipher.name}")
            words += ["aead", shlex.quote(name), _key(cipher_key), str(cipher.icv_size * 8)]
        else:
            name = XFRM_ENCRYPTION.get(cipher.ikev2_id)
            if name is None:
                raise UsageError(f"Linux xfrm has no cipher for {cipher.name}")
            words += ["enc", shlex.quote(name), _key(cipher_key)]
    if integrity is not None:
        name = XFRM_INTEGRITY.get(integrity.ikev2_id)
        if name is None:
            raise UsageError(f"Linux xfrm has no integrity algorithm for {integrity.name}")
        check_length(f"{integrity.name} key", integrity_key, integrity.key_sizes)
        words += ["auth-trunc", shlex.quote(name), _key(integrity_key),
                  str(integrity.icv_size * 8)]
    elif integrity_key:
        raise UsageError("the SA has no integrity algorithm; give no integrity key")
    return words


def _seconds(value: float, what: str) -> int:
    if not float(value).is_integer():
        raise UsageError(f"xfrm lifetimes are whole seconds; {what} is {value}")
    return int(value)


def _limits(sa: SecurityAssociation) -> list[str]:
    lt = sa.lifetime
    words: list[str] = []
    for word, value in (("time-soft", lt.soft_seconds), ("time-hard", lt.hard_seconds)):
        if value is not None:
            words += ["limit", word, str(_seconds(value, word))]
    for word, count in (("byte-soft", lt.soft_bytes), ("byte-hard", lt.hard_bytes),
                        ("packet-soft", lt.soft_packets), ("packet-hard", lt.hard_packets)):
        if count is not None:
            words += ["limit", word, str(count)]
    return words


def _endpoint(own: bytes | None, given: Address | None, what: str) -> str:
    packed = packed_address(given) if given is not None else own
    if packed is None:
        raise UsageError(f"the SA has no {what} address; give {what}=")
    return str(ipaddress.ip_address(packed))


def xfrm_state_line(
    sa: SecurityAssociation,
    *,
    cipher_key: bytes = b"",
    integrity_key: bytes = b"",
    reqid: int | None = None,
    source: Address | None = None,
    destination: Address | None = None,
) -> str:
    """The ``ip xfrm state add`` line installing ``sa`` in Linux.

    secmob keeps no keys in an SA, so the keys it was made with are passed
    again (``cipher_key`` is ``key || salt``). ``src``/``dst`` are the outer
    source and destination of the packets the SA carries: the tunnel
    endpoints of a tunnel-mode SA (``tunnel_source`` -> ``tunnel_destination``,
    so an inbound SA should hold the peer as ``tunnel_source``), else the
    SA's ``source`` and ``destination``; ``source=``/``destination=``
    override them. ``reqid``
    defaults to that of the SPD entry the SA carries as ``policy`` (its
    template's), else 0, so that the state pairs with the ``tmpl`` of
    :func:`xfrm_commands`. The replay window is the SA's (0 for outbound
    SAs, at least 1 with ESN).

    Raises :class:`~secmob.errors.UsageError` for an algorithm the kernel
    lacks (AES-GMAC as AH integrity), a key of the wrong length, a missing
    address, a window the kernel cannot hold, or a fractional lifetime.
    """
    if sa.mode is Mode.TUNNEL:
        src_own, dst_own = sa.tunnel_source, sa.tunnel_destination
    else:
        src_own, dst_own = sa.source, sa.destination
    src = _endpoint(src_own, source, "source")
    dst = _endpoint(dst_own, destination, "destination")
    if (":" in src) != (":" in dst):
        raise UsageError(f"xfrm state endpoints mix IPv4 and IPv6: {src} -> {dst}")
    if reqid is None:
        template = getattr(sa.policy, "template", None)
        reqid = template.reqid if isinstance(template, SATemplate) else 0
    words = ["ip", "xfrm", "state", "add", "src", src, "dst", dst,
             "proto", sa.protocol.name.lower(), "spi", f"0x{sa.spi:08x}"]
    words += _algorithms(sa, cipher_key, integrity_key)
    words += ["mode", sa.mode.value, "reqid", str(reqid)]
    window = sa.replay.size
    if sa.esn:
        window = max(window, 1)
    if window > _ESN_BITMAP_MAX:
        raise UsageError(f"Linux holds replay windows up to {_ESN_BITMAP_MAX} packets, "
                         f"the SA has {window}")
    if window:
        words += ["replay-window", str(window)]
    flags = (["esn"] if sa.esn else []) + (
        ["align4"] if sa.protocol is Protocol.AH and ":" not in dst else [])
    if flags:
        words += ["flag", *flags]
    words += _limits(sa)
    return " ".join(words)
