"""Finite-field (MODP) Diffie-Hellman groups: RFC 2409, RFC 3526, RFC 5114, and a toy group.

Arithmetic (RFC 2409 §5, RFC 7296 §2.14): with prime ``p`` and generator
``g``, a party with private value ``x`` sends ``g^x mod p`` and computes the
shared secret ``(g^y)^x mod p`` from the peer's ``g^y``. Both the public
value and the shared secret are big-endian octet strings left-padded with
zeros to the length of ``p`` (RFC 7296 §3.4 and §2.14).

**Private-value rule** (what :meth:`MODPGroup.generate` draws):

* RFC 2409/3526 groups: ``x`` is uniform in ``[1, 2^b - 1]`` with
  ``b = max(2 * strength, 256)`` bits, where ``strength`` is the larger
  ("Estimate 2") security strength RFC 3526 §8 tabulates -- so the exponent is
  at least as long as the table's exponent column: 240 bits for group 5, 320
  for 14, 420 for 15, 480 for 16, 540 for 17, 620 for 18. Groups 1 and 2 have
  no row there; their strength is taken as 80 bits (NIST SP 800-57 Part 1
  Table 2 for a 1024-bit field, an upper bound for 768 bits), so they get the
  256-bit minimum (:data:`~secmob.algorithms.dh.MIN_PRIVATE_BITS`), never less.
* RFC 5114 groups (22-24): ``x`` is uniform in ``[1, q - 1]``, the full length
  of the subgroup order ``q`` (160, 224 and 256 bits).
* The toy group: ``x`` is uniform in ``[1, p - 2]`` except ``x = 29``: there
  ``g = 2`` generates the whole group of order 58, and ``2^29 = p - 1`` is a
  public value every peer refuses. (In the RFC groups ``g`` generates a
  subgroup of odd order, so no exponent yields 1 or ``p - 1``.)

``public``/``shared`` accept any ``x`` in ``[1, p - 2]`` (``[1, q - 1]`` for
RFC 5114 groups), so fixed values from vectors and lectures work.

**Peer validation** (RFC 6989 §2.1 and §2.2; RFC 7296 §3.4):
length must be exactly ``len(p)`` octets; ``y`` must not be 0, 1 or
``p - 1`` and must be below ``p``; for RFC 5114 groups ``y^q mod p`` must be 1
(RFC 6989 §2.2 requires this where private values are reused; it is run on
every value here).

Modular exponentiation uses ``gmpy2.powmod`` when gmpy2 is installed (about
7x faster than ``pow()`` on groups 2 and 14, see ``bench/bench_dh.py``) and
the built-in ``pow()`` otherwise; :data:`BACKEND` names the one in use.
"""

from __future__ import annotations

from dataclasses import dataclass

from secmob.algorithms._modp_params import MODP_PRIMES, RFC5114_GROUPS
from secmob.algorithms.dh import (
    DH_GROUPS,
    MIN_PRIVATE_BITS,
    RNG,
    DHGroup,
    DHKey,
    PrivateValue,
    random_below,
)
from secmob.errors import InvalidPublicValue, UsageError
from secmob.trace import Tracer, emit

__all__ = ["BACKEND", "TOY", "TOY_GROUP_ID", "MODPGroup", "MODPKey"]


def _pow_builtin(base: int, exp: int, mod: int) -> int:
    return pow(base, exp, mod)


try:
    import gmpy2

    def _pow_gmpy2(base: int, exp: int, mod: int) -> int:
        return int(gmpy2.powmod(base, exp, mod))

    _powmod = _pow_gmpy2
    #: The modular exponentiation in use: ``"gmpy2"`` or ``"pow"``.
    BACKEND = "gmpy2"
except ImportError:  # pragma: no cover - depends on the environment
    _powmod = _pow_builtin
    BACKEND = "pow"

#: IKE group number of the toy group, from the private-use range 1024-65535
#: (RFC 7296 §3.3.2, IANA "Transform Type 4" registry). Never negotiate it.
TOY_GROUP_ID = 1059

#: Trace values are integers for groups up to this size (the toy group), octet
#: strings as they appear on the wire otherwise.
_SMALL_BITS = 64


