"""Return Routability: keygen tokens, Kbm and the binding authenticator
(RFC 6275 §5.2, §6.2.7, §9.4, §9.5.1; constants of §12).

The formulas (``|`` is concatenation, ``First(n, x)`` the first n bits)::

    home keygen token    = First(64, HMAC_SHA1(Kcn, home address | nonce | 0))
    care-of keygen token = First(64, HMAC_SHA1(Kcn, care-of address | nonce | 1))
    Kbm                  = SHA1(home keygen token | care-of keygen token)
    Kbm (deregistration) = SHA1(home keygen token)
    Authenticator        = First(96, HMAC_SHA1(Kbm, care-of address |
                                               correspondent | MH Data))

where the final ``0``/``1`` are single octets (§5.2.5) and "MH Data" is the
Mobility Header with its Checksum taken as zero and the Authenticator left out
(:func:`secmob.wire.mobility.authenticated_data`). A deregistration is a
Binding Update with Lifetime 0 (§6.1.7, §9.5.1; RFC 3775 also counted a
care-of address equal to the home address, RFC 6275 does not): its Kbm uses the
home keygen token alone (§5.2.5) and the home address stands in for the
care-of address in the authenticator (§6.2.7).

Pure functions compute each step; the nodes that keep state and use them
(:class:`~secmob.mip6.rr.NonceTable`, :class:`~secmob.mip6.rr.Correspondent`,
:class:`~secmob.mip6.rr.MobileNode`) are in :mod:`secmob.mip6.rr`, which
re-exports everything defined here.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from secmob.algorithms.integrity import hmac_once, keyed_hmac
from secmob.errors import IntegrityError, UsageError
from secmob.trace import Tracer, emit
from secmob.wire import mobility as mh
from secmob.wire.mobility_options import (
    BindingAuthorizationData,
    MobilityOption,
    align_options,
)

__all__ = [
    "AUTHENTICATOR_LENGTH",
    "COOKIE_LENGTH",
    "KCN_LENGTH",
    "MAX_NONCE_LIFETIME",
    "MAX_RR_BINDING_LIFETIME",
    "MAX_TOKEN_LIFETIME",
    "NONCE_LENGTH",
    "TOKEN_LENGTH",
    "Rng",
    "authenticator",
    "binding_management_key",
    "care_of_keygen_token",
    "hmac_sha1_under",
    "home_keygen_token",
    "sign_message",
    "verify_authenticator",
]

Rng = Callable[[int], bytes]

KCN_LENGTH = 20
"""Kcn is a 20-octet HMAC-SHA1 key (§5.2.1)."""
NONCE_LENGTH = 8
"""Octets drawn for each nonce (§5.2.2 leaves the size to the node; 64 bits)."""
COOKIE_LENGTH = 8
"""Home and care-of init cookies are 64 bits (§5.2.4, §6.1.3)."""
TOKEN_LENGTH = 8
"""Keygen tokens are 64 bits (§5.2.5)."""
AUTHENTICATOR_LENGTH = 12
"""The Authenticator is 96 bits (§6.2.7)."""
MAX_NONCE_LIFETIME = 240
"""Seconds a nonce stays acceptable after it is made (§12)."""
MAX_TOKEN_LIFETIME = 210
"""Seconds a keygen token may be used by the mobile node (§12)."""
MAX_RR_BINDING_LIFETIME = 420
"""Longest binding lifetime, in seconds, granted on Return Routability (§12)."""

_RFC_TOKEN = "RFC 6275 §5.2.5"
_RFC_AUTH = "RFC 6275 §6.2.7"


def _need(name: str, value: bytes, n: int) -> None:
    if len(value) != n:
        raise UsageError(f"{name} must be {n} octets, got {len(value)}")


def hmac_sha1_under(key: bytes) -> Callable[[bytes], bytes]:
    """HMAC_SHA1(``key``, ·) (RFC 2104) as a function of the message, for a
    key used many times (a correspondent's Kcn, §5.2.5): the keyed SHA-1
    states are made once (:func:`secmob.algorithms.integrity.keyed_hmac`).
    The function's repr shows no key."""
    return keyed_hmac(hashlib.sha1, key)


def _keygen_token(kcn: bytes, address: bytes, nonce: bytes, which: str, octet: int,
                  tracer: Tracer | None, mac: Callable[[bytes], bytes] | None) -> bytes:
    """First(64, HMAC_SHA1(Kcn, address | nonce | octet)) (§5.2.5); ``mac``,
    when given, is HMAC_SHA1(Kcn, ·) already keyed (:func:`hmac_sha1_under`)."""
    _need(f"{which} address", address, 16)
    message = address + nonce + bytes((octet,))
    token = (hmac_once(hashlib.sha1, kcn, message) if mac is None
             else mac(message))[:TOKEN_LENGTH]
    if tracer is not None:
        emit(tracer, f"{which} keygen token",
             f"First(64, HMAC_SHA1(Kcn, {which} address | nonce | {octet}))", _RFC_TOKEN,
             {"Kcn": kcn, f"{which} address": address, "nonce": nonce}, token)
    return token


def home_keygen_token(kcn: bytes, home_address: bytes, nonce: bytes,
                      tracer: Tracer | None = None, *,
                      mac: Callable[[bytes], bytes] | None = None) -> bytes:
    """First(64, HMAC_SHA1(Kcn, home address | nonce | 0)) (§5.2.5); the final
    0 is one zero octet. ``mac``: HMAC_SHA1(Kcn, ·) keyed once
    (:func:`hmac_sha1_under`), for a Kcn that makes many tokens."""
    return _keygen_token(kcn, home_address, nonce, "home", 0, tracer, mac)


def care_of_keygen_token(kcn: bytes, care_of_address: bytes, nonce: bytes,
                         tracer: Tracer | None = None, *,
                         mac: Callable[[bytes], bytes] | None = None) -> bytes:
    """First(64, HMAC_SHA1(Kcn, care-of address | nonce | 1)) (§5.2.5); the
    final 1 is one octet of value 1. ``mac`` as for :func:`home_keygen_token`."""
    return _keygen_token(kcn, care_of_address, nonce, "care-of", 1, tracer, mac)


def binding_management_key(home_token: bytes, care_of_token: bytes | None = None,
                           tracer: Tracer | None = None) -> bytes:
    """Kbm = SHA1(home keygen token | care-of keygen token), or
    SHA1(home keygen token) when ``care_of_token`` is ``None`` (deregistration,
    §5.2.5)."""
    _need("home keygen token", home_token, TOKEN_LENGTH)
    if care_of_token is None:
        kbm = hashlib.sha1(home_token).digest()
        if tracer is not None:
            emit(tracer, "Kbm (deregistration)", "Kbm = SHA1(home keygen token)", _RFC_TOKEN,
                 {"home keygen token": home_token}, kbm)
        return kbm
    _need("care-of keygen token", care_of_token, TOKEN_LENGTH)
    kbm = hashlib.sha1(home_token + care_of_token).digest()
    if tracer is not None:
        emit(tracer, "Kbm", "Kbm = SHA1(home keygen token | care-of keygen token)",
             _RFC_TOKEN, {"home keygen token": home_token,
                          "care-of keygen token": care_of_token}, kbm)
    return kbm


def _tag(kbm: bytes, care_of_address: bytes, correspondent: bytes, mh_data: bytes) -> bytes:
    return hmac_once(hashlib.sha1, kbm,
                     care_of_address + correspondent + mh_data)[:AUTHENTICATOR_LENGTH]


def authenticator(kbm: bytes, care_of_address: bytes, correspondent: bytes, mh_data: bytes,
                  tracer: Tracer | None = None) -> bytes:
    """First(96, HMAC_SHA1(Kbm, care-of address | correspondent | MH Data)) (§6.2.7)."""
    _need("care-of address", care_of_address, 16)
    _need("correspondent address", correspondent, 16)
    tag = _tag(kbm, care_of_address, correspondent, mh_data)
    if tracer is not None:
        emit(tracer, "authenticator",
             "First(96, HMAC_SHA1(Kbm, care-of address | correspondent | MH Data))", _RFC_AUTH,
             {"Kbm": kbm, "care-of address": care_of_address, "correspondent": correspondent,
              "MH Data": mh_data}, tag)
    return tag


def verify_authenticator(kbm: bytes, care_of_address: bytes, correspondent: bytes,
                         mh_data: bytes, received: bytes, tracer: Tracer | None = None) -> None:
    """Recompute the authenticator and compare it in constant time; raise
    :class:`IntegrityError` on mismatch (§9.5.1, §11.7.3)."""
    if len(care_of_address) != 16 or len(correspondent) != 16:
        raise UsageError("care-of and correspondent addresses must be 16 octets")
    tag = _tag(kbm, care_of_address, correspondent, mh_data)
    ok = hmac.compare_digest(tag, received)
    if tracer is not None:
        emit(tracer, "verify authenticator",
             "received == First(96, HMAC_SHA1(Kbm, care-of address | correspondent | MH Data))",
             _RFC_AUTH, {"received": received, "computed": tag}, "valid" if ok else "INVALID")
    if not ok:
        raise IntegrityError("Binding Authorization Data: the Authenticator does not verify "
                             "(RFC 6275 §6.2.7)")


_Signed = TypeVar("_Signed", mh.BindingUpdate, mh.BindingAcknowledgement)


def sign_message(message: _Signed, kbm: bytes, care_of_address: bytes, correspondent: bytes,
                 source: bytes, destination: bytes,
                 tracer: Tracer | None = None) -> tuple[_Signed, bytes]:
    """Attach a Binding Authorization Data option computed with ``kbm``.

    Any existing Binding Authorization Data option is replaced; the options are
    re-aligned (§6.2.1) with the new one last. Returns the message and its
    bytes with the checksum computed over ``source``/``destination`` (see
    :mod:`secmob.wire.mobility` for which addresses).
    """
    draft: _Signed
    draft, tag, wire = _sign(message, kbm, care_of_address, correspondent, source, destination,
                             tracer)
    signed: _Signed = replace(draft, options=(*draft.options[:-1], BindingAuthorizationData(tag)),
                              checksum=int.from_bytes(wire[4:6], "big"))
    return signed, wire


def _sign(message: _Signed, kbm: bytes, care_of_address: bytes, correspondent: bytes,
          source: bytes, destination: bytes,
          tracer: Tracer | None) -> tuple[_Signed, bytes, bytes]:
    """:func:`sign_message` without the signed message object: the draft
    (placeholder Authenticator), the Authenticator and the signed bytes."""
    others: list[MobilityOption] = [
        o for o in message.options if not isinstance(o, BindingAuthorizationData)]
    draft: _Signed = replace(message, options=align_options((*others, _PLACEHOLDER),
                                                            6 + message.FIXED))
    return draft, *_sign_draft(draft, kbm, care_of_address, correspondent, source, destination,
                                tracer)


_PLACEHOLDER = BindingAuthorizationData(bytes(AUTHENTICATOR_LENGTH))
# The options of a Binding Acknowledgement signed by a correspondent node (§9.5.4).
_ACK_OPTIONS = align_options((_PLACEHOLDER,), 6 + mh.BindingAcknowledgement.FIXED)


# The bytes of BindingAcknowledgement(status=0, sequence=0, lifetime=0,
# options=_ACK_OPTIONS): the header, then the fixed part (Status, flags,
# Sequence #, Lifetime), then the options ending in the placeholder Authenticator.
_ACK_DRAFT = mh.BindingAcknowledgement(status=0, sequence=0, lifetime=0,
                                       options=_ACK_OPTIONS).to_bytes()
_ACK_HEAD, _ACK_OPTIONS_DATA = _ACK_DRAFT[:6], _ACK_DRAFT[12:-AUTHENTICATOR_LENGTH]
_ACK_FIXED = struct.Struct("!BBHH")


def _sign_acknowledgement(kbm: bytes, care_of_address: bytes, correspondent: bytes,
                          home_address: bytes, status: int, sequence: int, lifetime: int,
                          tracer: Tracer | None) -> bytes:
    """The signed bytes :func:`_sign_draft` gives for a Binding Acknowledgement
    with these fields, no flags and the options ``_ACK_OPTIONS`` (§9.5.4),
    written into the encoded template ``_ACK_DRAFT`` instead of encoding a
    message object. Its checksum uses ``correspondent`` as source and
    ``home_address`` as destination. The fields must be in range (8-bit status,
    16-bit sequence and lifetime)."""
    # MH Data (§6.2.7): the checksum zero, the Authenticator left out.
    draft = _ACK_HEAD + _ACK_FIXED.pack(status, 0, sequence, lifetime) + _ACK_OPTIONS_DATA
    body = draft + authenticator(kbm, care_of_address, correspondent, draft, tracer)
    checksum = mh.mh_checksum(correspondent, home_address, body)
    return body[:4] + checksum.to_bytes(2, "big") + body[6:]


def _sign_draft(draft: mh.MobilityMessage, kbm: bytes, care_of_address: bytes,
                correspondent: bytes, source: bytes, destination: bytes,
                tracer: Tracer | None) -> tuple[bytes, bytes]:
    """The Authenticator and the signed bytes of ``draft``, a message whose
    options end with a placeholder Binding Authorization Data option.

    The draft is encoded once; the Authenticator, the last 12 octets
    (:func:`secmob.wire.mobility.authenticated_data`), is then written over
    the placeholder and the checksum computed over the result."""
    raw = draft.to_bytes()
    data = mh.authenticated_data(raw, draft)
    tag = authenticator(kbm, care_of_address, correspondent, data, tracer)
    body = raw[:-AUTHENTICATOR_LENGTH] + tag
    checksum = mh.mh_checksum(source, destination, body)
    return tag, body[:4] + checksum.to_bytes(2, "big") + body[6:]
