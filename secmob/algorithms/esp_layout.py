"""What a cipher fixes in the layout of an ESP packet (RFC 4303 §2.3, §2.4).

The security association computes these once when it is created
(:class:`secmob.ipsec.sad.SecurityAssociation`); :mod:`secmob.ipsec.esp`
offers them as public helpers (``counter_iv``, ``padding``) through the same
functions.
"""

from __future__ import annotations

from math import lcm

from secmob.algorithms.base import CipherAlgorithm

__all__ = ["counter_iv", "pad_alignment"]


def counter_iv(cipher: CipherAlgorithm) -> bool:
    """True if ``cipher`` needs a never-repeating IV rather than a random one.

    CBC transforms carry an IV of exactly one cipher block (RFC 3602 §3,
    RFC 2451); the counter-based transforms carry 8 octets whatever their
    block (RFC 3686 §3.1, RFC 4106 §3.1, RFC 4309 §3.1, RFC 7634 §2,
    RFC 4543 §3.1).
    """
    return cipher.aead or cipher.iv_size != cipher.block_size


def pad_alignment(cipher: CipherAlgorithm) -> int:
    """The multiple that ``payload | Padding | Pad Length | Next Header``
    must reach (RFC 4303 §2.4): the cipher's block size and 4, so that the
    ICV is 4-octet aligned."""
    return lcm(cipher.block_size or 1, 4)
