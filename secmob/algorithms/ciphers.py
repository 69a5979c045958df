"""ESP encryption and combined-mode transforms.

Registered in :data:`ENCRYPTION`, keyed by IKEv2 transform type 1 ids
(RFC 7296 §3.3.2, IANA "Transform Type 1 - Encryption Algorithm Transform
IDs"), with the IKEv1 ESP transform ids (RFC 2407 §4.4.4) and Oakley phase 1
encryption numbers (RFC 2409 Appendix A).
"""

from __future__ import annotations

from secmob.algorithms.base import CipherAlgorithm
from secmob.algorithms.registry import Registry

__all__ = ["ENCRYPTION"]

#: ESP encryption transforms by IKEv2 id.
ENCRYPTION: Registry[CipherAlgorithm] = Registry("encryption")
