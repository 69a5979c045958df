"""Stored IKE vectors (vectors/ikev1-kdf, vectors/ikev2-kdf, vectors/isakmp).

Derived cases are recomputed here with plain hmac/hashlib (IKEv1) or scapy
(ISAKMP), independently of secmob's code path.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

import pytest

from secmob.vectors import load_file, run_case, stored_root

ROOT = stored_root()
FILES = sorted(p for fam in ("ikev1-kdf", "ikev2-kdf", "isakmp")
               for p in (ROOT / fam).glob("*.json"))


def _cases(path: Path) -> list[Any]:
    return load_file(path)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_vector_file(path: Path) -> None:
    results = [run_case(c) for c in _cases(path)]
    assert results
    failed = [(r.id, r.detail) for r in results if not r.ok]
    assert not failed


def test_every_family_has_vectors() -> None:
    for fam in ("ikev1-kdf", "ikev2-kdf", "isakmp"):
        assert list((ROOT / fam).glob("*.json")), fam


# -- independent recomputation of the derived IKEv1 cases -----------------------

_HASH = {"prfmd5": "md5", "prfsha1": "sha1", "prfsha256": "sha256",
         "prfsha384": "sha384", "prfsha512": "sha512"}


def _prf(alg: str, key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, alg).digest()


def _independent_ikev1(c: dict[str, Any]) -> dict[str, bytes]:
    alg = _HASH[c["prf"]]
    b = {k: bytes.fromhex(v) for k, v in c.items() if isinstance(v, str) and k not in
         ("id", "source", "prf", "auth")}
    ni, nr, gxy, ci, cr = b["ni"], b["nr"], b["g_xy"], b["cky_i"], b["cky_r"]
    if c["auth"] == "psk":
        skeyid = _prf(alg, b["psk"], ni + nr)
    elif c["auth"] == "pke":
        skeyid = _prf(alg, hashlib.new(alg, ni + nr).digest(), ci + cr)
    else:
        skeyid = _prf(alg, ni + nr, gxy)
    d = _prf(alg, skeyid, gxy + ci + cr + b"\x00")
    a = _prf(alg, skeyid, d + gxy + ci + cr + b"\x01")
    e = _prf(alg, skeyid, a + gxy + ci + cr + b"\x02")
    out = {"skeyid": skeyid, "skeyid_d": d, "skeyid_a": a, "skeyid_e": e}
    klen = c["key_length"]
    if klen <= len(e):
        out["encryption_key"] = e[:klen]
    else:
        k = _prf(alg, e, b"\x00")
        stream = k
        while len(stream) < klen:
            k = _prf(alg, e, k)
            stream += k
        out["encryption_key"] = stream[:klen]
    bs = c["block_size"]
    out["phase1_iv"] = hashlib.new(alg, b["g_xi"] + b["g_xr"]).digest()[:bs]
    out["hash_i"] = _prf(alg, skeyid, b["g_xi"] + b["g_xr"] + ci + cr + b["sa_b"] + b["idii_b"])
    out["hash_r"] = _prf(alg, skeyid, b["g_xr"] + b["g_xi"] + cr + ci + b["sa_b"] + b["idir_b"])
    mid = c["message_id"].to_bytes(4, "big")
    out["phase2_iv"] = hashlib.new(alg, b["last_block"] + mid).digest()[:bs]
    out["hash3"] = _prf(alg, a, b"\x00" + mid + ni + nr)
    seed = b.get("g_qm", b"") + bytes([c["protocol"]]) + b["spi"] + ni + nr
    k = _prf(alg, d, seed)
    km = k
    while len(km) < c["keymat_length"]:
        k = _prf(alg, d, k + seed)
        km += k
    out["keymat"] = km[: c["keymat_length"]]
    return out


def _derived_ikev1() -> list[dict[str, Any]]:
    return [dict(c.data) for p in (ROOT / "ikev1-kdf").glob("*.json") for c in load_file(p)
            if c.source.startswith("derived")]


@pytest.mark.parametrize("case", _derived_ikev1(), ids=lambda c: c["id"])
def test_derived_ikev1_case_independently(case: dict[str, Any]) -> None:
    want = _independent_ikev1(case)
    assert set(case["expected"]) == set(want)
    for key, value in want.items():
        assert case["expected"][key] == value.hex(), key


def test_derived_cases_cover_expansion_and_pfs() -> None:
    cases = _derived_ikev1()
    assert any(c["key_length"] > {"prfmd5": 16, "prfsha1": 20}.get(c["prf"], 99) for c in cases)
    assert any("g_qm" in c for c in cases) and any("g_qm" not in c for c in cases)
    assert {c["auth"] for c in cases} >= {"psk", "sig", "pke", "dsa"}


# -- independent check of the ISAKMP vectors with scapy ---------------------------

def _isakmp_cases() -> list[dict[str, Any]]:
    return [dict(c.data) for p in (ROOT / "isakmp").glob("*.json") for c in load_file(p)
            if "expected" in c.data]


@pytest.mark.parametrize("case", _isakmp_cases(), ids=lambda c: c["id"])
def test_isakmp_vector_against_scapy(case: dict[str, Any]) -> None:
    isakmp = pytest.importorskip("scapy.layers.isakmp")
    raw = bytes.fromhex(case["message"])
    pkt = isakmp.ISAKMP(raw)
    exp = case["expected"]
    assert pkt.init_cookie.hex() == exp["initiator_cookie"]
    assert pkt.resp_cookie.hex() == exp["responder_cookie"]
    assert pkt.exch_type == exp["exchange_type"]
    assert int(pkt.flags) == exp["flags"]
    assert pkt.id == exp["message_id"] and pkt.length == exp["length"]
    assert bytes(pkt) == raw == bytes.fromhex(exp["encoded"])
    if exp["payload_types"] != "encrypted":
        types, layer = [], pkt.payload
        nxt = pkt.next_payload
        while nxt and layer is not None and hasattr(layer, "next_payload"):
            types.append(nxt)
            nxt, layer = layer.next_payload, layer.payload
        assert ",".join(map(str, types)) == exp["payload_types"]
