"""IKEv1 proposals and the responder's choice (RFC 2408 §4.2, RFC 2409 §5 and §5.5,
RFC 2407 §4.5).

The data model keeps the numbers that travel on the wire:

* :class:`Phase1Proposal` -- one phase 1 transform (RFC 2409 Appendix A):
  Oakley encryption algorithm and key length, hash, authentication method,
  group description, life type/duration. A phase 1 SA payload carries one
  proposal (protocol PROTO_ISAKMP) whose transforms (KEY_IKE) are the
  alternatives, in the initiator's order of preference (RFC 2409 §5).
* :class:`Phase2Proposal` -- one Quick Mode proposal for ESP or AH with its
  :class:`Phase2Transform` alternatives (RFC 2407 §4.4 transform ids and §4.5
  SA attributes: encapsulation mode, authentication algorithm, group
  description for PFS, SA life type/duration, key length).

:func:`phase1_sa`/:func:`phase1_offer` and :func:`phase2_sa`/:func:`phase2_offer`
convert to and from :class:`~secmob.wire.isakmp.SecurityAssociation`.
:func:`select_phase1` and :func:`select_phase2` implement the responder: the
first offered transform, in the initiator's order, that the responder's policy
accepts attribute by attribute. The reply echoes that one transform unchanged
(RFC 2408 §4.2: the responder MUST NOT modify the attributes it accepts).
Without an acceptable proposal they raise
:class:`~secmob.errors.NegotiationError` with notify 14 (NO-PROPOSAL-CHOSEN).

Lifetimes (what is implemented): RFC 2407 §4.5.4 gives a responder whose
policy is shorter than the offered lifetime three choices; :class:`LifetimeRule`
names them. ``CLAIM`` (the default) accepts, uses the shorter lifetime and
reports it in :attr:`Selection.responder_lifetime` so the exchange can send a
RESPONDER-LIFETIME notification (type 24576); ``STRICT`` rejects the
transform; ``OBEY`` uses the initiator's lifetime. A phase 2 transform without
lifetime attributes has the default of 28800 seconds (RFC 2407 §4.5); a
phase 1 transform without them takes the responder's policy lifetime.
Policies may also be written as proposal strings (:mod:`secmob.ike.proposal_strings`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum, IntEnum
from typing import Generic, TypeVar

from secmob._buffer import Reader, Writer
from secmob.errors import DecodeError, NegotiationError
from secmob.ike.ikev1_keys import AuthMethod
from secmob.wire.isakmp import (
    Attribute,
    Notification,
    Proposal,
    Protocol,
    SecurityAssociation,
    Transform,
    parse_attributes,
)

__all__ = [
    "DEFAULT_PHASE2_SECONDS",
    "KEY_IKE",
    "NO_LIMIT",
    "RESPONDER_LIFETIME",
    "Encapsulation",
    "IPsecAttr",
    "LifeType",
    "Lifetime",
    "LifetimeRule",
    "OakleyAttr",
    "Phase1Proposal",
    "Phase2Proposal",
    "Phase2Transform",
    "Selection",
    "lifetime_from_notification",
    "phase1_offer",
    "phase1_sa",
    "phase2_offer",
    "phase2_sa",
    "responder_lifetime_notification",
    "select_phase1",
    "select_phase2",
]

#: Transform id of every phase 1 transform (RFC 2407 §4.4.2).
KEY_IKE = 1
#: Notify message type RESPONDER-LIFETIME (RFC 2407 §4.6.3.1).
RESPONDER_LIFETIME = 24576
#: SA lifetime when no Life Type/Duration is offered (RFC 2407 §4.5).
DEFAULT_PHASE2_SECONDS = 28800


class OakleyAttr(IntEnum):
    """Phase 1 attribute classes (RFC 2409 Appendix A)."""

    ENCRYPTION = 1
    HASH = 2
    AUTH_METHOD = 3
    GROUP = 4
    LIFE_TYPE = 11
    LIFE_DURATION = 12
    KEY_LENGTH = 14


class IPsecAttr(IntEnum):
    """IPsec DOI SA attributes (RFC 2407 §4.5)."""

    LIFE_TYPE = 1
    LIFE_DURATION = 2
    GROUP = 3
    ENCAPSULATION = 4
    AUTH_ALGORITHM = 5
    KEY_LENGTH = 6


class LifeType(IntEnum):
    SECONDS = 1
    KILOBYTES = 2


class Encapsulation(IntEnum):
    """Encapsulation Mode attribute (RFC 2407 §4.5, RFC 3947 §5 for UDP)."""

    TUNNEL = 1
    TRANSPORT = 2
    UDP_TUNNEL = 3
    UDP_TRANSPORT = 4


class LifetimeRule(Enum):
    """What a responder does with a lifetime longer than its policy (RFC 2407 §4.5.4)."""

    OBEY = "obey"
    STRICT = "strict"
    CLAIM = "claim"


@dataclass(frozen=True)
class Lifetime:
    """Lifetime limits; ``None`` means no limit of that kind."""

    seconds: int | None = None
    kilobytes: int | None = None

    def attributes(self, type_attr: int, duration_attr: int) -> list[Attribute]:
        out: list[Attribute] = []
        for kind, value in ((LifeType.SECONDS, self.seconds), (LifeType.KILOBYTES, self.kilobytes)):
            if value is not None:
                out += [Attribute(type_attr, int(kind)), _duration(duration_attr, value)]
        return out


#: No lifetime limit (the default of every lifetime argument).
NO_LIMIT = Lifetime()


def _duration(type_: int, value: int) -> Attribute:
    """Life Duration is a variable attribute that may be sent in the basic form
    when it fits (RFC 2409 Appendix A, RFC 2407 §4.5)."""
    if value <= 0xFFFF:
        return Attribute(type_, value)
    return Attribute(type_, value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _parse_life(attrs: Iterable[Attribute], type_attr: int, duration_attr: int,
                where: str) -> tuple[Lifetime, list[Attribute]]:
    """Extract Life Type/Duration pairs; return the lifetime and the other attributes."""
    seconds = kilobytes = None
    rest: list[Attribute] = []
    pending: int | None = None
    for a in attrs:
        if a.type == type_attr:
            if pending is not None:
                raise DecodeError(where, "Life Type without a following Life Duration")
            pending = _basic(a, where)
        elif a.type == duration_attr:
            if pending == LifeType.SECONDS:
                seconds = a.as_int()
            elif pending == LifeType.KILOBYTES:
                kilobytes = a.as_int()
            else:
                raise DecodeError(where, "Life Duration must follow a known Life Type "
                                         f"(got type {pending})")
            pending = None
        else:
            rest.append(a)
    if pending is not None:
        raise DecodeError(where, "Life Type without a following Life Duration")
    return Lifetime(seconds, kilobytes), rest


def _basic(a: Attribute, where: str) -> int:
    if not isinstance(a.value, int):
        raise DecodeError(where, f"attribute {a.type} must use the basic (TV) form")
    return a.value


# --------------------------------------------------------------------------
# Phase 1
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase1Proposal:
    """One phase 1 transform (RFC 2409 Appendix A); numbers are the wire values.

    ``encryption`` and ``hash`` are Oakley numbers (registry table
    ``oakley_encr`` / ``oakley_hash``), ``group`` the group description,
    ``key_length`` in bits (only for variable-length ciphers).
    """

    encryption: int
    hash: int
    auth_method: AuthMethod
    group: int
    key_length: int | None = None
    life: Lifetime = Lifetime()

    def to_transform(self, number: int = 1) -> Transform:
        attrs = [Attribute(OakleyAttr.ENCRYPTION, self.encryption),
                 Attribute(OakleyAttr.HASH, self.hash),
                 Attribute(OakleyAttr.AUTH_METHOD, int(self.auth_method)),
                 Attribute(OakleyAttr.GROUP, self.group)]
        attrs += self.life.attributes(OakleyAttr.LIFE_TYPE, OakleyAttr.LIFE_DURATION)
        if self.key_length is not None:
            attrs.append(Attribute(OakleyAttr.KEY_LENGTH, self.key_length))
        return Transform(number, KEY_IKE, tuple(attrs))

    @classmethod
    def from_transform(cls, t: Transform) -> Phase1Proposal:
        """Decode a KEY_IKE transform; missing or malformed attributes raise DecodeError."""
        where = f"phase 1 transform #{t.number}"
        if t.transform_id != KEY_IKE:
            raise DecodeError(where, f"transform id {t.transform_id}, expected KEY_IKE (1)")
        life, rest = _parse_life(t.attributes, OakleyAttr.LIFE_TYPE, OakleyAttr.LIFE_DURATION,
                                 where)
        unknown = {a.type for a in rest} - set(_OAKLEY_BASIC)
        if unknown:
            raise NegotiationError(f"{where}: unsupported attribute class(es) "
                                   f"{sorted(unknown)}", notify=13)  # ATTRIBUTES-NOT-SUPPORTED
        values: dict[int, int] = {}
        for a in rest:
            if a.type in values:
                raise DecodeError(where, f"attribute class {a.type} appears twice")
            values[a.type] = _basic(a, where)
        for need in (OakleyAttr.ENCRYPTION, OakleyAttr.HASH, OakleyAttr.AUTH_METHOD,
                     OakleyAttr.GROUP):
            if need not in values:
                raise DecodeError(where, f"mandatory attribute {need.name} is missing")
        method = values[OakleyAttr.AUTH_METHOD]
        if method not in AuthMethod._value2member_map_:
            raise NegotiationError(f"{where}: unknown authentication method {method}", notify=13)
        return cls(values[OakleyAttr.ENCRYPTION], values[OakleyAttr.HASH], AuthMethod(method),
                   values[OakleyAttr.GROUP], values.get(OakleyAttr.KEY_LENGTH), life)


_OAKLEY_BASIC = (OakleyAttr.ENCRYPTION, OakleyAttr.HASH, OakleyAttr.AUTH_METHOD,
                 OakleyAttr.GROUP, OakleyAttr.KEY_LENGTH)


def phase1_sa(proposals: Sequence[Phase1Proposal]) -> SecurityAssociation:
    """The initiator's phase 1 SA payload: one proposal, one transform per alternative."""
    transforms = tuple(p.to_transform(i + 1) for i, p in enumerate(proposals))
    return SecurityAssociation((Proposal(1, Protocol.ISAKMP, b"", transforms),))


