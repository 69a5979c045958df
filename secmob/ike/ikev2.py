"""IKEv2 key derivation (RFC 7296 §2.13 - §2.18).

* :func:`prf_plus` -- ``prf+ (K,S) = T1 | T2 | T3 | ...`` with
  ``T1 = prf(K, S | 0x01)`` and ``Tn = prf(K, Tn-1 | S | n)``; at most 255
  iterations (§2.13).
* :func:`skeyseed` -- ``SKEYSEED = prf(Ni | Nr, g^ir)`` (§2.14).
* :func:`derive_ike_sa` -- ``{SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi |
  SK_pr} = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)`` (§2.14).
* :func:`child_keymat` -- ``KEYMAT = prf+(SK_d, Ni | Nr)`` or, with a fresh
  Diffie-Hellman exchange, ``prf+(SK_d, g^ir (new) | Ni | Nr)`` (§2.17).
* :func:`rekey_skeyseed` -- ``SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)``
  (§2.18).

PRFs with a fixed key size (AES-XCBC-PRF-128, AES-CMAC-PRF-128) take as the
SKEYSEED key the first half of their key size from Ni and the other half from
Nr (§2.14: "only the first 64 bits of Ni and the first 64 bits of Nr are
used"). secmob treats every PRF that is not an HMAC as fixed-size; HMAC PRFs
accept keys of any length.
"""

from __future__ import annotations

from dataclasses import dataclass

from secmob.algorithms import CipherAlgorithm, IntegrityAlgorithm, PRFAlgorithm
from secmob.algorithms.prf import HMACPRF
from secmob.errors import UsageError
from secmob.trace import Tracer, emit

__all__ = [
    "MAX_PRF_PLUS_ITERATIONS",
    "IkeSaKeys",
    "child_keymat",
    "derive_ike_sa",
    "key_sizes",
    "prf_plus",
    "rekey_skeyseed",
    "skeyseed",
    "skeyseed_key",
]

#: The counter octet of prf+ runs from 1 to 255 (RFC 7296 §2.13).
MAX_PRF_PLUS_ITERATIONS = 255


def prf_plus(prf: PRFAlgorithm, key: bytes, seed: bytes, length: int,
             tracer: Tracer | None = None) -> bytes:
    """``length`` octets of ``prf+ (K, S)`` (RFC 7296 §2.13).

    Raises :class:`~secmob.errors.UsageError` when more than 255 iterations
    (255 PRF outputs) would be needed.
    """
    out_size = prf.output_size
    blocks = -(-length // out_size) if length > 0 else 0
    if length < 0 or blocks > MAX_PRF_PLUS_ITERATIONS:
        raise UsageError(f"prf+ with {prf.name} yields at most "
                         f"{MAX_PRF_PLUS_ITERATIONS * out_size} octets "
                         f"({MAX_PRF_PLUS_ITERATIONS} iterations); {length} were asked for")
    compute = prf.compute
    parts: list[bytes] = []
    t = b""
    for n in range(1, blocks + 1):
        t = compute(key, b"%b%b%c" % (t, seed, n))
        parts.append(t)
    result = b"".join(parts)[:length]
    if tracer is not None:
        emit(tracer, "prf+", "T1 | T2 | ..., T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n)",
             "RFC 7296 §2.13", {"K": key, "S": seed, "length": length, "prf": prf.name}, result)
    return result


def _fixed_key_size(prf: PRFAlgorithm) -> bool:
    return not isinstance(prf, HMACPRF)


def skeyseed_key(prf: PRFAlgorithm, ni: bytes, nr: bytes) -> bytes:
    """The key of the SKEYSEED PRF: ``Ni | Nr``; for a fixed-key-size PRF whose key
    length ``Ni | Nr`` does not match, half the key from the first bits of Ni and
    half from the first bits of Nr (RFC 7296 §2.14)."""
    if not _fixed_key_size(prf) or len(ni) + len(nr) == prf.key_size:
        return ni + nr
    half = prf.key_size // 2
    if len(ni) < half or len(nr) < half:
        raise UsageError(f"{prf.name} needs nonces of at least {half} octets each")
    return ni[:half] + nr[:half]


def skeyseed(prf: PRFAlgorithm, ni: bytes, nr: bytes, g_ir: bytes,
             tracer: Tracer | None = None) -> bytes:
    """SKEYSEED = prf(Ni | Nr, g^ir) (RFC 7296 §2.14)."""
    key = skeyseed_key(prf, ni, nr)
    out = prf.compute(key, g_ir)
    if tracer is not None:
        formula = ("prf(Ni | Nr, g^ir)" if not _fixed_key_size(prf) else
                   "prf(first half of key from Ni | second half from Nr, g^ir)")
        emit(tracer, "SKEYSEED", formula, "RFC 7296 §2.14",
             {"Ni": ni, "Nr": nr, "g^ir": g_ir, "prf": prf.name}, out)
    return out


@dataclass(frozen=True)
class IkeSaKeys:
    """The seven IKE SA keys of RFC 7296 §2.14 (plus SKEYSEED); the repr hides them."""

    skeyseed: bytes
    sk_d: bytes
    sk_ai: bytes
    sk_ar: bytes
    sk_ei: bytes
    sk_er: bytes
    sk_pi: bytes
    sk_pr: bytes

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}=<{len(getattr(self, k))} octets>" for k in
                          ("sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr"))
        return f"IkeSaKeys({sizes})"


