"""Stored vectors of the ``cipher`` family (vectors/cipher/*.json).

Each file runs through the vector runner. Cases marked ``derived:`` have no
published source; their expected outputs are recomputed here with
pycryptodome, independently of secmob's code path (which uses
``cryptography``), and negative cases are checked to be real tamperings of
a positive case in the same file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from Crypto.Cipher import AES

from secmob import vectors

CIPHER_DIR = vectors.stored_root() / "cipher"
FILES = sorted(CIPHER_DIR.glob("*.json"))


def _cases(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["cases"])


def test_enough_cases_are_stored() -> None:
    total = sum(len(_cases(p)) for p in FILES)
    assert total >= 150, total
    negatives = sum(1 for p in FILES for c in _cases(p) if "error" in c)
    assert negatives >= 30, negatives


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_file_passes(path: Path) -> None:
    results = list(vectors.run_files([path]))
    assert results
    failed = [(r.id, r.detail) for r in results if not r.ok]
    assert not failed, failed


def _independent(case: dict[str, Any]) -> str:
    """Seal a derived AEAD/GMAC case with pycryptodome."""
    alg = case["algorithm"].lower()
    keymat, iv = bytes.fromhex(case["key"]), bytes.fromhex(case["iv"])
    aad, pt = bytes.fromhex(case["aad"]), bytes.fromhex(case["plaintext"])
    if "gmac" in alg:
        key, salt = keymat[:-4], keymat[-4:]
        g = AES.new(key, AES.MODE_GCM, nonce=salt + iv, mac_len=16)
        g.update(aad + iv + pt)
        return (pt + g.digest()).hex()
    if "ccm" in alg:
        icv = int(alg.rsplit("_", 1)[1])
        key, salt = keymat[:-3], keymat[-3:]
        c = AES.new(key, AES.MODE_CCM, nonce=salt + iv, mac_len=icv)
    else:
        icv = int(alg.rsplit("_", 1)[1])
        key, salt = keymat[:-4], keymat[-4:]
        c = AES.new(key, AES.MODE_GCM, nonce=salt + iv, mac_len=icv)
    c.update(aad)
    ct, tag = c.encrypt_and_digest(pt)
    return (ct + tag).hex()


DERIVED = [(p.name, c) for p in FILES for c in _cases(p)
           if c["source"].startswith("derived:") and "expected" in c
           and "ciphertext" in c["expected"] and "aes" in c["algorithm"].lower()
           and ("gcm" in c["algorithm"].lower() or "ccm" in c["algorithm"].lower()
                or "gmac" in c["algorithm"].lower())]


@pytest.mark.parametrize(("name", "case"), DERIVED, ids=[f"{n}:{c['id']}" for n, c in DERIVED])
def test_derived_case_recomputed_by_pycryptodome(name: str, case: dict[str, Any]) -> None:
    assert _independent(case) == case["expected"]["ciphertext"]


def test_every_derived_positive_case_is_recomputed() -> None:
    derived_positive = [c["id"] for p in FILES for c in _cases(p)
                        if c["source"].startswith("derived:") and "expected" in c]
    assert sorted(derived_positive) == sorted(c["id"] for _, c in DERIVED)


def test_negative_cases_are_tampered_copies_of_a_positive_case() -> None:
    for path in FILES:
        cases = _cases(path)
        sealed: dict[tuple[str, ...], list[str]] = {}
        for c in cases:
            if "expected" in c and "ciphertext" in c["expected"]:
                key = (c["algorithm"], c["key"], c["iv"], c.get("aad", ""))
                sealed.setdefault(key, []).append(c["expected"]["ciphertext"])
        for c in cases:
            if c.get("error") != "IntegrityError" or not c["source"].startswith("derived:"):
                continue
            goods = sealed[(c["algorithm"], c["key"], c["iv"], c.get("aad", ""))]
            bad = c["ciphertext"]
            assert bad not in goods
            assert any(good.startswith(bad) or (
                len(good) == len(bad)
                and bin(int(good, 16) ^ int(bad, 16)).count("1") == 1) for good in goods), c["id"]