def phase1_offer(sa: SecurityAssociation) -> list[Phase1Proposal]:
    """The alternatives of a phase 1 SA payload, in the initiator's order."""
    return [Phase1Proposal.from_transform(t) for t in _phase1_transforms(sa)]


def _phase1_transforms(sa: SecurityAssociation) -> tuple[Transform, ...]:
    if len(sa.proposals) != 1 or sa.proposals[0].protocol_id != Protocol.ISAKMP:
        raise DecodeError("phase 1 SA", "must carry exactly one PROTO_ISAKMP proposal "
                                        "(RFC 2409 §5)")
    return sa.proposals[0].transforms


# --------------------------------------------------------------------------
# Phase 2
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase2Transform:
    """One ESP/AH transform of a Quick Mode proposal (RFC 2407 §4.4, §4.5).

    ``transform_id`` is the ESP (§4.4.4) or AH (§4.4.3) transform id,
    ``auth_algorithm`` the Authentication Algorithm attribute (§4.5, table
    ``auth``), ``group`` the PFS group, ``key_length`` in bits.
    """

    transform_id: int
    auth_algorithm: int | None = None
    encapsulation: Encapsulation = Encapsulation.TUNNEL
    group: int | None = None
    key_length: int | None = None
    life: Lifetime = Lifetime()

    def to_transform(self, number: int) -> Transform:
        attrs = self.life.attributes(IPsecAttr.LIFE_TYPE, IPsecAttr.LIFE_DURATION)
        if self.group is not None:
            attrs.append(Attribute(IPsecAttr.GROUP, self.group))
        attrs.append(Attribute(IPsecAttr.ENCAPSULATION, int(self.encapsulation)))
        if self.auth_algorithm is not None:
            attrs.append(Attribute(IPsecAttr.AUTH_ALGORITHM, self.auth_algorithm))
        if self.key_length is not None:
            attrs.append(Attribute(IPsecAttr.KEY_LENGTH, self.key_length))
        return Transform(number, self.transform_id, tuple(attrs))

    @classmethod
    def from_transform(cls, t: Transform) -> Phase2Transform:
        where = f"phase 2 transform #{t.number}"
        life, rest = _parse_life(t.attributes, IPsecAttr.LIFE_TYPE, IPsecAttr.LIFE_DURATION,
                                 where)
        unknown = {a.type for a in rest} - {int(x) for x in IPsecAttr}
        if unknown:
            raise NegotiationError(f"{where}: unsupported attribute(s) {sorted(unknown)}",
                                   notify=13)  # ATTRIBUTES-NOT-SUPPORTED
        values: dict[int, int] = {}
        for a in rest:
            if a.type in values:
                raise DecodeError(where, f"attribute {a.type} appears twice")
            values[a.type] = _basic(a, where)
        mode = values.get(IPsecAttr.ENCAPSULATION, Encapsulation.TUNNEL)
        if mode not in Encapsulation._value2member_map_:
            raise NegotiationError(f"{where}: unknown encapsulation mode {mode}", notify=13)
        return cls(t.transform_id, values.get(IPsecAttr.AUTH_ALGORITHM), Encapsulation(mode),
                   values.get(IPsecAttr.GROUP), values.get(IPsecAttr.KEY_LENGTH), life)


