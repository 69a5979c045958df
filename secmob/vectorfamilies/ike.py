"""Families ``ikev1-kdf``, ``ikev2-kdf`` and ``isakmp``.

``ikev1-kdf`` (RFC 2409 §5, §5.5, Appendix B). Inputs: ``prf`` (a
:data:`~secmob.algorithms.PRFS` name), ``auth`` (``psk``, ``dsa``/``sig``,
``pke`` or the method number), ``ni``, ``nr``, ``cky_i``, ``cky_r``, ``g_xy``
and, for ``psk``, ``psk``. Outputs ``skeyid``, ``skeyid_d``, ``skeyid_a``,
``skeyid_e``. Optional groups of inputs add outputs:
``key_length`` -> ``encryption_key``; ``g_xi``, ``g_xr``, ``block_size`` ->
``phase1_iv`` (and with ``sa_b``, ``idii_b``, ``idir_b`` -> ``hash_i``,
``hash_r``); ``last_block``, ``message_id``, ``block_size`` -> ``phase2_iv``;
``message_id`` -> ``hash3``; ``protocol``, ``spi``, ``keymat_length`` (and
``g_qm``) -> ``keymat``. Cases without ``ni`` check the expansions alone:
``skeyid_e`` + ``key_length`` -> ``encryption_key`` (Appendix B) and
``skeyid_d`` + ``protocol``, ``spi``, ``keymat_ni``, ``keymat_nr``,
``keymat_length`` -> ``keymat`` (§5.5).

``ikev2-kdf`` (RFC 7296 §2.13 - §2.18). Inputs: ``prf``, ``ni``, ``nr``,
``g_ir``; optional ``spi_i``, ``spi_r``, ``dkm_length`` -> ``dkm``
(``prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)``); ``child_dkm_length`` ->
``child_dkm`` (``prf+(SK_d, Ni | Nr)``) and with ``g_ir_new`` ->
``child_dkm_dh``; ``g_ir_new`` -> ``skeyseed_rekey``. SK_d is ``sk_d`` if
given, else the first PRF-key-size octets of ``dkm``.

``isakmp`` (RFC 2408 §3). Input ``message`` (hex). Outputs
``initiator_cookie``, ``responder_cookie``, ``exchange_type``, ``flags``,
``message_id``, ``length``, ``payload_types`` (comma-separated Next Payload
values, or ``"encrypted"``) and ``encoded`` (the message re-encoded).
"""

from __future__ import annotations

from collections.abc import Mapping

from secmob.algorithms import PRFS, PRFAlgorithm
from secmob.errors import VectorFileError
from secmob.ike import ikev1_keys as v1
from secmob.ike import ikev2 as v2
from secmob.vectors import Case, Output, family
from secmob.wire.isakmp import Message

_AUTH = {"psk": v1.AuthMethod.PRE_SHARED_KEY, "dsa": v1.AuthMethod.DSS_SIGNATURES,
         "sig": v1.AuthMethod.RSA_SIGNATURES, "pke": v1.AuthMethod.RSA_ENCRYPTION}


def _ikev1_expansions(prf: PRFAlgorithm, case: Case) -> dict[str, Output]:
    """Cases without a phase 1 exchange: ``skeyid_e`` + ``key_length`` (Appendix B)
    and ``skeyid_d`` + ``protocol``, ``spi``, ``keymat_ni``, ``keymat_nr``,
    ``keymat_length`` (§5.5 KEYMAT)."""
    out: dict[str, Output] = {}
    if case.has("skeyid_e"):
        out["encryption_key"] = v1.encryption_key(prf, case.hex("skeyid_e"),
                                                  case.num("key_length"))
    if case.has("skeyid_d"):
        out["keymat"] = v1.keymat(prf, case.hex("skeyid_d"), case.num("protocol"),
                                  case.hex("spi"), case.hex("keymat_ni"), case.hex("keymat_nr"),
                                  case.num("keymat_length"))
    return out


