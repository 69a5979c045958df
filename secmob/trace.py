"""Tracing of cryptographic steps, for teaching and debugging.

Functions that perform a crypto step take an optional ``tracer`` argument
(default ``None``). When one is given they report each step as a
:class:`Step`: its name, the formula in the RFC's notation, the RFC section,
the named inputs and the output. Nothing is computed for tracing when no
tracer is passed, so the hot paths pay one ``is not None`` test.

:class:`Recorder` keeps the steps in order; :mod:`secmob.explain` renders them
as text, Markdown or JSON.

Traces contain real key material -- that is their purpose -- so they are
produced only when a caller explicitly asks for one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias

from secmob.errors import UsageError

__all__ = ["Recorder", "Step", "TraceValue", "Tracer", "emit"]

TraceValue: TypeAlias = "bytes | int | str"


@dataclass(frozen=True)
class Step:
    """One reported step of a computation.

    The values (often keys) are in :attr:`inputs` and :attr:`output`, and in
    :meth:`to_json` and the :mod:`secmob.explain` renderings; ``repr`` names
    the inputs without their values.
    """

    name: str
    formula: str
    rfc: str
    inputs: Mapping[str, TraceValue]
    output: TraceValue
    note: str = ""

    def __repr__(self) -> str:
        return (f"Step({self.name!r}, {self.formula!r}, {self.rfc!r}, "
                f"inputs {list(self.inputs)} (values hidden))")

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict with byte strings as lowercase hex."""

        def conv(v: TraceValue) -> object:
            return v.hex() if isinstance(v, bytes) else v

        return {
            "name": self.name,
            "formula": self.formula,
            "rfc": self.rfc,
            "inputs": {k: conv(v) for k, v in self.inputs.items()},
            "output": conv(self.output),
            "note": self.note,
        }


class Tracer(Protocol):
    """Anything that accepts reported steps."""

    def step(self, step: Step) -> None: ...


@dataclass(repr=False)
class Recorder:
    """A tracer that records every step in order (``repr`` lists their names only)."""

    steps: list[Step] = field(default_factory=list)

    def step(self, step: Step) -> None:
        self.steps.append(step)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"Recorder({[s.name for s in self.steps]})"

    def find(self, name: str) -> Step:
        """The first recorded step called ``name``
        (:class:`~secmob.errors.UsageError` if none)."""
        for s in self.steps:
            if s.name == name:
                return s
        raise UsageError(f"no step named {name!r} was recorded; recorded: "
                         f"{', '.join(dict.fromkeys(s.name for s in self.steps)) or 'none'}")


def emit(
    tracer: Tracer | None,
    name: str,
    formula: str,
    rfc: str,
    inputs: Mapping[str, TraceValue],
    output: TraceValue,
    note: str = "",
) -> None:
    """Report a step to ``tracer`` if there is one.

    Call sites on hot paths should test ``tracer is not None`` themselves
    before building ``inputs``; this helper is for the rest.
    """
    if tracer is not None:
        tracer.step(Step(name, formula, rfc, dict(inputs), output, note))
