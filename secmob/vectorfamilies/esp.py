"""Family ``esp-payload``: ESP packets (RFC 4303) and AH headers (RFC 4302).

Case fields:

* ``protocol``: ``"esp"`` (default) or ``"ah"``; ``operation``: ``"protect"``
  or ``"unprotect"``.
* SA: ``spi``, ``esn`` (default false), ``cipher`` (ESP; name or IKEv2 id)
  with ``cipher_key`` (``key || salt``, default empty), ``integrity`` (name
  or IKEv2 id) with ``integrity_key``, ``window`` (default 64).
* ESP protect: ``sequence`` (full number of this packet), ``next_header``,
  ``payload``, optional ``iv`` (what the RNG returns, for CBC) and
  ``tfc_pad``. Output ``esp``.
* ESP unprotect: ``esp``, optional ``accepted`` (full sequence numbers
  already in the window) and ``sa_spi`` (the SPI of the only SA in the SAD,
  to test an unknown SPI). Outputs ``next_header``, ``payload``,
  ``sequence``, ``dummy``.
* AH protect: ``sequence``, ``next_header``, ``before``, ``after``, ``ipv6``
  (default true). Output ``ah`` (the AH header with its ICV).
* AH unprotect: ``before``, ``ah`` (AH header followed by the rest of the
  packet), ``accepted``, ``sa_spi``, ``ipv6``. Outputs ``next_header``,
  ``sequence``, ``header_length``.
"""

from __future__ import annotations

from collections.abc import Mapping

from secmob.algorithms import ENCRYPTION, INTEGRITY
from secmob.errors import VectorFileError
from secmob.ipsec import ah, esp
from secmob.ipsec.sad import SAD, Direction, Protocol, SecurityAssociation
from secmob.vectors import Case, Output, family


def _sa(case: Case, direction: Direction, protocol: Protocol) -> SecurityAssociation:
    cipher = integrity = None
    if case.has("cipher"):
        raw = case.raw("cipher")
        cipher = ENCRYPTION.get(raw if isinstance(raw, int) else case.text("cipher"))
    if case.has("integrity"):
        raw = case.raw("integrity")
        integrity = INTEGRITY.get(raw if isinstance(raw, int) else case.text("integrity"))
    spi = case.num("sa_spi", case.num("spi")) if direction is Direction.INBOUND else case.num("spi")
    sa = SecurityAssociation(
        spi, protocol, direction=direction, cipher=cipher,
        cipher_key=case.hex("cipher_key", b""), integrity=integrity,
        integrity_key=case.hex("integrity_key", b""), esn=case.flag("esn", False),
        replay_window=case.num("window", 64) if direction is Direction.INBOUND else 0,
    )
    if direction is Direction.OUTBOUND:
        sa.seq_out = case.num("sequence") - 1
    else:
        accepted = case.raw("accepted") if case.has("accepted") else []
        if not isinstance(accepted, list) or not all(isinstance(n, int) for n in accepted):
            raise VectorFileError(f"{case.file}: case {case.id!r}: 'accepted' must be a "
                                  "list of integers")
        for n in accepted:
            sa.replay.accept(n)
    return sa


@family("esp-payload")
def check_esp_payload(case: Case) -> Mapping[str, Output]:
    protocol = case.text("protocol", "esp")
    if protocol not in ("esp", "ah"):
        raise VectorFileError(f"{case.file}: case {case.id!r}: protocol must be esp or ah")
    proto = Protocol.ESP if protocol == "esp" else Protocol.AH
    operation = case.text("operation")
    ipv6 = case.flag("ipv6", True)
    if operation == "protect":
        sa = _sa(case, Direction.OUTBOUND, proto)
        if proto is Protocol.AH:
            return {"ah": ah.protect(sa, case.num("next_header"), case.hex("before"),
                                     case.hex("after"), now=0.0, ipv6=ipv6)}
        iv = case.hex("iv", b"")
        return {"esp": esp.protect(sa, case.num("next_header"), case.hex("payload"), now=0.0,
                                   rng=lambda n: iv, tfc_pad=case.num("tfc_pad", 0))}
    if operation != "unprotect":
        raise VectorFileError(f"{case.file}: case {case.id!r}: operation must be "
                              "protect or unprotect")
    sad = SAD()
    sad.insert(_sa(case, Direction.INBOUND, proto))
    if proto is Protocol.AH:
        r = ah.unprotect(sad, case.hex("before"), case.hex("ah"), now=0.0, ipv6=ipv6)
        return {"next_header": r.next_header, "sequence": r.sequence,
                "header_length": r.header_length}
    res = esp.unprotect(sad, case.hex("esp"), now=0.0)
    return {"next_header": res.next_header, "payload": res.payload,
            "sequence": res.sequence, "dummy": res.dummy}
