"""Teaching output: render the steps a :class:`~secmob.trace.Recorder` collected.

``secmob explain TOPIC`` runs a topic (a worked example that calls the real
library code with a recorder attached) and renders its steps as text,
Markdown or JSON. Topics live in :mod:`secmob.explain.walkthroughs`, one module per
area, each registering itself with :func:`topic`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from secmob._plugins import import_all
from secmob.errors import UsageError
from secmob.explain.render import FORMATS, render
from secmob.trace import Recorder

__all__ = ["Topic", "render", "render_formats", "topic", "topics"]


@dataclass(frozen=True)
class Topic:
    """A worked example: ``configure`` adds its options, ``run`` records its steps."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], Recorder]


_TOPICS: dict[str, Topic] = {}


def render_formats() -> tuple[str, ...]:
    """The output formats :func:`render` accepts."""
    return FORMATS


def _no_options(parser: argparse.ArgumentParser) -> None:
    """A topic without options."""


def topic(
    name: str, help: str, configure: Callable[[argparse.ArgumentParser], None] = _no_options
) -> Callable[[Callable[[argparse.Namespace], Recorder]], Callable[[argparse.Namespace], Recorder]]:
    """Decorator registering ``run`` as the explain topic ``name``."""

    def deco(
        run: Callable[[argparse.Namespace], Recorder],
    ) -> Callable[[argparse.Namespace], Recorder]:
        if name in _TOPICS:
            raise UsageError(f"explain topic {name!r} registered twice")
        _TOPICS[name] = Topic(name, help, configure, run)
        return run

    return deco


def topics() -> dict[str, Topic]:
    """Every registered topic (importing all of :mod:`secmob.explain.walkthroughs`)."""
    import_all("secmob.explain.walkthroughs")
    return dict(_TOPICS)
