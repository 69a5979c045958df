"""The secmob exception tree.

Every error secmob raises derives from :class:`SecmobError`. The tree says whose
fault a failure is:

* :class:`WireError` -- the bytes that arrived are at fault (a peer, the network or
  an attacker): malformed or truncated packets, failed integrity checks,
  replays, unknown SPIs, invalid Diffie-Hellman public values, rejected
  proposals, refused bindings. Callers usually drop the packet and count it.
* :class:`SAStateError` -- a security association can no longer be used:
  its lifetime ran out or its sequence number space is exhausted. The remedy
  is to rekey.
* :class:`UsageError` -- the caller asked for something impossible: an
  unknown algorithm, a key of the wrong length, an inconsistent
  configuration. These are also :class:`ValueError` so that generic code
  catching ``ValueError`` sees them.

Messages say what was expected and what was found. They never contain key
material, a computed MAC or a plaintext.
"""

from __future__ import annotations

__all__ = [
    "BindingError",
    "DecodeError",
    "IntegrityError",
    "InvalidKeyLength",
    "InvalidPublicValue",
    "NegotiationError",
    "NonceExpired",
    "PaddingError",
    "PolicyViolation",
    "ReplayError",
    "SAExpired",
    "SAStateError",
    "SecmobError",
    "SequenceOverflow",
    "Truncated",
    "UnknownSPI",
    "UnsupportedAlgorithm",
    "UsageError",
    "VectorFileError",
    "WireError",
]


class SecmobError(Exception):
    """Root of every exception raised by secmob."""


# --------------------------------------------------------------------------
# Bad input from the wire / the peer
# --------------------------------------------------------------------------


class WireError(SecmobError):
    """Input received from the network (or a peer) is unacceptable."""


class DecodeError(WireError):
    """Bytes do not form a valid instance of a wire format.

    ``header`` names the structure being decoded (``"IPv6"``, ``"ESP"``,
    ``"Binding Update"``, ...) and ``offset`` is the octet offset, relative to
    the start of the buffer handed to the decoder, at which the problem was
    found (``None`` when not meaningful).
    """

    def __init__(self, header: str, message: str, offset: int | None = None) -> None:
        self.header = header
        self.offset = offset
        where = f" at offset {offset}" if offset is not None else ""
        super().__init__(f"{header}{where}: {message}")


class Truncated(DecodeError):
    """The input ends before the structure does (more bytes were needed)."""

    def __init__(self, header: str, offset: int, needed: int, available: int) -> None:
        self.needed = needed
        self.available = available
        super().__init__(
            header,
            f"truncated: needed {needed} octet(s), only {available} available",
            offset,
        )


class IntegrityError(WireError):
    """An ICV, authentication tag, MAC or keyed hash did not verify.

    Raised before any decrypted data is released. The message names the
    algorithm and the context, never the expected or computed value.
    """


class PaddingError(WireError):
    """ESP padding, pad length or trailer is invalid after authentication (RFC 4303 §2.4)."""


class ReplayError(WireError):
    """A sequence number was already received or lies left of the anti-replay window.

    ``sequence`` is the (full, ESN-extended when applicable) sequence number.
    """

    def __init__(self, message: str, sequence: int | None = None) -> None:
        self.sequence = sequence
        super().__init__(message)


class UnknownSPI(WireError):
    """No SA in the SAD matches the SPI (and destination / protocol) of a packet."""

    def __init__(self, spi: int, message: str | None = None) -> None:
        self.spi = spi
        super().__init__(message or f"no security association for SPI 0x{spi:08x}")


class PolicyViolation(WireError):
    """A packet contradicts the SPD: discarded by policy, or decrypted but not
    matching the selectors of the SA it arrived on (RFC 4301 §5.2)."""


class InvalidPublicValue(WireError):
    """A Diffie-Hellman public value (or ECP point) from the peer is unacceptable."""


class NegotiationError(WireError):
    """A proposal or exchange was rejected.

    ``notify`` is the ISAKMP/IKE notify message type that a responder would
    send (e.g. 14, NO-PROPOSAL-CHOSEN).
    """

    NO_PROPOSAL_CHOSEN = 14
    INVALID_PAYLOAD_TYPE = 1
    INVALID_HASH_INFORMATION = 23
    AUTHENTICATION_FAILED = 24
    PAYLOAD_MALFORMED = 16

    def __init__(self, message: str, notify: int = NO_PROPOSAL_CHOSEN) -> None:
        self.notify = notify
        super().__init__(message)


class BindingError(WireError):
    """A Mobile IPv6 binding operation failed.

    ``status`` is the Binding Acknowledgement status code (RFC 6275 §6.1.8,
    RFC 3963 §4.2) that reports the failure; ``expected_sequence`` is set for
    status 135 (sequence number out of window).
    """

    def __init__(
        self, message: str, status: int, expected_sequence: int | None = None
    ) -> None:
        self.status = status
        self.expected_sequence = expected_sequence
        super().__init__(f"{message} (status {status})")


class NonceExpired(BindingError):
    """A Return Routability nonce index no longer names a usable nonce
    (statuses 136, 137 or 138 of RFC 6275 §6.1.8)."""


# --------------------------------------------------------------------------
# Security association state
# --------------------------------------------------------------------------


class SAStateError(SecmobError):
    """A security association can no longer be used; it has to be rekeyed."""


class SAExpired(SAStateError):
    """The hard lifetime (seconds, bytes or packets) of an SA was reached (RFC 4301 §4.4.2.1)."""


class SequenceOverflow(SAStateError):
    """The outbound sequence number would wrap (2^32 - 1, or 2^64 - 1 with ESN),
    RFC 4303 §3.3.3."""


# --------------------------------------------------------------------------
# Caller misuse
# --------------------------------------------------------------------------


class UsageError(SecmobError, ValueError):
    """The caller asked for something secmob cannot do as asked."""


class UnsupportedAlgorithm(UsageError, KeyError):
    """No algorithm (or group) is registered under the given name or number."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "unsupported algorithm"


class InvalidKeyLength(UsageError):
    """A key, IV, nonce or salt has a length the algorithm does not accept."""


class VectorFileError(UsageError):
    """A vector file is unreadable or does not follow the schema of docs/vectors.md."""
