"""vectors/esp/*.json: the derived ESP/AH cases, checked twice.

The stored expected values must equal the independent computation in
``esp_reference`` (hmac/hashlib, packets laid out by hand), and secmob's
ESP/AH code must reproduce them through the vector runner.
"""

from __future__ import annotations

import json
from pathlib import Path

import esp_reference
import pytest

from secmob import vectors

STORED = Path(__file__).resolve().parent.parent / "vectors" / "esp" / "derived-null-hmac.json"


def test_stored_file_is_the_independent_computation() -> None:
    assert json.loads(STORED.read_text(encoding="utf-8")) == esp_reference.build()


@pytest.mark.parametrize("result", list(vectors.run_files([STORED])), ids=lambda r: r.id)
def test_secmob_reproduces_every_case(result: vectors.CaseResult) -> None:
    assert result.ok, result.detail


def test_negative_cases_cover_each_check() -> None:
    errors = {c.data.get("error") for c in vectors.load_file(STORED)}
    assert {"IntegrityError", "PaddingError", "ReplayError", "UnknownSPI"} <= errors