@dataclass(frozen=True)
class Phase2Proposal:
    """A Quick Mode proposal: one protocol (ESP or AH), its SPI, the alternatives.

    ``number`` is the proposal number; proposals sharing a number form an
    AND-bundle (RFC 2408 §4.2), which this implementation does not select.
    """

    protocol: Protocol
    transforms: tuple[Phase2Transform, ...]
    spi: bytes = b""
    number: int = 0


def phase2_sa(proposals: Sequence[Phase2Proposal]) -> SecurityAssociation:
    """A Quick Mode SA payload; proposals without a number are numbered 1, 2, ..."""
    out = []
    for i, p in enumerate(proposals):
        transforms = tuple(t.to_transform(j + 1) for j, t in enumerate(p.transforms))
        out.append(Proposal(p.number or i + 1, int(p.protocol), p.spi, transforms))
    return SecurityAssociation(tuple(out))


def phase2_offer(sa: SecurityAssociation) -> list[Phase2Proposal]:
    """The proposals of a Quick Mode SA payload, in the initiator's order."""
    out = []
    for p in sa.proposals:
        if p.protocol_id not in (Protocol.IPSEC_ESP, Protocol.IPSEC_AH):
            raise NegotiationError(f"proposal #{p.number}: protocol {p.protocol_id} is not "
                                   "ESP or AH", notify=3)  # INVALID-PROTOCOL-ID
        out.append(Phase2Proposal(Protocol(p.protocol_id),
                                  tuple(Phase2Transform.from_transform(t) for t in p.transforms),
                                  p.spi, p.number))
    return out


