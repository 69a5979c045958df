"""Family ``esp-packet``: whole packets through secmob's IPsec packet path.

A case describes the SAs, a packet and a direction, and runs the packet
through :class:`secmob.ipsec.engine.Engine` (``layer`` ``"ip"``, the default)
or through :mod:`secmob.ipsec.esp` alone (``layer`` ``"esp"``: the packet is
the ESP packet from the SPI to the ICV, for published vectors that print no
IP header).

Case fields:

* ``direction``: ``"outbound"`` or ``"inbound"``.
* ``sas``: a list of SA objects, innermost first (ESP before AH in a
  bundle, RFC 4301 §4.5), each with ``spi``, ``protocol`` (``"esp"``,
  default, or ``"ah"``), ``mode`` (``"transport"``, default, or
  ``"tunnel"`` with ``tunnel_source`` and ``tunnel_destination``, from the
  sender's point of view), ``cipher`` (name or IKEv2 id) with
  ``cipher_key`` (``key || salt``), ``integrity`` with ``integrity_key``,
  ``esn`` (default false); outbound: ``sequence``, the full sequence
  number of the first packet the SA sends (default 1); inbound: ``window``
  (default 64, or 0 for an SA without integrity) and ``accepted``, full
  sequence numbers already in the window.
* ``policy`` (inbound, ``ip`` layer): the selector of the SPD entry the
  inbound SAs belong to, as ``{"local", "remote", "protocol"}`` (each
  optional, default any); the decapsulated packet must match it
  (RFC 4301 §5.2).
* Outbound: ``packet`` (the IP packet; at the ``esp`` layer the payload,
  with ``next_header``), ``rng`` (the octets the engine's random number
  generator hands out, in order: CBC IVs), ``iv`` (an explicit IV for the
  one ESP SA, :func:`secmob.ipsec.esp.protect` ``iv=``) and
  ``outer_header`` (tunnel mode: a published outer IP header to put in
  front of the ESP packet instead of the engine's). With ``iv`` or
  ``outer_header`` the ESP packet is built by :mod:`secmob.ipsec.esp`
  directly. Outputs ``verdict`` and ``packet``.
* Inbound: ``packet`` (as received). Outputs, ``ip`` layer: ``packet``
  (as delivered), ``spis`` (the SPIs it came through, outermost first, as
  ``"0x00004321"`` strings joined by ``" "``); ``esp`` layer:
  ``next_header``, ``payload``, ``sequence``, ``dummy``. Negative cases name the error
  (``IntegrityError``, ``PaddingError``, ``ReplayError``, ``UnknownSPI``,
  ``PolicyViolation``, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from secmob.algorithms import ENCRYPTION, INTEGRITY
from secmob.errors import VectorFileError
from secmob.ipsec import esp
from secmob.ipsec.engine import Engine
from secmob.ipsec.sad import SAD, Direction, Mode, Protocol, SABundle, SecurityAssociation
from secmob.ipsec.selectors import ANY, Selector
from secmob.ipsec.spd import SPD, Action, Entry, SATemplate
from secmob.ipsec.tunnel import IPV4_IN_IP, IPV6_IN_IP
from secmob.vectors import Case, Output, family

__all__ = ["check_esp_packet"]


class _Fields:
    """Typed access to one SA object of a case, naming the case on error."""

    def __init__(self, case: Case, index: int, data: Any) -> None:
        if not isinstance(data, dict):
            raise self._fail_at(case, index, "must be an object")
        self.case, self.index, self.data = case, index, data

    @staticmethod
    def _fail_at(case: Case, index: int, why: str) -> VectorFileError:
        return VectorFileError(f"{case.file}: case {case.id!r}: sas[{index}] {why}")

    def fail(self, why: str) -> VectorFileError:
        return self._fail_at(self.case, self.index, why)

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        value = self.data.get(name, default)
        if value is None and default is None:
            return None
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            raise self.fail(f"field {name!r} has the wrong type")
        return value

    def need(self, name: str, kind: type | tuple[type, ...]) -> Any:
        if name not in self.data:
            raise self.fail(f"field {name!r} is missing")
        return self.get(name, kind)

    def hex(self, name: str) -> bytes:
        value = self.get(name, str, "")
        if value != value.lower():
            raise self.fail(f"field {name!r} must be lowercase hex")
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise self.fail(f"field {name!r} is not valid hex") from None


def _sa(case: Case, index: int, raw: Any, direction: Direction,
        policy: Entry | None) -> SecurityAssociation:
    f = _Fields(case, index, raw)
    protocol = {"esp": Protocol.ESP, "ah": Protocol.AH}.get(f.get("protocol", str, "esp"))
    mode = {"transport": Mode.TRANSPORT, "tunnel": Mode.TUNNEL}.get(
        f.get("mode", str, "transport"))
    if protocol is None or mode is None:
        raise f.fail("protocol must be esp or ah, mode transport or tunnel")
    cipher = integrity = None
    if "cipher" in f.data:
        cipher = ENCRYPTION.get(f.get("cipher", (int, str)))
    if "integrity" in f.data:
        integrity = INTEGRITY.get(f.get("integrity", (int, str)))
    src, dst = f.get("tunnel_source", str), f.get("tunnel_destination", str)
    if direction is Direction.INBOUND:  # the receiver's view of the sender's tunnel
        src, dst = dst, src
    authenticated = integrity is not None or (cipher is not None and cipher.aead)
    window = f.get("window", int, 64 if authenticated else 0)
    sa = SecurityAssociation(
        f.need("spi", int), protocol, direction=direction, mode=mode,
        tunnel_source=src, tunnel_destination=dst, cipher=cipher,
        cipher_key=f.hex("cipher_key"), integrity=integrity,
        integrity_key=f.hex("integrity_key"), esn=f.get("esn", bool, False),
        replay_window=window if direction is Direction.INBOUND else 0, policy=policy)
    if direction is Direction.OUTBOUND:
        first = f.get("sequence", int, 1)
        if first < 1:
            raise f.fail("field 'sequence' must be at least 1 (RFC 4303 §3.3.3)")
        sa.seq_out = first - 1
    else:
        accepted = f.get("accepted", list, [])
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in accepted):
            raise f.fail("field 'accepted' must be a list of integers")
        for n in accepted:
            sa.replay.accept(n)
    return sa


def _sa_list(case: Case) -> list[Any]:
    raw = case.raw("sas")
    if not isinstance(raw, list) or not raw:
        raise VectorFileError(f"{case.file}: case {case.id!r}: 'sas' must be a non-empty list")
    return raw


def _rng(case: Case) -> Callable[[int], bytes]:
    """The case's ``rng`` octets, handed out in order."""
    data, pos = case.hex("rng", b""), 0

    def take(n: int) -> bytes:
        nonlocal pos
        if pos + n > len(data):
            raise VectorFileError(f"{case.file}: case {case.id!r}: 'rng' ran out "
                                  f"({n} octets asked for at offset {pos})")
        pos += n
        return data[pos - n:pos]

    return take


