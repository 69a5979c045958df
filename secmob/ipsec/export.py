"""Export ESP SAs for Wireshark and tshark (the ``esp_sa`` table of Wireshark 4.0).

Wireshark decrypts ESP and checks its ICV when it knows the SA: a record of
its "ESP SAs" table (a UAT, "user accessible table", named ``esp_sa``) holds,
in this order,

1. the protocol, ``"IPv4"`` or ``"IPv6"``;
2. the source and 3. the destination address of the packets (``*`` matches
   any; in tunnel mode these are the outer, tunnel addresses);
4. the SPI, as ``0x`` and eight hexadecimal digits;
5. the encryption algorithm by its Wireshark name, 6. its key as ``0x`` hex;
7. the authentication algorithm by its Wireshark name, 8. its key.

The keys are given exactly as ESP uses them: for AES-CTR (RFC 3686 §5.1) and
AES-GCM (RFC 4106 §8.1) the 4-octet nonce or salt follows the AES key.
Combined modes take the authentication algorithm ``"NULL"``.

Wireshark 4.0 spells the algorithms as in :data:`WIRESHARK_CIPHERS` and
:data:`WIRESHARK_INTEGRITY` (keyed by IKEv2 transform id). It has no AES-CCM,
AES-GMAC, ChaCha20-Poly1305, AES-XCBC or AES-CMAC, no AH SA table (it never
checks an AH ICV) and no Extended Sequence Numbers: it authenticates the
packet as sent, without the implicit high half of RFC 4303 §2.2.1, so every
ICV of an ESN SA shows as bad. Exporting those raises
:class:`~secmob.errors.UsageError` (ESN unless ``allow_esn=True``, which
keeps decryption but not the ICV check).

:meth:`WiresharkSA.record` gives one table line; :func:`esp_sa_file` the
whole ``esp_sa`` file of a Wireshark profile; :func:`tshark_options` the
``-o`` options that make tshark decrypt and check a capture without a
profile.
"""

from __future__ import annotations

import ipaddress

from secmob.algorithms.base import check_length
from secmob.errors import UsageError
from secmob.ipsec.common import Mode
from secmob.ipsec.sad import Address, Protocol, SecurityAssociation, packed_address
from secmob.wire.wireshark import (
    NO_AUTHENTICATION,
    WIRESHARK_CIPHERS,
    WIRESHARK_INTEGRITY,
    WiresharkSA,
    esp_sa_file,
    tshark_options,
)

__all__ = [
    "WIRESHARK_CIPHERS",
    "WIRESHARK_INTEGRITY",
    "WiresharkSA",
    "esp_sa_file",
    "tshark_options",
    "wireshark_sa",
]

_ANY = "*"


def _text(addr: bytes | None) -> str:
    return _ANY if addr is None else str(ipaddress.ip_address(addr))


def _override(own: bytes | None, given: Address | None) -> str:
    if given is None:
        return _text(own)
    return _ANY if given == _ANY else _text(packed_address(given))


def wireshark_sa(
    sa: SecurityAssociation,
    *,
    cipher_key: bytes,
    integrity_key: bytes = b"",
    source: Address | None = None,
    destination: Address | None = None,
    allow_esn: bool = False,
) -> WiresharkSA:
    """The ``esp_sa`` record of an ESP SA.

    secmob keeps no keys in an SA, only keyed contexts, so the keys the SA
    was made with are passed again: ``cipher_key`` is ``key || salt``
    (empty for ENCR_NULL), ``integrity_key`` empty for a combined mode.

    The addresses are those of the packets as captured: the tunnel endpoints
    of a tunnel-mode SA (``tunnel_source`` -> ``tunnel_destination``, the
    direction the engine writes them on output), else the SA's
    ``source``/``destination``, ``*`` where the SA has none.
    ``source``/``destination`` override them (an address or ``"*"``).

    Raises :class:`~secmob.errors.UsageError` for an AH SA, an algorithm
    Wireshark 4.0 lacks, an ESN SA (unless ``allow_esn``), a key of the wrong
    length (:class:`~secmob.errors.InvalidKeyLength`) or when neither the SA
    nor the arguments tell the address family.
    """
    if sa.protocol is not Protocol.ESP:
        raise UsageError("Wireshark 4.0 has SA tables for ESP only; it checks no AH ICV")
    cipher = sa.cipher
    assert cipher is not None  # every ESP SA has one
    encryption = WIRESHARK_CIPHERS.get(cipher.ikev2_id)
    if encryption is None:
        raise UsageError(f"Wireshark 4.0 cannot decrypt {cipher.name}; it knows "
                         + ", ".join(WIRESHARK_CIPHERS.values()))
    cipher.split_keymat(cipher_key)  # checks key || salt length
    authentication = NO_AUTHENTICATION
    if sa.integrity is not None:
        name = WIRESHARK_INTEGRITY.get(sa.integrity.ikev2_id)
        if name is None:
            raise UsageError(f"Wireshark 4.0 cannot check {sa.integrity.name}; it knows "
                             + ", ".join(WIRESHARK_INTEGRITY.values()))
        check_length(f"{sa.integrity.name} key", integrity_key, sa.integrity.key_sizes)
        authentication = name
    elif integrity_key:
        raise UsageError(f"{cipher.name} is a combined mode; it takes no integrity key")
    if sa.esn and not allow_esn:
        raise UsageError("Wireshark 4.0 has no Extended Sequence Numbers: every ICV of this "
                         "SA would show as bad (pass allow_esn=True to decrypt only)")
    if sa.mode is Mode.TUNNEL:
        src, dst = sa.tunnel_source, sa.tunnel_destination
    else:
        src, dst = sa.source, sa.destination
    src_text, dst_text = _override(src, source), _override(dst, destination)
    families = {":" in t for t in (src_text, dst_text) if t != _ANY}
    if len(families) != 1:
        why = "mix IPv4 and IPv6" if families else "are both unknown"
        raise UsageError(f"the SA's packet addresses {why}; give source= and destination=")
    return WiresharkSA("IPv6" if families.pop() else "IPv4", src_text, dst_text, sa.spi,
                       encryption, cipher_key, authentication,
                       integrity_key if sa.integrity is not None else b"")