# --------------------------------------------------------------------------
# Selection
# --------------------------------------------------------------------------

P = TypeVar("P")


@dataclass(frozen=True)
class Selection(Generic[P]):
    """The responder's choice.

    ``chosen`` is the accepted offer (as the initiator sent it), ``index`` its
    position in the offer, ``reply`` the SA payload to send back (the chosen
    proposal with only the chosen transform), ``lifetime`` the lifetime the SA
    will have and ``responder_lifetime`` the lifetime to announce with a
    RESPONDER-LIFETIME notification (``None`` when not needed).
    """

    chosen: P
    index: int
    reply: SecurityAssociation
    lifetime: Lifetime
    responder_lifetime: Lifetime | None = None
    transform_index: int = 0
    skipped: tuple[str, ...] = field(default=(), repr=False)


def _life(offered: Lifetime, policy: Lifetime, rule: LifetimeRule,
          default_seconds: int | None) -> tuple[Lifetime, Lifetime | None] | None:
    """Apply ``rule``; ``None`` means the offer is rejected."""
    if offered.seconds is None and offered.kilobytes is None and default_seconds is not None:
        offered = Lifetime(default_seconds)
    if rule is LifetimeRule.OBEY:
        return offered, None
    result: dict[str, int | None] = {}
    shorter = False
    for kind in ("seconds", "kilobytes"):
        theirs, ours = getattr(offered, kind), getattr(policy, kind)
        if ours is None:
            result[kind] = theirs
        elif theirs is None or theirs > ours:
            if rule is LifetimeRule.STRICT and theirs is not None:
                return None
            result[kind] = ours
            shorter = shorter or theirs is not None
        else:
            result[kind] = theirs
    life = Lifetime(result["seconds"], result["kilobytes"])
    return life, (life if shorter else None)


def _no_choice(what: str, reasons: list[str]) -> NegotiationError:
    detail = "; ".join(reasons) if reasons else "the offer is empty"
    return NegotiationError(f"NO-PROPOSAL-CHOSEN: no {what} acceptable ({detail})",
                            notify=NegotiationError.NO_PROPOSAL_CHOSEN)


def _same_phase1(a: Phase1Proposal, b: Phase1Proposal) -> str | None:
    for name in ("encryption", "key_length", "hash", "auth_method", "group"):
        if getattr(a, name) != getattr(b, name):
            return f"{name} {getattr(a, name)} not in policy"
    return None