@dataclass(frozen=True, eq=False, repr=False)
class MODPGroup(DHGroup):
    """A finite-field group: prime ``p``, generator ``g``, optional subgroup order ``q``.

    ``q = 0`` means a safe-prime group (RFC 2409/3526), where ``g = 2``
    generates the subgroup of order ``(p - 1) / 2``; a non-zero ``q`` (RFC 5114)
    turns on the subgroup membership check. ``private_bits`` is the exponent
    length :meth:`generate` draws (0: the full range ``[1, p - 2]``).
    """

    p: int = 0
    g: int = 0
    q: int = 0
    private_bits: int = 0

    @property
    def bits(self) -> int:
        """Size of the modulus in bits."""
        return self.p.bit_length()

    def _private_limit(self) -> int:
        """Exclusive upper bound of acceptable private values."""
        return self.q if self.q else self.p - 1

    def generate(self, rng: RNG) -> bytes:
        """A private value per the module's rule, as a big-endian octet string.

        The length is fixed per group (the octets needed for the largest
        value), so equal inputs to ``rng`` give equal outputs.
        """
        if self.q:
            x = random_below(rng, self.q)
        elif self.private_bits:
            x = random_below(rng, 1 << self.private_bits, self.private_bits)
        else:
            # Full range (the toy group): g may generate the whole group, so
            # redraw the x whose public value a peer must refuse (g^x = p - 1).
            x = random_below(rng, self.p - 1)
            while _powmod(self.g, x, self.p) in (1, self.p - 1):
                x = random_below(rng, self.p - 1)
        return x.to_bytes(self._private_size(), "big")

    def _private_size(self) -> int:
        """Octets of a private value as :meth:`generate` returns it."""
        bits = self.q.bit_length() if self.q else self.private_bits or (self.p - 2).bit_length()
        return (bits + 7) // 8

    def _exponent(self, private: PrivateValue) -> int:
        x = self._scalar(private, self.public_size)
        limit = self._private_limit()
        if not 1 <= x < limit:
            upper = "q - 1" if self.q else "p - 2"
            raise UsageError(
                f"{self.name}: private value must be in [1, {upper}] "
                f"(a {limit.bit_length()}-bit bound), got a {x.bit_length()}-bit value")
        return x

    def _octets(self, value: int) -> bytes:
        return value.to_bytes(self.public_size, "big")

    def _show(self, value: int) -> bytes | int:
        return value if self.bits <= _SMALL_BITS else self._octets(value)

    def _show_private(self, x: int) -> bytes | int:
        if self.bits <= _SMALL_BITS:
            return x
        return x.to_bytes(max(self._private_size(), _sized(x.bit_length())), "big")

    def new(self, private: PrivateValue) -> MODPKey:
        """The exponent ``x`` bound to this group (range-checked once)."""
        return MODPKey(self, self._exponent(private))

    def validate(self, peer_public: bytes) -> None:
        """Length, range and (RFC 5114 groups) subgroup checks; see the module docstring."""
        self._peer_value(peer_public)

    def _peer_value(self, peer_public: bytes) -> int:
        what = f"{self.name} peer public value"
        if len(peer_public) != self.public_size:
            raise InvalidPublicValue(
                f"{what} must be {self.public_size} octets (the length of p, RFC 7296 §3.4), "
                f"got {len(peer_public)}")
        y = int.from_bytes(peer_public, "big")
        if y >= self.p:
            raise InvalidPublicValue(f"{what} must be below p, got a value >= p (RFC 6989 §2.1)")
        if y == 0:
            raise InvalidPublicValue(f"{what} is 0; it must satisfy 1 < y < p - 1 (RFC 6989 §2.1)")
        if y == 1:
            raise InvalidPublicValue(f"{what} is 1; it must satisfy 1 < y < p - 1 (RFC 6989 §2.1)")
        if y == self.p - 1:
            raise InvalidPublicValue(
                f"{what} is p - 1 (an element of order 2); it must satisfy 1 < y < p - 1 "
                "(RFC 6989 §2.1)")
        if self.q and _powmod(y, self.q, self.p) != 1:
            raise InvalidPublicValue(
                f"{what} is not in the order-q subgroup: y^q mod p != 1 (RFC 6989 §2.2)")
        return y


