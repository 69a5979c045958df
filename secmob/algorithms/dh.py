"""Diffie-Hellman groups for IKE (MODP, ECP, Curve25519 and a teaching group).

Registered in :data:`DH_GROUPS`, keyed by the IKE group number (RFC 7296
§3.3.2 Transform Type 4, identical to the IKEv1 Oakley group description).
"""

from __future__ import annotations

from typing import Any

from secmob.algorithms.registry import Registry

__all__ = ["DH_GROUPS"]

#: Diffie-Hellman groups by IKE group number.
DH_GROUPS: Registry[Any] = Registry("Diffie-Hellman group")
