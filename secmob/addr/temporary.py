"""Temporary ("privacy") addresses: RFC 4941 §3.2.1 and RFC 8981 §3.3, §3.4, §3.8.

Three ways to draw a temporary interface identifier, all sans-IO:

* :func:`rfc4941_iid` -- the MD5 history algorithm of RFC 4941 §3.2.1 (the
  algorithm usually taught; RFC 8981 replaced it)::

      digest       = MD5(history_value | interface_identifier)
      temp IID     = leftmost 64 bits of digest, bit 6 (the u bit) cleared
      next history = rightmost 64 bits of digest

  An unacceptable IID (reserved, or already in use) restarts the algorithm with
  the rightmost 64 bits as the history value (step 4).
* :func:`random_iid` -- RFC 8981 §3.3.1: 64 bits from an injected RNG; no bit
  has a special meaning (RFC 7136), a reserved value is drawn again.
* :func:`hashed_iid` -- RFC 8981 §3.3.2 ("RID = F(Prefix, Net_Iface,
  Network_ID, Time, DAD_Counter, secret_key)"), the parameters concatenated
  in that order::

      RID = F(Prefix | Net_Iface | Network_ID | Time | DAD_Counter | secret_key)
      IID = least significant 64 bits of RID

  with DAD_Counter incremented on an unacceptable IID (step 3).

Lifetimes (RFC 8981 §3.4, constants of §3.8) are :class:`TemporaryConfig`,
:func:`draw_desync_factor` and :func:`temporary_lifetimes`, all with ``now``
passed in (seconds on any monotonic clock the caller keeps).

Every hash step reports to ``tracer`` when one is given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from secmob.addr._prf import MAX_ATTEMPTS, PRF, HashedIID, acceptable, rid_iid
from secmob.addr.iid import U_BIT, PrefixLike, check_iid, prefix64
from secmob.errors import UsageError
from secmob.trace import Tracer, emit

__all__ = [
    "DEFAULT_CONFIG",
    "HashedIID",
    "HistoryIID",
    "TemporaryConfig",
    "TemporaryLifetimes",
    "draw_desync_factor",
    "hashed_iid",
    "random_iid",
    "rfc4941_iid",
    "rfc4941_step",
    "temporary_lifetimes",
]


def _rng_bytes(rng: Callable[[int], bytes], n: int) -> bytes:
    out = rng(n)
    if not isinstance(out, bytes) or len(out) != n:
        got = len(out) if isinstance(out, bytes) else type(out).__name__
        raise UsageError(f"rng({n}) must return {n} octets, returned {got}")
    return out


# --------------------------------------------------------------------------
# RFC 4941 §3.2.1: MD5 over history value | interface identifier
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryIID:
    """Result of :func:`rfc4941_iid`: the temporary IID, the history value to
    store for next time (RFC 4941 §3.2.1 step 6) and the MD5 rounds used. The
    history value predicts every later IID, so the repr leaves it out."""

    iid: bytes
    history: bytes = field(repr=False)
    rounds: int


def rfc4941_step(history: bytes, iid: bytes, tracer: Tracer | None = None) -> tuple[bytes, bytes]:
    """One round of RFC 4941 §3.2.1 steps 1-3 and 6: ``(temporary IID, next history)``."""
    history = check_iid(history, "history value")
    iid = check_iid(iid)
    digest = hashlib.md5(history + iid).digest()
    temp = bytes([digest[0] & ~U_BIT & 0xFF]) + digest[1:8]
    nxt = digest[8:]
    if tracer is not None:
        emit(tracer, "MD5(history | IID)", "digest = MD5(history_value | interface_identifier)",
             "RFC 4941 §3.2.1 steps 1-2", {"history_value": history, "interface_identifier": iid},
             digest)
        emit(tracer, "temporary IID",
             "IID = digest[0..63] with bit 6 (u) cleared; history' = digest[64..127]",
             "RFC 4941 §3.2.1 steps 3, 6", {"digest": digest, "next_history": nxt}, temp)
    return temp, nxt


def rfc4941_iid(
    history: bytes,
    iid: bytes,
    *,
    in_use: Collection[bytes] = (),
    tracer: Tracer | None = None,
) -> HistoryIID:
    """A temporary IID by the MD5 algorithm of RFC 4941 §3.2.1.

    ``history`` is the stored 64-bit history value (random the first time,
    §3.2.1), ``iid`` the interface identifier of RFC 4291 (e.g. the modified
    EUI-64). An IID that is reserved (RFC 5453) or in ``in_use`` restarts the
    computation with the rightmost 64 bits of the digest as history (step 4).
    """
    for rounds in range(1, MAX_ATTEMPTS + 1):
        temp, history = rfc4941_step(history, iid, tracer)
        if acceptable(temp, in_use):
            return HistoryIID(temp, history, rounds)
    raise UsageError(f"no acceptable temporary IID after {MAX_ATTEMPTS} rounds (RFC 4941 §3.2.1)")


# --------------------------------------------------------------------------
# RFC 8981 §3.3.1: random IIDs
# --------------------------------------------------------------------------


def random_iid(rng: Callable[[int], bytes], *, in_use: Collection[bytes] = ()) -> bytes:
    """A random temporary IID (RFC 8981 §3.3.1).

    ``rng(8)`` supplies 64 random bits, used as the IID unchanged (no bit has a
    special meaning, RFC 7136). A reserved IID (RFC 5453) or one in ``in_use``
    is drawn again (step 3). Pass ``os.urandom`` for real use.
    """
    for _ in range(MAX_ATTEMPTS):
        iid = _rng_bytes(rng, 8)
        if acceptable(iid, in_use):
            return iid
    raise UsageError(
        f"rng produced only unacceptable IIDs in {MAX_ATTEMPTS} draws (RFC 8981 §3.3.1)"
    )


# --------------------------------------------------------------------------
# RFC 8981 §3.3.2: hash-based temporary IIDs
# --------------------------------------------------------------------------


def hashed_iid(
    prefix: PrefixLike,
    time: bytes,
    net_iface: bytes,
    secret_key: bytes,
    *,
    network_id: bytes = b"",
    dad_counter: int = 0,
    prf: PRF = "sha256",
    in_use: Collection[bytes] = (),
    tracer: Tracer | None = None,
) -> HashedIID:
    """A temporary IID by the hash-based method of RFC 8981 §3.3.2.

    ``RID = F(Prefix | Net_Iface | Network_ID | Time | DAD_Counter |
    secret_key)`` (the parameter order of RFC 8981 §3.3.2 step 1), IID = the
    least significant 64 bits of RID (step 2). ``time`` is the caller's
    representation of the generation time (RFC 8981 leaves it to the
    implementation; e.g. an NTP timestamp), ``prefix`` a /64 (8 octets are
    hashed), DAD_Counter one octet. An unacceptable IID increments DAD_Counter
    and starts again (step 3). ``prf`` is a hashlib name or a callable; SHA-256
    unless given (RFC 8981 names BLAKE3 and HMAC-SHA-256 as options for F()
    and rules out HMAC-MD5; any callable may be passed).
    """
    if not isinstance(time, bytes):
        raise UsageError(f"time must be bytes (an implementation-defined encoding), got "
                         f"{type(time).__name__}")
    return rid_iid(
        "RFC 8981 §3.3.2",
        "RID = F(Prefix | Net_Iface | Network_ID | Time | DAD_Counter | secret_key)",
        [("Prefix", prefix64(prefix)), ("Net_Iface", net_iface), ("Network_ID", network_id),
         ("Time", time)],
        secret_key, dad_counter, prf, in_use, tracer,
    )


# --------------------------------------------------------------------------
# RFC 8981 §3.4 / §3.8: lifetimes
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TemporaryConfig:
    """The constants of RFC 8981 §3.8 (seconds; RetransTimer in milliseconds as in
    RFC 4861). Defaults are the RFC's: TEMP_VALID_LIFETIME 2 days,
    TEMP_PREFERRED_LIFETIME 1 day, TEMP_IDGEN_RETRIES 3, DupAddrDetectTransmits 1
    (RFC 4862 §5.1), RetransTimer 1000 ms (RFC 4861 §10)."""

    temp_valid_lifetime: float = 2 * 86400
    temp_preferred_lifetime: float = 86400
    temp_idgen_retries: int = 3
    dup_addr_detect_transmits: int = 1
    retrans_timer_ms: int = 1000

    def __post_init__(self) -> None:
        if self.temp_preferred_lifetime <= 0:
            raise UsageError("TEMP_PREFERRED_LIFETIME must be positive")
        if self.temp_valid_lifetime < self.temp_preferred_lifetime:
            raise UsageError("TEMP_VALID_LIFETIME must be at least TEMP_PREFERRED_LIFETIME "
                             "(RFC 8981 §3.8)")
        if min(self.temp_idgen_retries, self.dup_addr_detect_transmits,
               self.retrans_timer_ms) < 0:
            raise UsageError("TEMP_IDGEN_RETRIES, DupAddrDetectTransmits and RetransTimer "
                             "cannot be negative")
        if self.regen_advance >= self.temp_preferred_lifetime:
            raise UsageError("REGEN_ADVANCE must be below TEMP_PREFERRED_LIFETIME")

    @property
    def regen_advance(self) -> float:
        """REGEN_ADVANCE = 2 + TEMP_IDGEN_RETRIES * DupAddrDetectTransmits *
        RetransTimer / 1000 seconds (RFC 8981 §3.8)."""
        return 2 + (self.temp_idgen_retries * self.dup_addr_detect_transmits
                    * self.retrans_timer_ms) / 1000

    @property
    def max_desync_factor(self) -> float:
        """MAX_DESYNC_FACTOR = 0.4 * TEMP_PREFERRED_LIFETIME (RFC 8981 §3.8)."""
        return 0.4 * self.temp_preferred_lifetime


DEFAULT_CONFIG = TemporaryConfig()


def draw_desync_factor(rng: Callable[[int], bytes], config: TemporaryConfig = DEFAULT_CONFIG
                       ) -> float:
    """DESYNC_FACTOR: uniform in [0, MAX_DESYNC_FACTOR], drawn for each new
    temporary address and kept below TEMP_PREFERRED_LIFETIME - REGEN_ADVANCE
    (RFC 8981 §3.8). ``rng(8)`` supplies the randomness."""
    fraction = int.from_bytes(_rng_bytes(rng, 8), "big") / 2**64
    bound = min(config.max_desync_factor,
                config.temp_preferred_lifetime - config.regen_advance)
    return fraction * bound


@dataclass(frozen=True)
class TemporaryLifetimes:
    """When a temporary address was created and when it deprecates, expires and
    is due for regeneration (absolute times on the caller's clock)."""

    created: float
    desync_factor: float
    preferred_until: float
    valid_until: float
    regenerate_at: float

    def state(self, now: float) -> str:
        """``"preferred"``, ``"deprecated"`` or ``"invalid"`` at ``now`` (RFC 4862 §5.5.4)."""
        if now >= self.valid_until:
            return "invalid"
        if now >= self.preferred_until:
            return "deprecated"
        return "preferred"

    def due_for_regeneration(self, now: float) -> bool:
        """True once ``now`` is REGEN_ADVANCE before deprecation (RFC 8981 §3.6)."""
        return now >= self.regenerate_at

    def refresh(self, now: float, valid_lifetime: float, preferred_lifetime: float,
                config: TemporaryConfig = DEFAULT_CONFIG) -> TemporaryLifetimes:
        """Apply a new Prefix Information option (RFC 8981 §3.4): each lifetime ends
        at the earlier of ``now`` + the advertised lifetime and CREATION_TIME +
        TEMP_VALID_LIFETIME (resp. TEMP_PREFERRED_LIFETIME - DESYNC_FACTOR)."""
        _check_lifetimes(valid_lifetime, preferred_lifetime)
        valid = min(now + valid_lifetime, self.created + config.temp_valid_lifetime)
        preferred = min(now + preferred_lifetime, valid,
                        self.created + config.temp_preferred_lifetime - self.desync_factor)
        return TemporaryLifetimes(self.created, self.desync_factor, preferred, valid,
                                  preferred - config.regen_advance)


def _check_lifetimes(valid: float, preferred: float) -> None:
    if valid < 0 or preferred < 0:
        raise UsageError("lifetimes cannot be negative")
    if preferred > valid:
        raise UsageError(f"preferred lifetime {preferred} exceeds valid lifetime {valid}: "
                         "RFC 4862 §5.5.3 (c) ignores such a prefix")


def temporary_lifetimes(
    now: float,
    public_valid: float,
    public_preferred: float,
    desync_factor: float,
    config: TemporaryConfig = DEFAULT_CONFIG,
) -> TemporaryLifetimes | None:
    """Lifetimes of a temporary address created at ``now`` (RFC 8981 §3.4 steps 4-5).

    Valid lifetime = min(public valid lifetime, TEMP_VALID_LIFETIME); preferred
    lifetime = min(public preferred lifetime, TEMP_PREFERRED_LIFETIME -
    DESYNC_FACTOR). Returns ``None`` when the preferred lifetime is not greater
    than REGEN_ADVANCE: then no temporary address may be created (step 5).
    The public lifetimes are the remaining ones at ``now``.
    """
    _check_lifetimes(public_valid, public_preferred)
    if not 0 <= desync_factor <= config.max_desync_factor:
        raise UsageError(f"DESYNC_FACTOR {desync_factor} outside [0, MAX_DESYNC_FACTOR = "
                         f"{config.max_desync_factor}] (RFC 8981 §3.8)")
    valid = min(public_valid, config.temp_valid_lifetime)
    preferred = min(public_preferred, config.temp_preferred_lifetime - desync_factor, valid)
    if preferred <= config.regen_advance:
        return None
    return TemporaryLifetimes(now, desync_factor, now + preferred, now + valid,
                              now + preferred - config.regen_advance)
