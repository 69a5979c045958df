"""Pseudo-random functions for IKE.

Registered in :data:`PRFS`, keyed by IKEv2 transform type 2 ids (RFC 7296
§3.3.2), with the Oakley "hash algorithm" numbers of IKEv1 (RFC 2409
Appendix A; the negotiated hash gives the HMAC PRF, RFC 2409 §5).

The HMAC PRFs accept keys of any length (RFC 2104 §2 hashes keys longer than
the block size and zero-pads shorter ones) and are never truncated
(RFC 4868 §2.4). The AES-based PRFs (RFC 4434, RFC 4615) live in
:mod:`secmob.algorithms.prf_aes` and are registered when this module is
imported.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from secmob.algorithms.base import PRFAlgorithm
from secmob.algorithms.registry import Registry
from secmob.trace import Tracer, emit

__all__ = ["HMACPRF", "PRFS"]

#: PRFs by IKEv2 id.
PRFS: Registry[PRFAlgorithm] = Registry("PRF")


@dataclass(frozen=True, eq=False, repr=False)
class HMACPRF(PRFAlgorithm):
    """prf(K, S) = HMAC-<hash>(K, S), RFC 2104; any key length is accepted."""

    hash_name: str = ""

    def hash(self, data: bytes) -> bytes:
        """The underlying hash (IKEv1 uses it directly, e.g. for the phase 1 IV)."""
        return hashlib.new(self.hash_name, data).digest()

    def compute(self, key: bytes, data: bytes, tracer: Tracer | None = None) -> bytes:
        out = hmac.digest(key, data, self.hash_name)
        if tracer is not None:
            emit(tracer, self.name, f"prf(K, S) = HMAC-{self.hash_name.upper()}(K, S)",
                 "RFC 2104 §2" if self.rfc == "RFC 2104" else f"{self.rfc}; RFC 2104 §2",
                 {"K": key, "S": data}, out)
        return out


PRFS.register(
    HMACPRF("PRF_HMAC_MD5", 1, "RFC 2104", {"oakley_hash": 1}, legacy=True,
            output_size=16, key_size=16, hash_name="md5"),
    "prfmd5", "hmac-md5", "md5",
)
PRFS.register(
    HMACPRF("PRF_HMAC_SHA1", 2, "RFC 2104", {"oakley_hash": 2},
            output_size=20, key_size=20, hash_name="sha1"),
    "prfsha1", "hmac-sha1", "sha1", "sha",
)
PRFS.register(
    HMACPRF("PRF_HMAC_SHA2_256", 5, "RFC 4868", {"oakley_hash": 4},
            output_size=32, key_size=32, hash_name="sha256"),
    "prfsha256", "hmac-sha2-256", "sha256",
)
PRFS.register(
    HMACPRF("PRF_HMAC_SHA2_384", 6, "RFC 4868", {"oakley_hash": 5},
            output_size=48, key_size=48, hash_name="sha384"),
    "prfsha384", "hmac-sha2-384", "sha384",
)
PRFS.register(
    HMACPRF("PRF_HMAC_SHA2_512", 7, "RFC 4868", {"oakley_hash": 6},
            output_size=64, key_size=64, hash_name="sha512"),
    "prfsha512", "hmac-sha2-512", "sha512",
)

# The AES-based PRFs register themselves in PRFS.
from secmob.algorithms import prf_aes as _prf_aes  # noqa: E402,F401
