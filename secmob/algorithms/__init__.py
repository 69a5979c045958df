"""Cryptographic transforms, one registry per kind keyed by IANA number.

* :data:`ENCRYPTION` -- ESP encryption and combined modes (IKEv2 transform type 1)
* :data:`INTEGRITY` -- AH/ESP integrity (type 3)
* :data:`PRFS` -- IKE pseudo-random functions (type 2)
* :data:`DH_GROUPS` -- Diffie-Hellman groups (type 4)

This package is the only part of secmob that imports ``cryptography`` or
``pycryptodome``.
"""

from secmob.algorithms.base import (
    CipherAlgorithm,
    CipherContext,
    IntegrityAlgorithm,
    IntegrityContext,
    PRFAlgorithm,
)
from secmob.algorithms.ciphers import ENCRYPTION
from secmob.algorithms.dh import DH_GROUPS
from secmob.algorithms.integrity import INTEGRITY
from secmob.algorithms.prf import PRFS
from secmob.algorithms.registry import Choice, Registry

__all__ = [
    "DH_GROUPS",
    "ENCRYPTION",
    "INTEGRITY",
    "PRFS",
    "Choice",
    "CipherAlgorithm",
    "CipherContext",
    "IntegrityAlgorithm",
    "IntegrityContext",
    "PRFAlgorithm",
    "Registry",
]
