"""Return Routability: the correspondent and mobile node sides (RFC 6275 §5.2,
§9.4, §9.5.1, §11.6; constants of §12).

The formulas (keygen tokens, Kbm, the Authenticator) and message signing are
pure functions in :mod:`secmob.mip6.rr_crypto`, re-exported here.
:class:`NonceTable` is the correspondent node's secret state (Kcn and the
nonces, §5.2.7), :class:`Correspondent` answers HoTI/CoTI and verifies
Binding Updates, :class:`MobileNode` runs the mobile node's side. Randomness
is an injected ``rng(n) -> bytes`` and time an explicit ``now`` (seconds, any
epoch).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

from secmob.errors import DecodeError, IntegrityError, NonceExpired, UsageError
from secmob.mip6.rr_crypto import (
    AUTHENTICATOR_LENGTH,
    COOKIE_LENGTH,
    KCN_LENGTH,
    MAX_NONCE_LIFETIME,
    MAX_RR_BINDING_LIFETIME,
    MAX_TOKEN_LIFETIME,
    NONCE_LENGTH,
    TOKEN_LENGTH,
    Rng,
    _need,
    _sign,
    _sign_acknowledgement,
    authenticator,
    binding_management_key,
    care_of_keygen_token,
    hmac_sha1_under,
    home_keygen_token,
    sign_message,
    verify_authenticator,
)
from secmob.trace import Tracer, emit
from secmob.wire import mobility as mh
from secmob.wire.mobility_options import (
    AlternateCareOfAddress,
    BindingAuthorizationData,
    NonceIndices,
)

__all__ = [
    "AUTHENTICATOR_LENGTH",
    "COOKIE_LENGTH",
    "KCN_LENGTH",
    "MAX_NONCE_LIFETIME",
    "MAX_RR_BINDING_LIFETIME",
    "MAX_TOKEN_LIFETIME",
    "NONCE_LENGTH",
    "TOKEN_LENGTH",
    "Correspondent",
    "MobileNode",
    "Nonce",
    "NonceTable",
    "Rng",
    "VerifiedUpdate",
    "authenticator",
    "binding_management_key",
    "care_of_keygen_token",
    "hmac_sha1_under",
    "home_keygen_token",
    "sign_message",
    "verify_authenticator",
]


# --------------------------------------------------------------------------
# Correspondent node state
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class Nonce:
    """A nonce, its 16-bit index, the time it was made and the Kcn in force then.

    ``keyed`` is HMAC_SHA1(Kcn, ·) with the keyed blocks of Kcn hashed once
    (:func:`~secmob.mip6.rr_crypto.hmac_sha1_under`): every keygen token
    made from this nonce, for any mobile node, is computed under the same Kcn
    (§5.2.5), so that work is shared by all of them.
    """

    index: int
    value: bytes
    created: float
    kcn: bytes
    keyed: Callable[[bytes], bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keyed", hmac_sha1_under(self.kcn))

    def __reduce__(self) -> tuple[type[Nonce], tuple[int, bytes, float, bytes]]:
        # ``keyed`` is a closure over hash states, which pickle cannot save:
        # a copy makes it again from Kcn.
        return (Nonce, (self.index, self.value, self.created, self.kcn))

    def __repr__(self) -> str:
        return f"Nonce(index={self.index}, created={self.created})"


class NonceTable:
    """The correspondent node's secrets (§5.2.7): Kcn and indexed nonces.

    A nonce is accepted for ``MAX_NONCE_LIFETIME`` seconds after it was made.
    Tokens are issued only from a nonce with at least ``MAX_TOKEN_LIFETIME``
    seconds of life left, so a new nonce is made when the current one is older
    than ``MAX_NONCE_LIFETIME - MAX_TOKEN_LIFETIME``. Each nonce remembers the
    Kcn it was issued under, so :meth:`regenerate_kcn` does not invalidate
    tokens already handed out.
    """

    __slots__ = ("_current", "_kcn", "_next_index", "_nonces", "_rng", "nonce_length")

    def __init__(self, rng: Rng, *, nonce_length: int = NONCE_LENGTH,
                 first_index: int = 0) -> None:
        self._rng = rng
        self.nonce_length = nonce_length
        self._kcn = self._draw(KCN_LENGTH)
        self._nonces: dict[int, Nonce] = {}
        self._next_index = first_index & 0xFFFF
        self._current: Nonce | None = None

    def __repr__(self) -> str:
        return f"NonceTable({len(self._nonces)} nonce(s))"

    def _draw(self, n: int) -> bytes:
        value = self._rng(n)
        if len(value) != n:
            raise UsageError(f"rng returned {len(value)} octets, {n} requested")
        return value

    @property
    def kcn(self) -> bytes:
        """The Kcn new nonces are issued under."""
        return self._kcn

    def regenerate_kcn(self) -> None:
        """Draw a new Kcn; the next token is issued from a new nonce under it."""
        self._kcn = self._draw(KCN_LENGTH)
        self._current = None

    def _prune(self, now: float) -> None:
        for index in [i for i, n in self._nonces.items()
                      if now - n.created > MAX_NONCE_LIFETIME]:
            del self._nonces[index]

    def expire(self, now: float) -> None:
        """Forget the nonces older than MAX_NONCE_LIFETIME at ``now``, with the
        Kcn they were issued under (issuing a new nonce does this too)."""
        self._prune(now)

    def issue(self, now: float) -> Nonce:
        """The nonce to build tokens from now (a new one when needed)."""
        cur = self._current
        if cur is None or now - cur.created > MAX_NONCE_LIFETIME - MAX_TOKEN_LIFETIME:
            self._prune(now)
            cur = Nonce(self._next_index, self._draw(self.nonce_length), now, self._kcn)
            self._next_index = (self._next_index + 1) & 0xFFFF
            self._nonces[cur.index] = cur
            self._current = cur
        return cur

    def lookup(self, index: int, now: float) -> Nonce | None:
        """The nonce named ``index`` if it is still acceptable at ``now``."""
        n = self._nonces.get(index)
        if n is None or not 0 <= now - n.created <= MAX_NONCE_LIFETIME:
            return None
        return n


@dataclass(frozen=True, repr=False)
class VerifiedUpdate:
    """A Binding Update that passed Return Routability verification."""

    message: mh.BindingUpdate
    home_address: bytes
    care_of_address: bytes
    deregistration: bool
    kbm: bytes = field(repr=False)

    def __repr__(self) -> str:
        return (f"VerifiedUpdate(sequence={self.message.sequence}, "
                f"deregistration={self.deregistration})")


class Correspondent:
    """A correspondent node's side of Return Routability (§9.4, §9.5.1)."""

    __slots__ = ("address", "nonces")

    def __init__(self, address: bytes, rng: Rng, *, nonce_length: int = NONCE_LENGTH) -> None:
        _need("correspondent address", address, 16)
        self.address = address
        self.nonces = NonceTable(rng, nonce_length=nonce_length)

    def __repr__(self) -> str:
        return f"Correspondent({self.nonces!r})"

    def home_test(self, hoti: mh.HomeTestInit, home_address: bytes, now: float,
                  tracer: Tracer | None = None) -> mh.HomeTest:
        """The Home Test answering ``hoti`` sent from ``home_address`` (§9.4.3)."""
        n = self.nonces.issue(now)
        token = home_keygen_token(n.kcn, home_address, n.value, tracer)
        return mh.HomeTest(nonce_index=n.index, cookie=hoti.cookie, keygen_token=token).padded()

    def care_of_test(self, coti: mh.CareOfTestInit, care_of_address: bytes, now: float,
                     tracer: Tracer | None = None) -> mh.CareOfTest:
        """The Care-of Test answering ``coti`` sent from ``care_of_address`` (§9.4.4)."""
        n = self.nonces.issue(now)
        token = care_of_keygen_token(n.kcn, care_of_address, n.value, tracer)
        return mh.CareOfTest(nonce_index=n.index, cookie=coti.cookie,
                             keygen_token=token).padded()

    def binding_key(self, home_address: bytes, care_of_address: bytes, home_index: int,
                    care_of_index: int | None, now: float,
                    tracer: Tracer | None = None) -> bytes:
        """Kbm regenerated from the nonce indices of a Binding Update.

        ``care_of_index`` is ``None`` for a deregistration (§5.2.5). Raises
        :class:`NonceExpired` with status 136 (home), 137 (care-of) or 138
        (both) when an index names no acceptable nonce (§9.5.1).
        """
        home = self.nonces.lookup(home_index, now)
        care = None if care_of_index is None else self.nonces.lookup(care_of_index, now)
        if tracer is not None:
            verdict = ("valid" if home is not None and (care_of_index is None or care is not None)
                       else "expired")
            emit(tracer, "nonce indices", "now - created(index) <= MAX_NONCE_LIFETIME",
                 "RFC 6275 §5.2.7, §9.5.1",
                 {"home nonce index": home_index,
                  "care-of nonce index": "ignored (deregistration)" if care_of_index is None
                  else care_of_index, "now": str(now),
                  "MAX_NONCE_LIFETIME": MAX_NONCE_LIFETIME}, verdict)
        if home is None and care_of_index is not None and care is None:
            raise NonceExpired(f"home nonce index {home_index} and care-of nonce index "
                               f"{care_of_index} have expired", 138)
        if home is None:
            raise NonceExpired(f"home nonce index {home_index} has expired", 136)
        if care_of_index is not None and care is None:
            raise NonceExpired(f"care-of nonce index {care_of_index} has expired", 137)
        # Each nonce's keyed HMAC_SHA1(Kcn, ·) makes its tokens (§5.2.5).
        home_token = home_keygen_token(home.kcn, home_address, home.value, tracer,
                                       mac=home.keyed)
        care_token = None if care is None else care_of_keygen_token(
            care.kcn, care_of_address, care.value, tracer, mac=care.keyed)
        return binding_management_key(home_token, care_token, tracer)

    def verify_binding_update(self, data: bytes, *, home_address: bytes,
                              source_address: bytes, now: float,
                              tracer: Tracer | None = None,
                              message: mh.MobilityMessage | None = None) -> VerifiedUpdate:
        """Check a Binding Update's Return Routability authorization (§9.5.1).

        ``home_address`` comes from the Home Address option, ``source_address``
        from the IPv6 header; an Alternate Care-of Address option overrides the
        latter. ``message`` is ``data`` already decoded by the caller
        (:func:`secmob.wire.mobility.decode`), so that it is not decoded twice.
        Raises :class:`DecodeError` (malformed), :class:`IntegrityError`
        (missing options or wrong Authenticator) or :class:`NonceExpired`.
        """
        msg = mh.decode(data) if message is None else message
        if not isinstance(msg, mh.BindingUpdate):
            raise DecodeError(type(msg).NAME, "expected a Binding Update", 2)
        indices: NonceIndices | None = None  # the first option of each kind
        bad: BindingAuthorizationData | None = None
        alt: AlternateCareOfAddress | None = None
        for o in reversed(msg.options):
            if isinstance(o, NonceIndices):
                indices = o
            elif isinstance(o, BindingAuthorizationData):
                bad = o
            elif isinstance(o, AlternateCareOfAddress):
                alt = o
        if indices is None or bad is None:
            raise IntegrityError("a correspondent Binding Update must carry the Nonce Indices "
                                 "and Binding Authorization Data options (RFC 6275 §9.5.1)")
        care_of = alt.address if alt is not None else source_address
        dereg = msg.lifetime == 0  # §9.5.1: only a zero Lifetime deletes
        kbm = self.binding_key(home_address, care_of, indices.home_nonce_index,
                               None if dereg else indices.care_of_nonce_index, now, tracer)
        verify_authenticator(kbm, home_address if dereg else care_of, self.address,
                             mh.authenticated_data(data, msg), bad.authenticator, tracer)
        return VerifiedUpdate(msg, home_address, care_of, dereg, kbm)

    def acknowledge(self, update: VerifiedUpdate, status: int, lifetime: int,
                    tracer: Tracer | None = None) -> bytes:
        """A Binding Acknowledgement for ``update`` carrying an Authenticator
        under the same Kbm (§9.5.4). Its checksum uses the home address as
        destination: the final destination of the type 2 routing header.

        Status 136, 137 and 138 (expired nonces) raise :class:`UsageError`:
        that acknowledgement "MUST NOT include the Binding Authorization Data
        mobility option" (§9.5.4); build it with
        :func:`secmob.mip6.binding.refusal`.
        """
        if status in (136, 137, 138):
            raise UsageError(f"a Binding Acknowledgement with status {status} carries no "
                             "Binding Authorization Data (RFC 6275 §9.5.4); build it unsigned")
        sequence = update.message.sequence
        if not 0 <= status <= 0xFF or not 0 <= lifetime <= 0xFFFF:  # raises the UsageError
            mh.BindingAcknowledgement(status=status, sequence=sequence, lifetime=lifetime)
        coa = update.home_address if update.deregistration else update.care_of_address
        return _sign_acknowledgement(update.kbm, coa, self.address, update.home_address, status,
                                     sequence, lifetime, tracer)


