"""The stored vectors of family ``prf`` (vectors/prf/*.json), run and recomputed
independently (hashlib/hmac, pycryptodome CMAC, AES-XCBC-MAC from RFC 3566)."""

from pathlib import Path

import pytest
from _mac_reference import full_mac

from secmob import vectors
from secmob.algorithms import PRFS

FILES = sorted((vectors.stored_root() / "prf").glob("*.json"))


def test_files_exist_and_have_enough_cases() -> None:
    assert len(FILES) >= 10
    assert sum(len(vectors.load_file(f)) for f in FILES) >= 80


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_file_passes(path: Path) -> None:
    results = list(vectors.run_files([path]))
    assert results and all(r.ok for r in results), [r for r in results if not r.ok]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_cases_agree_with_independent_computation(path: Path) -> None:
    for case in vectors.load_file(path):
        prf = PRFS.get(case.text("algorithm"))
        out = full_mac(prf.name, case.hex("key"), case.hex("data"))
        assert len(out) == prf.output_size
        if case.has("truncate"):
            out = out[: case.num("truncate")]
        assert case.data["expected"]["output"] == out.hex(), case.id
        assert case.source.startswith("RFC "), case.id
