"""AES-based MAC primitives: AES-XCBC-MAC, AES-CMAC and AES-GMAC.

These are the keyed cores shared by the integrity transforms
(:mod:`secmob.algorithms.integrity_aes`) and the PRFs
(:mod:`secmob.algorithms.prf_aes`). Each class runs its key schedule once in
its constructor; :meth:`mac` may then be called for any number of messages.

* :class:`XCBC` -- AES-XCBC-MAC of RFC 3566 §4, written out from the RFC on
  AES-ECB for the key derivation and AES-CBC with a zero IV for the chaining
  of steps 3-4 (the same computation, block by block).
* :class:`CMAC` -- AES-CMAC of RFC 4493 / NIST SP 800-38B, via ``cryptography``.
* :class:`GMAC` -- AES-GMAC of RFC 4543 §2: GCM with no plaintext, the data
  as AAD, a 12-octet nonce ``salt || IV``.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import cmac as _cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secmob.algorithms.base import check_length
from secmob.trace import Tracer, emit

__all__ = ["BLOCK", "CMAC", "GMAC", "XCBC", "cmac_prf_key", "xcbc_prf_key"]

#: AES block size in octets.
BLOCK = 16
_ZERO_BLOCK = bytes(BLOCK)
_ZERO_KEY = bytes(16)


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(BLOCK, "big")


def _ecb(key: bytes, block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


class XCBC:
    """AES-XCBC-MAC with a 128-bit key (RFC 3566 §4).

    Key derivation (§4, step 1)::

        K1 = E(K, 0x01010101010101010101010101010101)
        K2 = E(K, 0x02020202020202020202020202020202)
        K3 = E(K, 0x03030303030303030303030303030303)

    The message is split into 128-bit blocks M[1] .. M[n]; E[0] = 0 and
    E[i] = E(K1, M[i] XOR E[i-1]) for the first n-1 blocks (step 3). The last
    block (step 4) is XORed with K2 when it is complete, or padded with a
    single 1 bit and 0 bits to 128 bits and XORed with K3 otherwise (an empty
    message is one incomplete block). The MAC is E(K1, M[n] XOR E[n-1] XOR Kx).
    """

    __slots__ = ("_cbc", "_k2", "_k3")

    def __init__(self, key: bytes, tracer: Tracer | None = None) -> None:
        check_length("AES-XCBC-MAC key", key, 16)
        k1 = _ecb(key, b"\x01" * BLOCK)
        self._k2 = _ecb(key, b"\x02" * BLOCK)
        self._k3 = _ecb(key, b"\x03" * BLOCK)
        self._cbc = Cipher(algorithms.AES(k1), modes.CBC(_ZERO_BLOCK))
        if tracer is not None:
            for name, const, out in (("K1", "0x01", k1), ("K2", "0x02", self._k2),
                                     ("K3", "0x03", self._k3)):
                emit(tracer, f"AES-XCBC-MAC {name}",
                     f"{name} = AES-128(K, {const} repeated 16 times)",
                     "RFC 3566 §4 step 1", {"K": key}, out)

    def mac(self, data: bytes) -> bytes:
        """The full 128-bit AES-XCBC-MAC of ``data``."""
        n = len(data)
        if n and n % BLOCK == 0:
            head, last, mask = data[:-BLOCK], data[-BLOCK:], self._k2
        else:
            cut = n - n % BLOCK
            head = data[:cut]
            last = data[cut:] + b"\x80" + bytes(BLOCK - 1 - (n - cut))
            mask = self._k3
        # One CBC pass (zero IV) under K1 over M[1..n-1] || (M[n] XOR Kx): its
        # last output block is E(K1, M[n] XOR E[n-1] XOR Kx), the MAC.
        enc = self._cbc.encryptor()
        if head:
            enc.update(head)
        out = enc.update(_xor(last, mask))
        enc.finalize()
        return out


class CMAC:
    """AES-CMAC (RFC 4493 §2.4, NIST SP 800-38B) with a 16, 24 or 32-octet key.

    The subkey generation (RFC 4493 §2.3) runs once; every message starts
    from a copy of the keyed state.
    """

    __slots__ = ("_base",)

    def __init__(self, key: bytes, tracer: Tracer | None = None) -> None:
        # ``tracer`` is accepted for symmetry with XCBC; the subkeys K1/K2 of
        # RFC 4493 §2.3 stay inside the ``cryptography`` backend.
        check_length("AES-CMAC key", key, (16, 24, 32))
        self._base = _cmac.CMAC(algorithms.AES(key))

    def mac(self, data: bytes) -> bytes:
        """The full 128-bit AES-CMAC of ``data``."""
        c = self._base.copy()
        c.update(data)
        return c.finalize()


class GMAC:
    """AES-GMAC (RFC 4543 §2): the GCM tag over ``aad`` with empty plaintext.

    ``key`` is the 16, 24 or 32-octet AES key; the nonce is the 4-octet salt
    followed by the 8-octet per-packet IV (RFC 4543 §3.2).
    """

    __slots__ = ("_gcm", "_salt")

    def __init__(self, key: bytes, salt: bytes) -> None:
        check_length("AES-GMAC key", key, (16, 24, 32))
        check_length("AES-GMAC salt", salt, 4)
        self._gcm = AESGCM(key)
        self._salt = salt

    def mac(self, iv: bytes, aad: bytes) -> bytes:
        """The 16-octet tag for nonce ``salt || iv`` over ``aad``."""
        return self._gcm.encrypt(self._salt + iv, b"", aad)


def xcbc_prf_key(key: bytes, tracer: Tracer | None = None) -> bytes:
    """The 128-bit key AES-XCBC-PRF-128 uses for a key of any length (RFC 4434 §2).

    Exactly 128 bits: used as is. Shorter: padded on the right with zero
    bits. Longer: replaced by AES-XCBC-MAC(0^128, key), the algorithm
    re-applied with 128 zero bits as key and the long key as message.
    """
    if len(key) == 16:
        return key
    if len(key) < 16:
        out = key + bytes(16 - len(key))
        formula = "K' = K || 0...0 (padded with zero bits to 128 bits)"
    else:
        out = XCBC(_ZERO_KEY).mac(key)
        formula = "K' = AES-XCBC-MAC(0^128, K)"
    if tracer is not None:
        emit(tracer, "AES-XCBC-PRF-128 key", formula, "RFC 4434 §2", {"K": key}, out)
    return out


def cmac_prf_key(key: bytes, tracer: Tracer | None = None) -> bytes:
    """The 128-bit key AES-CMAC-PRF-128 uses for a key of any length (RFC 4615 §3).

    Exactly 128 bits: used as is. Any other length (shorter or longer):
    K = AES-CMAC(0^128, VK). Unlike RFC 4434, short keys are not zero-padded.
    """
    if len(key) == 16:
        return key
    out = CMAC(_ZERO_KEY).mac(key)
    if tracer is not None:
        emit(tracer, "AES-CMAC-PRF-128 key", "K = AES-CMAC(0^128, VK)", "RFC 4615 §3 step 1",
             {"VK": key}, out)
    return out