# --------------------------------------------------------------------------
# Mobile node side
# --------------------------------------------------------------------------


class MobileNode:
    """A mobile node's side of Return Routability with one correspondent (§11.6).

    :meth:`start` draws the two init cookies; the answers are matched against
    them; :meth:`binding_update` builds a signed Binding Update once both
    tokens are at hand and younger than ``MAX_TOKEN_LIFETIME``.
    """

    __slots__ = ("_care_token", "_home_token", "_rng", "care_of_address", "care_of_cookie",
                 "correspondent", "deregistering", "home_address", "home_cookie",
                 "indices")

    def __init__(self, home_address: bytes, care_of_address: bytes, correspondent: bytes,
                 rng: Rng) -> None:
        for name, a in (("home", home_address), ("care-of", care_of_address),
                        ("correspondent", correspondent)):
            _need(f"{name} address", a, 16)
        self.home_address = home_address
        self.care_of_address = care_of_address
        self.correspondent = correspondent
        self._rng = rng
        self.home_cookie = b""
        self.care_of_cookie = b""
        self._home_token: tuple[bytes, float] | None = None
        self._care_token: tuple[bytes, float] | None = None
        self.indices = [0, 0]
        self.deregistering = False

    def __repr__(self) -> str:
        return (f"MobileNode(home_token={'yes' if self._home_token else 'no'}, "
                f"care_of_token={'yes' if self._care_token else 'no'})")

    def _cookie(self) -> bytes:
        c = self._rng(COOKIE_LENGTH)
        _need("init cookie", c, COOKIE_LENGTH)
        return c

    def start(self, tracer: Tracer | None = None) -> tuple[mh.HomeTestInit, mh.CareOfTestInit]:
        """Fresh HoTI and CoTI messages (§11.6.1)."""
        self.home_cookie, self.care_of_cookie = self._cookie(), self._cookie()
        if tracer is not None:
            emit(tracer, "home init cookie", "home init cookie = random(64), sent in HoTI",
                 "RFC 6275 §5.2.4, §6.1.3", {"rng octets": COOKIE_LENGTH}, self.home_cookie)
            emit(tracer, "care-of init cookie", "care-of init cookie = random(64), sent in CoTI",
                 "RFC 6275 §5.2.4, §6.1.4", {"rng octets": COOKIE_LENGTH}, self.care_of_cookie)
        return (mh.HomeTestInit(cookie=self.home_cookie).padded(),
                mh.CareOfTestInit(cookie=self.care_of_cookie).padded())

    def receive(self, msg: mh.HomeTest, now: float) -> None:
        """Accept a HoT or CoT whose cookie matches the one sent (§11.6.2);
        a mismatch raises :class:`IntegrityError`."""
        want = self.care_of_cookie if isinstance(msg, mh.CareOfTest) else self.home_cookie
        if not want or not hmac.compare_digest(msg.cookie, want):
            raise IntegrityError(f"{type(msg).NAME}: the init cookie does not match the one sent")
        if isinstance(msg, mh.CareOfTest):
            self._care_token = (msg.keygen_token, now)
            self.indices[1] = msg.nonce_index
        else:
            self._home_token = (msg.keygen_token, now)
            self.indices[0] = msg.nonce_index

    def _token(self, held: tuple[bytes, float] | None, what: str, now: float) -> bytes:
        if held is None or now - held[1] > MAX_TOKEN_LIFETIME:
            raise UsageError(f"no {what} keygen token younger than {MAX_TOKEN_LIFETIME} s; "
                             "run the return routability procedure again")
        return held[0]

    def binding_update(self, sequence: int, lifetime: int, now: float, *, ack: bool = True,
                       tracer: Tracer | None = None) -> bytes:
        """A Binding Update to the correspondent, signed with Kbm (§11.7.2).

        ``lifetime`` is in 4-second units; 0 makes it a deregistration using
        only the home token (§5.2.5, §6.1.7), whatever the care-of address,
        with the care-of nonce index set to zero (§11.7.2).
        Returns the bytes, checksummed with the home address as source (the
        packet carries a Home Address option unless the node is at home).
        """
        dereg = lifetime == 0
        home = self._token(self._home_token, "home", now)
        care = None if dereg else self._token(self._care_token, "care-of", now)
        kbm = binding_management_key(home, care, tracer)
        self.deregistering = dereg
        # §11.7.2: in a deletion "The care-of nonce index SHOULD be set to zero".
        care_index = 0 if dereg else self.indices[1]
        bu = mh.BindingUpdate(sequence=sequence, lifetime=lifetime, ack=ack,
                              options=(NonceIndices(self.indices[0], care_index),))
        coa = self.home_address if dereg else self.care_of_address
        return _sign(bu, kbm, coa, self.correspondent, self.home_address, self.correspondent,
                     tracer)[2]

    def verify_acknowledgement(self, data: bytes, now: float,
                               tracer: Tracer | None = None) -> mh.BindingAcknowledgement:
        """Check the Authenticator of a Binding Acknowledgement (§11.7.3)."""
        msg = mh.decode(data)
        if not isinstance(msg, mh.BindingAcknowledgement):
            raise DecodeError(type(msg).NAME, "expected a Binding Acknowledgement", 2)
        bad = msg.option(BindingAuthorizationData)
        if bad is None:
            raise IntegrityError("Binding Acknowledgement carries no Binding Authorization Data")
        dereg = self.deregistering  # the key of the Binding Update it answers
        home = self._token(self._home_token, "home", now)
        care = None if dereg else self._token(self._care_token, "care-of", now)
        kbm = binding_management_key(home, care)
        verify_authenticator(kbm, self.home_address if dereg else self.care_of_address,
                             self.correspondent, mh.authenticated_data(data),
                             bad.authenticator, tracer)
        return msg
