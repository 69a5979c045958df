"""Diffie-Hellman groups for IKE (MODP, ECP, Curve25519 and a teaching group).

Registered in :data:`DH_GROUPS`, keyed by the IKE group number (RFC 7296
§3.3.2 Transform Type 4, identical to the IKEv1 Oakley group description of
RFC 2409 Appendix A where the group exists in IKEv1).

Every group offers the same operations (:class:`DHGroup`):

* ``generate(rng)`` -- a fresh private value drawn from ``rng`` (a
  ``Callable[[int], bytes]``; nothing here reads ``os.urandom``),
* ``public(private)`` -- the Key Exchange payload data (RFC 7296 §3.4),
* ``shared(private, peer_public)`` -- the shared secret ``g^ir``, after
  validating the peer's value,
* ``validate(peer_public)`` -- the peer-value checks alone (RFC 6989),
* ``new(private)`` -- a :class:`DHKey` holding the checked private value, for
  a side that computes its public value and then the shared secret.

Private values are octet strings: a big-endian unsigned integer for MODP and
ECP groups, the 32-octet scalar string of RFC 7748 §5 for Curve25519. An
``int`` is accepted as well (converted to that octet string), which keeps
teaching examples readable: ``toy.public(7)``. A private value outside the
group's range raises :class:`~secmob.errors.UsageError`; a bad peer value
raises :class:`~secmob.errors.InvalidPublicValue` with what was expected and
what was found.

The groups themselves live in :mod:`secmob.algorithms.modp` (finite-field
groups, including the toy group) and :mod:`secmob.algorithms.ecp` (NIST
curves and Curve25519); both register here when this module is imported.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from secmob.algorithms.base import _Described
from secmob.algorithms.registry import Registry
from secmob.errors import InvalidKeyLength, UsageError
from secmob.trace import Tracer

__all__ = [
    "DH_GROUPS", "MIN_PRIVATE_BITS", "RNG", "DHGroup", "DHKey", "PrivateValue", "random_below",
]

#: A source of random octets: ``rng(n)`` returns ``n`` octets.
RNG: TypeAlias = Callable[[int], bytes]

#: A private value: an octet string, or an ``int`` for MODP/ECP groups.
PrivateValue: TypeAlias = "bytes | int"

#: The shortest random exponent :meth:`DHGroup.generate` ever draws for a
#: standard group (bits); see :mod:`secmob.algorithms.modp` for the rule.
MIN_PRIVATE_BITS = 256


def random_below(rng: RNG, upper: int, bits: int | None = None) -> int:
    """A uniform integer in ``[1, upper - 1]`` by rejection sampling.

    ``bits`` (default ``upper.bit_length()``) is how many random bits each
    draw uses; draws of ``0`` or ``>= upper`` are discarded and drawn again,
    so the result is uniform and no value is ever reduced modulo ``upper``.
    """
    if upper < 2:
        raise UsageError(f"random_below needs an upper bound of at least 2, got {upper}")
    nbits = upper.bit_length() if bits is None else bits
    nbytes = (nbits + 7) // 8
    excess = nbytes * 8 - nbits
    for _ in range(1000):
        chunk = rng(nbytes)
        if len(chunk) != nbytes:
            raise UsageError(f"rng({nbytes}) returned {len(chunk)} octets")
        value = int.from_bytes(chunk, "big") >> excess
        if 0 < value < upper:
            return value
    raise UsageError("rng produced no usable value in 1000 draws; is it constant?")


class DHKey(ABC):
    """A private value bound to its group: what one side of an exchange holds.

    Made by :meth:`DHGroup.new`, which checks the private value once (and, for
    ECP groups, loads it into OpenSSL once); :meth:`public` and :meth:`shared`
    then reuse it. ``repr`` never shows the private value.
    """

    group: DHGroup

    @abstractmethod
    def public(self, tracer: Tracer | None = None) -> bytes:
        """Our public value (the Key Exchange payload data, RFC 7296 §3.4)."""

    @abstractmethod
    def shared(self, peer_public: bytes, tracer: Tracer | None = None) -> bytes:
        """The shared secret ``g^ir`` with the peer's public value.

        Raises :class:`~secmob.errors.InvalidPublicValue` if ``peer_public``
        fails :meth:`DHGroup.validate` (or, for Curve25519, if the result is
        all zero).
        """

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.group.name} (private value hidden)>"


@dataclass(frozen=True, eq=False, repr=False)
class DHGroup(_Described, ABC):
    """A Diffie-Hellman group as negotiated in IKE (Transform Type 4).

    ``public_size`` is the length of the Key Exchange payload data,
    ``shared_size`` the length of the shared secret ``g^ir`` and
    ``strength`` the security strength in bits used to size private values.
    ``kind`` is ``"MODP"``, ``"ECP"`` or ``"Curve25519"``.
    """

    kind: str = ""
    public_size: int = 0
    shared_size: int = 0
    strength: int = 0

    @abstractmethod
    def generate(self, rng: RNG) -> bytes:
        """A fresh private value drawn from ``rng`` (see the group's rule)."""

    @abstractmethod
    def new(self, private: PrivateValue) -> DHKey:
        """``private`` bound to this group.

        Raises :class:`~secmob.errors.UsageError` if ``private`` is out of
        range, :class:`~secmob.errors.InvalidKeyLength` if an octet string
        has the wrong length.
        """

    @abstractmethod
    def validate(self, peer_public: bytes) -> None:
        """Raise :class:`~secmob.errors.InvalidPublicValue` unless ``peer_public`` is acceptable."""

    def public(self, private: PrivateValue, tracer: Tracer | None = None) -> bytes:
        """The public value for ``private``: ``new(private).public(tracer)``."""
        return self.new(private).public(tracer)

    def shared(self, private: PrivateValue, peer_public: bytes,
               tracer: Tracer | None = None) -> bytes:
        """The shared secret: ``new(private).shared(peer_public, tracer)``.

        Raises :class:`~secmob.errors.InvalidPublicValue` for a bad peer
        value, and the errors of :meth:`new` for a bad private value.
        """
        return self.new(private).shared(peer_public, tracer)

    def keypair(self, rng: RNG, tracer: Tracer | None = None) -> tuple[bytes, bytes]:
        """``(private, public)`` with a private value drawn from ``rng``."""
        private = self.generate(rng)
        return private, self.public(private, tracer)

    def _scalar(self, private: PrivateValue, size: int) -> int:
        """``private`` as an integer (octet strings are big-endian, at most ``size`` octets)."""
        if isinstance(private, bool):
            raise UsageError(f"{self.name}: a private value is an int or bytes, not a bool")
        if isinstance(private, int):
            return private
        if not private or len(private) > size:
            raise InvalidKeyLength(
                f"{self.name}: private value must be 1 to {size} octets, got {len(private)}")
        return int.from_bytes(private, "big")


#: Diffie-Hellman groups by IKE group number.
DH_GROUPS: Registry[DHGroup] = Registry("Diffie-Hellman group")

# The group modules register themselves; imported last because they use the
# names above.
from secmob.algorithms import ecp, modp  # noqa: E402, F401
