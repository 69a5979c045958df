"""Integrity transforms for AH and ESP (the ICV algorithms).

Registered in :data:`INTEGRITY`, keyed by IKEv2 transform type 3 ids
(RFC 7296 §3.3.2, IANA "Transform Type 3 - Integrity Algorithm Transform IDs"),
with the IPsec DOI numbers of IKEv1 (RFC 2407 §4.4.3 AH transform ids and
§4.5 "Authentication Algorithm" attribute values).

The truncation length of every transform is explicit (``icv_size``): RFC 2403
and RFC 2404 truncate to 96 bits, RFC 4868 to half the hash length. Some
implementations have used 96-bit truncation for HMAC-SHA-256; secmob follows
RFC 4868 and makes the length visible instead of silent.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from secmob.algorithms.base import IntegrityAlgorithm, IntegrityContext, check_length
from secmob.algorithms.registry import Registry
from secmob.errors import IntegrityError
from secmob.trace import Tracer, emit

__all__ = ["INTEGRITY", "HMACIntegrity"]

#: Integrity transforms by IKEv2 id.
INTEGRITY: Registry[IntegrityAlgorithm] = Registry("integrity")


class _HMACContext(IntegrityContext):
    __slots__ = ("_alg", "_base", "_tracer", "icv_size")

    def __init__(self, alg: HMACIntegrity, key: bytes, tracer: Tracer | None) -> None:
        self._alg = alg
        # The keyed inner/outer state is computed once; each packet copies it.
        self._base = hmac.new(key, digestmod=alg.hash_factory)
        self.icv_size = alg.icv_size
        self._tracer = tracer

    def compute(self, data: bytes, iv: bytes = b"") -> bytes:
        h = self._base.copy()
        h.update(data)
        icv = h.digest()[: self.icv_size]
        if self._tracer is not None:
            emit(
                self._tracer, self._alg.name,
                f"ICV = First({self.icv_size * 8}, HMAC-{self._alg.hash_name}(K, data))",
                self._alg.rfc, {"data": data}, icv,
            )
        return icv

    def verify(self, data: bytes, icv: bytes, iv: bytes = b"") -> None:
        h = self._base.copy()
        h.update(data)
        if len(icv) != self.icv_size or not hmac.compare_digest(
            h.digest()[: self.icv_size], icv
        ):
            raise IntegrityError(f"{self._alg.name}: ICV does not verify")


@dataclass(frozen=True, eq=False, repr=False)
class HMACIntegrity(IntegrityAlgorithm):
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
                  key_sizes=(16,), icv_size=12, full_size=16, hash_name="MD5"),
    "md5", "hmac-md5", "hmac_md5_96", "auth-hmac-md5-96",
)
INTEGRITY.register(
    HMACIntegrity("HMAC-SHA1-96", 2, "RFC 2404", {"ah": 3, "auth": 2},
                  key_sizes=(20,), icv_size=12, full_size=20, hash_name="SHA1"),
    "sha1", "sha", "sha1_96", "hmac-sha1", "auth-hmac-sha1-96",
)
INTEGRITY.register(
    HMACIntegrity("HMAC-SHA-256-128", 12, "RFC 4868", {"ah": 5, "auth": 5},
                  key_sizes=(32,), icv_size=16, full_size=32, hash_name="SHA256"),
    "sha256", "sha2_256", "hmac-sha2-256-128", "auth-hmac-sha2-256-128",
)
INTEGRITY.register(
    HMACIntegrity("HMAC-SHA-384-192", 13, "RFC 4868", {"ah": 6, "auth": 6},
                  key_sizes=(48,), icv_size=24, full_size=48, hash_name="SHA384"),
    "sha384", "sha2_384", "hmac-sha2-384-192", "auth-hmac-sha2-384-192",
)
INTEGRITY.register(
    HMACIntegrity("HMAC-SHA-512-256", 14, "RFC 4868", {"ah": 7, "auth": 7},
                  key_sizes=(64,), icv_size=32, full_size=64, hash_name="SHA512"),
    "sha512", "sha2_512", "hmac-sha2-512-256", "auth-hmac-sha2-512-256",
)
