"""Configuration, states and events of the IKEv1 session (:mod:`secmob.ike.ikev1_exchange`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from secmob.algorithms import ENCRYPTION, CipherAlgorithm
from secmob.ike import ikev1_keys as v1
from secmob.ike.handoff import NegotiatedSA
from secmob.ike.proposals import LifetimeRule, Phase1Proposal, Phase2Proposal
from secmob.wire.isakmp import Identification

__all__ = [
    "CipherResolver",
    "Output",
    "Phase1Config",
    "Phase1Done",
    "QuickModeConfig",
    "QuickModeDone",
    "Role",
    "State",
    "registry_cipher",
]

CipherResolver = Callable[[Phase1Proposal], tuple[CipherAlgorithm, int]]


def registry_cipher(p: Phase1Proposal) -> tuple[CipherAlgorithm, int]:
    """The phase 1 cipher of ``p`` from the ENCRYPTION registry (table ``oakley_encr``)
    and its key length in octets (the Key Length attribute, else the first size)."""
    alg = ENCRYPTION.by_ikev1("oakley_encr", p.encryption)
    return alg, p.key_length // 8 if p.key_length is not None else alg.key_sizes[0]


class Role(Enum):
    INITIATOR = "initiator"
    RESPONDER = "responder"


class State(Enum):
    START = "start"
    MM1_SENT = "mm1-sent"
    MM2_SENT = "mm2-sent"
    MM3_SENT = "mm3-sent"
    MM4_SENT = "mm4-sent"
    MM5_SENT = "mm5-sent"
    PHASE1_DONE = "phase1-done"
    QM1_SENT = "qm1-sent"
    QM2_SENT = "qm2-sent"
    ESTABLISHED = "established"


@dataclass(frozen=True)
class Phase1Config:
    """One side's Main Mode parameters (pre-shared key authentication)."""

    proposals: Sequence[Phase1Proposal]
    pre_shared_key: bytes = field(repr=False)
    identity: Identification
    cookie: bytes
    nonce: bytes
    dh_public: bytes
    dh_shared: Callable[[bytes], bytes] = field(repr=False)
    lifetime_rule: LifetimeRule = LifetimeRule.CLAIM
    resolve_cipher: CipherResolver = registry_cipher


@dataclass(frozen=True)
class QuickModeConfig:
    """One side's Quick Mode parameters.

    ``proposals`` are the offer (initiator, each with our SPI) or the policy
    (responder); ``spi`` is the SPI we receive on; ``message_id`` is used by
    the initiator. ``id_ci``/``id_cr`` are the client identities, if sent.
    ``dh_public``/``dh_shared`` enable PFS (a KE payload in Quick Mode).
    """

    proposals: Sequence[Phase2Proposal]
    spi: bytes
    nonce: bytes
    message_id: int = 0
    id_ci: Identification | None = None
    id_cr: Identification | None = None
    dh_public: bytes | None = None
    dh_shared: Callable[[bytes], bytes] | None = field(default=None, repr=False)
    lifetime_rule: LifetimeRule = LifetimeRule.CLAIM


@dataclass(frozen=True)
class Phase1Done:
    """Main Mode completed: the chosen proposal and the SKEYID family."""

    chosen: Phase1Proposal
    keys: v1.Phase1Keys


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
