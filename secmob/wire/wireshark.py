"""Wireshark's ESP SA table (``esp_sa``, Wireshark 4.0) as text records.

A record of the "ESP SAs" table (a UAT, "user accessible table") holds, in
this order, the protocol (``"IPv4"``/``"IPv6"``), the source and destination
addresses of the packets (``*`` matches any), the SPI as ``0x`` and eight hex
digits, the encryption algorithm by its Wireshark name and its key as ``0x``
hex (``key || salt`` for AES-CTR and AES-GCM), the authentication algorithm
by its Wireshark name and its key. :mod:`secmob.ipsec.export` fills records
from security associations, :mod:`secmob.ike.wireshark` from negotiated SAs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "NO_AUTHENTICATION",
    "WIRESHARK_CIPHERS",
    "WIRESHARK_INTEGRITY",
    "WiresharkSA",
    "esp_sa_file",
    "tshark_options",
]

#: IKEv2 encryption transform id -> Wireshark 4.0 "Encryption algorithm".
WIRESHARK_CIPHERS: dict[int, str] = {
    2: "DES-CBC [RFC2405]",
    3: "TripleDES-CBC [RFC2451]",
    11: "NULL",
    12: "AES-CBC [RFC3602]",
    13: "AES-CTR [RFC3686]",
    18: "AES-GCM with 8 octet ICV [RFC4106]",
    19: "AES-GCM with 12 octet ICV [RFC4106]",
    20: "AES-GCM with 16 octet ICV [RFC4106]",
}

#: IKEv2 integrity transform id -> Wireshark 4.0 "Authentication algorithm".
WIRESHARK_INTEGRITY: dict[int, str] = {
    1: "HMAC-MD5-96 [RFC2403]",
    2: "HMAC-SHA-1-96 [RFC2404]",
    12: "HMAC-SHA-256-128 [RFC4868]",
    13: "HMAC-SHA-384-192 [RFC4868]",
    14: "HMAC-SHA-512-256 [RFC4868]",
}

#: The authentication name of combined modes and ENCR_NULL without integrity.
NO_AUTHENTICATION = "NULL"


def _hex(key: bytes) -> str:
    return "0x" + key.hex() if key else ""


@dataclass(frozen=True, slots=True)
class WiresharkSA:
    """One record of Wireshark's ``esp_sa`` table; ``repr`` hides the keys."""

    protocol: str  #: "IPv4" or "IPv6"
    source: str  #: address or "*"
    destination: str  #: address or "*"
    spi: int
    encryption: str  #: Wireshark's name of the encryption algorithm
    encryption_key: bytes = field(repr=False)
    authentication: str  #: Wireshark's name of the authentication algorithm
    authentication_key: bytes = field(repr=False)

    def fields(self) -> tuple[str, ...]:
        """The eight fields in Wireshark's order, as text."""
        return (self.protocol, self.source, self.destination, f"0x{self.spi:08x}",
                self.encryption, _hex(self.encryption_key), self.authentication,
                _hex(self.authentication_key))

    def record(self) -> str:
        """The record as a line of the ``esp_sa`` file (and of ``-o uat:esp_sa:``)."""
        return ",".join(f'"{f}"' for f in self.fields())


def esp_sa_file(sas: Iterable[WiresharkSA]) -> str:
    """The text of the ``esp_sa`` file of a Wireshark profile directory
    (e.g. ``~/.config/wireshark/esp_sa``), one record per line."""
    return "".join(sa.record() + "\n" for sa in sas)


def tshark_options(sas: Iterable[WiresharkSA], *, check_icv: bool = True) -> list[str]:
    """tshark arguments that decrypt (and check the ICV of) ESP with ``sas``:
    the two ESP preferences and one ``-o uat:esp_sa:RECORD`` per SA."""
    args = ["-o", "esp.enable_encryption_decode:TRUE"]
    if check_icv:
        args += ["-o", "esp.enable_authentication_check:TRUE"]
    for sa in sas:
        args += ["-o", f"uat:esp_sa:{sa.record()}"]
    return args
