"""What IKE hands to an IPsec implementation: plain data describing each SA.

A :class:`NegotiatedSA` names the SPI, the protocol, the direction, the
algorithms (registry names and IKEv2 ids), the key sizes and the keys split
from KEYMAT. Nothing here imports :mod:`secmob.ipsec`; the caller builds its
SA from these fields.

Key order inside KEYMAT: the encryption key (with its salt, for ciphers that
have one) comes first and the integrity key follows -- the order RFC 7296
§2.17 states for IKEv2 and the one IKEv1 implementations use for the
per-SPI KEYMAT of RFC 2409 §5.5. In IKEv2 the keys for the SA carrying data
from the initiator to the responder are taken first, then those of the
reverse direction (RFC 7296 §2.17); IKEv1 derives a separate KEYMAT per SPI.
"""

from __future__ import annotations

from dataclasses import dataclass

from secmob.algorithms import (
    ENCRYPTION,
    INTEGRITY,
    CipherAlgorithm,
    IntegrityAlgorithm,
    PRFAlgorithm,
)
from secmob.errors import UsageError
from secmob.ike import ikev1_keys, ikev2
from secmob.ike.proposals import NO_LIMIT, Encapsulation, Lifetime, Phase2Proposal
from secmob.trace import Tracer
from secmob.wire.isakmp import Protocol

__all__ = [
    "INITIATOR_TO_RESPONDER",
    "RESPONDER_TO_INITIATOR",
    "NegotiatedSA",
    "ikev1_quick_mode_sas",
    "ikev2_child_sas",
    "resolve_phase2",
    "split_keymat",
]

INITIATOR_TO_RESPONDER = "initiator-to-responder"
RESPONDER_TO_INITIATOR = "responder-to-initiator"

_IP_PROTOCOL = {Protocol.IPSEC_ESP: 50, Protocol.IPSEC_AH: 51}


@dataclass(frozen=True)
class NegotiatedSA:
    """One negotiated IPsec SA in plain data; the repr shows key sizes, never keys."""

    spi: int
    protocol: Protocol
    direction: str
    encryption: str | None
    encryption_id: int | None
    encryption_key: bytes
    integrity: str | None
    integrity_id: int | None
    integrity_key: bytes
    mode: Encapsulation = Encapsulation.TUNNEL
    lifetime: Lifetime = NO_LIMIT

    @property
    def encryption_key_size(self) -> int:
        """Octets of encryption keying material (cipher key plus salt, if any)."""
        return len(self.encryption_key)

    @property
    def integrity_key_size(self) -> int:
        """Octets of the integrity key (0 for combined-mode ciphers)."""
        return len(self.integrity_key)

    @property
    def ip_protocol(self) -> int:
        """The IP protocol number (50 for ESP, 51 for AH)."""
        return _IP_PROTOCOL[self.protocol]

    def __repr__(self) -> str:
        return (f"NegotiatedSA(spi=0x{self.spi:08x}, protocol={self.protocol.name}, "
                f"direction={self.direction}, encryption={self.encryption} "
                f"<{len(self.encryption_key)} octets>, integrity={self.integrity} "
                f"<{len(self.integrity_key)} octets>, mode={self.mode.name})")


def split_keymat(keymat: bytes, encryption_size: int, integrity_size: int) -> tuple[bytes, bytes]:
    """Split ``encryption key | integrity key`` off the front of ``keymat``."""
    need = encryption_size + integrity_size
    if len(keymat) < need:
        raise UsageError(f"KEYMAT has {len(keymat)} octets, {need} are needed")
    return keymat[:encryption_size], keymat[encryption_size:need]


@dataclass(frozen=True)
class _Suite:
    cipher: CipherAlgorithm | None
    cipher_keymat: int
    integrity: IntegrityAlgorithm | None

    @property
    def integrity_size(self) -> int:
        return self.integrity.key_size if self.integrity is not None else 0

    @property
    def size(self) -> int:
        return self.cipher_keymat + self.integrity_size