def select_phase1(sa: SecurityAssociation, policy: Sequence[Phase1Proposal] | str,
                  rule: LifetimeRule = LifetimeRule.CLAIM) -> Selection[Phase1Proposal]:
    """The responder's choice of a phase 1 transform (RFC 2408 §4.2, RFC 2409 §5).

    ``policy`` is a list of proposals or a proposal string such as
    ``"aes128-sha1-modp1024"`` (pre-shared key authentication; use
    :func:`~secmob.ike.proposal_strings.parse_ike` for other methods).
    """
    if isinstance(policy, str):
        from secmob.ike.proposal_strings import parse_ike

        policy = parse_ike(policy)
    transforms = _phase1_transforms(sa)
    reasons: list[str] = []
    for i, t in enumerate(transforms):
        offered = Phase1Proposal.from_transform(t)
        for pol in policy:
            why = _same_phase1(offered, pol)
            if why is None:
                life = _life(offered.life, pol.life, rule, None)
                if life is None:
                    why = "lifetime longer than policy (strict)"
                else:
                    reply = replace(sa, proposals=(replace(sa.proposals[0], transforms=(t,)),))
                    return Selection(offered, i, reply, life[0], life[1], i, tuple(reasons))
            reasons.append(f"transform #{t.number}: {why}")
    raise _no_choice("phase 1 transform", reasons)


def _same_phase2(protocol: Protocol, a: Phase2Transform, pol: Phase2Proposal,
                 b: Phase2Transform) -> str | None:
    if protocol != pol.protocol:
        return f"protocol {protocol.name} not in policy"
    for name in ("transform_id", "key_length", "auth_algorithm", "encapsulation", "group"):
        if getattr(a, name) != getattr(b, name):
            return f"{name} {getattr(a, name)} not in policy"
    return None


def select_phase2(sa: SecurityAssociation, policy: Sequence[Phase2Proposal] | str,
                  rule: LifetimeRule = LifetimeRule.CLAIM) -> Selection[Phase2Proposal]:
    """The responder's choice of a Quick Mode proposal and transform (RFC 2409 §5.5).

    ``policy`` is a list of proposals or an ESP proposal string such as
    ``"aes128-sha256-modp2048"`` (tunnel mode; use
    :func:`~secmob.ike.proposal_strings.parse_ah` for AH). ``chosen`` is the
    offered proposal reduced to the chosen transform; the caller adds its own
    SPI to the reply (``replace(proposal, spi=...)``).
    """
    if isinstance(policy, str):
        from secmob.ike.proposal_strings import parse_esp

        policy = parse_esp(policy)
    offers = phase2_offer(sa)
    numbers = [p.number for p in offers]
    reasons: list[str] = []
    for i, (offer, raw) in enumerate(zip(offers, sa.proposals, strict=True)):
        if numbers.count(offer.number) > 1:
            reasons.append(f"proposal #{offer.number}: AND-bundles are not supported")
            continue
        for j, t in enumerate(offer.transforms):
            why = "no policy transform matches"
            for pol, b in ((q, b) for q in policy for b in q.transforms):
                mismatch = _same_phase2(offer.protocol, t, pol, b)
                if mismatch is not None:
                    why = mismatch if why.startswith("no policy") else why
                    continue
                life = _life(t.life, b.life, rule, DEFAULT_PHASE2_SECONDS)
                if life is None:
                    why = "lifetime longer than policy (strict)"
                    continue
                chosen = replace(offer, transforms=(t,))
                reply = SecurityAssociation((replace(raw, transforms=(raw.transforms[j],)),),
                                            sa.doi, sa.situation, sa.situation_data)
                return Selection(chosen, i, reply, life[0], life[1], j, tuple(reasons))
            reasons.append(f"proposal #{offer.number} transform #{j + 1}: {why}")
    raise _no_choice("Quick Mode proposal", reasons)



def responder_lifetime_notification(lifetime: Lifetime, protocol: int,
                                    spi: bytes) -> Notification:
    """The RESPONDER-LIFETIME notification (RFC 2407 §4.6.3.1) announcing the
    responder's shorter ``lifetime`` for the SA with ``spi``: the notification
    data are Life Type/Life Duration attribute pairs."""
    w = Writer()
    for a in lifetime.attributes(IPsecAttr.LIFE_TYPE, IPsecAttr.LIFE_DURATION):
        a.write(w)
    return Notification(RESPONDER_LIFETIME, protocol, spi, w.getvalue())


def lifetime_from_notification(n: Notification) -> Lifetime:
    """The lifetime a RESPONDER-LIFETIME notification announces (RFC 2407 §4.6.3.1)."""
    where = "RESPONDER-LIFETIME notification"
    if n.notify_type != RESPONDER_LIFETIME:
        raise DecodeError(where, f"notify type {n.notify_type} is not RESPONDER-LIFETIME")
    attrs = parse_attributes(Reader(n.data, where))
    life, rest = _parse_life(attrs, IPsecAttr.LIFE_TYPE, IPsecAttr.LIFE_DURATION, where)
    if rest:
        raise DecodeError(where, "only Life Type/Life Duration attributes may appear")
    return life
