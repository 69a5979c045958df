"""What Wireshark needs to show an IKEv1 exchange: a capture and a decryption table.

:func:`isakmp_capture` writes ISAKMP messages into a classic pcap file as
IPv4/UDP datagrams on port 500 (RFC 2408 §2.5.2), the initiator's and the
responder's in turn. :func:`wireshark_ikev1_table` gives the lines of
Wireshark's ISAKMP preference ``ikev1_decryption_table`` (a UAT whose records
are the initiator cookie and the phase 1 encryption key, both in hex); with it
Wireshark decrypts Main Mode messages 5 and 6 and the Quick Mode that follows,
computing the IVs itself as RFC 2409 Appendix B says. For tshark::

    tshark -o 'uat:ikev1_decryption_table:<icookie hex>,<key hex>' -r capture.pcap -V

:func:`wireshark_esp_sa` does the same for the ESP SAs a Quick Mode produced:
one record of the ESP preference ``esp_sa`` (with ``esp.enable_encryption_decode``
on, Wireshark decrypts the tunnelled packets)::

    tshark -o esp.enable_encryption_decode:TRUE -o 'uat:esp_sa:<record>' -r esp.pcap -V

The tables hold keys: they are for debugging captures of test exchanges.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from secmob.errors import UnsupportedAlgorithm, UsageError
from secmob.ike.handoff import NegotiatedSA
from secmob.ike.ikev1_config import Phase1Done
from secmob.ike.ikev1_exchange import Session
from secmob.wire.ipv4 import IPv4Packet
from secmob.wire.l4 import UDP
from secmob.wire.pcap import PcapRecord, pcap_bytes
from secmob.wire.wireshark import (
    NO_AUTHENTICATION,
    WIRESHARK_CIPHERS,
    WIRESHARK_INTEGRITY,
    WiresharkSA,
)

__all__ = [
    "ISAKMP_PORT",
    "isakmp_capture",
    "wireshark_esp_sa",
    "wireshark_ikev1_table",
    "wireshark_ikev1_uat",
]

#: The UDP port of ISAKMP (RFC 2408 §2.5.2).
ISAKMP_PORT = 500

def _phase1(source: Session | Phase1Done) -> Phase1Done:
    done = source.phase1 if isinstance(source, Session) else source
    if done is None:
        raise UsageError(f"{source!r} has not finished Main Mode: there is no key yet")
    return done


def wireshark_ikev1_table(*sources: Session | Phase1Done) -> str:
    """The contents of an ``ikev1_decryption_table`` file: one line per phase 1
    SA, ``<initiator cookie hex>,<encryption key hex>`` (hex fields of a UAT
    record are written without quotes)."""
    return "".join(wireshark_ikev1_uat(s) + "\n" for s in sources)


def wireshark_ikev1_uat(source: Session | Phase1Done) -> str:
    """One ``ikev1_decryption_table`` record (also the value after
    ``uat:ikev1_decryption_table:`` in a tshark ``-o`` option)."""
    done = _phase1(source)
    return f"{done.initiator_cookie.hex()},{done.encryption_key.hex()}"


def isakmp_capture(messages: Sequence[bytes], initiator: bytes = bytes([192, 0, 2, 1]),
                   responder: bytes = bytes([192, 0, 2, 2]), *, start: int = 0,
                   ) -> bytes:
    """A pcap file (link type RAW) with ``messages`` as IPv4/UDP port 500 datagrams.

    Message 1, 3, 5 ... go from ``initiator`` to ``responder`` and the others
    back; packets are timestamped ``start``, ``start + 1`` ... seconds.
    """
    def records() -> Iterable[PcapRecord]:
        for n, msg in enumerate(messages):
            src, dst = (initiator, responder) if n % 2 == 0 else (responder, initiator)
            udp = UDP.build(ISAKMP_PORT, ISAKMP_PORT, msg)
            packet = IPv4Packet.build(src, dst, payload=udp, identification=n + 1)
            yield PcapRecord(start + n, 0, packet.to_bytes())

    return pcap_bytes(records())


def wireshark_esp_sa(sa: NegotiatedSA, source: str, destination: str) -> str:
    """One ``esp_sa`` record for ``sa``, whose packets go from ``source`` to
    ``destination`` (the outer IPv4 or IPv6 addresses, as text).

    Raises :class:`~secmob.errors.UnsupportedAlgorithm` for an algorithm
    Wireshark 4.0 cannot decrypt or check.
    """
    encryption = WIRESHARK_CIPHERS.get(sa.encryption_id or 0)
    integrity = (WIRESHARK_INTEGRITY.get(sa.integrity_id) if sa.integrity_id
                 else NO_AUTHENTICATION)
    if encryption is None or integrity is None:
        raise UnsupportedAlgorithm(f"Wireshark has no ESP decryption for {sa.encryption} / "
                                   f"{sa.integrity}")
    family = "IPv6" if ":" in source else "IPv4"
    return WiresharkSA(family, source, destination, sa.spi, encryption, sa.encryption_key,
                       integrity, sa.integrity_key).record()
