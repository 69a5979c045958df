"""Encoding helper shared by the codecs: field values that do not fit their
width become :class:`~secmob.errors.UsageError` instead of ``struct.error``."""

from __future__ import annotations

import struct
from collections.abc import Callable

from secmob._buffer import Writer
from secmob.errors import UsageError


def encoded(name: str, encode: Callable[[Writer], None]) -> bytes:
    """Run ``encode`` on a fresh :class:`Writer` and return the octets."""
    w = Writer()
    try:
        encode(w)
    except UsageError:
        raise
    except (struct.error, ValueError, OverflowError) as exc:
        raise UsageError(f"{name}: a field value does not fit its width ({exc})") from exc
    return w.getvalue()
