"""IKEv1 key derivation (RFC 2409 §5, §5.5 and Appendix B).

Every function is a pure computation over bytes; ``prf`` is a
:class:`~secmob.algorithms.PRFAlgorithm` (the HMAC of the negotiated hash,
RFC 2409 §5: "prf ... is the HMAC version of the negotiated hash function"),
and each step reports to ``tracer`` (name, formula, RFC section, values).

Notation follows RFC 2409 §3.2: ``Ni_b``/``Nr_b`` are nonce payload bodies,
``g^xy`` the shared Diffie-Hellman secret, ``CKY-I``/``CKY-R`` the cookies, and
``|`` concatenation. The single octets 0, 1 and 2 in SKEYID_d/_a/_e are the
octets 0x00, 0x01 and 0x02.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

from secmob.algorithms import PRFAlgorithm
from secmob.errors import UsageError
from secmob.trace import Tracer, emit

__all__ = [
    "MAX_EXPANSION",
    "AuthMethod",
    "Phase1Keys",
    "derive_phase1",
    "encryption_key",
    "expand",
    "hash_i",
    "hash_r",
    "informational_hash",
    "keymat",
    "last_block",
    "phase1_iv",
    "phase2_iv",
    "prf_hash",
    "quick_hash1",
    "quick_hash2",
    "quick_hash3",
    "skeyid",
    "skeyid_dae",
]

HashFn = Callable[[bytes], bytes]


class AuthMethod(IntEnum):
    """Phase 1 authentication methods (RFC 2409 Appendix A, attribute class 3)."""

    PRE_SHARED_KEY = 1
    DSS_SIGNATURES = 2
    RSA_SIGNATURES = 3
    RSA_ENCRYPTION = 4
    REVISED_RSA_ENCRYPTION = 5


def prf_hash(prf: PRFAlgorithm) -> HashFn:
    """The hash function behind an HMAC PRF (RFC 2409 §5 uses it for IVs and for
    SKEYID under public-key encryption)."""
    name = getattr(prf, "hash_name", "")
    if not name:
        raise UsageError(f"{prf.name} is not an HMAC PRF; pass the negotiated hash explicitly")
    return lambda data: hashlib.new(name, data).digest()


def _step(tracer: Tracer | None, prf: PRFAlgorithm, name: str, formula: str, rfc: str,
          key: bytes, data: bytes, inputs: dict[str, bytes | int | str]) -> bytes:
    out = prf.compute(key, data)
    if tracer is not None:
        emit(tracer, name, formula, rfc, {**inputs, "prf": prf.name}, out)
    return out


def skeyid(prf: PRFAlgorithm, method: AuthMethod | int, ni_b: bytes, nr_b: bytes, *,
           g_xy: bytes = b"", pre_shared_key: bytes = b"", cky_i: bytes = b"",
           cky_r: bytes = b"", hash_fn: HashFn | None = None,
           tracer: Tracer | None = None) -> bytes:
    """SKEYID for the authentication ``method`` (RFC 2409 §5).

    * pre-shared key: ``prf(pre-shared-key, Ni_b | Nr_b)``
    * signatures (DSS, RSA): ``prf(Ni_b | Nr_b, g^xy)``
    * public-key encryption (RSA, revised RSA):
      ``prf(hash(Ni_b | Nr_b), CKY-I | CKY-R)``

    Raises :class:`~secmob.errors.UsageError` for an unknown method or a
    missing input.
    """
    m = AuthMethod(method) if method in AuthMethod._value2member_map_ else None
    if m is AuthMethod.PRE_SHARED_KEY:
        if not pre_shared_key:
            raise UsageError("pre-shared-key authentication needs the pre-shared key")
        return _step(tracer, prf, "SKEYID", "prf(pre-shared-key, Ni_b | Nr_b)", "RFC 2409 §5",
                     pre_shared_key, ni_b + nr_b,
                     {"pre-shared-key": pre_shared_key, "Ni_b": ni_b, "Nr_b": nr_b})
    if m in (AuthMethod.DSS_SIGNATURES, AuthMethod.RSA_SIGNATURES):
        if not g_xy:
            raise UsageError("signature authentication needs g^xy")
        return _step(tracer, prf, "SKEYID", "prf(Ni_b | Nr_b, g^xy)", "RFC 2409 §5",
                     ni_b + nr_b, g_xy, {"Ni_b": ni_b, "Nr_b": nr_b, "g^xy": g_xy})
    if m in (AuthMethod.RSA_ENCRYPTION, AuthMethod.REVISED_RSA_ENCRYPTION):
        if len(cky_i) != 8 or len(cky_r) != 8:
            raise UsageError("public-key encryption authentication needs both 8-octet cookies")
        h = (hash_fn or prf_hash(prf))(ni_b + nr_b)
        return _step(tracer, prf, "SKEYID", "prf(hash(Ni_b | Nr_b), CKY-I | CKY-R)",
                     "RFC 2409 §5", h, cky_i + cky_r,
                     {"Ni_b": ni_b, "Nr_b": nr_b, "hash(Ni_b | Nr_b)": h,
                      "CKY-I": cky_i, "CKY-R": cky_r})
    raise UsageError(f"unknown IKEv1 authentication method {method}; known: "
                     f"{[int(a) for a in AuthMethod]}")


def _hidden(v: bytes) -> str:
    return f"<{len(v)} octets>"


@dataclass(frozen=True)
class Phase1Keys:
    """SKEYID and its three derivatives (RFC 2409 §5); the repr hides the keys."""

    skeyid: bytes = field(repr=False)
    skeyid_d: bytes = field(repr=False)
    skeyid_a: bytes = field(repr=False)
    skeyid_e: bytes = field(repr=False)

    def __repr__(self) -> str:
        return (f"Phase1Keys(skeyid={_hidden(self.skeyid)}, skeyid_d={_hidden(self.skeyid_d)}, "
                f"skeyid_a={_hidden(self.skeyid_a)}, skeyid_e={_hidden(self.skeyid_e)})")


def skeyid_dae(prf: PRFAlgorithm, skeyid_: bytes, g_xy: bytes, cky_i: bytes, cky_r: bytes,
               tracer: Tracer | None = None) -> Phase1Keys:
    """SKEYID_d, SKEYID_a and SKEYID_e (RFC 2409 §5)::

        SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
        SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
        SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
    """
    tail = g_xy + cky_i + cky_r
    common: dict[str, bytes | int | str] = {"SKEYID": skeyid_, "g^xy": g_xy,
                                            "CKY-I": cky_i, "CKY-R": cky_r}
    d = _step(tracer, prf, "SKEYID_d", "prf(SKEYID, g^xy | CKY-I | CKY-R | 0)", "RFC 2409 §5",
              skeyid_, tail + b"\x00", common)
    a = _step(tracer, prf, "SKEYID_a", "prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)",
              "RFC 2409 §5", skeyid_, d + tail + b"\x01", {**common, "SKEYID_d": d})
    e = _step(tracer, prf, "SKEYID_e", "prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)",
              "RFC 2409 §5", skeyid_, a + tail + b"\x02", {**common, "SKEYID_a": a})
    return Phase1Keys(skeyid_, d, a, e)


def derive_phase1(prf: PRFAlgorithm, method: AuthMethod | int, ni_b: bytes, nr_b: bytes,
                  g_xy: bytes, cky_i: bytes, cky_r: bytes, *, pre_shared_key: bytes = b"",
                  hash_fn: HashFn | None = None, tracer: Tracer | None = None) -> Phase1Keys:
    """SKEYID for ``method`` followed by SKEYID_d/_a/_e (RFC 2409 §5)."""
    s = skeyid(prf, method, ni_b, nr_b, g_xy=g_xy, pre_shared_key=pre_shared_key,
               cky_i=cky_i, cky_r=cky_r, hash_fn=hash_fn, tracer=tracer)
    return skeyid_dae(prf, s, g_xy, cky_i, cky_r, tracer)


def hash_i(prf: PRFAlgorithm, skeyid_: bytes, g_xi: bytes, g_xr: bytes, cky_i: bytes,
           cky_r: bytes, sai_b: bytes, idii_b: bytes, tracer: Tracer | None = None) -> bytes:
    """HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b) (RFC 2409 §5)."""
    return _step(tracer, prf, "HASH_I", "prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)",
                 "RFC 2409 §5", skeyid_, g_xi + g_xr + cky_i + cky_r + sai_b + idii_b,
                 {"g^xi": g_xi, "g^xr": g_xr, "CKY-I": cky_i, "CKY-R": cky_r,
                  "SAi_b": sai_b, "IDii_b": idii_b})


def hash_r(prf: PRFAlgorithm, skeyid_: bytes, g_xi: bytes, g_xr: bytes, cky_i: bytes,
           cky_r: bytes, sai_b: bytes, idir_b: bytes, tracer: Tracer | None = None) -> bytes:
    """HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b) (RFC 2409 §5)."""
    return _step(tracer, prf, "HASH_R", "prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)",
                 "RFC 2409 §5", skeyid_, g_xr + g_xi + cky_r + cky_i + sai_b + idir_b,
                 {"g^xi": g_xi, "g^xr": g_xr, "CKY-I": cky_i, "CKY-R": cky_r,
                  "SAi_b": sai_b, "IDir_b": idir_b})


MAX_EXPANSION = 0xFFFF
"""The longest key :func:`expand` produces. RFC 2409 sets no limit; key lengths are
16-bit attribute values (Appendix A), so a longer request is a caller's error
and is refused instead of looping for ever."""


def expand(prf: PRFAlgorithm, key: bytes, first: bytes, length: int, seed: bytes = b"") -> bytes:
    """``K1 | K2 | ...`` truncated to ``length``: ``K1 = prf(key, first)`` and
    ``Kn = prf(key, Kn-1 | seed)`` (Appendix B uses ``seed = b""``; §5.5 KEYMAT
    uses the KEYMAT seed). ``length`` is at most :data:`MAX_EXPANSION` octets."""
    if not 0 <= length <= MAX_EXPANSION:
        raise UsageError(f"cannot expand to {length} octets (0..{MAX_EXPANSION})")
    out = bytearray()
    block = prf.compute(key, first)
    out += block
    while len(out) < length:
        block = prf.compute(key, block + seed)
        out += block
    return bytes(out[:length])


def encryption_key(prf: PRFAlgorithm, skeyid_e: bytes, key_length: int,
                   tracer: Tracer | None = None) -> bytes:
    """The phase 1 encryption key (RFC 2409 §5.3 and Appendix B).

    The first ``key_length`` octets of SKEYID_e when it is long enough;
    otherwise ``K = K1 | K2 | ...`` with ``K1 = prf(SKEYID_e, 0)`` and
    ``Kn = prf(SKEYID_e, Kn-1)`` (``0`` being the single octet 0x00).
    """
    if 0 <= key_length <= len(skeyid_e):
        key = skeyid_e[:key_length]
        formula = f"first {key_length} octets of SKEYID_e"
    else:
        key = expand(prf, skeyid_e, b"\x00", key_length)
        formula = "K1 | K2 | ..., K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1)"
    if tracer is not None:
        emit(tracer, "phase 1 encryption key", formula, "RFC 2409 Appendix B",
             {"SKEYID_e": skeyid_e, "key length": key_length, "prf": prf.name}, key)
    return key


def phase1_iv(hash_fn: HashFn, g_xi: bytes, g_xr: bytes, block_size: int,
              tracer: Tracer | None = None) -> bytes:
    """The first phase 1 IV: ``hash(g^xi | g^xr)`` truncated to the block size
    (RFC 2409 Appendix B). Later messages use the last ciphertext block of the
    previous message (:func:`last_block`)."""
    iv = hash_fn(g_xi + g_xr)[:block_size]
    if tracer is not None:
        emit(tracer, "phase 1 IV", "hash(g^xi | g^xr), truncated to the block size",
             "RFC 2409 Appendix B", {"g^xi": g_xi, "g^xr": g_xr, "block size": block_size}, iv)
    return iv


def _message_id(message_id: int) -> bytes:
    """The 4-octet Message ID field (RFC 2408 §3.1); ``UsageError`` outside 0..2^32-1."""
    if not 0 <= message_id <= 0xFFFFFFFF:
        raise UsageError(f"Message ID must be 0..2^32-1, got {message_id}")
    return message_id.to_bytes(4, "big")


def last_block(ciphertext: bytes, block_size: int) -> bytes:
    """The last cipher block of a message: the IV of the next one (RFC 2409 Appendix B)."""
    if block_size <= 0 or len(ciphertext) < block_size or len(ciphertext) % block_size:
        raise UsageError(f"ciphertext of {len(ciphertext)} octets is not a whole number of "
                         f"{block_size}-octet blocks")
    return ciphertext[-block_size:]


def phase2_iv(hash_fn: HashFn, last_phase1_block: bytes, message_id: int, block_size: int,
              tracer: Tracer | None = None) -> bytes:
    """The IV of a phase 2 (Quick Mode / Informational) exchange:
    ``hash(last phase-1 CBC output block | M-ID)`` truncated to the block size
    (RFC 2409 Appendix B)."""
    mid = _message_id(message_id)
    iv = hash_fn(last_phase1_block + mid)[:block_size]
    if tracer is not None:
        emit(tracer, "phase 2 IV", "hash(last phase-1 CBC output block | M-ID)",
             "RFC 2409 Appendix B", {"last block": last_phase1_block, "M-ID": mid}, iv)
    return iv


def quick_hash1(prf: PRFAlgorithm, skeyid_a: bytes, message_id: int, after_hash: bytes,
                tracer: Tracer | None = None) -> bytes:
    """Quick Mode HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [| KE] [| IDci | IDcr])
    (RFC 2409 §5.5); ``after_hash`` is the message after the HASH payload, payload
    headers included."""
    mid = _message_id(message_id)
    return _step(tracer, prf, "HASH(1)", "prf(SKEYID_a, M-ID | SA | Ni [| KE] [| IDci | IDcr])",
                 "RFC 2409 §5.5", skeyid_a, mid + after_hash,
                 {"M-ID": mid, "payloads": after_hash})


def quick_hash2(prf: PRFAlgorithm, skeyid_a: bytes, message_id: int, ni_b: bytes,
                after_hash: bytes, tracer: Tracer | None = None) -> bytes:
    """Quick Mode HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [| KE] [| IDci | IDcr])
    (RFC 2409 §5.5)."""
    mid = _message_id(message_id)
    return _step(tracer, prf, "HASH(2)",
                 "prf(SKEYID_a, M-ID | Ni_b | SA | Nr [| KE] [| IDci | IDcr])",
                 "RFC 2409 §5.5", skeyid_a, mid + ni_b + after_hash,
                 {"M-ID": mid, "Ni_b": ni_b, "payloads": after_hash})


def quick_hash3(prf: PRFAlgorithm, skeyid_a: bytes, message_id: int, ni_b: bytes,
                nr_b: bytes, tracer: Tracer | None = None) -> bytes:
    """Quick Mode HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b) (RFC 2409 §5.5)."""
    mid = _message_id(message_id)
    return _step(tracer, prf, "HASH(3)", "prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)",
                 "RFC 2409 §5.5", skeyid_a, b"\x00" + mid + ni_b + nr_b,
                 {"M-ID": mid, "Ni_b": ni_b, "Nr_b": nr_b})


def informational_hash(prf: PRFAlgorithm, skeyid_a: bytes, message_id: int, after_hash: bytes,
                       tracer: Tracer | None = None) -> bytes:
    """Informational HASH(1) = prf(SKEYID_a, M-ID | N/D) (RFC 2409 §5.7)."""
    mid = _message_id(message_id)
    return _step(tracer, prf, "HASH(1) informational", "prf(SKEYID_a, M-ID | N/D)",
                 "RFC 2409 §5.7", skeyid_a, mid + after_hash, {"M-ID": mid, "N/D": after_hash})


def keymat(prf: PRFAlgorithm, skeyid_d: bytes, protocol: int, spi: bytes, ni_b: bytes,
           nr_b: bytes, length: int, g_qm_xy: bytes | None = None,
           tracer: Tracer | None = None) -> bytes:
    """Quick Mode KEYMAT for one SA (RFC 2409 §5.5)::

        KEYMAT = K1 | K2 | K3 | ...
        K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
        Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)

    ``spi`` is the SPI of the SA being keyed (the one its receiver chose), so
    the two directions get different KEYMAT. ``g_qm_xy`` is the Quick Mode
    (PFS) shared secret, when a KE payload was exchanged.
    """
    if not 0 <= protocol <= 255:
        raise UsageError(f"protocol must be one octet (0-255), got {protocol}")
    seed = (g_qm_xy or b"") + bytes([protocol]) + spi + ni_b + nr_b
    out = expand(prf, skeyid_d, seed, length, seed)
    if tracer is not None:
        inputs: dict[str, bytes | int | str] = {"SKEYID_d": skeyid_d, "protocol": protocol,
                                                "SPI": spi, "Ni_b": ni_b, "Nr_b": nr_b,
                                                "length": length, "prf": prf.name}
        if g_qm_xy:
            inputs["g(qm)^xy"] = g_qm_xy
        emit(tracer, "KEYMAT",
             "K1 | K2 | ..., K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b), "
             "Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)",
             "RFC 2409 §5.5", inputs, out)
    return out
