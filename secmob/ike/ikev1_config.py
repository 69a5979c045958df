"""Configuration, states and events of the IKEv1 session (:mod:`secmob.ike.ikev1_exchange`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from secmob.algorithms import ENCRYPTION, CipherAlgorithm
from secmob.algorithms.dh import RNG
from secmob.errors import UsageError
from secmob.ike import ikev1_keys as v1
from secmob.ike.handoff import NegotiatedSA
from secmob.ike.ikev1_states import Role, State
from secmob.ike.proposals import LifetimeRule, Phase1Proposal, Phase2Proposal
from secmob.wire.isakmp import Identification

__all__ = [
    "Output",
    "OwnValues",
    "Phase1Config",
    "Phase1Done",
    "QuickModeConfig",
    "QuickModeDone",
    "Role",
    "State",
    "own_values",
    "registry_cipher",
]


def registry_cipher(p: Phase1Proposal) -> tuple[CipherAlgorithm, int]:
    """The phase 1 cipher of ``p`` from the ENCRYPTION registry (table ``oakley_encr``)
    and its key length in octets (the Key Length attribute, else the first size)."""
    alg = ENCRYPTION.by_ikev1("oakley_encr", p.encryption)
    return alg, p.key_length // 8 if p.key_length is not None else alg.key_sizes[0]


@dataclass(frozen=True)
class Phase1Config:
    """One side's Main Mode parameters (pre-shared key authentication).

    ``proposals`` are the offer (initiator) or the acceptable policy
    (responder), e.g. ``parse_ike("aes128-sha1-modp1024")``. ``cookie`` and
    ``nonce`` are drawn from the session's RNG when ``None`` (8 and
    ``nonce_size`` octets; RFC 2409 §5 allows 8 to 256); fixed values serve
    vectors and teaching. The Diffie-Hellman group is the one negotiated; its
    private value always comes from the session's RNG.
    """

    proposals: Sequence[Phase1Proposal]
    pre_shared_key: bytes = field(repr=False)
    identity: Identification
    cookie: bytes | None = None
    nonce: bytes | None = None
    lifetime_rule: LifetimeRule = LifetimeRule.CLAIM
    nonce_size: int = 16


@dataclass(frozen=True)
class QuickModeConfig:
    """One side's Quick Mode parameters.

    ``proposals`` are the offer (initiator) or the policy (responder), e.g.
    ``parse_esp("aes128-sha1-modp1024")``: a transform with a Group
    Description attribute asks for PFS, i.e. a KE payload in Quick Mode
    (RFC 2409 §5.5). The initiator sends its KE before the responder chooses,
    so every transform it offers must name the same group (or none). ``spi``
    is the SPI we receive on and ``message_id`` (initiator only) the
    exchange's message ID; with ``nonce`` they are drawn from the session's
    RNG when ``None``. ``id_ci``/``id_cr`` are the client identities, if sent.
    """

    proposals: Sequence[Phase2Proposal]
    spi: bytes | None = None
    nonce: bytes | None = None
    message_id: int | None = None
    id_ci: Identification | None = None
    id_cr: Identification | None = None
    lifetime_rule: LifetimeRule = LifetimeRule.CLAIM
    nonce_size: int = 16


@dataclass(frozen=True)
class Phase1Done:
    """Main Mode completed: the chosen proposal, the SKEYID family, the cookies
    and the phase 1 encryption key (RFC 2409 Appendix B; what a decryption
    table for a protocol analyser needs)."""

    chosen: Phase1Proposal
    keys: v1.Phase1Keys
    initiator_cookie: bytes
    responder_cookie: bytes
    encryption_key: bytes = field(repr=False)


@dataclass(frozen=True)
class QuickModeDone:
    """Quick Mode completed: both IPsec SAs, ready for an IPsec implementation."""

    chosen: Phase2Proposal
    sas: tuple[NegotiatedSA, NegotiatedSA]


@dataclass(frozen=True)
class Output:
    """What one call produced: a message to send (or ``None``) and events."""

    message: bytes | None
    events: tuple[Phase1Done | QuickModeDone, ...] = ()


@dataclass(frozen=True)
class OwnValues:
    """The values a session contributes: fixed in its configuration or drawn."""

    cookie: bytes
    nonce: bytes = field(repr=False)
    spi: bytes
    qm_nonce: bytes = field(repr=False)
    message_id: int
    pfs_group: int | None


def own_values(role: Role, phase1: Phase1Config, quick: QuickModeConfig,
               rng: RNG) -> OwnValues:
    """Cookie, nonces, inbound SPI, Quick Mode message ID (initiator) and PFS
    group (initiator) from the configurations, drawing from ``rng`` what they
    leave ``None``. Raises :class:`~secmob.errors.UsageError` for a fixed
    value of the wrong size or range."""
    nonces = range(8, 257)  # RFC 2409 §5
    cookie = _draw(rng, phase1.cookie, "cookie", 8, range(8, 9))
    nonce = _draw(rng, phase1.nonce, "nonce", phase1.nonce_size, nonces)
    spi = _spi(rng, quick.spi)
    qm_nonce = _draw(rng, quick.nonce, "nonce", quick.nonce_size, nonces)
    mid = quick.message_id if quick.message_id is not None else 0
    while role is Role.INITIATOR and mid == 0:  # zero is Main Mode's
        mid = int.from_bytes(rng(4), "big")
    group = _pfs_group(quick.proposals) if role is Role.INITIATOR else None
    return OwnValues(cookie, nonce, spi, qm_nonce, mid, group)


def _draw(rng: RNG, given: bytes | None, what: str, size: int, sizes: range) -> bytes:
    """``given``, or ``size`` octets from ``rng``; either must have a length in ``sizes``."""
    value = given if given is not None else rng(size)
    if len(value) not in sizes:
        raise UsageError(f"{what}: expected {sizes.start} to {sizes.stop - 1} octets, "
                         f"got {len(value)}")
    return value


def _spi(rng: RNG, given: bytes | None) -> bytes:
    """Our inbound SPI: 1-255 are reserved and 0 is local only (RFC 4301 §4.1)."""
    spi = _draw(rng, given, "SPI", 4, range(4, 5))
    while given is None and int.from_bytes(spi, "big") < 256:
        spi = rng(4)
    if int.from_bytes(spi, "big") < 256:
        raise UsageError("an SPI is at least 256: 0-255 are reserved (RFC 4301 §4.1)")
    return spi


def _pfs_group(proposals: Sequence[Phase2Proposal]) -> int | None:
    groups = {t.group for p in proposals for t in p.transforms}
    if len(groups) != 1:
        raise UsageError("every Quick Mode transform offered must name the same PFS group, "
                         "or none: the KE payload travels before the responder chooses")
    return groups.pop()