@family("ikev1-kdf")
def check_ikev1(case: Case) -> Mapping[str, Output]:
    prf = PRFS.get(case.text("prf"))
    if not case.has("ni"):
        return _ikev1_expansions(prf, case)
    auth = case.raw("auth")
    if (isinstance(auth, bool) or not isinstance(auth, int)) and case.text("auth") not in _AUTH:
        raise VectorFileError(f"{case.file}: case {case.id!r}: field 'auth' must be a "
                              f"method number or one of {sorted(_AUTH)}")
    method = _AUTH[auth] if isinstance(auth, str) else auth
    ni, nr, g_xy = case.hex("ni"), case.hex("nr"), case.hex("g_xy")
    cky_i, cky_r = case.hex("cky_i"), case.hex("cky_r")
    keys = v1.derive_phase1(prf, method, ni, nr, g_xy, cky_i, cky_r,
                            pre_shared_key=case.hex("psk", b""))
    out: dict[str, Output] = {"skeyid": keys.skeyid, "skeyid_d": keys.skeyid_d,
                              "skeyid_a": keys.skeyid_a, "skeyid_e": keys.skeyid_e}
    h = v1.prf_hash(prf)
    if case.has("key_length"):
        out["encryption_key"] = v1.encryption_key(prf, keys.skeyid_e, case.num("key_length"))
    if case.has("g_xi"):
        g_xi, g_xr = case.hex("g_xi"), case.hex("g_xr")
        out["phase1_iv"] = v1.phase1_iv(h, g_xi, g_xr, case.num("block_size"))
        if case.has("sa_b"):
            out["hash_i"] = v1.hash_i(prf, keys.skeyid, g_xi, g_xr, cky_i, cky_r,
                                      case.hex("sa_b"), case.hex("idii_b"))
            out["hash_r"] = v1.hash_r(prf, keys.skeyid, g_xi, g_xr, cky_i, cky_r,
                                      case.hex("sa_b"), case.hex("idir_b"))
    if case.has("message_id"):
        mid = case.num("message_id")
        out["hash3"] = v1.quick_hash3(prf, keys.skeyid_a, mid, ni, nr)
        if case.has("last_block"):
            out["phase2_iv"] = v1.phase2_iv(h, case.hex("last_block"), mid,
                                            case.num("block_size"))
    if case.has("keymat_length"):
        g_qm = case.hex("g_qm") if case.has("g_qm") else None
        out["keymat"] = v1.keymat(prf, keys.skeyid_d, case.num("protocol"), case.hex("spi"),
                                  ni, nr, case.num("keymat_length"), g_qm)
    return out


@family("ikev2-kdf")
def check_ikev2(case: Case) -> Mapping[str, Output]:
    prf = PRFS.get(case.text("prf"))
    ni, nr = case.hex("ni"), case.hex("nr")
    seed = v2.skeyseed(prf, ni, nr, case.hex("g_ir"))
    out: dict[str, Output] = {"skeyseed": seed}
    sk_d = case.hex("sk_d") if case.has("sk_d") else None
    if case.has("dkm_length"):
        dkm = v2.prf_plus(prf, seed, ni + nr + case.hex("spi_i") + case.hex("spi_r"),
                          case.num("dkm_length"))
        out["dkm"] = dkm
        sk_d = sk_d or dkm[:prf.key_size]
    if sk_d is not None:
        g_new = case.hex("g_ir_new") if case.has("g_ir_new") else None
        if case.has("child_dkm_length"):
            length = case.num("child_dkm_length")
            out["child_dkm"] = v2.child_keymat(prf, sk_d, ni, nr, length)
            if g_new is not None:
                out["child_dkm_dh"] = v2.child_keymat(prf, sk_d, ni, nr, length, g_new)
        if g_new is not None:
            out["skeyseed_rekey"] = v2.rekey_skeyseed(prf, sk_d, g_new, ni, nr)
    return out


@family("isakmp")
def check_isakmp(case: Case) -> Mapping[str, Output]:
    m = Message.parse(case.hex("message"))
    h = m.header
    types = "encrypted" if h.encrypted else ",".join(str(int(p.payload_type)) for p in m.payloads)
    return {"initiator_cookie": h.initiator_cookie, "responder_cookie": h.responder_cookie,
            "exchange_type": h.exchange_type, "flags": h.flags, "message_id": h.message_id,
            "length": h.length, "payload_types": types, "encoded": m.to_bytes()}
