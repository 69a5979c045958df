"""Test-local transforms implementing secmob.algorithms.base with pyca/cryptography.

They let the ESP and AH paths run with AES-CBC (RFC 3602), AES-GCM
(RFC 4106), ENCR_NULL_AUTH_AES_GMAC (RFC 4543 §3) and AES-GMAC integrity for
AH (RFC 4543 §4) independently of secmob's own cipher modules. The IKEv2 ids
are the IANA ones; the instances are not registered anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secmob.algorithms.base import (
    CipherAlgorithm,
    CipherContext,
    IntegrityAlgorithm,
    IntegrityContext,
)
from secmob.errors import IntegrityError
from secmob.trace import Tracer


class _CBC(CipherContext):
    def __init__(self, key: bytes) -> None:
        self.key = key

    def seal(self, iv: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        enc = Cipher(algorithms.AES(self.key), modes.CBC(iv)).encryptor()
        return enc.update(plaintext) + enc.finalize()

    def open(self, iv: bytes, data: bytes, aad: bytes = b"") -> bytes:
        dec = Cipher(algorithms.AES(self.key), modes.CBC(iv)).decryptor()
        return dec.update(data) + dec.finalize()


@dataclass(frozen=True, eq=False, repr=False)
class AesCbc(CipherAlgorithm):
    def new(self, keymat: bytes, tracer: Tracer | None = None) -> CipherContext:
        key, _ = self.split_keymat(keymat)
        return _CBC(key)


class _GCM(CipherContext):
    def __init__(self, key: bytes, salt: bytes, gmac: bool) -> None:
        self.aes, self.salt, self.gmac = AESGCM(key), salt, gmac

    def seal(self, iv: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        nonce = self.salt + iv  # RFC 4106 §4, RFC 4543 §3.2
        if self.gmac:  # RFC 4543 §3.3: AAD || IV || payload authenticated, nothing encrypted
            return plaintext + self.aes.encrypt(nonce, b"", aad + iv + plaintext)
        return self.aes.encrypt(nonce, plaintext, aad)

    def open(self, iv: bytes, data: bytes, aad: bytes = b"") -> bytes:
        nonce = self.salt + iv
        try:
            if self.gmac:
                body, tag = data[:-16], data[-16:]
                self.aes.decrypt(nonce, tag, aad + iv + body)
                return body
            return self.aes.decrypt(nonce, data, aad)
        except InvalidTag:
            raise IntegrityError("AES-GCM: tag does not verify") from None


@dataclass(frozen=True, eq=False, repr=False)
class AesGcm(CipherAlgorithm):
    gmac: bool = False

    def new(self, keymat: bytes, tracer: Tracer | None = None) -> CipherContext:
        key, salt = self.split_keymat(keymat)
        return _GCM(key, salt, self.gmac)


class _GMACIntegrity(IntegrityContext):
    icv_size = 16

    def __init__(self, key: bytes) -> None:
        self.aes, self.salt = AESGCM(key[:-4]), key[-4:]

    def compute(self, data: bytes, iv: bytes = b"") -> bytes:
        return self.aes.encrypt(self.salt + iv, b"", data)

    def verify(self, data: bytes, icv: bytes, iv: bytes = b"") -> None:
        try:
            self.aes.decrypt(self.salt + iv, icv, data)
        except InvalidTag:
            raise IntegrityError("AES-GMAC: ICV does not verify") from None


@dataclass(frozen=True, eq=False, repr=False)
class AesGmacIntegrity(IntegrityAlgorithm):
    def new(self, key: bytes, tracer: Tracer | None = None) -> IntegrityContext:
        return _GMACIntegrity(key)


AES_CBC = AesCbc("ENCR_AES_CBC", 12, "RFC 3602", key_sizes=(16, 24, 32),
                 block_size=16, iv_size=16)
AES_GCM16 = AesGcm("ENCR_AES_GCM_16", 20, "RFC 4106", key_sizes=(16, 24, 32), salt_size=4,
                   block_size=4, iv_size=8, icv_size=16)
NULL_AUTH_AES_GMAC = AesGcm("ENCR_NULL_AUTH_AES_GMAC", 21, "RFC 4543", key_sizes=(16, 24, 32),
                            salt_size=4, block_size=4, iv_size=8, icv_size=16, gmac=True)
AES_GMAC_128 = AesGmacIntegrity("AUTH_AES_128_GMAC", 9, "RFC 4543", key_sizes=(20,),
                                icv_size=16, full_size=16, iv_size=8)
