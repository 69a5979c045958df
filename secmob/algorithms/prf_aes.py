"""AES-based pseudo-random functions for IKEv2.

Registered in :data:`~secmob.algorithms.prf.PRFS`:

* ``PRF_AES128_XCBC`` (IKEv2 PRF id 4, RFC 4434): AES-XCBC-MAC of RFC 3566
  with a key of any length, brought to 128 bits by RFC 4434 §2 (zero-padded
  when shorter, ``AES-XCBC-MAC(0^128, key)`` when longer).
* ``PRF_AES128_CMAC`` (IKEv2 PRF id 8, RFC 4615): AES-CMAC of RFC 4493 with
  a key of any length, brought to 128 bits by RFC 4615 §3
  (``AES-CMAC(0^128, key)`` whenever it is not exactly 128 bits).

Both output 128 bits and prefer a 128-bit key (RFC 7296 §2.14).
"""

from __future__ import annotations

from dataclasses import dataclass

from secmob.algorithms.aes_mac import CMAC, XCBC, cmac_prf_key, xcbc_prf_key
from secmob.algorithms.base import PRFAlgorithm
from secmob.algorithms.prf import PRFS
from secmob.trace import Tracer, emit

__all__ = ["AESCMACPRF", "AESXCBCPRF"]


@dataclass(frozen=True, eq=False, repr=False)
class AESXCBCPRF(PRFAlgorithm):
    """AES-XCBC-PRF-128 (RFC 4434 §2): prf(K, S) = AES-XCBC-MAC(K', S)."""

    def compute(self, key: bytes, data: bytes, tracer: Tracer | None = None) -> bytes:
        k = xcbc_prf_key(key, tracer)
        out = XCBC(k, tracer).mac(data)
        if tracer is not None:
            emit(tracer, self.name, "AES-XCBC-MAC(K', S)", "RFC 4434 §2, RFC 3566 §4",
                 {"K'": k, "S": data}, out)
        return out


@dataclass(frozen=True, eq=False, repr=False)
class AESCMACPRF(PRFAlgorithm):
    """AES-CMAC-PRF-128 (RFC 4615 §3): prf(VK, M) = AES-CMAC(K, M)."""

    def compute(self, key: bytes, data: bytes, tracer: Tracer | None = None) -> bytes:
        k = cmac_prf_key(key, tracer)
        out = CMAC(k).mac(data)
        if tracer is not None:
            emit(tracer, self.name, "AES-CMAC(K, M)", "RFC 4615 §3 step 2, RFC 4493 §2.4",
                 {"K": k, "M": data}, out)
        return out


PRFS.register(
    AESXCBCPRF("PRF_AES128_XCBC", 4, "RFC 4434", output_size=16, key_size=16),
    "prfaesxcbc", "aesxcbc", "aes-xcbc-prf-128", "prf-aes128-xcbc",
)
PRFS.register(
    AESCMACPRF("PRF_AES128_CMAC", 8, "RFC 4615", output_size=16, key_size=16),
    "prfaescmac", "aescmac", "aes-cmac-prf-128", "prf-aes128-cmac",
)