def resolve_phase2(proposal: Phase2Proposal) -> tuple[CipherAlgorithm | None, int,
                                                      IntegrityAlgorithm | None]:
    """The algorithms of a chosen Quick Mode proposal (first transform) through the
    registries: ``(cipher, cipher keying material octets, integrity)``."""
    if not proposal.transforms:
        raise UsageError("the proposal has no transform")
    t = proposal.transforms[0]
    if proposal.protocol == Protocol.IPSEC_AH:
        return None, 0, INTEGRITY.by_ikev1("ah", t.transform_id)
    cipher = ENCRYPTION.by_ikev1("esp", t.transform_id)
    key_size = t.key_length // 8 if t.key_length is not None else cipher.key_sizes[0]
    integ = INTEGRITY.by_ikev1("auth", t.auth_algorithm) if t.auth_algorithm else None
    return cipher, cipher.keymat_size(key_size), integ


def _sa(spi: bytes, protocol: Protocol, direction: str, suite: _Suite, keymat: bytes,
        mode: Encapsulation, lifetime: Lifetime) -> NegotiatedSA:
    enc, integ = split_keymat(keymat, suite.cipher_keymat, suite.integrity_size)
    return NegotiatedSA(
        int.from_bytes(spi, "big"), protocol, direction,
        suite.cipher.name if suite.cipher else None,
        suite.cipher.ikev2_id if suite.cipher else None, enc,
        suite.integrity.name if suite.integrity else None,
        suite.integrity.ikev2_id if suite.integrity else None, integ, mode, lifetime)


def ikev1_quick_mode_sas(prf: PRFAlgorithm, skeyid_d: bytes, chosen: Phase2Proposal,
                         spi_i: bytes, spi_r: bytes, ni_b: bytes, nr_b: bytes, *,
                         g_qm_xy: bytes | None = None, lifetime: Lifetime = NO_LIMIT,
                         tracer: Tracer | None = None) -> tuple[NegotiatedSA, NegotiatedSA]:
    """Both SAs of a Quick Mode exchange (RFC 2409 §5.5).

    ``spi_i`` is the SPI the initiator put in its proposal: the initiator
    receives on it, so it keys the responder-to-initiator SA; ``spi_r`` (from
    the responder's reply) keys the initiator-to-responder SA. Returns
    ``(initiator-to-responder, responder-to-initiator)``.
    """
    cipher, cipher_size, integ = resolve_phase2(chosen)
    suite = _Suite(cipher, cipher_size, integ)
    mode = chosen.transforms[0].encapsulation
    out = []
    for spi, direction in ((spi_r, INITIATOR_TO_RESPONDER), (spi_i, RESPONDER_TO_INITIATOR)):
        km = ikev1_keys.keymat(prf, skeyid_d, int(chosen.protocol), spi, ni_b, nr_b,
                               suite.size, g_qm_xy, tracer)
        out.append(_sa(spi, chosen.protocol, direction, suite, km, mode, lifetime))
    return out[0], out[1]


def ikev2_child_sas(prf: PRFAlgorithm, sk_d: bytes, ni: bytes, nr: bytes, spi_i: bytes,
                    spi_r: bytes, cipher: CipherAlgorithm | None, cipher_key_size: int,
                    integrity: IntegrityAlgorithm | None, *,
                    protocol: Protocol = Protocol.IPSEC_ESP,
                    mode: Encapsulation = Encapsulation.TUNNEL,
                    g_ir_new: bytes | None = None, lifetime: Lifetime = NO_LIMIT,
                    tracer: Tracer | None = None) -> tuple[NegotiatedSA, NegotiatedSA]:
    """The two SAs of an IKEv2 Child SA (RFC 7296 §2.17).

    ``spi_i``/``spi_r`` are the SPIs in the initiator's and responder's SA
    payloads; each names the SA its sender receives on, so the
    initiator-to-responder SA has ``spi_r``. KEYMAT is split as
    ``encr(i->r) | integ(i->r) | encr(r->i) | integ(r->i)``.
    """
    cipher_keymat = cipher.keymat_size(cipher_key_size) if cipher is not None else 0
    suite = _Suite(cipher, cipher_keymat, integrity)
    km = ikev2.child_keymat(prf, sk_d, ni, nr, 2 * suite.size, g_ir_new, tracer)
    i_to_r = _sa(spi_r, protocol, INITIATOR_TO_RESPONDER, suite, km[:suite.size], mode, lifetime)
    r_to_i = _sa(spi_i, protocol, RESPONDER_TO_INITIATOR, suite, km[suite.size:], mode, lifetime)
    return i_to_r, r_to_i
