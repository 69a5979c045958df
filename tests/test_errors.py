"""The exception tree: every class documented and used, and secmob raises
nothing but its own classes (deliberate internal invariants aside)."""

from __future__ import annotations

import ast
import builtins
import inspect
from pathlib import Path

import pytest

from secmob import errors
from secmob.errors import SecmobError, UsageError
from secmob.trace import Recorder

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "secmob").rglob("*.py"))
CLASSES = [getattr(errors, n) for n in errors.__all__]
BASES = {errors.SecmobError, errors.WireError, errors.SAStateError}

# Built-in exceptions that may still be raised, and why.
INVARIANTS = {
    "NotImplementedError": "a method every subclass overrides",
    "AssertionError": "an internal invariant, like assert",
}
# Built-in raises still awaiting conversion to a secmob error (none).
PENDING: set[tuple[str, str]] = set()


def test_every_class_is_documented() -> None:
    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    for cls in CLASSES:
        assert issubclass(cls, SecmobError)
        assert inspect.getdoc(cls) and cls.__doc__, cls.__name__
        assert f"`{cls.__name__}`" in page, f"docs/errors.md does not describe {cls.__name__}"


def _raised_names() -> set[str]:
    names: set[str] = set()
    for path in SOURCES:
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                names.add(f.id if isinstance(f, ast.Name) else
                          f.attr if isinstance(f, ast.Attribute) else "")
    return names


def test_every_concrete_class_is_raised_somewhere() -> None:
    made = _raised_names()
    for cls in CLASSES:
        if cls in BASES:  # raised through its subclasses
            assert any(sub.__name__ in made for sub in cls.__subclasses__()), cls.__name__
        else:
            assert cls.__name__ in made, f"{cls.__name__} is never raised"


def _builtin_raises() -> list[tuple[str, str, int]]:
    found = []
    for path in SOURCES:
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = exc.id if isinstance(exc, ast.Name) else ""
            if isinstance(getattr(builtins, name, None), type):
                found.append((rel, name, node.lineno))
    return found


def test_only_secmob_errors_are_raised() -> None:
    wrong = [f"{rel}:{line}: raise {name}" for rel, name, line in _builtin_raises()
             if name not in INVARIANTS and (rel, name) not in PENDING]
    assert not wrong, "\n".join(wrong)


def test_a_missing_trace_step_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no step named 'SKEYID'"):
        Recorder().find("SKEYID")