def derive_ike_sa(prf: PRFAlgorithm, ni: bytes, nr: bytes, g_ir: bytes, spi_i: bytes,
                  spi_r: bytes, integrity_key_size: int, encryption_key_size: int, *,
                  seed_key: bytes | None = None, tracer: Tracer | None = None) -> IkeSaKeys:
    """SKEYSEED and ``{SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}``
    (RFC 7296 §2.14).

    ``encryption_key_size`` is the keying material of the encryption
    transform including any salt (``CipherAlgorithm.keymat_size``), and
    ``integrity_key_size`` is 0 for combined-mode ciphers. SK_d, SK_pi and
    SK_pr have the PRF's preferred key size. When ``seed_key`` is given it is
    used as SKEYSEED (a rekeyed IKE SA, :func:`rekey_skeyseed`).
    """
    if len(spi_i) != 8 or len(spi_r) != 8:
        raise UsageError("IKE SA SPIs are 8 octets each")
    seed = seed_key if seed_key is not None else skeyseed(prf, ni, nr, g_ir, tracer)
    kd = prf.key_size
    sizes = (kd, integrity_key_size, integrity_key_size, encryption_key_size,
             encryption_key_size, kd, kd)
    stream = prf_plus(prf, seed, ni + nr + spi_i + spi_r, sum(sizes), tracer)
    parts: list[bytes] = []
    pos = 0
    for size in sizes:
        parts.append(stream[pos:pos + size])
        pos += size
    keys = IkeSaKeys(seed, *parts)
    if tracer is not None:
        for name, value in zip(("SK_d", "SK_ai", "SK_ar", "SK_ei", "SK_er", "SK_pi", "SK_pr"),
                               parts, strict=True):
            emit(tracer, name, "split of prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)",
                 "RFC 7296 §2.14", {"size": len(value)}, value)
    return keys


def child_keymat(prf: PRFAlgorithm, sk_d: bytes, ni: bytes, nr: bytes, length: int,
                 g_ir_new: bytes | None = None, tracer: Tracer | None = None) -> bytes:
    """Child SA KEYMAT = prf+(SK_d, Ni | Nr), or prf+(SK_d, g^ir (new) | Ni | Nr)
    with a CREATE_CHILD_SA Diffie-Hellman exchange (RFC 7296 §2.17)."""
    seed = (g_ir_new or b"") + ni + nr
    out = prf_plus(prf, sk_d, seed, length)
    if tracer is not None:
        formula = "prf+(SK_d, g^ir (new) | Ni | Nr)" if g_ir_new else "prf+(SK_d, Ni | Nr)"
        inputs: dict[str, bytes | int | str] = {"SK_d": sk_d, "Ni": ni, "Nr": nr,
                                                "length": length, "prf": prf.name}
        if g_ir_new:
            inputs["g^ir (new)"] = g_ir_new
        emit(tracer, "Child SA KEYMAT", formula, "RFC 7296 §2.17", inputs, out)
    return out


def rekey_skeyseed(prf: PRFAlgorithm, sk_d_old: bytes, g_ir_new: bytes, ni: bytes, nr: bytes,
                   tracer: Tracer | None = None) -> bytes:
    """SKEYSEED of a rekeyed IKE SA = prf(SK_d (old), g^ir (new) | Ni | Nr) (RFC 7296 §2.18)."""
    out = prf.compute(sk_d_old, g_ir_new + ni + nr)
    if tracer is not None:
        emit(tracer, "SKEYSEED (rekey)", "prf(SK_d (old), g^ir (new) | Ni | Nr)",
             "RFC 7296 §2.18", {"SK_d (old)": sk_d_old, "g^ir (new)": g_ir_new,
                                "Ni": ni, "Nr": nr, "prf": prf.name}, out)
    return out


def key_sizes(cipher: CipherAlgorithm, cipher_key_size: int,
              integrity: IntegrityAlgorithm | None) -> tuple[int, int]:
    """``(integrity_key_size, encryption_key_size)`` for :func:`derive_ike_sa`: the
    integrity algorithm's key size (0 for combined-mode ciphers, which take no
    integrity transform, RFC 7296 §3.3) and the cipher's keying material
    including its salt (RFC 7296 §2.14)."""
    enc = cipher.keymat_size(cipher_key_size)
    if cipher.aead:
        if integrity is not None:
            raise UsageError(f"{cipher.name} is a combined-mode cipher; it takes no integrity "
                             "transform (RFC 7296 §3.3)")
        return 0, enc
    if integrity is None:
        raise UsageError(f"{cipher.name} needs an integrity transform")
    return integrity.key_size, enc
