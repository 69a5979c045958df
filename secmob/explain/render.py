"""Renderers for recorded steps: plain text, Markdown and JSON."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable

from secmob.errors import UsageError
from secmob.trace import Step, TraceValue

__all__ = ["FORMATS", "render"]

FORMATS = ("text", "markdown", "json")


def _value(v: TraceValue, width: int = 64) -> str:
    if isinstance(v, bytes):
        if not v:
            return "(empty)"
        lines = textwrap.wrap(v.hex(), width)
        return f"({len(v)} octets) " + "\n    ".join(lines)
    return str(v)


def _text(steps: Iterable[Step]) -> str:
    out: list[str] = []
    for n, s in enumerate(steps, 1):
        out.append(f"{n}. {s.name}    [{s.rfc}]")
        out.append(f"   {s.formula}")
        for k, v in s.inputs.items():
            out.append(textwrap.indent(f"{k} = {_value(v)}", "     ").rstrip())
        out.append(textwrap.indent(f"=> {_value(s.output)}", "   "))
        if s.note:
            out.append(f"   note: {s.note}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _markdown(steps: Iterable[Step]) -> str:
    out: list[str] = []
    for n, s in enumerate(steps, 1):
        out.append(f"### {n}. {s.name}\n")
        out.append(f"*{s.rfc}* — `{s.formula}`\n")
        out.append("| value | |\n|---|---|")
        for k, v in s.inputs.items():
            out.append(f"| {k} | `{_value(v, 10**6)}` |")
        out.append(f"| **output** | `{_value(s.output, 10**6)}` |\n")
        if s.note:
            out.append(f"{s.note}\n")
    return "\n".join(out)


def render(steps: Iterable[Step], fmt: str = "text") -> str:
    """Render ``steps`` as ``text``, ``markdown`` or ``json``."""
    if fmt == "json":
        return json.dumps([s.to_json() for s in steps], indent=2) + "\n"
    if fmt == "markdown":
        return _markdown(steps)
    if fmt == "text":
        return _text(steps)
    raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