class MODPKey(DHKey):
    """A MODP private exponent ``x`` bound to its group."""

    def __init__(self, group: MODPGroup, x: int) -> None:
        self.group: MODPGroup = group
        self._x = x

    def public(self, tracer: Tracer | None = None) -> bytes:
        """``g^x mod p`` as ``len(p)`` octets (RFC 7296 §3.4, RFC 2409 §5)."""
        g, x = self.group, self._x
        y = _powmod(g.g, x, g.p)
        if tracer is not None:
            rule = (f"1 <= x <= q - 1 ({g.q.bit_length()}-bit q)" if g.q else
                    f"1 <= x < 2^{g.private_bits}" if g.private_bits else
                    "1 <= x <= p - 2")
            emit(tracer, "private value x", rule, "RFC 2409 §5; RFC 3526 §8",
                 {"bits": x.bit_length()}, g._show_private(x))
            emit(tracer, "public value g^x mod p", "g^x mod p, left-padded to len(p)",
                 "RFC 2409 §5; RFC 7296 §3.4",
                 {"g": g.g, "x": g._show_private(x), "p": g._show(g.p)}, g._show(y))
        return g._octets(y)

    def shared(self, peer_public: bytes, tracer: Tracer | None = None) -> bytes:
        """``(g^y)^x mod p`` as ``len(p)`` octets (RFC 2409 §5, RFC 7296 §2.14)."""
        g, x = self.group, self._x
        y = g._peer_value(peer_public)
        k = _powmod(y, x, g.p)
        if tracer is not None:
            emit(tracer, "shared secret (g^y)^x mod p", "(g^y)^x mod p, left-padded to len(p)",
                 "RFC 2409 §5; RFC 7296 §2.14",
                 {"g^y": g._show(y), "x": g._show_private(x), "p": g._show(g.p)}, g._show(k))
        return g._octets(k)


def _sized(bits: int) -> int:
    return (bits + 7) // 8


def _safe_prime_group(number: int, bits: int, strength: int, rfc: str, legacy: bool = False,
                      ) -> MODPGroup:
    p = MODP_PRIMES[bits]
    return MODPGroup(
        f"MODP_{bits}", number, rfc, {"oakley_group": number}, legacy,
        kind="MODP", public_size=_sized(bits), shared_size=_sized(bits), strength=strength,
        p=p, g=2, private_bits=max(2 * strength, MIN_PRIVATE_BITS))


# Strengths: RFC 3526 §8 "Strength Estimate 2"; groups 1 and 2 see the module docstring.
for _number, _bits, _strength, _rfc, _legacy in (
    (1, 768, 80, "RFC 2409 §6.1", True),
    (2, 1024, 80, "RFC 2409 §6.2", True),
    (5, 1536, 120, "RFC 3526 §2", True),
    (14, 2048, 160, "RFC 3526 §3", False),
    (15, 3072, 210, "RFC 3526 §4", False),
    (16, 4096, 240, "RFC 3526 §5", False),
    (17, 6144, 270, "RFC 3526 §6", False),
    (18, 8192, 310, "RFC 3526 §7", False),
):
    DH_GROUPS.register(
        _safe_prime_group(_number, _bits, _strength, _rfc, _legacy),
        f"modp{_bits}", f"MODP-{_bits}", f"{_bits}-bit MODP Group",
    )

for _number, _key, _bits, _qbits, _strength, _rfc, _legacy in (
    (22, "1024_160", 1024, 160, 80, "RFC 5114 §2.1", True),
    (23, "2048_224", 2048, 224, 112, "RFC 5114 §2.2", False),
    (24, "2048_256", 2048, 256, 112, "RFC 5114 §2.3", False),
):
    _p, _g, _q = RFC5114_GROUPS[_key]
    DH_GROUPS.register(
        MODPGroup(f"MODP_{_bits}_{_qbits}", _number, _rfc, {"oakley_group": _number}, _legacy,
                  kind="MODP", public_size=_sized(_bits), shared_size=_sized(_bits),
                  strength=_strength, p=_p, g=_g, q=_q),
        f"modp{_bits}s{_qbits}", f"MODP-{_bits}-{_qbits}",
        f"{_bits}-bit MODP Group with {_qbits}-bit Prime Order Subgroup",
    )

#: The teaching group: p = 59, g = 2 (the classic lecture example). Legacy,
#: numbered from the private-use range; never use it to protect anything.
TOY = DH_GROUPS.register(
    MODPGroup("toy", TOY_GROUP_ID, "teaching example (private-use number, RFC 7296 §3.3.2)",
              {}, True, kind="MODP", public_size=1, shared_size=1, strength=0, p=59, g=2),
    "toy59", "MODP-toy",
)
