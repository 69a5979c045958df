"""IKEv1 Main Mode with pre-shared keys and Quick Mode, sans-IO (RFC 2409 §5, §5.4, §5.5).

A :class:`Session` is one side (initiator or responder) of a Main Mode
exchange followed by one Quick Mode exchange. It never touches a socket or a
clock. ``start()`` returns the initiator's first message; ``receive(data)``
consumes one message from the peer and returns an :class:`Output` (the
message to send, if any, and the events). What happens in which state is the
table :data:`~secmob.ike.ikev1_states.TRANSITIONS`, which
:func:`~secmob.ike.ikev1_states.state_table` draws.

The algorithms are the negotiated ones, through the
registries: the phase 1 cipher from ENCRYPTION (Oakley encryption number:
DES, 3DES, AES-CBC), the PRF from PRFS (Oakley hash number, RFC 2409 §5:
the HMAC of the negotiated hash) and the group from DH_GROUPS (Oakley group
description). A Quick Mode transform with a Group Description attribute
asks for PFS: both sides send a KE payload and ``g(qm)^xy`` enters KEYMAT
(RFC 2409 §5.5).

Randomness is injected: the session draws its Diffie-Hellman private values
(and any cookie, nonce, SPI or message ID the configuration leaves ``None``)
from ``rng``, a ``Callable[[int], bytes]``.

Encryption follows RFC 2409 Appendix B (:mod:`secmob.ike.ikev1_cipher`). What
each step raises, without changing the session's state:

* :class:`~secmob.errors.DecodeError` -- a malformed message, or an encrypted
  body that is not whole cipher blocks;
* :class:`~secmob.errors.NegotiationError` (with its notify type) -- a message
  not expected in this state (INVALID-PAYLOAD-TYPE), a missing payload, no
  acceptable proposal (NO-PROPOSAL-CHOSEN, 14), PFS on one side only;
* :class:`~secmob.errors.InvalidPublicValue` -- the peer's KE data fails the
  group's checks (RFC 6989);
* :class:`~secmob.errors.IntegrityError` -- a wrong HASH_I, HASH_R or
  HASH(1)/(2)/(3), or an encrypted body that does not decrypt to a payload
  chain: IKEv1 authenticates encrypted messages only through the hash inside
  them, so a wrong pre-shared key (different SKEYID_e) or an altered
  ciphertext shows up here.

Hashes are compared in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import replace

from secmob.algorithms import DH_GROUPS, PRFS, PRFAlgorithm
from secmob.algorithms.dh import RNG, DHKey
from secmob.errors import DecodeError, IntegrityError, NegotiationError, UsageError
from secmob.ike import ikev1_keys as v1
from secmob.ike.handoff import ikev1_quick_mode_sas
from secmob.ike.ikev1_cipher import MessageCipher
from secmob.ike.ikev1_config import (
    Output,
    Phase1Config,
    Phase1Done,
    QuickModeConfig,
    QuickModeDone,
    own_values,
    registry_cipher,
)
from secmob.ike.ikev1_states import TRANSITIONS, Role, State, Transition, state_table
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
    "Transition",
    "registry_cipher",
    "state_table",
]

_MALFORMED = NegotiationError.INVALID_PAYLOAD_TYPE

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _one(msg: Message, kind: type[Payload], what: str) -> Payload:
    found = msg.find(kind)
    if len(found) != 1:
        raise NegotiationError(f"{what}: expected one {kind.__name__} payload, found "
                               f"{len(found)}", notify=_MALFORMED)
    return found[0]


def _check(expected: bytes, got: bytes, what: str) -> None:
    if not hmac.compare_digest(expected, got):
        raise IntegrityError(f"{what} does not verify (RFC 2409 §5, §5.5)")


class Session:
    """One side of Main Mode (pre-shared key) followed by Quick Mode.

    ``rng(n)`` returns ``n`` random octets (e.g. ``os.urandom``); it supplies
    the Diffie-Hellman private values and every value the configurations
    leave ``None``.
    """

    def __init__(self, role: Role, phase1: Phase1Config, quick: QuickModeConfig, *,
                 rng: RNG, tracer: Tracer | None = None) -> None:
        self.role = role
        self.state = State.START
        self._tracer = tracer
        self._rng = rng
        self._p1 = phase1
        self._qm = quick
        own = own_values(role, phase1, quick, rng)
        cookie, self._nonce = own.cookie, own.nonce
        self._qm_spi, self._qm_nonce, self._qm_mid = own.spi, own.qm_nonce, own.message_id
        self._qm_group = own.pfs_group
        self._cky_i = cookie if role is Role.INITIATOR else b""
        self._cky_r = cookie if role is Role.RESPONDER else bytes(8)
        self._sai_b = b""
        self._chosen1: Phase1Proposal | None = None
        self._g_xi = self._g_xr = self._ni = self._nr = b""
        self._keys: v1.Phase1Keys | None = None
        self._dh_key: DHKey | None = None
        self._crypto: MessageCipher | None = None
        self._qm_ni = b""
        self._qm_offer: SecurityAssociation | None = None
        self._qm_peer_spi = b""
        self._qm_chosen: Phase2Proposal | None = None
        self._qm_g = b""
        self._qm_life = NO_LIMIT
        self._qm_key: DHKey | None = None
        self.phase1: Phase1Done | None = None
        self.quick_mode: QuickModeDone | None = None

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
        return self._plain((sa,))

    def receive(self, data: bytes) -> Output:
        """Process one message from the peer (see :data:`TRANSITIONS`).

        A message that raises leaves the session exactly as it was."""
        entry = TRANSITIONS.get((self.role, self.state))
        if entry is None:
            raise NegotiationError(f"{self!r} expects no message", notify=_MALFORMED)
        msg = Message.parse(data)
        snapshot = dict(self.__dict__)
        iv = self._crypto.iv if self._crypto is not None else b""
        try:
            out: Output = getattr(self, entry.handler)(msg)
        except BaseException:
            self.__dict__.update(snapshot)  # a refused message leaves no trace
            if self._crypto is not None:
                self._crypto.iv = iv
            raise
        self.state = entry.next
        for event in out.events:
            if isinstance(event, Phase1Done):
                self.phase1 = event
            else:
                self.quick_mode = event
        return out

    # -- message helpers ----------------------------------------------------------

    def _header(self, exchange: int, flags: int = 0, message_id: int = 0) -> Header:
        return Header(self._cky_i, self._cky_r, 0, exchange, flags, message_id)

    def _plain(self, payloads: tuple[Payload, ...]) -> bytes:
        return Message(self._header(ExchangeType.IDENTITY_PROTECTION), payloads).to_bytes()

    def _encrypt(self, exchange: int, payloads: tuple[Payload, ...], message_id: int) -> bytes:
        ct = self._require_crypto().encrypt(encode_payloads(payloads))
        head = replace(self._header(exchange, Flags.ENCRYPTION, message_id),
                       next_payload=payloads[0].payload_type)
        return Message(head, body=ct).to_bytes()

    def _decrypt(self, msg: Message, exchange: int, message_id: int) -> tuple[Payload, ...]:
        c = self._require_crypto()
        h = msg.header
        if not h.encrypted or h.exchange_type != exchange or h.message_id != message_id:
            raise NegotiationError(
                f"{self!r}: expected an encrypted exchange {exchange} message with message ID "
                f"{message_id}", notify=_MALFORMED)
        self._check_cookies(h)
        plain = c.decrypt(msg.body)
        try:
            return tuple(parse_payloads(plain, h.next_payload, 0, len(plain), padded=True))
        except DecodeError as exc:
            raise IntegrityError(
                f"exchange {exchange} message does not decrypt to a payload chain ({exc}): "
                "the peers' keys differ (e.g. another pre-shared key) or the ciphertext was "
                "altered") from None

    def _require_crypto(self) -> MessageCipher:
        if self._crypto is None:
            raise UsageError("no phase 1 keys yet")
        return self._crypto

    def _check_cookies(self, h: Header) -> None:
        if self._cky_i and h.initiator_cookie != self._cky_i:
            raise NegotiationError("initiator cookie does not match this exchange",
                                   notify=_MALFORMED)
        if self._keys is not None and h.responder_cookie != self._cky_r:
            raise NegotiationError("responder cookie does not match this exchange",
                                   notify=_MALFORMED)

    def _expect_plain(self, msg: Message) -> None:
        h = msg.header
        if h.encrypted or h.exchange_type != ExchangeType.IDENTITY_PROTECTION:
            raise NegotiationError(f"{self!r}: expected a clear Main Mode message",
                                   notify=_MALFORMED)
        self._check_cookies(h)

    # -- phase 1 key schedule --------------------------------------------------------

    def _dh(self) -> DHKey:
        assert self._chosen1 is not None
        group = DH_GROUPS.by_ikev1("oakley_group", self._chosen1.group)
        return group.new(group.generate(self._rng))

    def _phase1_keys(self, key: DHKey, g_peer: bytes) -> None:
        chosen = self._chosen1
        assert chosen is not None
        prf = self._prf()
        g_xy = key.shared(g_peer, self._tracer)  # validates: InvalidPublicValue
        self._keys = v1.derive_phase1(prf, v1.AuthMethod.PRE_SHARED_KEY, self._ni, self._nr,
                                      g_xy, self._cky_i, self._cky_r,
                                      pre_shared_key=self._p1.pre_shared_key,
                                      tracer=self._tracer)
        cipher, key_len = registry_cipher(chosen)
        enc_key = v1.encryption_key(prf, self._keys.skeyid_e, key_len, self._tracer)
        iv = v1.phase1_iv(v1.prf_hash(prf), self._g_xi, self._g_xr, cipher.block_size,
                          self._tracer)
        self._crypto = MessageCipher(cipher, enc_key, iv, self._tracer)

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

    def _enter_phase2(self, message_id: int) -> None:
        c = self._require_crypto()
        last_p1_block = c.iv
        c.iv = v1.phase2_iv(v1.prf_hash(self._prf()), last_p1_block, message_id,
                            c.cipher.block_size, self._tracer)

    def _phase1_done(self) -> Phase1Done:
        assert self._chosen1 is not None and self._keys is not None
        c = self._require_crypto()
        return Phase1Done(self._chosen1, self._keys, self._cky_i, self._cky_r, c.key)

    # -- initiator ------------------------------------------------------------------

    def _i_mm2(self, msg: Message) -> Output:
        self._expect_plain(msg)
        sa = _one(msg, SecurityAssociation, "Main Mode message 2")
        assert isinstance(sa, SecurityAssociation)
        reply = phase1_offer(sa)
        if len(reply) != 1 or reply[0] not in self._p1.proposals:
            raise NegotiationError("the responder must return one of the offered transforms")
        self._chosen1 = reply[0]
        self._cky_r = msg.header.responder_cookie
        self._dh_key = self._dh()
        self._g_xi, self._ni = self._dh_key.public(self._tracer), self._nonce
        return Output(self._plain((KeyExchange(self._g_xi), Nonce(self._ni))))

    def _i_mm4(self, msg: Message) -> Output:
        self._expect_plain(msg)
        ke = _one(msg, KeyExchange, "Main Mode message 4")
        nonce = _one(msg, Nonce, "Main Mode message 4")
        assert isinstance(ke, KeyExchange) and isinstance(nonce, Nonce)
        self._g_xr, self._nr = ke.data, nonce.data
        assert self._dh_key is not None
        self._phase1_keys(self._dh_key, self._g_xr)
        idii = self._p1.identity
        out = self._encrypt(ExchangeType.IDENTITY_PROTECTION,
                            (idii, Hash(self._hash_i(payload_body(idii)))), 0)
        return Output(out)

    def _i_mm6(self, msg: Message) -> Output:
        payloads = self._decrypt(msg, ExchangeType.IDENTITY_PROTECTION, 0)
        idir, hash_r = self._id_and_hash(payloads, "Main Mode message 6")
        _check(self._hash_r(payload_body(idir)), hash_r.data, "HASH_R")
        done = self._phase1_done()
        self._enter_phase2(self._qm_mid)
        return Output(self._qm1(), (done,))

    def _qm_tail(self, sa: SecurityAssociation, nonce: bytes, ids: tuple[Payload, ...],
                 ) -> tuple[Payload, ...]:
        tail: list[Payload] = [sa, Nonce(nonce)]
        if self._qm_key is not None:
            tail.append(KeyExchange(self._qm_key.public(self._tracer)))
        return (*tail, *ids)

    def _client_ids(self) -> tuple[Payload, ...]:
        if self._qm.id_ci is not None and self._qm.id_cr is not None:
            return self._qm.id_ci, self._qm.id_cr
        return ()

    def _new_qm_key(self, group: int) -> DHKey:
        g = DH_GROUPS.by_ikev1("oakley_group", group)
        return g.new(g.generate(self._rng))

    def _qm1(self) -> bytes:
        assert self._keys is not None
        offer = [replace(p, spi=self._qm_spi) for p in self._qm.proposals]
        sa = phase2_sa(offer)
        self._qm_offer = sa
        self._qm_ni = self._qm_nonce
        if self._qm_group is not None:
            self._qm_key = self._new_qm_key(self._qm_group)
        tail = self._qm_tail(sa, self._qm_ni, self._client_ids())
        h1 = v1.quick_hash1(self._prf(), self._keys.skeyid_a, self._qm_mid,
                            encode_payloads(tail), self._tracer)
        return self._encrypt(ExchangeType.QUICK_MODE, (Hash(h1), *tail), self._qm_mid)

    def _i_qm2(self, msg: Message) -> Output:
        assert self._keys is not None and self._qm_offer is not None
        mid = self._qm_mid
        payloads = self._decrypt(msg, ExchangeType.QUICK_MODE, mid)
        if not payloads or not isinstance(payloads[0], Hash):
            raise NegotiationError("Quick Mode message 2 must start with HASH(2)",
                                   notify=_MALFORMED)
        tail = payloads[1:]
        prf = self._prf()
        expected = v1.quick_hash2(prf, self._keys.skeyid_a, mid, self._qm_ni,
                                  encode_payloads(tail), self._tracer)
        _check(expected, payloads[0].data, "HASH(2)")
        nonce = next((p for p in tail if isinstance(p, Nonce)), None)
        sa = next((p for p in tail if isinstance(p, SecurityAssociation)), None)
        if nonce is None or sa is None:
            raise NegotiationError("Quick Mode message 2 lacks SA or Nr", notify=_MALFORMED)
        replies = phase2_offer(sa)
        if len(replies) != 1 or len(replies[0].transforms) != 1:
            raise NegotiationError("the responder must return one proposal with one transform")
        reply = replies[0]
        ours = next((p for p in self._qm.proposals if p.protocol == reply.protocol
                     and reply.transforms[0] in p.transforms), None)
        if ours is None:
            raise NegotiationError("the responder chose a transform that was not offered")
        g_qm = self._qm_shared(tail, self._qm_key)
        life = reply.transforms[0].life
        if life == NO_LIMIT:
            life = Lifetime(DEFAULT_PHASE2_SECONDS)
        for n in tail:
            if isinstance(n, Notification) and n.notify_type == RESPONDER_LIFETIME:
                life = lifetime_from_notification(n)
        sas = ikev1_quick_mode_sas(prf, self._keys.skeyid_d, reply, self._qm_spi, reply.spi,
                                   self._qm_ni, nonce.data, g_qm_xy=g_qm, lifetime=life,
                                   tracer=self._tracer)
        h3 = v1.quick_hash3(prf, self._keys.skeyid_a, mid, self._qm_ni, nonce.data,
                            self._tracer)
        out = self._encrypt(ExchangeType.QUICK_MODE, (Hash(h3),), mid)
        return Output(out, (QuickModeDone(reply, sas),))

    def _qm_shared(self, tail: Sequence[Payload], key: DHKey | None) -> bytes | None:
        ke = [p for p in tail if isinstance(p, KeyExchange)]
        if len(ke) > 1 or bool(ke) != (key is not None):
            raise NegotiationError("PFS: the chosen transform's group asks for one KE payload "
                                   "from each side (RFC 2409 §5.5)", notify=_MALFORMED)
        if not ke or key is None:
            return None
        return key.shared(ke[0].data, self._tracer)  # validates: InvalidPublicValue

    @staticmethod
    def _id_and_hash(payloads: Sequence[Payload], what: str) -> tuple[Identification, Hash]:
        if len(payloads) < 2 or not isinstance(payloads[0], Identification) \
                or not isinstance(payloads[1], Hash):
            raise NegotiationError(f"{what} must carry ID then HASH", notify=_MALFORMED)
        return payloads[0], payloads[1]

    # -- responder ------------------------------------------------------------------

    def _r_mm1(self, msg: Message) -> Output:
        self._expect_plain(msg)
        if msg.header.responder_cookie != bytes(8):
            raise NegotiationError("Main Mode message 1 must have a zero responder cookie",
                                   notify=_MALFORMED)
        sa = _one(msg, SecurityAssociation, "Main Mode message 1")
        assert isinstance(sa, SecurityAssociation)
        choice = select_phase1(sa, self._p1.proposals, self._p1.lifetime_rule)
        if choice.chosen.auth_method is not v1.AuthMethod.PRE_SHARED_KEY:
            raise NegotiationError("only pre-shared key authentication is implemented")
        self._cky_i = msg.header.initiator_cookie
        self._sai_b = payload_body(sa)
        self._chosen1 = choice.chosen
        return Output(self._plain((choice.reply,)))

    def _r_mm3(self, msg: Message) -> Output:
        self._expect_plain(msg)
        ke = _one(msg, KeyExchange, "Main Mode message 3")
        nonce = _one(msg, Nonce, "Main Mode message 3")
        assert isinstance(ke, KeyExchange) and isinstance(nonce, Nonce)
        key = self._dh()
        self._g_xi, self._ni = ke.data, nonce.data
        self._g_xr, self._nr = key.public(self._tracer), self._nonce
        self._phase1_keys(key, self._g_xi)
        return Output(self._plain((KeyExchange(self._g_xr), Nonce(self._nr))))

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
            raise NegotiationError("Quick Mode needs a non-zero message ID", notify=_MALFORMED)
        self._qm_mid = mid
        self._enter_phase2(mid)
        payloads = self._decrypt(msg, ExchangeType.QUICK_MODE, mid)
        if not payloads or not isinstance(payloads[0], Hash):
            raise NegotiationError("Quick Mode message 1 must start with HASH(1)",
                                   notify=_MALFORMED)
        tail = payloads[1:]
        prf = self._prf()
        _check(v1.quick_hash1(prf, self._keys.skeyid_a, mid, encode_payloads(tail),
                              self._tracer), payloads[0].data, "HASH(1)")
        sa = next((p for p in tail if isinstance(p, SecurityAssociation)), None)
        nonce = next((p for p in tail if isinstance(p, Nonce)), None)
        if sa is None or nonce is None:
            raise NegotiationError("Quick Mode message 1 lacks SA or Ni", notify=_MALFORMED)
        choice = select_phase2(sa, self._qm.proposals, self._qm.lifetime_rule)
        reply_prop = replace(choice.reply.proposals[0], spi=self._qm_spi)
        reply_sa = replace(choice.reply, proposals=(reply_prop,))
        self._qm_ni = nonce.data
        self._qm_peer_spi = choice.chosen.spi
        self._qm_chosen = replace(choice.chosen, spi=self._qm_spi)
        group = choice.chosen.transforms[0].group
        self._qm_key = self._new_qm_key(group) if group is not None else None
        ids = tuple(p for p in tail if isinstance(p, Identification))
        if len(ids) not in (0, 2):
            raise NegotiationError("Quick Mode carries both client IDs or none",
                                   notify=_MALFORMED)
        out_tail = self._qm_tail(reply_sa, self._qm_nonce, ids)
        self._qm_g = self._qm_shared(tail, self._qm_key) or b""
        self._qm_life = choice.lifetime
        if choice.responder_lifetime is not None:  # RFC 2407 §4.5.4, §4.6.3.1
            out_tail += (responder_lifetime_notification(
                choice.responder_lifetime, int(choice.chosen.protocol), self._qm_spi),)
        h2 = v1.quick_hash2(prf, self._keys.skeyid_a, mid, self._qm_ni,
                            encode_payloads(out_tail), self._tracer)
        return Output(self._encrypt(ExchangeType.QUICK_MODE, (Hash(h2), *out_tail), mid))

    def _r_qm3(self, msg: Message) -> Output:
        assert self._keys is not None and self._qm_chosen is not None
        mid = self._qm_mid
        payloads = self._decrypt(msg, ExchangeType.QUICK_MODE, mid)
        if len(payloads) != 1 or not isinstance(payloads[0], Hash):
            raise NegotiationError("Quick Mode message 3 carries only HASH(3)",
                                   notify=_MALFORMED)
        prf = self._prf()
        _check(v1.quick_hash3(prf, self._keys.skeyid_a, mid, self._qm_ni, self._qm_nonce,
                              self._tracer), payloads[0].data, "HASH(3)")
        sas = ikev1_quick_mode_sas(prf, self._keys.skeyid_d, self._qm_chosen, self._qm_peer_spi,
                                   self._qm_spi, self._qm_ni, self._qm_nonce,
                                   g_qm_xy=self._qm_g or None, lifetime=self._qm_life,
                                   tracer=self._tracer)
        return Output(None, (QuickModeDone(self._qm_chosen, sas),))
