"""ESP encryption transforms (confidentiality only).

Registered in :data:`ENCRYPTION`, keyed by IKEv2 transform type 1 ids
(RFC 7296 §3.3.2, IANA "Transform Type 1 - Encryption Algorithm Transform
IDs"), with the IKEv1 ESP transform ids (RFC 2407 §4.4.4, IANA "IPSEC ESP
Transform Identifiers") and Oakley phase 1 encryption numbers (RFC 2409
Appendix A; AES-CBC is 7 by RFC 3602 §5.1).

This module holds NULL, the CBC block ciphers (DES, 3DES, AES) and AES-CTR.
The combined-mode (AEAD) transforms -- AES-GCM, AES-CCM, AES-GMAC and
ChaCha20-Poly1305 -- live in :mod:`secmob.algorithms.aead`, imported at the
end of this module so that importing :mod:`secmob.algorithms` registers them
all.

Encryption-only transforms never check integrity: ESP pairs them with an
integrity transform (RFC 4303 §3.3.2) and verifies the ICV *before* calling
:meth:`~secmob.algorithms.base.CipherContext.open`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from Crypto.Cipher import DES
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from secmob.algorithms.base import CipherAlgorithm, CipherContext
from secmob.algorithms.registry import Registry
from secmob.errors import DecodeError, InvalidKeyLength, UsageError
from secmob.trace import Tracer, emit

__all__ = ["ENCRYPTION", "CBCCipher", "CTRCipher", "NamedContext", "NullCipher", "iv_error"]

#: ESP encryption transforms by IKEv2 id.
ENCRYPTION: Registry[CipherAlgorithm] = Registry("encryption")


def iv_error(alg: CipherAlgorithm, iv: bytes) -> InvalidKeyLength:
    """The error for an IV of the wrong length (names the algorithm and the size)."""
    return InvalidKeyLength(f"{alg.name} IV must be {alg.iv_size} octets, got {len(iv)}")


class NamedContext(CipherContext):
    """Contexts that show their algorithm (never their key) in ``repr``."""

    __slots__ = ()
    _alg: CipherAlgorithm

    def __repr__(self) -> str:
        return f"<{self._alg.name} context (key hidden)>"


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


# ---------------------------------------------------------------------------
# CBC block ciphers: DES (RFC 2405), 3DES (RFC 2451), AES (RFC 3602)
# ---------------------------------------------------------------------------

#: ``engine(key)`` returns ``(encrypt, decrypt)``, each ``f(iv, data) -> bytes``.
_CBCFunctions = tuple[Callable[[bytes, bytes], bytes], Callable[[bytes, bytes], bytes]]


def _cryptography_cbc(algorithm: algorithms.AES | TripleDES) -> _CBCFunctions:
    """CBC on one long-lived OpenSSL context per direction (the key schedule
    and context set-up are paid once per SA, not per packet).

    Each context continues one CBC stream; ``last`` is the encryptor's
    ciphertext block that chains into its next input. A packet is still a fresh CBC
    encryption under its own IV (NIST SP 800-38A §6.2, C1 = E(P1 xor IV)):
    the encryptor is given P1 xor IV xor last as its first block, so that it
    computes E(P1 xor IV). The decryptor is given ``IV | C1 | C2 ...``: the
    block it makes of the IV is dropped, and the IV then chains into C1 as
    in any CBC decryption, P1 = D(C1) xor IV. Every later block chains
    within the packet exactly as CBC does. ``data`` is a whole number of
    blocks (the context checks it before).
    """
    size = algorithm.block_size // 8
    zero = bytes(size)
    encryptor = Cipher(algorithm, modes.CBC(zero)).encryptor()
    decryptor = Cipher(algorithm, modes.CBC(zero)).decryptor()
    last = [zero]  # the ciphertext block the encryptor chains from

    def xor3(a: bytes, b: bytes, c: bytes) -> bytes:
        return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")
                ^ int.from_bytes(c, "big")).to_bytes(size, "big")

    def encrypt(iv: bytes, data: bytes) -> bytes:
        if not data:
            return b""
        out = encryptor.update(xor3(data[:size], iv, last[0]) + data[size:])
        last[0] = bytes(out[-size:])
        return out

    def decrypt(iv: bytes, data: bytes) -> bytes:
        if not data:
            return b""
        return decryptor.update(b"".join((iv, data)))[size:]

    return encrypt, decrypt


def _aes_cbc(key: bytes) -> _CBCFunctions:
    return _cryptography_cbc(algorithms.AES(key))


def _tdes_cbc(key: bytes) -> _CBCFunctions:
    return _cryptography_cbc(TripleDES(key))


def _des_cbc(key: bytes) -> _CBCFunctions:
    # Single DES is gone from ``cryptography``; pycryptodome still has it.
    def encrypt(iv: bytes, data: bytes) -> bytes:
        return DES.new(key, DES.MODE_CBC, iv=iv).encrypt(data)

    def decrypt(iv: bytes, data: bytes) -> bytes:
        return DES.new(key, DES.MODE_CBC, iv=iv).decrypt(data)

    return encrypt, decrypt


_CBC_ENGINES: dict[str, Callable[[bytes], _CBCFunctions]] = {
    "DES": _des_cbc,
    "3DES": _tdes_cbc,
    "AES": _aes_cbc,
}


class _CBCContext(NamedContext):
    __slots__ = ("_alg", "_decrypt", "_encrypt", "_tracer")
    _alg: CBCCipher

    def __init__(self, alg: CBCCipher, key: bytes, tracer: Tracer | None) -> None:
        self._alg = alg
        self._encrypt, self._decrypt = _CBC_ENGINES[alg.primitive](key)
        self._tracer = tracer
        if tracer is None:
            # Untraced contexts answer with closures (the per-packet path):
            # no method binding, tracer test or check call for a valid packet.
            self.seal, self.open = self._closures()  # type: ignore[method-assign]

    def _closures(self) -> tuple[Callable[..., bytes], Callable[..., bytes]]:
        """``seal`` and ``open`` that call :meth:`_check` (which raises) only
        for an IV or a length it would refuse."""
        encrypt, decrypt, check = self._encrypt, self._decrypt, self._check
        iv_size, block = self._alg.iv_size, self._alg.block_size

        def seal(iv: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
            if len(iv) != iv_size or len(plaintext) % block:
                check(iv, plaintext, True)
            return encrypt(iv, plaintext)

        def open_(iv: bytes, data: bytes, aad: bytes = b"") -> bytes:
            if len(iv) != iv_size or len(data) % block:
                check(iv, data, False)
            return decrypt(iv, data)

        return seal, open_

    def _check(self, iv: bytes, data: bytes, sealing: bool) -> None:
        alg = self._alg
        if len(iv) != alg.iv_size:
            raise iv_error(alg, iv)
        if len(data) % alg.block_size == 0:
            return
        if sealing:  # the caller forgot the ESP padding
            raise UsageError(
                f"{alg.name}: plaintext must be padded to a multiple of {alg.block_size} "
                f"octets (RFC 4303 §2.4), got {len(data)}"
            )
        raise DecodeError(alg.name, f"ciphertext length {len(data)} is not a multiple of "
                                    f"the {alg.block_size}-octet block")

    def _crypt(self, iv: bytes, data: bytes, sealing: bool) -> bytes:
        self._check(iv, data, sealing)
        out = (self._encrypt if sealing else self._decrypt)(iv, data)
        if self._tracer is not None:
            alg = self._alg
            formula = (f"C = {alg.primitive}-CBC-Encrypt(K, IV, P)" if sealing
                       else f"P = {alg.primitive}-CBC-Decrypt(K, IV, C)")
            emit(self._tracer, alg.name, formula, alg.rfc_section,
                 {"IV": iv, "P" if sealing else "C": data}, out)
        return out

    def seal(self, iv: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        return self._crypt(iv, plaintext, sealing=True)

    def open(self, iv: bytes, data: bytes, aad: bytes = b"") -> bytes:
        return self._crypt(iv, data, sealing=False)


@dataclass(frozen=True, eq=False, repr=False)
class CBCCipher(CipherAlgorithm):
    """A block cipher in CBC mode with an explicit per-packet IV.

    RFC 2405 §2-§3 (DES), RFC 2451 §2-§3 (3DES), RFC 3602 §2-§3 (AES): the IV is
    carried at the start of the ESP payload, is ``block_size`` octets, and
    the payload is padded to a multiple of the block size. ``open`` decrypts
    only -- ESP verifies the separate ICV first.
    """

    primitive: str = "AES"
    rfc_section: str = ""

    def new(self, keymat: bytes, tracer: Tracer | None = None) -> CipherContext:
        key, _ = self.split_keymat(keymat)
        return _CBCContext(self, key, tracer)


# ---------------------------------------------------------------------------
# AES-CTR (RFC 3686)
# ---------------------------------------------------------------------------

_CTR_FIRST_BLOCK = b"\x00\x00\x00\x01"


class _CTRContext(NamedContext):
    __slots__ = ("_aes", "_alg", "_nonce", "_tracer")
    _alg: CTRCipher

    def __init__(self, alg: CTRCipher, key: bytes, nonce: bytes, tracer: Tracer | None) -> None:
        self._alg = alg
        self._aes = algorithms.AES(key)
        self._nonce = nonce
        self._tracer = tracer

    def _crypt(self, iv: bytes, data: bytes, what: str) -> bytes:
        if len(iv) != 8:
            raise iv_error(self._alg, iv)
        # RFC 3686 §4: counter block = nonce (4) || IV (8) || block counter (4), from 1.
        block = self._nonce + iv + _CTR_FIRST_BLOCK
        out = Cipher(self._aes, modes.CTR(block)).encryptor().update(data)
        if self._tracer is not None:
            emit(self._tracer, self._alg.name,
                 f"{what} = {'P' if what == 'C' else 'C'} XOR AES-Encrypt(K, nonce || IV || ctr), "
                 "ctr = 1, 2, ...",
                 "RFC 3686 §4", {"nonce": self._nonce, "IV": iv, "counter block 1": block,
                                 "input": data}, out)
        return out

    def seal(self, iv: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        return self._crypt(iv, plaintext, "C")

    def open(self, iv: bytes, data: bytes, aad: bytes = b"") -> bytes:
        return self._crypt(iv, data, "P")


@dataclass(frozen=True, eq=False, repr=False)
class CTRCipher(CipherAlgorithm):
    """AES in counter mode for ESP (RFC 3686).

    KEYMAT is ``key || nonce`` with a 4-octet nonce (§5.1); each packet
    carries an 8-octet IV; the keystream comes from the counter blocks
    ``nonce || IV || counter`` with a 32-bit big-endian counter starting at 1
    (§4). No block alignment is needed, ESP pads to 4 octets (§3.2).
    """

    def new(self, keymat: bytes, tracer: Tracer | None = None) -> CipherContext:
        key, nonce = self.split_keymat(keymat)
        return _CTRContext(self, key, nonce, tracer)


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------

ENCRYPTION.register(
    NullCipher("ENCR_NULL", 11, "RFC 2410", {"esp": 11}, key_sizes=(0,), block_size=4),
    "null",
)
ENCRYPTION.register(
    CBCCipher("ENCR_DES", 2, "RFC 2405", {"esp": 2, "oakley_encr": 1}, legacy=True,
              key_sizes=(8,), block_size=8, iv_size=8, primitive="DES",
              rfc_section="RFC 2405 §2-§3"),
    "des", "des-cbc", "esp-des",
)
ENCRYPTION.register(
    CBCCipher("ENCR_3DES", 3, "RFC 2451", {"esp": 3, "oakley_encr": 5}, legacy=True,
              key_sizes=(24,), block_size=8, iv_size=8, primitive="3DES",
              rfc_section="RFC 2451 §2-§3"),
    "3des", "3des-cbc", "des-ede3-cbc", "esp-3des",
)
ENCRYPTION.register(
    CBCCipher("ENCR_AES_CBC", 12, "RFC 3602", {"esp": 12, "oakley_encr": 7},
              key_sizes=(16, 24, 32), block_size=16, iv_size=16, primitive="AES",
              rfc_section="RFC 3602 §2-§3"),
    "aes-cbc", "esp-aes", ("aes", 16), ("aes128", 16), ("aes192", 24), ("aes256", 32),
)
ENCRYPTION.register(
    CTRCipher("ENCR_AES_CTR", 13, "RFC 3686", {"esp": 13},
              key_sizes=(16, 24, 32), salt_size=4, block_size=4, iv_size=8),
    "aes-ctr", ("aesctr", 16), ("aes128ctr", 16), ("aes192ctr", 24), ("aes256ctr", 32),
)

# The combined-mode transforms register themselves in the same registry.
from secmob.algorithms import aead as _aead  # noqa: E402,F401
