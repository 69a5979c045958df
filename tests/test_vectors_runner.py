"""The vector runner and `secmob vectors` command on hand-written files."""

import json
from pathlib import Path

import pytest

from secmob import cli, vectors
from secmob.errors import VectorFileError

GOOD = {
    "family": "prf",
    "cases": [
        {"id": "ok", "source": "RFC 4231 §4.2", "algorithm": "prfsha256",
         "key": "0b" * 20, "data": "4869205468657265",
         "expected": {"output": "b0344c61d8db38535ca8afceaf0bf12b"
                                "881dc200c9833da726e9376c2e32cff7"}},
    ],
}


def write(tmp_path: Path, doc: object, name: str = "v.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


def test_stored_set_passes_and_is_found() -> None:
    files = vectors.stored_files()
    assert files, "no stored vector files found"
    results = list(vectors.run_files(files))
    assert results and all(r.ok for r in results), [r for r in results if not r.ok]


def test_verify_reports_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["vectors", "verify", str(write(tmp_path, GOOD))]) == 0
    assert capsys.readouterr().out.rstrip().endswith("1 passed, 0 failed")


def test_verify_reports_mismatch_with_exit_1(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = json.loads(json.dumps(GOOD))
    bad["cases"][0]["expected"]["output"] = "00" * 32
    assert cli.main(["vectors", "verify", str(write(tmp_path, bad))]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "0 passed, 1 failed" in out


def test_expected_error_that_is_not_raised_fails(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(GOOD))
    del doc["cases"][0]["expected"]
    doc["cases"][0]["error"] = "IntegrityError"
    (result,) = vectors.run_files([write(tmp_path, doc)])
    assert not result.ok and "expected IntegrityError" in result.detail


def test_expected_error_that_is_raised_passes(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(GOOD))
    del doc["cases"][0]["expected"]
    doc["cases"][0]["algorithm"] = "no-such-prf"
    doc["cases"][0]["error"] = "UnsupportedAlgorithm"
    (result,) = vectors.run_files([write(tmp_path, doc)])
    assert result.ok


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d.pop("family"), "family"),
    (lambda d: d.update(family="nope"), "unknown family"),
    (lambda d: d["cases"][0].pop("source"), "'source'"),
    (lambda d: d["cases"][0].update(error="KeyError") or d["cases"][0].pop("expected"),
     "secmob.errors"),
    (lambda d: d["cases"].append(dict(d["cases"][0])), "twice"),
    (lambda d: d["cases"][0].update(key="0B" * 20), "lowercase hex"),
    (lambda d: d["cases"][0].update(key="0g"), "not valid hex"),
])
def test_invalid_files_exit_2_naming_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: object, message: str
) -> None:
    doc = json.loads(json.dumps(GOOD))
    mutate(doc)  # type: ignore[operator]
    path = write(tmp_path, doc)
    assert cli.main(["vectors", "verify", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    p = tmp_path / "broken.json"
    p.write_text("{not json")
    assert cli.main(["vectors", "verify", str(p)]) == 2
    with pytest.raises(VectorFileError):
        vectors.load_file(tmp_path / "missing.json")


def test_defaults_merge_and_json_output(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(json.dumps(GOOD))
    doc["defaults"] = {"algorithm": doc["cases"][0].pop("algorithm")}
    assert cli.main(["vectors", "verify", "--json", str(write(tmp_path, doc))]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["passed"] == 1 and out["cases"][0]["id"] == "ok"


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["vectors", "list"]) == 0
    assert "prf" in capsys.readouterr().out


def test_source_document_grouping() -> None:
    assert cli.source_document("RFC 4231 §4.2 (Test Case 1)") == "RFC 4231"
    assert cli.source_document("derived: computed with hashlib") == "derived"
    doc = "Wycheproof aes_gcm_test.json"
    assert cli.source_document(f"{doc} tcId 3") == doc
