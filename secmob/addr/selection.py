"""Default address selection for IPv6 (RFC 6724).

* :data:`DEFAULT_POLICY` -- the policy table of §2.1; :func:`policy` finds the
  longest matching entry (IPv4 addresses are looked up as IPv4-mapped, §2.1).
* :func:`scope` -- the scope of §3.1 (RFC 4007 values) and §3.2 for IPv4.
* :func:`common_prefix_len` -- CommonPrefixLen(S, D) of §2.2, capped at the
  length of S's prefix.
* Source selection (§5): :class:`SourceCandidate` carries the attributes the
  rules need; :data:`SOURCE_RULES` lists rules 1, 2, 3, 4, 5, 5.5, 6, 7, 8,
  each a function ``rule(sa, sb, d, ctx) -> +1 | -1 | 0`` (+1: prefer SA);
  :func:`compare_sources` applies them in order and :func:`select_source`
  returns the winner.
* Destination ordering (§6): :class:`Destination` carries D, reachability,
  encapsulation and Source(D); :data:`DESTINATION_RULES` lists rules 1-9
  (rule 10, keep the order, is the stable sort); :func:`order_destinations`
  sorts, :func:`destinations_for` first picks Source(D) from candidates.

Mobile IPv6: source rule 4 (and destination rule 4) prefers home addresses to
care-of addresses, so a mobile node away from home talks from its home
address unless told otherwise (RFC 6724 §5, RFC 6275 §11.3.1).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from secmob.addr.iid import Address, as_address
from secmob.errors import UsageError

__all__ = [
    "DEFAULT_POLICY",
    "DESTINATION_RULES",
    "SCOPE_GLOBAL",
    "SCOPE_LINK_LOCAL",
    "SCOPE_SITE_LOCAL",
    "SOURCE_RULES",
    "Decision",
    "Destination",
    "PolicyEntry",
    "SelectionContext",
    "SourceCandidate",
    "common_prefix_len",
    "compare_destinations",
    "compare_sources",
    "destinations_for",
    "dst_rule1",
    "dst_rule2",
    "dst_rule3",
    "dst_rule4",
    "dst_rule5",
    "dst_rule6",
    "dst_rule7",
    "dst_rule8",
    "dst_rule9",
    "label",
    "order_destinations",
    "policy",
    "precedence",
    "scope",
    "select_source",
    "src_rule1",
    "src_rule2",
    "src_rule3",
    "src_rule4",
    "src_rule5",
    "src_rule5_5",
    "src_rule6",
    "src_rule7",
    "src_rule8",
]

SCOPE_INTERFACE_LOCAL = 0x1
SCOPE_LINK_LOCAL = 0x2
SCOPE_ADMIN_LOCAL = 0x4
SCOPE_SITE_LOCAL = 0x5
SCOPE_ORGANIZATION_LOCAL = 0x8
SCOPE_GLOBAL = 0xE

_MAPPED = int(ipaddress.IPv6Address("::ffff:0:0"))
_V4_LINK_LOCAL = (ipaddress.IPv4Network("127.0.0.0/8"), ipaddress.IPv4Network("169.254.0.0/16"))


@dataclass(frozen=True)
class PolicyEntry:
    """One row of the policy table (RFC 6724 §2.1)."""

    prefix: ipaddress.IPv6Network
    precedence: int
    label: int


def _row(prefix: str, prec: int, lab: int) -> PolicyEntry:
    return PolicyEntry(ipaddress.IPv6Network(prefix), prec, lab)


DEFAULT_POLICY: tuple[PolicyEntry, ...] = (
    _row("::1/128", 50, 0),
    _row("::/0", 40, 1),
    _row("::ffff:0:0/96", 35, 4),
    _row("2002::/16", 30, 2),
    _row("2001::/32", 5, 5),
    _row("fc00::/7", 3, 13),
    _row("::/96", 1, 3),
    _row("fec0::/10", 1, 11),
    _row("3ffe::/16", 1, 12),
)
"""The default policy table of RFC 6724 §2.1."""


def _v6(addr: Address) -> ipaddress.IPv6Address:
    """IPv6 form of ``addr``: IPv4 as IPv4-mapped (RFC 6724 §2.1, §6)."""
    if isinstance(addr, ipaddress.IPv4Address):
        return ipaddress.IPv6Address(_MAPPED | int(addr))
    return addr


def policy(addr: str | Address, table: Sequence[PolicyEntry] = DEFAULT_POLICY) -> PolicyEntry:
    """The longest-prefix-matching row of ``table`` for ``addr`` (RFC 6724 §2.1)."""
    a = _v6(as_address(addr))
    best: PolicyEntry | None = None
    for row in table:
        if a in row.prefix and (best is None or row.prefix.prefixlen > best.prefix.prefixlen):
            best = row
    if best is None:
        raise UsageError(f"policy table has no entry matching {a} (it should contain ::/0)")
    return best


def precedence(addr: str | Address, table: Sequence[PolicyEntry] = DEFAULT_POLICY) -> int:
    """Precedence(A) (RFC 6724 §2.1)."""
    return policy(addr, table).precedence


def label(addr: str | Address, table: Sequence[PolicyEntry] = DEFAULT_POLICY) -> int:
    """Label(A) (RFC 6724 §2.1)."""
    return policy(addr, table).label


def scope(addr: str | Address) -> int:
    """Scope(A) as the 4-bit values of RFC 4007 / RFC 4291 §2.7 (RFC 6724 §3.1, §3.2).

    Multicast: the scope field. Unicast: loopback and fe80::/10 link-local (2),
    deprecated site-local fec0::/10 (5), everything else global (14) -- ULAs
    included. IPv4 (§3.2): 127/8 and 169.254/16 link-local, else global.
    IPv4-mapped IPv6 addresses are classified as their IPv4 address.
    """
    a = as_address(addr)
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    if isinstance(a, ipaddress.IPv4Address):
        if any(a in net for net in _V4_LINK_LOCAL):
            return SCOPE_LINK_LOCAL
        return SCOPE_GLOBAL
    packed = a.packed
    if packed[0] == 0xFF:
        return packed[1] & 0x0F
    if a == ipaddress.IPv6Address("::1") or (packed[0] == 0xFE and packed[1] & 0xC0 == 0x80):
        return SCOPE_LINK_LOCAL
    if packed[0] == 0xFE and packed[1] & 0xC0 == 0xC0:
        return SCOPE_SITE_LOCAL
    return SCOPE_GLOBAL


def common_prefix_len(source: str | Address, dest: str | Address, source_prefix_len: int | None
                      = None) -> int:
    """CommonPrefixLen(S, D): leading bits S and D share, at most the length of
    S's prefix (RFC 6724 §2.2; 64 for IPv6 and 32 for IPv4 unless given)."""
    s, d = as_address(source), as_address(dest)
    if s.version != d.version:
        s, d = _v6(s), _v6(d)
    bits = s.max_prefixlen
    if source_prefix_len is None:
        source_prefix_len = 64 if bits == 128 else 32
    shared = bits - (int(s) ^ int(d)).bit_length()
    return min(shared, source_prefix_len)


