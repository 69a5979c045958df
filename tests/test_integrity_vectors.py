"""The stored vectors of family ``integrity`` (vectors/integrity/*.json).

Every file must pass through secmob's runner, and every case is recomputed
independently (tests/_mac_reference.py: hashlib/hmac, pycryptodome, and
AES-XCBC-MAC written from RFC 3566) so that derived cases -- flipped bits,
truncations -- are checked by a second computation too.
"""

from pathlib import Path

import pytest
from _mac_reference import full_mac

from secmob import vectors
from secmob.algorithms import INTEGRITY

FILES = sorted((vectors.stored_root() / "integrity").glob("*.json"))


def test_files_exist_and_have_enough_cases() -> None:
    assert len(FILES) >= 8
    assert sum(len(vectors.load_file(f)) for f in FILES) >= 250


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_file_passes(path: Path) -> None:
    results = list(vectors.run_files([path]))
    assert results and all(r.ok for r in results), [r for r in results if not r.ok]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_cases_agree_with_independent_computation(path: Path) -> None:
    for case in vectors.load_file(path):
        alg = INTEGRITY.get(case.text("algorithm"))
        key, data, iv = case.hex("key"), case.hex("data"), case.hex("iv", b"")
        error = case.data.get("error")
        if error == "InvalidKeyLength":
            assert len(key) not in alg.key_sizes or len(iv) != alg.iv_size, case.id
            continue
        right = full_mac(alg.name, key, data, iv)[: alg.icv_size]
        if case.has("icv"):
            icv = case.hex("icv")
            assert (icv == right) == (error is None), case.id
        else:
            assert case.data["expected"]["icv"] == right.hex(), case.id
        # Every case names where its numbers come from.
        assert case.source.startswith(("RFC ", "NIST CAVP ", "derived: ")), case.id
