"""IKEv1 Main Mode with pre-shared keys and Quick Mode, sans-IO (RFC 2409 §5, §5.4, §5.5).

A :class:`Session` is one side (initiator or responder) of a Main Mode
exchange followed by one Quick Mode exchange. It never touches a socket or a
clock and draws no randomness: cookies, nonces, SPIs, the message ID and the
Diffie-Hellman values are in its configuration. ``start()`` returns the
initiator's first message; ``receive(data)`` consumes one message from the
peer and returns an :class:`Output` (the message to send, if any, and the
events). What happens in which state is the table :data:`TRANSITIONS`::

    role       state            on receiving   sends   next state
    initiator  MM1_SENT         MM2 (SA)       MM3     MM3_SENT
    initiator  MM3_SENT         MM4 (KE, Nr)   MM5*    MM5_SENT
    initiator  MM5_SENT         MM6* (IDir)    QM1*    QM1_SENT      (Phase1Done)
    initiator  QM1_SENT         QM2*           QM3*    ESTABLISHED   (QuickModeDone)
    responder  START            MM1 (SA)       MM2     MM2_SENT
    responder  MM2_SENT         MM3 (KE, Ni)   MM4     MM4_SENT
    responder  MM4_SENT         MM5* (IDii)    MM6*    PHASE1_DONE   (Phase1Done)
    responder  PHASE1_DONE      QM1*           QM2*    QM2_SENT
    responder  QM2_SENT         QM3*           --      ESTABLISHED   (QuickModeDone)

(``*``: encrypted.) Diffie-Hellman is injected: ``dh_public`` is our public
value and ``dh_shared(peer_public)`` returns g^xy, so any group
implementation can be used. The phase 1 cipher is resolved from the chosen
proposal through the ENCRYPTION registry (Oakley numbers), or by the
``resolve_cipher`` callable of :class:`Phase1Config`.

Encryption follows RFC 2409 Appendix B: the key from SKEYID_e (expanded when
needed), the first IV ``hash(g^xi | g^xr)`` with the negotiated hash, then
"the last CBC encryption block from the previous message"; the Quick Mode IV
``hash(last phase-1 CBC output block | M-ID)``, then again the previous
message's last block. Bodies are "padded up to the nearest block size using
bytes containing 0x00" (Appendix B). HASH(1) and HASH(2) cover the payloads
after the HASH payload as sent, "excluding any padding added for encryption"
(§5.5); HASH(3) is ``prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)``. Hashes are compared in constant
time; a wrong HASH_I/HASH_R/HASH(n) raises :class:`~secmob.errors.IntegrityError`
and leaves the state unchanged. A message that is not expected in the current
state raises :class:`~secmob.errors.NegotiationError` (INVALID-PAYLOAD-TYPE or
the wrong exchange) without changing state.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from secmob.algorithms import PRFS, CipherAlgorithm, PRFAlgorithm
from secmob.errors import IntegrityError, NegotiationError, UsageError
from secmob.ike import ikev1_keys as v1
from secmob.ike.handoff import ikev1_quick_mode_sas
from secmob.ike.ikev1_config import (
    Output,
    Phase1Config,
    Phase1Done,
    QuickModeConfig,
    QuickModeDone,
    Role,
    State,
    registry_cipher,
)
from secmob.ike.proposals import (
    DEFAULT_PHASE2_SECONDS,
    NO_LIMIT,
    RESPONDER_LIFETIME,
    Lifetime,
    Phase1Proposal,
    Phase2Proposal,
    lifetime_from_notification,
    phase1_offer,
    phase1_sa,
    phase2_offer,
    phase2_sa,
    responder_lifetime_notification,
    select_phase1,
    select_phase2,
)
from secmob.trace import Tracer
from secmob.wire.isakmp import (
    ExchangeType,
    Flags,
    Hash,
    Header,
    Identification,
    KeyExchange,
    Message,
    Nonce,
    Notification,
    Payload,
    SecurityAssociation,
    encode_payloads,
    parse_payloads,
    payload_body,
)

__all__ = [
    "TRANSITIONS",
    "Output",
    "Phase1Config",
    "Phase1Done",
    "QuickModeConfig",
    "QuickModeDone",
    "Role",
    "Session",
    "State",
    "registry_cipher",
]


@dataclass
class _Crypto:
    cipher: CipherAlgorithm
    key: bytes = field(repr=False)
    iv: bytes = field(repr=False)


#: (role, state) -> (handler name, next state); the handler returns the reply.
TRANSITIONS: dict[tuple[Role, State], tuple[str, State]] = {
    (Role.INITIATOR, State.MM1_SENT): ("_i_mm2", State.MM3_SENT),
    (Role.INITIATOR, State.MM3_SENT): ("_i_mm4", State.MM5_SENT),
    (Role.INITIATOR, State.MM5_SENT): ("_i_mm6", State.QM1_SENT),
    (Role.INITIATOR, State.QM1_SENT): ("_i_qm2", State.ESTABLISHED),
    (Role.RESPONDER, State.START): ("_r_mm1", State.MM2_SENT),
    (Role.RESPONDER, State.MM2_SENT): ("_r_mm3", State.MM4_SENT),
    (Role.RESPONDER, State.MM4_SENT): ("_r_mm5", State.PHASE1_DONE),
    (Role.RESPONDER, State.PHASE1_DONE): ("_r_qm1", State.QM2_SENT),
    (Role.RESPONDER, State.QM2_SENT): ("_r_qm3", State.ESTABLISHED),
}


def _one(msg: Message, kind: type[Payload], what: str) -> Payload:
    found = msg.find(kind)
    if len(found) != 1:
        raise NegotiationError(f"{what}: expected one {kind.__name__} payload, found "
                               f"{len(found)}", notify=NegotiationError.INVALID_PAYLOAD_TYPE)
    return found[0]


def _check(expected: bytes, got: bytes, what: str) -> None:
    if not hmac.compare_digest(expected, got):
        raise IntegrityError(f"{what} does not verify")


class Session:
    """One side of Main Mode (pre-shared key) followed by Quick Mode."""

    def __init__(self, role: Role, phase1: Phase1Config, quick: QuickModeConfig,
                 tracer: Tracer | None = None) -> None:
        if len(phase1.cookie) != 8:
            raise UsageError("the cookie must be 8 octets")
        self.role = role
        self.state = State.START
        self._tracer = tracer
        self._p1 = phase1
        self._qm = quick
        self._cky_i = phase1.cookie if role is Role.INITIATOR else b""
        self._cky_r = phase1.cookie if role is Role.RESPONDER else bytes(8)
        self._sai_b = b""
        self._chosen1: Phase1Proposal | None = None
        self._g_xi = self._g_xr = self._ni = self._nr = b""
        self._keys: v1.Phase1Keys | None = None
        self._crypto: _Crypto | None = None
        self._last_p1_block = b""
        self._qm_ni = b""
        self._qm_offer: SecurityAssociation | None = None
        self._qm_peer_spi = b""
        self._qm_chosen: Phase2Proposal | None = None
        self._qm_g = b""
        self._qm_life = NO_LIMIT

    def __repr__(self) -> str:
        return f"<Session {self.role.value} {self.state.value}>"

    # -- driving ----------------------------------------------------------------

    def start(self) -> bytes:
        """The initiator's Main Mode message 1 (HDR, SA)."""
        if self.role is not Role.INITIATOR or self.state is not State.START:
            raise UsageError(f"start() is for an initiator in state start, not {self!r}")
        sa = phase1_sa(self._p1.proposals)
        self._sai_b = payload_body(sa)
        self.state = State.MM1_SENT
        return self._plain(ExchangeType.IDENTITY_PROTECTION, (sa,))

    def receive(self, data: bytes) -> Output:
        """Process one message from the peer (see :data:`TRANSITIONS`)."""
        entry = TRANSITIONS.get((self.role, self.state))
        if entry is None:
            raise NegotiationError(f"{self!r} expects no message", notify=1)
        msg = Message.parse(data)
        snapshot = dict(self.__dict__)
        iv = self._crypto.iv if self._crypto is not None else b""
        try:
            out: Output = getattr(self, entry[0])(msg)
        except BaseException:
            self.__dict__.update(snapshot)  # a refused message leaves no trace
            if self._crypto is not None:
                self._crypto.iv = iv
            raise
        self.state = entry[1]
        return out

    # -- message helpers ----------------------------------------------------------

    def _header(self, exchange: int, flags: int = 0, message_id: int = 0) -> Header:
        return Header(self._cky_i, self._cky_r, 0, exchange, flags, message_id)

    def _plain(self, exchange: int, payloads: tuple[Payload, ...]) -> bytes:
        return Message(self._header(exchange), payloads).to_bytes()

    def _encrypt(self, exchange: int, payloads: tuple[Payload, ...], message_id: int) -> bytes:
        c = self._require_crypto()
        body = encode_payloads(payloads)
        bs = c.cipher.block_size
        body += bytes(-len(body) % bs)
        ct = c.cipher.new(c.key).seal(c.iv, body)
        c.iv = v1.last_block(ct, bs)
        head = replace(self._header(exchange, Flags.ENCRYPTION, message_id),
                       next_payload=payloads[0].payload_type)
        return Message(head, body=ct).to_bytes()

    def _decrypt(self, msg: Message, exchange: int, message_id: int) -> tuple[Payload, ...]:
        c = self._require_crypto()
        h = msg.header
        if not h.encrypted or h.exchange_type != exchange or h.message_id != message_id:
            raise NegotiationError(
                f"{self!r}: expected an encrypted exchange {exchange} message with message ID "
                f"{message_id}", notify=NegotiationError.INVALID_PAYLOAD_TYPE)
        bs = c.cipher.block_size
        if not msg.body or len(msg.body) % bs:
            raise NegotiationError(f"encrypted body of {len(msg.body)} octets is not whole "
                                   f"{bs}-octet blocks", notify=NegotiationError.PAYLOAD_MALFORMED)
        plain = c.cipher.new(c.key).open(c.iv, msg.body)
        c.iv = msg.body[-bs:]
        return tuple(parse_payloads(plain, h.next_payload, 0, len(plain), padded=True))

    def _require_crypto(self) -> _Crypto:
        if self._crypto is None:
            raise UsageError("no phase 1 keys yet")
        return self._crypto

    def _expect_plain(self, msg: Message) -> None:
        h = msg.header
        if h.encrypted or h.exchange_type != ExchangeType.IDENTITY_PROTECTION:
            raise NegotiationError(f"{self!r}: expected a clear Main Mode message",
                                   notify=NegotiationError.INVALID_PAYLOAD_TYPE)
        if self._cky_i and h.initiator_cookie != self._cky_i:
            raise NegotiationError("initiator cookie does not match this exchange",
                                   notify=NegotiationError.INVALID_PAYLOAD_TYPE)

    # -- phase 1 key schedule --------------------------------------------------------

    def _phase1_keys(self, g_peer: bytes) -> None:
        chosen = self._chosen1
        assert chosen is not None
        prf = PRFS.by_ikev1("oakley_hash", chosen.hash)
        g_xy = self._p1.dh_shared(g_peer)
        self._keys = v1.derive_phase1(prf, v1.AuthMethod.PRE_SHARED_KEY, self._ni, self._nr,
                                      g_xy, self._cky_i, self._cky_r,
                                      pre_shared_key=self._p1.pre_shared_key,
                                      tracer=self._tracer)
        cipher, key_len = self._p1.resolve_cipher(chosen)
        key = v1.encryption_key(prf, self._keys.skeyid_e, key_len, self._tracer)
        iv = v1.phase1_iv(v1.prf_hash(prf), self._g_xi, self._g_xr, cipher.block_size,
                          self._tracer)
        self._crypto = _Crypto(cipher, key, iv)

    def _prf(self) -> PRFAlgorithm:
        assert self._chosen1 is not None
        return PRFS.by_ikev1("oakley_hash", self._chosen1.hash)

    def _hash_i(self, idii_b: bytes) -> bytes:
        assert self._keys is not None
        return v1.hash_i(self._prf(), self._keys.skeyid, self._g_xi, self._g_xr, self._cky_i,
                         self._cky_r, self._sai_b, idii_b, self._tracer)

    def _hash_r(self, idir_b: bytes) -> bytes:
        assert self._keys is not None
        return v1.hash_r(self._prf(), self._keys.skeyid, self._g_xi, self._g_xr, self._cky_i,
                         self._cky_r, self._sai_b, idir_b, self._tracer)

    def _enter_phase2(self) -> None:
        c = self._require_crypto()
        self._last_p1_block = c.iv
        c.iv = v1.phase2_iv(v1.prf_hash(self._prf()), self._last_p1_block,
                            self._qm.message_id, c.cipher.block_size, self._tracer)

    def _phase1_done(self) -> Phase1Done:
        assert self._chosen1 is not None and self._keys is not None
        return Phase1Done(self._chosen1, self._keys)

    # -- initiator ------------------------------------------------------------------

    def _i_mm2(self, msg: Message) -> Output:
        self._expect_plain(msg)
        sa = _one(msg, SecurityAssociation, "Main Mode message 2")
        assert isinstance(sa, SecurityAssociation)
        reply = phase1_offer(sa)
        if len(reply) != 1 or reply[0] not in self._p1.proposals:
            raise NegotiationError("the responder must return one of the offered transforms")
        chosen = reply[0]
        self._chosen1 = chosen
        self._cky_r = msg.header.responder_cookie
        self._g_xi, self._ni = self._p1.dh_public, self._p1.nonce
        return Output(self._plain(ExchangeType.IDENTITY_PROTECTION,
                                  (KeyExchange(self._g_xi), Nonce(self._ni))))

    def _i_mm4(self, msg: Message) -> Output:
        self._expect_plain(msg)
        ke = _one(msg, KeyExchange, "Main Mode message 4")
        nonce = _one(msg, Nonce, "Main Mode message 4")
        assert isinstance(ke, KeyExchange) and isinstance(nonce, Nonce)
        self._g_xr, self._nr = ke.data, nonce.data
        self._phase1_keys(self._g_xr)
        idii = self._p1.identity
        out = self._encrypt(ExchangeType.IDENTITY_PROTECTION,
                            (idii, Hash(self._hash_i(payload_body(idii)))), 0)
        return Output(out)

    def _i_mm6(self, msg: Message) -> Output:
        payloads = self._decrypt(msg, ExchangeType.IDENTITY_PROTECTION, 0)
        idir, hash_r = self._id_and_hash(payloads, "Main Mode message 6")
        _check(self._hash_r(payload_body(idir)), hash_r.data, "HASH_R")
        done = self._phase1_done()
        self._enter_phase2()
        return Output(self._qm1(), (done,))

    def _qm_tail(self, sa: SecurityAssociation, nonce: bytes) -> tuple[Payload, ...]:
        tail: list[Payload] = [sa, Nonce(nonce)]
        if self._qm.dh_public is not None:
            tail.append(KeyExchange(self._qm.dh_public))
        if self._qm.id_ci is not None and self._qm.id_cr is not None:
            tail += [self._qm.id_ci, self._qm.id_cr]
        return tuple(tail)

    def _qm1(self) -> bytes:
        assert self._keys is not None
        offer = [replace(p, spi=self._qm.spi) for p in self._qm.proposals]
        sa = phase2_sa(offer)
        self._qm_offer = sa
        self._qm_ni = self._qm.nonce
        tail = self._qm_tail(sa, self._qm_ni)
        h1 = v1.quick_hash1(self._prf(), self._keys.skeyid_a, self._qm.message_id,
                            encode_payloads(tail), self._tracer)
        return self._encrypt(ExchangeType.QUICK_MODE, (Hash(h1), *tail), self._qm.message_id)

    def _i_qm2(self, msg: Message) -> Output:
        assert self._keys is not None and self._qm_offer is not None
        payloads = self._decrypt(msg, ExchangeType.QUICK_MODE, self._qm.message_id)
        if not payloads or not isinstance(payloads[0], Hash):
            raise NegotiationError("Quick Mode message 2 must start with HASH(2)", notify=1)
        tail = payloads[1:]
        nonce = next((p for p in tail if isinstance(p, Nonce)), None)
        sa = next((p for p in tail if isinstance(p, SecurityAssociation)), None)
        if nonce is None or sa is None:
            raise NegotiationError("Quick Mode message 2 lacks SA or Nr", notify=1)
        prf = self._prf()
        expected = v1.quick_hash2(prf, self._keys.skeyid_a, self._qm.message_id, self._qm_ni,
                                  encode_payloads(tail), self._tracer)
        _check(expected, payloads[0].data, "HASH(2)")
        replies = phase2_offer(sa)
        if len(replies) != 1 or len(replies[0].transforms) != 1:
            raise NegotiationError("the responder must return one proposal with one transform")
        reply = replies[0]
        ours = next((p for p in self._qm.proposals if p.protocol == reply.protocol
                     and reply.transforms[0] in p.transforms), None)
        if ours is None:
            raise NegotiationError("the responder chose a transform that was not offered")
        g_qm = self._qm_shared(tail)
        life = reply.transforms[0].life
        if life == NO_LIMIT:
            life = Lifetime(DEFAULT_PHASE2_SECONDS)
        for n in tail:
            if isinstance(n, Notification) and n.notify_type == RESPONDER_LIFETIME:
                life = lifetime_from_notification(n)
        sas = ikev1_quick_mode_sas(prf, self._keys.skeyid_d, reply, self._qm.spi, reply.spi,
                                   self._qm_ni, nonce.data, g_qm_xy=g_qm, lifetime=life,
                                   tracer=self._tracer)
        h3 = v1.quick_hash3(prf, self._keys.skeyid_a, self._qm.message_id, self._qm_ni,
                            nonce.data, self._tracer)
        out = self._encrypt(ExchangeType.QUICK_MODE, (Hash(h3),), self._qm.message_id)
        return Output(out, (QuickModeDone(reply, sas),))

    def _qm_shared(self, tail: Sequence[Payload]) -> bytes | None:
        ke = next((p for p in tail if isinstance(p, KeyExchange)), None)
        if (ke is None) != (self._qm.dh_shared is None):
            raise NegotiationError("PFS: both sides must send a KE payload, or neither")
        if ke is None or self._qm.dh_shared is None:
            return None
        return self._qm.dh_shared(ke.data)

    @staticmethod
    def _id_and_hash(payloads: Sequence[Payload], what: str) -> tuple[Identification, Hash]:
        if len(payloads) < 2 or not isinstance(payloads[0], Identification) \
                or not isinstance(payloads[1], Hash):
            raise NegotiationError(f"{what} must carry ID then HASH", notify=1)
        return payloads[0], payloads[1]

    # -- responder ------------------------------------------------------------------

    def _r_mm1(self, msg: Message) -> Output:
        self._expect_plain(msg)
        if msg.header.responder_cookie != bytes(8):
            raise NegotiationError("Main Mode message 1 must have a zero responder cookie")
        sa = _one(msg, SecurityAssociation, "Main Mode message 1")
        assert isinstance(sa, SecurityAssociation)
        choice = select_phase1(sa, self._p1.proposals, self._p1.lifetime_rule)
        if choice.chosen.auth_method is not v1.AuthMethod.PRE_SHARED_KEY:
            raise NegotiationError("only pre-shared key authentication is implemented")
        self._cky_i = msg.header.initiator_cookie
        self._sai_b = payload_body(sa)
        self._chosen1 = choice.chosen
        return Output(self._plain(ExchangeType.IDENTITY_PROTECTION, (choice.reply,)))

    def _r_mm3(self, msg: Message) -> Output:
        self._expect_plain(msg)
        ke = _one(msg, KeyExchange, "Main Mode message 3")
        nonce = _one(msg, Nonce, "Main Mode message 3")
        assert isinstance(ke, KeyExchange) and isinstance(nonce, Nonce)
        self._g_xi, self._ni = ke.data, nonce.data
        self._g_xr, self._nr = self._p1.dh_public, self._p1.nonce
        self._phase1_keys(self._g_xi)
        return Output(self._plain(ExchangeType.IDENTITY_PROTECTION,
                                  (KeyExchange(self._g_xr), Nonce(self._nr))))

    def _r_mm5(self, msg: Message) -> Output:
        payloads = self._decrypt(msg, ExchangeType.IDENTITY_PROTECTION, 0)
        idii, hash_i = self._id_and_hash(payloads, "Main Mode message 5")
        _check(self._hash_i(payload_body(idii)), hash_i.data, "HASH_I")
        idir = self._p1.identity
        out = self._encrypt(ExchangeType.IDENTITY_PROTECTION,
                            (idir, Hash(self._hash_r(payload_body(idir)))), 0)
        return Output(out, (self._phase1_done(),))

    def _r_qm1(self, msg: Message) -> Output:
        assert self._keys is not None
        mid = msg.header.message_id
        if mid == 0:
            raise NegotiationError("Quick Mode needs a non-zero message ID", notify=1)
        self._qm = replace(self._qm, message_id=mid)
        self._enter_phase2()
        payloads = self._decrypt(msg, ExchangeType.QUICK_MODE, mid)
        if not payloads or not isinstance(payloads[0], Hash):
            raise NegotiationError("Quick Mode message 1 must start with HASH(1)", notify=1)
        tail = payloads[1:]
        prf = self._prf()
        _check(v1.quick_hash1(prf, self._keys.skeyid_a, mid, encode_payloads(tail),
                              self._tracer), payloads[0].data, "HASH(1)")
        sa = next((p for p in tail if isinstance(p, SecurityAssociation)), None)
        nonce = next((p for p in tail if isinstance(p, Nonce)), None)
        if sa is None or nonce is None:
            raise NegotiationError("Quick Mode message 1 lacks SA or Ni", notify=1)
        choice = select_phase2(sa, self._qm.proposals, self._qm.lifetime_rule)
        reply_prop = replace(choice.reply.proposals[0], spi=self._qm.spi)
        reply_sa = replace(choice.reply, proposals=(reply_prop,))
        self._qm_ni = nonce.data
        self._qm_peer_spi = choice.chosen.spi
        self._qm_chosen = replace(choice.chosen, spi=self._qm.spi)
        self._qm_g = self._qm_shared(tail) or b""
        ids = [p for p in tail if isinstance(p, Identification)]
        qm = self._qm
        if ids and len(ids) == 2:
            qm = replace(qm, id_ci=ids[0], id_cr=ids[1])
        elif ids:
            raise NegotiationError("Quick Mode carries both client IDs or none", notify=1)
        self._qm = qm
        out_tail = self._qm_tail(reply_sa, self._qm.nonce)
        self._qm_life = choice.lifetime
        if choice.responder_lifetime is not None:  # RFC 2407 §4.5.4, §4.6.3.1
            out_tail += (responder_lifetime_notification(
                choice.responder_lifetime, int(choice.chosen.protocol), self._qm.spi),)
        h2 = v1.quick_hash2(prf, self._keys.skeyid_a, mid, self._qm_ni,
                            encode_payloads(out_tail), self._tracer)
        return Output(self._encrypt(ExchangeType.QUICK_MODE, (Hash(h2), *out_tail), mid))

    def _r_qm3(self, msg: Message) -> Output:
        assert self._keys is not None and self._qm_chosen is not None
        mid = self._qm.message_id
        payloads = self._decrypt(msg, ExchangeType.QUICK_MODE, mid)
        if len(payloads) != 1 or not isinstance(payloads[0], Hash):
            raise NegotiationError("Quick Mode message 3 carries only HASH(3)", notify=1)
        prf = self._prf()
        _check(v1.quick_hash3(prf, self._keys.skeyid_a, mid, self._qm_ni, self._qm.nonce,
                              self._tracer), payloads[0].data, "HASH(3)")
        sas = ikev1_quick_mode_sas(prf, self._keys.skeyid_d, self._qm_chosen, self._qm_peer_spi,
                                   self._qm.spi, self._qm_ni, self._qm.nonce,
                                   g_qm_xy=self._qm_g or None, lifetime=self._qm_life,
                                   tracer=self._tracer)
        return Output(None, (QuickModeDone(self._qm_chosen, sas),))