def _policy(case: Case) -> Entry:
    raw = case.raw("policy") if case.has("policy") else {}
    if not isinstance(raw, dict) or set(raw) - {"local", "remote", "protocol"}:
        raise VectorFileError(f"{case.file}: case {case.id!r}: 'policy' takes local, "
                              "remote and protocol")
    selector = Selector.make(raw.get("local", ANY), raw.get("remote", ANY),
                             raw.get("protocol", ANY))
    return Entry(selector, Action.PROTECT, SATemplate(), name="vector policy")


def _outbound(case: Case, layer: str) -> Mapping[str, Output]:
    rng = _rng(case)
    if layer == "esp" or case.has("iv") or case.has("outer_header"):
        sas = [_sa(case, i, raw, Direction.OUTBOUND, None) for i, raw in enumerate(_sa_list(case))]
        if len(sas) != 1 or sas[0].protocol is not Protocol.ESP:
            raise VectorFileError(f"{case.file}: case {case.id!r}: an explicit IV or outer "
                                  "header needs exactly one ESP SA")
        iv = case.hex("iv") if case.has("iv") else None
        packet = case.hex("packet")
        if layer == "esp":
            return {"verdict": "protected",
                    "packet": esp.protect(sas[0], case.num("next_header"), packet, now=0.0,
                                          rng=rng, iv=iv)}
        if sas[0].mode is not Mode.TUNNEL or not case.has("outer_header"):
            raise VectorFileError(f"{case.file}: case {case.id!r}: at the ip layer an "
                                  "explicit IV needs tunnel mode and 'outer_header'")
        inner_nh = IPV6_IN_IP if packet[:1] and packet[0] >> 4 == 6 else IPV4_IN_IP
        body = esp.protect(sas[0], inner_nh, packet, now=0.0, rng=rng, iv=iv)
        return {"verdict": "protected", "packet": case.hex("outer_header") + body}
    entry = Entry(Selector.make(), Action.PROTECT, SATemplate(), name="vector policy")
    sad = SAD()
    sas = [_sa(case, i, raw, Direction.OUTBOUND, entry) for i, raw in enumerate(_sa_list(case))]
    sad.insert_bundle(entry, SABundle(tuple(sas)))
    result = Engine(SPD([entry]), sad, rng=rng).outbound(case.hex("packet"), now=0.0)
    return {"verdict": result.verdict.value, "packet": result.packet}


def _inbound(case: Case, layer: str) -> Mapping[str, Output]:
    entry = _policy(case)
    sad = SAD()
    for i, raw in enumerate(_sa_list(case)):
        sad.insert(_sa(case, i, raw, Direction.INBOUND, entry))
    if layer == "esp":
        res = esp.unprotect(sad, case.hex("packet"), now=0.0)
        return {"next_header": res.next_header, "payload": res.payload,
                "sequence": res.sequence, "dummy": res.dummy}
    got = Engine(SPD([entry]), sad).inbound(case.hex("packet"), now=0.0)
    return {"packet": got.packet, "spis": " ".join(f"0x{sa.spi:08x}" for sa in got.sas)}


@family("esp-packet")
def check_esp_packet(case: Case) -> Mapping[str, Output]:
    direction, layer = case.text("direction"), case.text("layer", "ip")
    if layer not in ("ip", "esp"):
        raise VectorFileError(f"{case.file}: case {case.id!r}: layer must be ip or esp")
    if direction == "outbound":
        return _outbound(case, layer)
    if direction == "inbound":
        return _inbound(case, layer)
    raise VectorFileError(f"{case.file}: case {case.id!r}: direction must be "
                          "outbound or inbound")
