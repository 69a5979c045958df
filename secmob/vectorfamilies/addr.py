"""Family ``addr``: IPv6 address construction and default address selection.

Every case has an ``operation``:

* ``modified_eui64`` -- ``identifier`` (hex, 6-octet MAC or 8-octet EUI-64).
  Outputs ``iid``, ``link_local`` (text) and, for a MAC, ``mac`` (the MAC
  recovered from the IID).
* ``mac_from_iid`` -- ``iid`` (hex). Output ``mac``; UsageError without FF-FE.
* ``slaac`` -- ``prefix`` (text /64), ``iid`` (hex) or ``identifier`` (MAC hex).
  Output ``address``.
* ``reserved_iid`` -- ``iid``. Output ``reserved`` (bool).
* ``rfc4941`` -- ``history``, ``iid``, optional ``in_use`` (list of hex).
  Outputs ``temporary_iid``, ``next_history``, ``rounds``.
* ``rfc8981_hash`` -- ``prefix``, ``time``, ``net_iface``, ``secret_key``,
  optional ``network_id``, ``dad_counter``, ``prf``, ``in_use``.
  Outputs ``iid``, ``dad_counter``.
* ``rfc7217`` -- ``prefix``, ``net_iface``, ``secret_key``, optional
  ``network_id``, ``dad_counter``, ``prf``, ``in_use``. Outputs ``iid``,
  ``dad_counter``, ``address``.
* ``ula`` -- ``ntp_time``, ``eui64`` (hex), optional ``subnet_id``. Outputs
  ``global_id``, ``prefix`` (text) and ``subnet`` (text, with ``subnet_id``).
* ``source_selection`` -- ``destination`` (text) and ``candidates``: a list of
  objects ``{"address": text, "deprecated"?, "home"?, "care_of"?,
  "temporary"?, "on_outgoing_interface"?, "from_next_hop"?, "prefix_len"?}``.
  Outputs ``source`` (text) and ``rule`` (the rule that decided between the
  chosen address and the best other candidate).
* ``destination_ordering`` -- ``destinations`` (list of text or objects
  ``{"address", "reachable"?, "encapsulated"?}``) and ``candidates`` as above.
  Outputs ``order`` (``"D1 (src S1); D2 (src S2)"``) and ``rule`` (the rule that
  put the first destination before the second).

Both selection operations take an optional ``policy``: a list of
``[prefix, precedence, label]`` rows replacing the default table of
RFC 6724 §2.1 (as in the examples of §10.3-§10.7).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from secmob.addr.eui64 import link_local_address, mac_from_iid, modified_eui64, slaac_address
from secmob.addr.iid import as_address, is_reserved_iid
from secmob.addr.selection import (
    DEFAULT_CONTEXT,
    Destination,
    PolicyEntry,
    SelectionContext,
    SourceCandidate,
    compare_destinations,
    compare_sources,
    destinations_for,
    order_destinations,
    select_source,
)
from secmob.addr.stable import stable_address, stable_iid
from secmob.addr.temporary import hashed_iid, rfc4941_iid
from secmob.addr.ula import global_id, ula_prefix, ula_subnet
from secmob.errors import VectorFileError
from secmob.vectors import Case, Output, family

_CANDIDATE_FLAGS = ("deprecated", "home", "care_of", "temporary", "on_outgoing_interface",
                    "from_next_hop")


def _bad(case: Case, field: str, why: str) -> VectorFileError:
    return VectorFileError(f"{case.file}: case {case.id!r}: field {field!r} {why}")


def _hex_list(case: Case, field: str) -> list[bytes]:
    if not case.has(field):
        return []
    value = case.raw(field)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(case, field, "must be a list of hex strings")
    try:
        return [bytes.fromhex(v) for v in value]
    except ValueError:
        raise _bad(case, field, "holds invalid hex") from None


def _candidate(case: Case, raw: Any) -> SourceCandidate:
    if not isinstance(raw, dict) or not isinstance(raw.get("address"), str):
        raise _bad(case, "candidates", "entries must be objects with a text 'address'")
    unknown = set(raw) - {"address", "prefix_len", *_CANDIDATE_FLAGS}
    if unknown:
        raise _bad(case, "candidates", f"has unknown attribute(s) {sorted(unknown)}")
    flags = {k: raw[k] for k in _CANDIDATE_FLAGS if k in raw}
    if not all(isinstance(v, bool) for v in flags.values()):
        raise _bad(case, "candidates", "flags must be true or false")
    prefix_len = raw.get("prefix_len")
    if prefix_len is not None and not isinstance(prefix_len, int):
        raise _bad(case, "candidates", "prefix_len must be an integer")
    return SourceCandidate(as_address(raw["address"]), prefix_len=prefix_len, **flags)


def _candidates(case: Case) -> list[SourceCandidate]:
    value = case.raw("candidates")
    if not isinstance(value, list):
        raise _bad(case, "candidates", "must be a list")
    return [_candidate(case, c) for c in value]


def _destination(case: Case, raw: Any) -> Destination:
    if isinstance(raw, str):
        return Destination(as_address(raw))
    if not isinstance(raw, dict) or not isinstance(raw.get("address"), str):
        raise _bad(case, "destinations", "entries must be text or objects with 'address'")
    return Destination(as_address(raw["address"]), reachable=bool(raw.get("reachable", True)),
                       encapsulated=bool(raw.get("encapsulated", False)))


def _iid_or_mac(case: Case) -> bytes:
    return case.hex("iid") if case.has("iid") else case.hex("identifier")


def _context(case: Case) -> SelectionContext:
    if not case.has("policy"):
        return DEFAULT_CONTEXT
    rows = case.raw("policy")
    try:
        table = tuple(PolicyEntry(ipaddress.IPv6Network(p), int(prec), int(lab))
                      for p, prec, lab in rows)
    except (TypeError, ValueError):
        raise _bad(case, "policy", "must be a list of [prefix, precedence, label]") from None
    return SelectionContext(table=table)


def _source_selection(case: Case) -> dict[str, Output]:
    cands = _candidates(case)
    ctx = _context(case)
    dest = as_address(case.text("destination"))
    chosen = select_source(dest, cands, ctx)
    if chosen is None:
        return {"source": None, "rule": None}
    others = [c for c in cands if c is not chosen and c.address.version == dest.version]
    runner = select_source(dest, others, ctx)
    rule = compare_sources(chosen, runner, dest, ctx).rule if runner is not None else None
    return {"source": str(chosen.address), "rule": rule}


def _destination_ordering(case: Case) -> dict[str, Output]:
    raw = case.raw("destinations")
    if not isinstance(raw, list) or not raw:
        raise _bad(case, "destinations", "must be a non-empty list")
    ctx = _context(case)
    dests = destinations_for([_destination(case, d) for d in raw], _candidates(case), ctx)
    ordered = order_destinations(dests, ctx)
    text = "; ".join(
        f"{d.address} (src {d.source.address if d.source else 'undefined'})" for d in ordered
    )
    rule = compare_destinations(ordered[0], ordered[1], ctx).rule if len(ordered) > 1 else None
    return {"order": text, "rule": rule}


@family("addr")
def check_addr(case: Case) -> Mapping[str, Output]:
    op = case.text("operation")
    if op == "modified_eui64":
        ident = case.hex("identifier")
        iid = modified_eui64(ident)
        out: dict[str, Output] = {"iid": iid, "link_local": str(link_local_address(iid))}
        if len(ident) == 6:
            out["mac"] = mac_from_iid(iid)
        return out
    if op == "mac_from_iid":
        return {"mac": mac_from_iid(case.hex("iid"))}
    if op == "slaac":
        return {"address": str(slaac_address(case.text("prefix"), _iid_or_mac(case)))}
    if op == "reserved_iid":
        return {"reserved": is_reserved_iid(case.hex("iid"))}
    if op == "rfc4941":
        r = rfc4941_iid(case.hex("history"), case.hex("iid"), in_use=_hex_list(case, "in_use"))
        return {"temporary_iid": r.iid, "next_history": r.history, "rounds": r.rounds}
    if op == "rfc8981_hash":
        h = hashed_iid(case.text("prefix"), case.hex("time"), case.hex("net_iface"),
                       case.hex("secret_key"), network_id=case.hex("network_id", b""),
                       dad_counter=case.num("dad_counter", 0), prf=case.text("prf", "sha256"),
                       in_use=_hex_list(case, "in_use"))
        return {"iid": h.iid, "dad_counter": h.dad_counter}
    if op == "rfc7217":
        kwargs: dict[str, Any] = {
            "network_id": case.hex("network_id", b""),
            "dad_counter": case.num("dad_counter", 0),
            "prf": case.text("prf", "sha256"),
        }
        s = stable_iid(case.text("prefix"), case.hex("net_iface"), case.hex("secret_key"),
                       in_use=_hex_list(case, "in_use"), **kwargs)
        out = {"iid": s.iid, "dad_counter": s.dad_counter}
        if not case.has("in_use"):
            out["address"] = str(stable_address(case.text("prefix"), case.hex("net_iface"),
                                                case.hex("secret_key"), **kwargs))
        return out
    if op == "ula":
        gid = global_id(case.hex("ntp_time"), case.hex("eui64"))
        out = {"global_id": gid, "prefix": str(ula_prefix(gid))}
        if case.has("subnet_id"):
            out["subnet"] = str(ula_subnet(gid, case.num("subnet_id")))
        return out
    if op == "source_selection":
        return _source_selection(case)
    if op == "destination_ordering":
        return _destination_ordering(case)
    raise _bad(case, "operation", f"names no addr operation: {op!r}")
