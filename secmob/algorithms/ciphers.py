"""ESP encryption and combined-mode transforms.

Registered in :data:`ENCRYPTION`, keyed by IKEv2 transform type 1 ids
(RFC 7296 §3.3.2, IANA "Transform Type 1 - Encryption Algorithm Transform
IDs"), with the IKEv1 ESP transform ids (RFC 2407 §4.4.4) and Oakley phase 1
encryption numbers (RFC 2409 Appendix A).
"""

from __future__ import annotations

from dataclasses import dataclass

from secmob.algorithms.base import CipherAlgorithm, CipherContext
from secmob.algorithms.registry import Registry
from secmob.trace import Tracer

__all__ = ["ENCRYPTION"]

#: ESP encryption transforms by IKEv2 id.
ENCRYPTION: Registry[CipherAlgorithm] = Registry("encryption")


class _NullContext(CipherContext):
    __slots__ = ()

    def seal(self, iv: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        return plaintext

    def open(self, iv: bytes, data: bytes, aad: bytes = b"") -> bytes:
        return data


@dataclass(frozen=True, eq=False, repr=False)
class NullCipher(CipherAlgorithm):
    """ENCR_NULL (RFC 2410): the identity transform, with no key and no IV.

    RFC 2410 §2: "NULL does nothing"; ESP with NULL encryption still pads to
    a 4-octet boundary (RFC 4303 §2.4) and must be combined with integrity.
    """

    def new(self, keymat: bytes, tracer: Tracer | None = None) -> CipherContext:
        self.split_keymat(keymat)
        return _NullContext()


ENCRYPTION.register(
    NullCipher("ENCR_NULL", 11, "RFC 2410", {"esp": 11}, key_sizes=(0,), block_size=4),
    "null",
)
