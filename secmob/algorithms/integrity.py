"""Integrity transforms for AH and ESP (the ICV algorithms).

Registered in :data:`INTEGRITY`, keyed by IKEv2 transform type 3 ids
(RFC 7296 §3.3.2, IANA "Transform Type 3 - Integrity Algorithm Transform IDs"),
with the IPsec DOI numbers of IKEv1 (RFC 2407 §4.4.3 AH transform ids and
§4.5 "Authentication Algorithm" attribute values).

The truncation length of every transform is explicit (``icv_size``): RFC 2403
and RFC 2404 truncate to 96 bits, RFC 4868 to half the hash length. Some
implementations have used 96-bit truncation for HMAC-SHA-256; secmob follows
RFC 4868 and makes the length visible instead of silent.

Keys have exactly the length each RFC fixes (RFC 2403 §3: 128 bits,
RFC 2404 §3: 160 bits, RFC 4868 §2.1.1: the hash output length); other
lengths raise :class:`~secmob.errors.InvalidKeyLength`. The AES-based
transforms (XCBC, CMAC, GMAC) live in :mod:`secmob.algorithms.integrity_aes`
and are registered when this module is imported.
"""

from __future__ import annotations

import hashlib
import hmac
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from secmob.algorithms.base import IntegrityAlgorithm, IntegrityContext, check_length
from secmob.algorithms.registry import Registry
from secmob.errors import IntegrityError, InvalidKeyLength
from secmob.trace import Tracer, TraceValue, emit

__all__ = ["INTEGRITY", "HMACIntegrity", "MACContext", "MACIntegrity", "hmac_once",
           "keyed_hmac"]

#: Integrity transforms by IKEv2 id.
INTEGRITY: Registry[IntegrityAlgorithm] = Registry("integrity")


class MACContext(IntegrityContext):
    """Shared ``compute``/``verify`` for transforms whose ICV is a prefix of a MAC.

    Subclasses provide :meth:`_mac` (the full, untruncated MAC) and the
    formula shown in traces. ``verify`` checks the ICV length first (a
    truncated ICV is an :class:`~secmob.errors.IntegrityError`), then compares
    in constant time; no message ever contains a MAC value.
    """

    formula = ""

    def __init__(self, alg: MACIntegrity, tracer: Tracer | None) -> None:
        self._alg = alg
        self.icv_size = alg.icv_size
        self._tracer = tracer

    @abstractmethod
    def _mac(self, data: bytes, iv: bytes) -> bytes:
        """The full MAC over ``data`` (``iv`` already length-checked)."""

    def _check_iv(self, iv: bytes) -> None:
        if len(iv) != self._alg.iv_size:
            if self._alg.iv_size:
                raise InvalidKeyLength(
                    f"{self._alg.name} IV must be {self._alg.iv_size} octets, got {len(iv)}")
            raise InvalidKeyLength(f"{self._alg.name} takes no IV, got {len(iv)} octets")

    def compute(self, data: bytes, iv: bytes = b"") -> bytes:
        self._check_iv(iv)
        icv = self._mac(data, iv)[: self.icv_size]
        if self._tracer is not None:
            inputs: dict[str, TraceValue] = {"data": data}
            if iv:
                inputs["IV"] = iv
            emit(self._tracer, self._alg.name, self.formula, self._alg.spec, inputs, icv)
        return icv

    def verify(self, data: bytes, icv: bytes, iv: bytes = b"") -> None:
        self._check_iv(iv)
        if len(icv) != self.icv_size:
            raise IntegrityError(
                f"{self._alg.name}: ICV must be {self.icv_size} octets, got {len(icv)}")
        if not hmac.compare_digest(self._mac(data, iv)[: self.icv_size], icv):
            raise IntegrityError(f"{self._alg.name}: ICV does not verify")


@dataclass(frozen=True, eq=False, repr=False)
class MACIntegrity(IntegrityAlgorithm):
    """An integrity transform with a ``spec`` reference (RFC and section) for traces."""

    spec: str = ""


# HMAC (RFC 2104 §2) = H(K xor opad || H(K xor ipad || data)), where K is the
# key hashed when longer than the hash's block B, then zero-padded to B octets.
# The XORs are made by translating each octet through these tables.
_XOR_IPAD = bytes.maketrans(bytes(range(256)), bytes(b ^ 0x36 for b in range(256)))
_XOR_OPAD = bytes.maketrans(bytes(range(256)), bytes(b ^ 0x5C for b in range(256)))
_BLOCK_SIZES: dict[Callable[..., Any], int] = {}


def _key_block(factory: Callable[..., Any], key: bytes) -> bytes:
    """K of RFC 2104 §2: ``key`` (any bytes-like) hashed when longer than the
    block, then zero-padded to the block. ``factory`` is a hashlib constructor
    such as ``hashlib.sha1`` (its block size is remembered)."""
    block = _BLOCK_SIZES.get(factory)
    if block is None:
        block = _BLOCK_SIZES[factory] = factory().block_size
    if len(key) > block:
        key = factory(key).digest()
    return bytes(key).ljust(block, b"\0")


def hmac_once(factory: Callable[..., Any], key: bytes, data: bytes) -> bytes:
    """HMAC(``key``, ``data``) (RFC 2104 §2) under the hashlib constructor
    ``factory``: the value of ``hmac.digest``, without the OpenSSL HMAC
    context it sets up per call (for a short message that set-up costs more
    than the two hashes)."""
    k = _key_block(factory, key)
    inner: bytes = factory(k.translate(_XOR_IPAD) + data).digest()
    mac: bytes = factory(k.translate(_XOR_OPAD) + inner).digest()
    return mac


