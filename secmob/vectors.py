"""Loading and running vector files (schema: docs/vectors.md).

A vector file is JSON::

    {
      "family": "integrity",              # which checker runs the cases
      "title": "HMAC-SHA-256-128 ...",     # free text
      "defaults": {"algorithm": "..."},    # optional, merged into every case
      "cases": [
        {"id": "...", "source": "RFC 4868 §2.7.2.1", <inputs>,
         "expected": {"icv": "<lowercase hex>"}},
        {"id": "...", "source": "derived: ...", <inputs>, "error": "IntegrityError"}
      ]
    }

A *family* is a function that receives one :class:`Case` and returns the
computed outputs; the runner compares them with ``expected`` (or checks that
the named :mod:`secmob.errors` exception was raised). Families live in
:mod:`secmob.vectorfamilies` and register themselves by name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeAlias

from secmob import errors
from secmob._plugins import import_all
from secmob.errors import SecmobError, UsageError, VectorFileError

__all__ = [
    "Case",
    "CaseResult",
    "Family",
    "families",
    "family",
    "load_file",
    "run_case",
    "run_files",
    "stored_files",
    "stored_root",
]

Output: TypeAlias = "bytes | int | str | bool | None"
Family: TypeAlias = Callable[["Case"], Mapping[str, Output]]

_FAMILIES: dict[str, Family] = {}


def family(name: str) -> Callable[[Family], Family]:
    """Decorator registering a checker for the vector family ``name``."""

    def deco(fn: Family) -> Family:
        if name in _FAMILIES:
            raise UsageError(f"vector family {name!r} registered twice")
        _FAMILIES[name] = fn
        return fn

    return deco


def families() -> dict[str, Family]:
    """All registered families (importing every module of :mod:`secmob.vectorfamilies`)."""
    import_all("secmob.vectorfamilies")
    return dict(_FAMILIES)


@dataclass(frozen=True)
class Case:
    """One case of a vector file, with typed accessors that name the field on error."""

    file: str
    family: str
    data: Mapping[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def source(self) -> str:
        return str(self.data["source"])

    def _fail(self, field: str, why: str) -> VectorFileError:
        return VectorFileError(f"{self.file}: case {self.id!r}: field {field!r} {why}")

    def has(self, field: str) -> bool:
        return field in self.data

    def raw(self, field: str) -> Any:
        try:
            return self.data[field]
        except KeyError:
            raise self._fail(field, "is missing") from None

    def hex(self, field: str, default: bytes | None = None) -> bytes:
        """A field holding lowercase hex (``""`` is the empty string)."""
        if field not in self.data and default is not None:
            return default
        value = self.raw(field)
        if not isinstance(value, str) or value != value.lower():
            raise self._fail(field, "must be a lowercase hex string")
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise self._fail(field, "is not valid hex") from None

    def num(self, field: str, default: int | None = None) -> int:
        if field not in self.data and default is not None:
            return default
        value = self.raw(field)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(field, "must be an integer")
        return value

    def text(self, field: str, default: str | None = None) -> str:
        if field not in self.data and default is not None:
            return default
        value = self.raw(field)
        if not isinstance(value, str):
            raise self._fail(field, "must be a string")
        return value

    def flag(self, field: str, default: bool | None = None) -> bool:
        if field not in self.data and default is not None:
            return default
        value = self.raw(field)
        if not isinstance(value, bool):
            raise self._fail(field, "must be true or false")
        return value


@dataclass(frozen=True)
class CaseResult:
    file: str
    family: str
    source: str
    id: str
    ok: bool
    detail: str = ""


def stored_root() -> Path:
    """Directory of the stored vectors: ``vectors/`` of a source checkout, or the
    copy installed inside the package."""
    checkout = Path(__file__).resolve().parent.parent / "vectors"
    if checkout.is_dir():
        return checkout
    return Path(str(resources.files("secmob") / "_data" / "vectors"))


def stored_files() -> list[Path]:
    """Every stored vector file, sorted."""
    return sorted(stored_root().rglob("*.json"))


def load_file(path: Path | str) -> list[Case]:
    """Parse and validate a vector file; raise :class:`VectorFileError` if it is invalid."""
    name = str(path)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VectorFileError(f"{name}: cannot read vector file: {exc}") from None
    if not isinstance(doc, dict):
        raise VectorFileError(f"{name}: top level must be an object")
    fam = doc.get("family")
    if not isinstance(fam, str):
        raise VectorFileError(f"{name}: missing string field 'family'")
    if fam not in families():
        raise VectorFileError(
            f"{name}: unknown family {fam!r}; known: {', '.join(sorted(families()))}"
        )
    defaults = doc.get("defaults", {})
    cases = doc.get("cases")
    if not isinstance(defaults, dict) or not isinstance(cases, list) or not cases:
        raise VectorFileError(f"{name}: 'cases' must be a non-empty list ('defaults' an object)")
    out: list[Case] = []
    seen: set[str] = set()
    for i, raw in enumerate(cases):
        if not isinstance(raw, dict):
            raise VectorFileError(f"{name}: case #{i} is not an object")
        data = {**defaults, **raw}
        cid = data.get("id")
        if not isinstance(cid, str) or not cid:
            raise VectorFileError(f"{name}: case #{i} has no string 'id'")
        if cid in seen:
            raise VectorFileError(f"{name}: case id {cid!r} appears twice")
        seen.add(cid)
        if not isinstance(data.get("source"), str) or not data["source"]:
            raise VectorFileError(f"{name}: case {cid!r}: field 'source' is missing")
        has_exp, has_err = "expected" in data, "error" in data
        if has_exp == has_err:
            raise VectorFileError(
                f"{name}: case {cid!r}: exactly one of 'expected' and 'error' is required"
            )
        if has_exp and not isinstance(data["expected"], dict):
            raise VectorFileError(f"{name}: case {cid!r}: field 'expected' must be an object")
        if has_err:
            err = data["error"]
            cls = getattr(errors, err, None) if isinstance(err, str) else None
            if not (isinstance(cls, type) and issubclass(cls, SecmobError)):
                raise VectorFileError(
                    f"{name}: case {cid!r}: field 'error' must name a secmob.errors class"
                )
        out.append(Case(name, fam, data))
    return out


def _same(expected: Any, got: Output) -> bool:
    if isinstance(got, (bytes, bytearray)):
        return isinstance(expected, str) and expected == bytes(got).hex()
    return bool(expected == got)


def run_case(case: Case) -> CaseResult:
    """Run one case; never raises for a mismatch (the result says so)."""
    fn = families()[case.family]

    def result(ok: bool, detail: str = "") -> CaseResult:
        return CaseResult(case.file, case.family, case.source, case.id, ok, detail)

    want_error = case.data.get("error")
    try:
        got = fn(case)
    except VectorFileError:
        raise
    except SecmobError as exc:
        if want_error is not None and isinstance(exc, getattr(errors, want_error)):
            return result(True)
        return result(False, f"raised {type(exc).__name__}: {exc}")
    if want_error is not None:
        return result(False, f"expected {want_error}, nothing was raised")
    expected: Mapping[str, Any] = case.data["expected"]
    for key, value in expected.items():
        if key not in got:
            raise VectorFileError(
                f"{case.file}: case {case.id!r}: family {case.family!r} computes no {key!r}"
            )
        if not _same(value, got[key]):
            shown = got[key]
            shown_s = shown.hex() if isinstance(shown, bytes) else repr(shown)
            return result(False, f"{key}: expected {value!r}, computed {shown_s}")
    return result(True)


def run_files(paths: Iterable[Path | str]) -> Iterator[CaseResult]:
    """Load every file first (so invalid files fail fast), then run every case."""
    loaded = [load_file(p) for p in paths]
    for cases in loaded:
        for case in cases:
            yield run_case(case)
