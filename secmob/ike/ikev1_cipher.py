"""Encrypted IKEv1 messages: the phase 1 cipher and its IV chain (RFC 2409 Appendix B,
RFC 2408 §3.1).

After Main Mode message 4 every message body (the payload chain after the
ISAKMP header) is encrypted in CBC mode with the negotiated phase 1 cipher
under the key derived from SKEYID_e. The IV of the first encrypted message is
``hash(g^xi | g^xr)`` cut to the block size; each later message of the same
exchange uses the last ciphertext block of the previous one. A Quick Mode
exchange starts its own chain at ``hash(last phase 1 CBC output block | M-ID)``
(see :func:`secmob.ike.ikev1_keys.phase1_iv` and
:func:`~secmob.ike.ikev1_keys.phase2_iv`). Bodies are padded with zero
octets to a whole number of blocks; RFC 2408 §3.1 leaves the padding value
open and a receiver ignores what follows the last payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from secmob.algorithms import CipherAlgorithm, CipherContext
from secmob.errors import DecodeError
from secmob.trace import Tracer, emit

__all__ = ["MessageCipher"]

_CHAIN = "RFC 2409 Appendix B"


@dataclass(eq=False)
class MessageCipher:
    """The phase 1 cipher with its key and the IV of the next message.

    :meth:`encrypt` and :meth:`decrypt` move :attr:`iv` to the last
    ciphertext block. ``repr`` shows the algorithm only.
    """

    cipher: CipherAlgorithm
    key: bytes = field(repr=False)
    iv: bytes = field(repr=False)
    tracer: Tracer | None = field(default=None, repr=False)
    _ctx: CipherContext = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._ctx = self.cipher.new(self.key)

    def __repr__(self) -> str:
        return f"<MessageCipher {self.cipher.name} (key hidden)>"

    def encrypt(self, plaintext: bytes) -> bytes:
        """Pad ``plaintext`` with zero octets to the block size and encrypt it."""
        bs = self.cipher.block_size
        body = plaintext + bytes(-len(plaintext) % bs)
        ct = self._ctx.seal(self.iv, body)
        self._advance(ct)
        return ct

    def decrypt(self, ciphertext: bytes) -> bytes:
        """The padded plaintext of an encrypted message body.

        Raises :class:`~secmob.errors.DecodeError` when the body is empty or
        not a whole number of blocks (it cannot have been made by this cipher).
        """
        bs = self.cipher.block_size
        if not ciphertext or len(ciphertext) % bs:
            raise DecodeError("ISAKMP encrypted body",
                              f"{len(ciphertext)} octets is not a whole, non-zero number of "
                              f"{bs}-octet {self.cipher.name} blocks (RFC 2408 §3.1)", 28)
        plain = self._ctx.open(self.iv, ciphertext)
        self._advance(ciphertext)
        return plain

    def _advance(self, ciphertext: bytes) -> None:
        self.iv = ciphertext[-self.cipher.block_size:]
        if self.tracer is not None:
            emit(self.tracer, "next IV", "last ciphertext block of the previous message",
                 _CHAIN, {"cipher": self.cipher.name}, self.iv)
