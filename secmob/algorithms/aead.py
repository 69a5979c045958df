"""Combined-mode (AEAD) ESP transforms, and AES-GMAC.

Every transform here takes KEYMAT ``key || salt`` (the salt is fixed for the
SA and never sent), an 8-octet IV carried in each packet, and builds the
nonce ``salt || IV``:

* AES-GCM with 8, 12 or 16-octet ICVs -- RFC 4106 (4-octet salt, §4; AAD
  ``SPI || Sequence Number`` or ``SPI || ESN``, §5),
* AES-CCM with 8, 12 or 16-octet ICVs -- RFC 4309 (3-octet salt, 11-octet
  nonce, §4; same AAD, §5),
* ChaCha20-Poly1305 -- RFC 7634 (4-octet salt, §2; the AEAD of RFC 8439 §2.8),
* ENCR_NULL_AUTH_AES_GMAC -- RFC 4543: integrity only. The payload travels
  in clear; the 16-octet ICV (§3.4, never truncated) is the GCM tag over an
  empty plaintext with the AAD ``SPI || Sequence Number || IV || payload``
  (§3.3, Figures 2 and 3; the IV belongs to the ESP Payload, §3.1, and lies
  inside the AAD in Figure 4 of §3.5), where ``payload`` runs up to the Next
  Header field and the Sequence Number is the 64-bit ESN, high half first,
  when ESN is on.

``seal`` returns ``ciphertext || ICV``; ``open`` verifies the ICV first and
raises :class:`~secmob.errors.IntegrityError` (returning nothing) when it
fails. The key schedule runs once per context: each context keeps its
``cryptography`` AEAD object.

The tag of a truncated GCM ICV is the leftmost ``icv_size`` octets of the
128-bit tag (NIST SP 800-38D §7.1, "MSB_t"); verification uses a GCM
decryptor that accepts the short tag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

from secmob.algorithms.base import CipherAlgorithm, CipherContext
from secmob.algorithms.ciphers import ENCRYPTION, NamedContext, iv_error
from secmob.errors import IntegrityError
from secmob.trace import Tracer, emit

__all__ = ["AEADCipher"]

#: ``f(nonce, data, aad) -> bytes`` for sealing and opening.
_AEADFunction = Callable[[bytes, bytes, bytes], bytes]
_Pair = tuple[_AEADFunction, _AEADFunction]


def _gcm(key: bytes, icv: int) -> _Pair:
    gcm = AESGCM(key)
    if icv == 16:
        return gcm.encrypt, gcm.decrypt
    aes = algorithms.AES(key)
    cut = 16 - icv

    def seal(nonce: bytes, data: bytes, aad: bytes) -> bytes:
        return gcm.encrypt(nonce, data, aad)[:-cut]

    def open_(nonce: bytes, data: bytes, aad: bytes) -> bytes:
        dec = Cipher(aes, modes.GCM(nonce, data[-icv:], min_tag_length=icv)).decryptor()
        dec.authenticate_additional_data(aad)
        out = dec.update(data[:-icv])
        dec.finalize()  # raises InvalidTag; ``out`` is then discarded
        return out

    return seal, open_


def _ccm(key: bytes, icv: int) -> _Pair:
    ccm = AESCCM(key, tag_length=icv)
    return ccm.encrypt, ccm.decrypt


def _chacha(key: bytes, icv: int) -> _Pair:
    aead = ChaCha20Poly1305(key)
    return aead.encrypt, aead.decrypt


def _gmac(key: bytes, icv: int) -> _Pair:
    gcm = AESGCM(key)

    # RFC 4543 §3.3, §3.5 (Figure 4): the GCM plaintext is empty and the AAD
    # is SPI || Sequence Number (or SPI || ESN high || ESN low) || IV ||
    # payload; ``aad`` is the first part, the IV is the last 8 octets of the
    # nonce (§3.1, §3.2).
    def seal(nonce: bytes, data: bytes, aad: bytes) -> bytes:
        return data + gcm.encrypt(nonce, b"", aad + nonce[-8:] + data)

    def open_(nonce: bytes, data: bytes, aad: bytes) -> bytes:
        payload = data[:-16]
        gcm.decrypt(nonce, data[-16:], aad + nonce[-8:] + payload)
        return payload

    return seal, open_


_MODES: dict[str, Callable[[bytes, int], _Pair]] = {
    "AES-GCM": _gcm,
    "AES-CCM": _ccm,
    "ChaCha20-Poly1305": _chacha,
    "AES-GMAC": _gmac,
}


def _checked(alg: AEADCipher, salt: bytes, seal_fn: _AEADFunction,
             open_fn: _AEADFunction) -> _Pair:
    """``seal(iv, plaintext, aad)`` and ``open(iv, data, aad)`` with the IV and
    ICV checks, as closures over the bound primitives (the per-packet path)."""
    icv = alg.icv_size

    def seal(iv: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        if len(iv) != 8:
            raise iv_error(alg, iv)
        return seal_fn(salt + iv, plaintext, aad)

    def open_(iv: bytes, data: bytes, aad: bytes = b"") -> bytes:
        if len(iv) != 8:
            raise iv_error(alg, iv)
        if len(data) < icv:
            raise IntegrityError(f"{alg.name}: {len(data)} octets cannot hold the {icv}-octet ICV")
        try:
            return open_fn(salt + iv, data, aad)
        except InvalidTag:
            raise IntegrityError(f"{alg.name}: ICV does not verify") from None

    return seal, open_


class _AEADContext(NamedContext):
    _alg: AEADCipher

    def __init__(self, alg: AEADCipher, key: bytes, salt: bytes, tracer: Tracer | None) -> None:
        self._alg = alg
        self._salt = salt
        self._tracer = tracer
        primitives = _MODES[alg.mode](key, alg.icv_size)
        self._checked_seal, self._checked_open = _checked(alg, salt, *primitives)
        if tracer is None:
            # Untraced contexts call the closures directly: no method binding,
            # attribute look-ups or tracer test per packet.
            self.seal = self._checked_seal  # type: ignore[method-assign,assignment]
            self.open = self._checked_open  # type: ignore[method-assign,assignment]

    def seal(self, iv: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        out = self._checked_seal(iv, plaintext, aad)
        if self._tracer is not None:
            self._trace(self._alg.seal_formula, iv, aad, {"P": plaintext}, out)
        return out

    def open(self, iv: bytes, data: bytes, aad: bytes = b"") -> bytes:
        out = self._checked_open(iv, data, aad)  # raises before anything is traced
        if self._tracer is not None:
            self._trace(self._alg.open_formula, iv, aad, {"C || ICV": data}, out)
        return out

    def _trace(self, formula: str, iv: bytes, aad: bytes,
               data: dict[str, bytes], out: bytes) -> None:
        assert self._tracer is not None
        emit(self._tracer, self._alg.name, formula, self._alg.rfc_section,
             {"salt": self._salt, "IV": iv, "N = salt || IV": self._salt + iv, "A": aad, **data},
             out)


@dataclass(frozen=True, eq=False, repr=False)
class AEADCipher(CipherAlgorithm):
    """A combined-mode ESP transform (see the module docstring for each RFC).

    ``mode`` selects the construction (``AES-GCM``, ``AES-CCM``,
    ``ChaCha20-Poly1305`` or ``AES-GMAC``); ``iv_size`` is 8 and the nonce is
    ``salt || IV`` for all of them.
    """

    mode: str = "AES-GCM"
    rfc_section: str = ""

    @property
    def seal_formula(self) -> str:
        if self.mode == "AES-GMAC":
            return "ICV = GMAC(K, N = salt || IV, A || IV || P); out = P || ICV"
        return (f"C || ICV = {self.mode}-Encrypt(K, N = salt || IV, P, A), "
                f"ICV {self.icv_size} octets")

    @property
    def open_formula(self) -> str:
        if self.mode == "AES-GMAC":
            return "verify ICV = GMAC(K, N = salt || IV, A || IV || P); out = P"
        return f"P = {self.mode}-Decrypt(K, N = salt || IV, C || ICV, A) after the ICV verifies"

    def new(self, keymat: bytes, tracer: Tracer | None = None) -> CipherContext:
        key, salt = self.split_keymat(keymat)
        return _AEADContext(self, key, salt, tracer)


_AES_KEYS = (16, 24, 32)


def _aes_keywords(stem: str, suffixes: tuple[str, ...]) -> list[tuple[str, int]]:
    return [(f"aes{k * 8}{stem}{s}", k) for k in _AES_KEYS for s in suffixes]


# (mode, stem, RFC, salt octets, {ICV octets: IKEv2 id}); the IKEv1 ESP
# transform ids equal the IKEv2 ids for these six (IANA registries).
_AES_AEADS = (
    ("AES-GCM", "gcm", "RFC 4106", 4, {8: 18, 12: 19, 16: 20}),
    ("AES-CCM", "ccm", "RFC 4309", 3, {8: 14, 12: 15, 16: 16}),
)
for _mode, _stem, _rfc, _salt, _ids in _AES_AEADS:
    for _icv, _id in _ids.items():
        ENCRYPTION.register(
            AEADCipher(f"ENCR_AES_{_stem.upper()}_{_icv}", _id, _rfc, {"esp": _id},
                       key_sizes=_AES_KEYS, salt_size=_salt, block_size=4, iv_size=8,
                       icv_size=_icv, mode=_mode, rfc_section=f"{_rfc} §3-§5"),
            *_aes_keywords(_stem, (str(_icv), str(_icv * 8))),
        )

ENCRYPTION.register(
    AEADCipher("ENCR_NULL_AUTH_AES_GMAC", 21, "RFC 4543", {"esp": 23},
               key_sizes=_AES_KEYS, salt_size=4, block_size=4, iv_size=8,
               icv_size=16, mode="AES-GMAC", rfc_section="RFC 4543 §3"),
    "aes-gmac", "null-auth-aes-gmac", *_aes_keywords("gmac", ("",)),
)

ENCRYPTION.register(
    AEADCipher("ENCR_CHACHA20_POLY1305", 28, "RFC 7634", {},
               key_sizes=(32,), salt_size=4, block_size=4, iv_size=8,
               icv_size=16, mode="ChaCha20-Poly1305", rfc_section="RFC 7634 §2, RFC 8439 §2.8"),
    "chacha20poly1305", "chacha20-poly1305",
)
