"""Enumerations shared by the SPD, the SAD and the engine (RFC 4301)."""

from __future__ import annotations

import enum

__all__ = ["Direction", "Mode"]


class Direction(enum.Enum):
    """Which way a packet crosses the IPsec boundary (RFC 4301 §5)."""

    OUTBOUND = "out"
    INBOUND = "in"


class Mode(enum.Enum):
    """IPsec mode of an SA or SA template (RFC 4301 §4.1)."""

    TRANSPORT = "transport"
    TUNNEL = "tunnel"
