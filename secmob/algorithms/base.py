"""Interfaces shared by every algorithm kind.

An *algorithm* is an immutable description plus a factory: it knows its
numbers, names, sizes and whether it is legacy, and ``new(key)`` returns a
*context* bound to one key. Contexts are what the packet paths keep in an SA,
so the key schedule runs once per SA, not once per packet.

* :class:`CipherAlgorithm` / :class:`CipherContext` -- ESP encryption,
  including combined-mode (AEAD) transforms. ``seal`` returns
  ``ciphertext || icv``; ``open`` verifies before it returns anything.
* :class:`IntegrityAlgorithm` / :class:`IntegrityContext` -- AH and ESP ICVs.
* :class:`PRFAlgorithm` -- IKE pseudo-random functions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from secmob.errors import InvalidKeyLength
from secmob.trace import Tracer

__all__ = [
    "CipherAlgorithm",
    "CipherContext",
    "IntegrityAlgorithm",
    "IntegrityContext",
    "PRFAlgorithm",
    "check_length",
]


def check_length(what: str, value: bytes, allowed: tuple[int, ...] | int) -> None:
    """Raise :class:`InvalidKeyLength` unless ``len(value)`` is allowed."""
    sizes = (allowed,) if isinstance(allowed, int) else allowed
    if len(value) not in sizes:
        accepted = " or ".join(str(s) for s in sizes)
        raise InvalidKeyLength(f"{what} must be {accepted} octets, got {len(value)}")


@dataclass(frozen=True, eq=False)
class _Described:
    name: str
    ikev2_id: int
    rfc: str
    ikev1_ids: dict[str, int] = field(default_factory=dict)
    legacy: bool = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} (IKEv2 id {self.ikev2_id})>"


class CipherContext(ABC):
    """An ESP encryption transform bound to one key (RFC 4303 §3.3.2, §3.4.4).

    A context keeps per-key state between calls (OpenSSL contexts, CBC
    chaining values) and is not safe to use from two threads at once; nor
    is the security association that holds it.
    """

    @abstractmethod
    def seal(self, iv: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        """Encrypt ``plaintext``; return ``ciphertext || icv`` (icv empty unless combined mode).

        ``aad`` is ignored by encryption-only transforms.
        """

    @abstractmethod
    def open(self, iv: bytes, data: bytes, aad: bytes = b"") -> bytes:
        """Verify and decrypt ``ciphertext || icv``.

        Raises :class:`~secmob.errors.IntegrityError` when a combined-mode
        tag does not verify; no plaintext is returned in that case.
        """

    def __repr__(self) -> str:
        return f"<{type(self).__name__} (key hidden)>"


@dataclass(frozen=True, eq=False, repr=False)
class CipherAlgorithm(_Described, ABC):
    """An ESP encryption (or combined mode) transform.

    ``key_sizes`` are the cipher key lengths in octets; the keying material an
    SA needs is ``key || salt`` with ``salt_size`` extra octets (the RFC 3686
    nonce, the RFC 4106/4309/4543/7634 salt). ``block_size`` is the alignment
    the payload is padded to (RFC 4303 §2.4), ``iv_size`` the explicit IV
    carried in each packet and ``icv_size`` the tag length of a combined mode
    (0 otherwise).
    """

    key_sizes: tuple[int, ...] = ()
    salt_size: int = 0
    block_size: int = 4
    iv_size: int = 0
    icv_size: int = 0

    @property
    def aead(self) -> bool:
        """True for combined-mode transforms, which need no separate integrity."""
        return self.icv_size > 0

    def keymat_size(self, key_size: int) -> int:
        """Octets of KEYMAT for a ``key_size``-octet key (key plus salt)."""
        if key_size not in self.key_sizes:
            raise InvalidKeyLength(
                f"{self.name}: key size must be one of {self.key_sizes} octets, got {key_size}"
            )
        return key_size + self.salt_size

    def split_keymat(self, keymat: bytes) -> tuple[bytes, bytes]:
        """Split ``key || salt``, checking the total length."""
        allowed = tuple(k + self.salt_size for k in self.key_sizes)
        check_length(f"{self.name} keying material (key + {self.salt_size}-octet salt)",
                     keymat, allowed)
        cut = len(keymat) - self.salt_size
        return keymat[:cut], keymat[cut:]

    @abstractmethod
    def new(self, keymat: bytes, tracer: Tracer | None = None) -> CipherContext:
        """A context bound to ``keymat`` (``key || salt``)."""


class IntegrityContext(ABC):
    """An integrity transform bound to one key (RFC 4302 §3.3.3, RFC 4303 §3.3.4)."""

    icv_size: int

    @abstractmethod
    def compute(self, data: bytes, iv: bytes = b"") -> bytes:
        """The (truncated) ICV over ``data``; ``iv`` only for transforms with ``iv_size``."""

    @abstractmethod
    def verify(self, data: bytes, icv: bytes, iv: bytes = b"") -> None:
        """Raise :class:`~secmob.errors.IntegrityError` unless ``icv`` is right.

        The comparison is constant time.
        """

    def __repr__(self) -> str:
        return f"<{type(self).__name__} (key hidden)>"


@dataclass(frozen=True, eq=False, repr=False)
class IntegrityAlgorithm(_Described, ABC):
    """An AH/ESP integrity transform.

    ``key_sizes`` are the accepted key lengths in octets (including any salt),
    ``icv_size`` the length of the transmitted, truncated ICV and
    ``full_size`` the untruncated MAC length; ``iv_size`` is non-zero only
    for AES-GMAC as an AH/ESP integrity transform (RFC 4543).
    """

    key_sizes: tuple[int, ...] = ()
    icv_size: int = 0
    full_size: int = 0
    iv_size: int = 0

    @property
    def key_size(self) -> int:
        """The default (first) key size."""
        return self.key_sizes[0]

    @abstractmethod
    def new(self, key: bytes, tracer: Tracer | None = None) -> IntegrityContext:
        """A context bound to ``key``."""


@dataclass(frozen=True, eq=False, repr=False)
class PRFAlgorithm(_Described, ABC):
    """An IKE pseudo-random function (RFC 7296 §2.13, RFC 2409 §5).

    ``output_size`` is the PRF output length and ``key_size`` its preferred
    key length (used where RFC 7296 §2.14 asks for a key of the PRF's
    preferred size).
    """

    output_size: int = 0
    key_size: int = 0

    @abstractmethod
    def compute(self, key: bytes, data: bytes, tracer: Tracer | None = None) -> bytes:
        """``prf(key, data)``."""