@dataclass(frozen=True)
class SourceCandidate:
    """A candidate source address and the attributes RFC 6724 §5 consults.

    ``on_outgoing_interface`` (rule 5): assigned to the interface used to send
    to D. ``from_next_hop`` (rule 5.5): it or its prefix was assigned by the
    next hop used for D. ``home``/``care_of`` (rule 4, Mobile IPv6; both true
    when the mobile node is at home). ``prefix_len``: its on-link prefix length
    (§2.2; None for 64, or 32 for IPv4).
    """

    address: Address
    deprecated: bool = False
    home: bool = False
    care_of: bool = False
    temporary: bool = False
    on_outgoing_interface: bool = True
    from_next_hop: bool = True
    prefix_len: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", as_address(self.address))
        if self.prefix_len is not None and not 0 <= self.prefix_len <= self.address.max_prefixlen:
            raise UsageError(f"prefix_len {self.prefix_len} is not a valid prefix length for "
                             f"{self.address}")

    @classmethod
    def of(cls, address: str | Address, **attrs: bool | int | None) -> SourceCandidate:
        """A candidate from text or an address object, with attributes as keywords."""
        return cls(as_address(address), **attrs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SelectionContext:
    """Inputs shared by all rules: the policy table and the rule 7 preference
    (``prefer_temporary=False`` is the application override of RFC 6724 §5)."""

    table: Sequence[PolicyEntry] = DEFAULT_POLICY
    prefer_temporary: bool = True


DEFAULT_CONTEXT = SelectionContext()
SourceRule = Callable[[SourceCandidate, SourceCandidate, Address, SelectionContext], int]


def _pref(a: bool, b: bool) -> int:
    """+1 if only a holds, -1 if only b holds, else 0."""
    return int(a) - int(b)


def src_rule1(sa: SourceCandidate, sb: SourceCandidate, d: Address, ctx: SelectionContext) -> int:
    """Rule 1: prefer same address (SA = D)."""
    return _pref(sa.address == d, sb.address == d)


def src_rule2(sa: SourceCandidate, sb: SourceCandidate, d: Address, ctx: SelectionContext) -> int:
    """Rule 2: prefer appropriate scope."""
    a, b, sd = scope(sa.address), scope(sb.address), scope(d)
    if a < b:
        return -1 if a < sd else 1
    if b < a:
        return 1 if b < sd else -1
    return 0


def src_rule3(sa: SourceCandidate, sb: SourceCandidate, d: Address, ctx: SelectionContext) -> int:
    """Rule 3: avoid deprecated addresses."""
    return _pref(not sa.deprecated, not sb.deprecated)


def _home_rule(a: SourceCandidate, b: SourceCandidate) -> int:
    both_a, both_b = a.home and a.care_of, b.home and b.care_of
    if both_a != both_b:
        return 1 if both_a else -1
    just_home_a, just_home_b = a.home and not a.care_of, b.home and not b.care_of
    just_coa_a, just_coa_b = a.care_of and not a.home, b.care_of and not b.home
    if just_home_a and just_coa_b:
        return 1
    if just_home_b and just_coa_a:
        return -1
    return 0


def src_rule4(sa: SourceCandidate, sb: SourceCandidate, d: Address, ctx: SelectionContext) -> int:
    """Rule 4: prefer home addresses (Mobile IPv6)."""
    return _home_rule(sa, sb)


def src_rule5(sa: SourceCandidate, sb: SourceCandidate, d: Address, ctx: SelectionContext) -> int:
    """Rule 5: prefer outgoing interface."""
    return _pref(sa.on_outgoing_interface, sb.on_outgoing_interface)


def src_rule5_5(sa: SourceCandidate, sb: SourceCandidate, d: Address, ctx: SelectionContext
                ) -> int:
    """Rule 5.5: prefer addresses in a prefix advertised by the next-hop."""
    return _pref(sa.from_next_hop, sb.from_next_hop)


def src_rule6(sa: SourceCandidate, sb: SourceCandidate, d: Address, ctx: SelectionContext) -> int:
    """Rule 6: prefer matching label."""
    ld = label(d, ctx.table)
    return _pref(label(sa.address, ctx.table) == ld, label(sb.address, ctx.table) == ld)


def src_rule7(sa: SourceCandidate, sb: SourceCandidate, d: Address, ctx: SelectionContext) -> int:
    """Rule 7: prefer temporary addresses (reversed when ``prefer_temporary`` is False)."""
    r = _pref(sa.temporary, sb.temporary)
    return r if ctx.prefer_temporary else -r


def src_rule8(sa: SourceCandidate, sb: SourceCandidate, d: Address, ctx: SelectionContext) -> int:
    """Rule 8: use longest matching prefix."""
    a = common_prefix_len(sa.address, d, sa.prefix_len)
    b = common_prefix_len(sb.address, d, sb.prefix_len)
    return (a > b) - (a < b)


SOURCE_RULES: tuple[tuple[str, SourceRule], ...] = (
    ("1", src_rule1), ("2", src_rule2), ("3", src_rule3), ("4", src_rule4),
    ("5", src_rule5), ("5.5", src_rule5_5), ("6", src_rule6), ("7", src_rule7),
    ("8", src_rule8),
)
"""RFC 6724 §5 rules in the order they MUST be applied."""


@dataclass(frozen=True)
class Decision:
    """Outcome of a pair-wise comparison: +1 prefer the first, -1 the second,
    0 tie; ``rule`` names the deciding rule (None on a tie)."""

    preference: int
    rule: str | None


def compare_sources(sa: SourceCandidate, sb: SourceCandidate, destination: str | Address,
                    ctx: SelectionContext = DEFAULT_CONTEXT) -> Decision:
    """Apply the §5 rules in order; the first that prefers one address decides."""
    d = as_address(destination)
    for name, rule in SOURCE_RULES:
        r = rule(sa, sb, d, ctx)
        if r:
            return Decision(r, name)
    return Decision(0, None)


def select_source(destination: str | Address, candidates: Iterable[SourceCandidate],
                  ctx: SelectionContext = DEFAULT_CONTEXT) -> SourceCandidate | None:
    """The source address RFC 6724 §5 selects for ``destination`` from the
    candidates of the same address family; None if there is none.

    Rules are applied as §5 describes them: each rule keeps the candidates no
    other remaining candidate beats under that rule and discards the rest;
    later rules only break ties among those kept. (Rule 4 orders only some
    pairs, so a pair-wise running maximum could depend on the input order.)
    Ties left after rule 8 go to the earliest candidate (the RFC leaves this
    to the implementation).
    """
    d = as_address(destination)
    remaining = [c for c in candidates if c.address.version == d.version]
    for _, rule in SOURCE_RULES:
        if len(remaining) <= 1:
            break
        remaining = [a for a in remaining
                     if not any(rule(b, a, d, ctx) > 0 for b in remaining if b is not a)]
    return remaining[0] if remaining else None


# --------------------------------------------------------------------------
# Destination address ordering (§6)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    """A destination D with Source(D) (None: undefined) and what §6 consults:
    ``reachable`` (rule 1) and ``encapsulated`` (rule 7, e.g. reached through
    an IPv6-in-IPv4 tunnel)."""

    address: Address
    source: SourceCandidate | None = None
    reachable: bool = True
    encapsulated: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", as_address(self.address))


DestinationRule = Callable[[Destination, Destination, SelectionContext], int]


def dst_rule1(da: Destination, db: Destination, ctx: SelectionContext) -> int:
    """Rule 1: avoid unusable destinations."""
    return _pref(da.reachable and da.source is not None, db.reachable and db.source is not None)


def dst_rule2(da: Destination, db: Destination, ctx: SelectionContext) -> int:
    """Rule 2: prefer matching scope."""
    if da.source is None or db.source is None:
        return 0
    return _pref(scope(da.address) == scope(da.source.address),
                 scope(db.address) == scope(db.source.address))


def dst_rule3(da: Destination, db: Destination, ctx: SelectionContext) -> int:
    """Rule 3: avoid deprecated addresses (of Source(D))."""
    if da.source is None or db.source is None:
        return 0
    return _pref(not da.source.deprecated, not db.source.deprecated)


def dst_rule4(da: Destination, db: Destination, ctx: SelectionContext) -> int:
    """Rule 4: prefer home addresses (of Source(D))."""
    if da.source is None or db.source is None:
        return 0
    return _home_rule(da.source, db.source)


def dst_rule5(da: Destination, db: Destination, ctx: SelectionContext) -> int:
    """Rule 5: prefer matching label: Label(Source(D)) = Label(D)."""
    if da.source is None or db.source is None:
        return 0
    t = ctx.table
    return _pref(label(da.source.address, t) == label(da.address, t),
                 label(db.source.address, t) == label(db.address, t))


def dst_rule6(da: Destination, db: Destination, ctx: SelectionContext) -> int:
    """Rule 6: prefer higher precedence."""
    a, b = precedence(da.address, ctx.table), precedence(db.address, ctx.table)
    return (a > b) - (a < b)


def dst_rule7(da: Destination, db: Destination, ctx: SelectionContext) -> int:
    """Rule 7: prefer native transport."""
    return _pref(not da.encapsulated, not db.encapsulated)


def dst_rule8(da: Destination, db: Destination, ctx: SelectionContext) -> int:
    """Rule 8: prefer smaller scope."""
    a, b = scope(da.address), scope(db.address)
    return (a < b) - (a > b)


def dst_rule9(da: Destination, db: Destination, ctx: SelectionContext) -> int:
    """Rule 9: use longest matching prefix (same address family only)."""
    if da.source is None or db.source is None or da.address.version != db.address.version:
        return 0
    a = common_prefix_len(da.source.address, da.address, da.source.prefix_len)
    b = common_prefix_len(db.source.address, db.address, db.source.prefix_len)
    return (a > b) - (a < b)


DESTINATION_RULES: tuple[tuple[str, DestinationRule], ...] = (
    ("1", dst_rule1), ("2", dst_rule2), ("3", dst_rule3), ("4", dst_rule4),
    ("5", dst_rule5), ("6", dst_rule6), ("7", dst_rule7), ("8", dst_rule8),
    ("9", dst_rule9),
)
"""RFC 6724 §6 rules 1-9 in order; rule 10 (leave the order unchanged) is the
stability of :func:`order_destinations`."""


def compare_destinations(da: Destination, db: Destination,
                         ctx: SelectionContext = DEFAULT_CONTEXT) -> Decision:
    """Apply the §6 rules in order to DA and DB (+1: DA first)."""
    for name, rule in DESTINATION_RULES:
        r = rule(da, db, ctx)
        if r:
            return Decision(r, name)
    return Decision(0, None)


def order_destinations(destinations: Sequence[Destination],
                       ctx: SelectionContext = DEFAULT_CONTEXT) -> list[Destination]:
    """``destinations`` ordered by RFC 6724 §6.

    The list is built front to back: each position takes the destination that
    survives rules 1-9 applied in turn to those still unplaced (each rule
    discarding the ones another beats), and among survivors the one that came
    first in the original list (rule 10). For rules that order every pair this
    is the stable sort the RFC describes; it stays well defined for rule 4,
    which orders only some pairs.
    """
    remaining = list(destinations)
    ordered: list[Destination] = []
    while remaining:
        best = remaining
        for _, rule in DESTINATION_RULES:
            if len(best) == 1:
                break
            best = [a for a in best if not any(rule(b, a, ctx) > 0 for b in best if b is not a)]
        ordered.append(best[0])
        remaining = [x for x in remaining if x is not best[0]]
    return ordered


def destinations_for(addresses: Iterable[str | Address | Destination],
                     candidates: Sequence[SourceCandidate],
                     ctx: SelectionContext = DEFAULT_CONTEXT) -> list[Destination]:
    """Destinations with Source(D) chosen by :func:`select_source` from
    ``candidates`` (same address family; RFC 6724 leaves IPv4 source selection
    unspecified, secmob applies the §5 rules to IPv4 candidates too)."""
    out: list[Destination] = []
    for item in addresses:
        dest = item if isinstance(item, Destination) else Destination(as_address(item))
        out.append(replace(dest, source=select_source(dest.address, candidates, ctx)))
    return out

