"""Two IKEv1 peers configured from strongSwan-style proposal strings, with
deterministic randomness (SHA-256 in counter mode over a label)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from secmob.algorithms import ENCRYPTION, INTEGRITY
from secmob.ike.handoff import INITIATOR_TO_RESPONDER, NegotiatedSA
from secmob.ike.ikev1_exchange import Phase1Config, QuickModeConfig, Role, Session
from secmob.ike.proposal_strings import parse_esp, parse_ike
from secmob.ipsec.sad import Direction, Mode, Protocol, SecurityAssociation
from secmob.trace import Tracer
from secmob.wire.isakmp import Identification, IdType

ID_I = Identification(IdType.IPV4_ADDR, bytes([192, 0, 2, 1]))
ID_R = Identification(IdType.IPV4_ADDR, bytes([192, 0, 2, 2]))
ID_CI = Identification(IdType.IPV4_ADDR_SUBNET, bytes([10, 0, 0, 0, 255, 0, 0, 0]))
OUTER_I, OUTER_R = "192.0.2.1", "192.0.2.2"
ID_CR = Identification(IdType.IPV4_ADDR_SUBNET, bytes([10, 1, 0, 0, 255, 255, 0, 0]))


def counter_rng(label: bytes) -> Callable[[int], bytes]:
    """A reproducible octet stream: SHA-256(label | counter) blocks."""
    state = {"n": 0, "buf": b""}

    def rng(k: int) -> bytes:
        buf = state["buf"]
        assert isinstance(buf, bytes)
        while len(buf) < k:
            n = state["n"]
            assert isinstance(n, int)
            buf += hashlib.sha256(label + n.to_bytes(8, "big")).digest()
            state["n"] = n + 1
        state["buf"] = buf[k:]
        return buf[:k]

    return rng


def peers(ike: str = "aes128-sha1-modp1024", esp: str = "aes128-sha1", *,
          responder_ike: str | None = None, responder_esp: str | None = None,
          psk_i: bytes = b"shared secret", psk_r: bytes = b"shared secret",
          client_ids: bool = True, seed: bytes = b"",
          tracer_i: Tracer | None = None, tracer_r: Tracer | None = None,
          ) -> tuple[Session, Session]:
    """An initiator and a responder; the responder's policy defaults to the offer."""
    qi = QuickModeConfig(parse_esp(esp), id_ci=ID_CI if client_ids else None,
                         id_cr=ID_CR if client_ids else None)
    qr = QuickModeConfig(parse_esp(responder_esp or esp))
    i = Session(Role.INITIATOR, Phase1Config(parse_ike(ike), psk_i, ID_I), qi,
                rng=counter_rng(b"initiator" + seed), tracer=tracer_i)
    r = Session(Role.RESPONDER, Phase1Config(parse_ike(responder_ike or ike), psk_r, ID_R), qr,
                rng=counter_rng(b"responder" + seed), tracer=tracer_r)
    return i, r


def ipsec_sa(n: NegotiatedSA, initiator_side: bool) -> SecurityAssociation:
    """The secmob.ipsec SA for one hand-off record, seen from one peer."""
    sends = (n.direction == INITIATOR_TO_RESPONDER) == initiator_side
    src, dst = (OUTER_I, OUTER_R) if n.direction == INITIATOR_TO_RESPONDER else (OUTER_R, OUTER_I)
    assert n.encryption is not None
    return SecurityAssociation(
        n.spi, Protocol.ESP, direction=Direction.OUTBOUND if sends else Direction.INBOUND,
        mode=Mode.TUNNEL, tunnel_source=src, tunnel_destination=dst,
        cipher=ENCRYPTION.get(n.encryption), cipher_key=n.encryption_key,
        integrity=INTEGRITY.get(n.integrity) if n.integrity is not None else None,
        integrity_key=n.integrity_key)
