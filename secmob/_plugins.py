"""Registration by import: the modules of a package register themselves
(vector families, explain topics) when they are imported."""

from __future__ import annotations

import functools
import importlib
import pkgutil

__all__ = ["import_all"]


@functools.cache
def import_all(package: str) -> None:
    """Import every module of ``package`` once."""
    pkg = importlib.import_module(package)
    for mod in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{package}.{mod.name}")