def keyed_hmac(factory: Callable[..., Any], key: bytes) -> Callable[[bytes], bytes]:
    """HMAC(``key``, ·) (RFC 2104 §2) under the hashlib constructor ``factory``,
    as a function of the data, for a key used many times: the K xor ipad and
    K xor opad blocks are hashed once here, and each call copies those two
    states, so the key schedule is never redone. The function's repr shows
    no key."""
    k = _key_block(factory, key)
    inner_copy = factory(k.translate(_XOR_IPAD)).copy
    outer_copy = factory(k.translate(_XOR_OPAD)).copy

    def full(data: bytes) -> bytes:
        i, o = inner_copy(), outer_copy()
        i.update(data)
        o.update(i.digest())
        mac: bytes = o.digest()
        return mac

    return full


class _HMACContext(MACContext):
    """HMAC (RFC 2104 §2): H(K xor opad || H(K xor ipad || data)).

    The two keyed hash states (after the K xor ipad and K xor opad blocks)
    are computed once; each packet copies them, so a packet costs two hash
    copies and no key schedule, with no Python-level HMAC object.
    """

    __slots__ = ("_full",)

    def __init__(self, alg: HMACIntegrity, key: bytes, tracer: Tracer | None) -> None:
        super().__init__(alg, tracer)
        self._full = keyed_hmac(alg.hash_factory, key)
        self.formula = f"ICV = First({alg.icv_size * 8}, HMAC-{alg.hash_name}(K, data))"
        if tracer is None:
            # Untraced contexts answer with closures over the keyed state (the
            # per-packet path): no method binding, tracer test or IV check call.
            self.compute, self.verify = self._closures()  # type: ignore[method-assign,assignment]

    def _closures(self) -> tuple[Callable[[bytes, bytes], bytes],
                                 Callable[[bytes, bytes, bytes], None]]:
        """``compute`` and ``verify`` with the checks and messages of
        :class:`MACContext` (HMAC takes no IV: any IV is refused)."""
        full, size, name, check_iv = self._full, self.icv_size, self._alg.name, self._check_iv

        def compute(data: bytes, iv: bytes = b"") -> bytes:
            if iv:
                check_iv(iv)
            return full(data)[:size]

        def verify(data: bytes, icv: bytes, iv: bytes = b"") -> None:
            if iv:
                check_iv(iv)
            if len(icv) != size:
                raise IntegrityError(f"{name}: ICV must be {size} octets, got {len(icv)}")
            if not hmac.compare_digest(full(data)[:size], icv):
                raise IntegrityError(f"{name}: ICV does not verify")

        return compute, verify

    def _mac(self, data: bytes, iv: bytes) -> bytes:
        return self._full(data)


@dataclass(frozen=True, eq=False, repr=False)
class HMACIntegrity(MACIntegrity):
    """HMAC-<hash> truncated to ``icv_size`` octets (RFC 2104 with RFC 2403/2404/4868)."""

    hash_name: str = ""

    @property
    def hash_factory(self) -> Callable[..., Any]:
        return getattr(hashlib, self.hash_name.lower().replace("-", ""))  # type: ignore[no-any-return]

    def new(self, key: bytes, tracer: Tracer | None = None) -> IntegrityContext:
        check_length(f"{self.name} key", key, self.key_sizes)
        return _HMACContext(self, key, tracer)


INTEGRITY.register(
    HMACIntegrity("HMAC-MD5-96", 1, "RFC 2403", {"ah": 2, "auth": 1}, legacy=True,
                  key_sizes=(16,), icv_size=12, full_size=16, hash_name="MD5",
                  spec="RFC 2403 §2 (truncation), §3 (key); RFC 2104 §2"),
    "md5", "hmac-md5", "hmac_md5_96", "auth-hmac-md5-96",
)
INTEGRITY.register(
    HMACIntegrity("HMAC-SHA1-96", 2, "RFC 2404", {"ah": 3, "auth": 2},
                  key_sizes=(20,), icv_size=12, full_size=20, hash_name="SHA1",
                  spec="RFC 2404 §2 (truncation), §3 (key); RFC 2104 §2"),
    "sha1", "sha", "sha1_96", "hmac-sha1", "auth-hmac-sha1-96",
)
INTEGRITY.register(
    HMACIntegrity("HMAC-SHA-256-128", 12, "RFC 4868", {"ah": 5, "auth": 5},
                  key_sizes=(32,), icv_size=16, full_size=32, hash_name="SHA256",
                  spec="RFC 4868 §2.1.1 (key), §2.3 (truncation)"),
    "sha256", "sha2_256", "hmac-sha2-256-128", "auth-hmac-sha2-256-128",
)
INTEGRITY.register(
    HMACIntegrity("HMAC-SHA-384-192", 13, "RFC 4868", {"ah": 6, "auth": 6},
                  key_sizes=(48,), icv_size=24, full_size=48, hash_name="SHA384",
                  spec="RFC 4868 §2.1.1 (key), §2.3 (truncation)"),
    "sha384", "sha2_384", "hmac-sha2-384-192", "auth-hmac-sha2-384-192",
)
INTEGRITY.register(
    HMACIntegrity("HMAC-SHA-512-256", 14, "RFC 4868", {"ah": 7, "auth": 7},
                  key_sizes=(64,), icv_size=32, full_size=64, hash_name="SHA512",
                  spec="RFC 4868 §2.1.1 (key), §2.3 (truncation)"),
    "sha512", "sha2_512", "hmac-sha2-512-256", "auth-hmac-sha2-512-256",
)

# The AES-based transforms register themselves in INTEGRITY.
from secmob.algorithms import integrity_aes as _integrity_aes  # noqa: E402,F401
