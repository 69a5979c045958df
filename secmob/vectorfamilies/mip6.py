"""Families ``rr``, ``mobility-header`` and ``binding``: Mobile IPv6 (RFC 6275).

``rr`` (Return Routability, §5.2.5, §6.2.7, §9.5.1); field ``kind`` selects:

* ``home-token`` / ``care-of-token``: ``kcn``, ``address``, ``nonce`` -> ``token``
* ``kbm``: ``home_token``, optional ``care_of_token`` (absent: deregistration) -> ``kbm``
* ``authenticator``: ``kbm``, ``care_of_address``, ``correspondent``, ``mh`` (a whole
  Binding Update or Acknowledgement) -> ``mh_data``, ``authenticator``; the
  Authenticator carried in ``mh`` is also verified (negative cases: IntegrityError)
* ``binding-update``: ``kcn``, ``home_nonce``, ``care_of_nonce``, ``home_address``,
  ``care_of_address``, ``correspondent``, ``sequence``, ``lifetime``,
  ``home_nonce_index``, ``care_of_nonce_index`` -> ``home_token``,
  ``care_of_token``, ``kbm``, ``mh`` (the signed Binding Update, checksummed
  with the home address as source)
* ``nonce-check``: ``kcn``, ``nonces`` (hex list), ``created`` (their creation
  times, each more than 30 s after the previous so that each makes a new
  nonce, §5.2.7), ``home_nonce_index``, ``care_of_nonce_index`` (``null`` for a
  deregistration), ``now`` -> ``status`` (0, or the NonceExpired status; with
  ``"raise": true`` the error propagates for negative cases)

``mobility-header``: ``mh`` (hex) and optional ``source_address`` /
``destination_address`` (the checksum pseudo-header addresses);
outputs ``mh_type``, ``header_len``, ``checksum``, ``checksum_ok`` (when
addresses are given), the message fields that apply (``sequence``,
``lifetime``, ``flags``, ``status``, ``nonce_index``, ``cookie``,
``keygen_token``, ``home_address``), ``options`` (their type numbers, joined
by commas) and ``reencoded``.

``binding``: ``updates``, a list of Binding Updates (``home_address``,
``care_of_address``, ``sequence``, ``lifetime``, flags ``home_registration``,
``mobile_router``, ``prefixes`` as ``["hex/len", ...]``, ``now``) applied in
order to a cache configured by ``cache`` (``capacity``, ``home_agent``,
``mobile_routers``, ``authorized`` as {home hex: ["hex/len"]}). Outputs for the
last update: ``status``, ``lifetime``, ``expected_sequence``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from secmob.errors import BindingError, NonceExpired, VectorFileError
from secmob.mip6 import rr
from secmob.mip6.binding import BindingCache
from secmob.vectors import Case, Output, family
from secmob.wire import mobility as mh
from secmob.wire.mobility_options import MobileNetworkPrefix, NonceIndices, Pad1, UnknownOption


def _queue_rng(chunks: list[bytes]) -> rr.Rng:
    """An rng handing out ``chunks`` in order (for fixed vector inputs)."""
    pending = list(chunks)

    def rng(n: int) -> bytes:
        if not pending:
            raise VectorFileError("vector case needs more random inputs than it gives")
        return pending.pop(0)[:n]

    return rng


def _list(case: Case, field: str) -> list[Any]:
    value = case.raw(field)
    if not isinstance(value, list) or not value:
        raise VectorFileError(f"{case.file}: case {case.id!r}: field {field!r} "
                              "must be a non-empty list")
    return value


def _entry(case: Case, field: str, index: int, value: object) -> Case:
    """Entry ``index`` of ``field`` as a Case of its own, read with the same checked
    accessors (an object's members by name, anything else as ``value``)."""
    data = value if isinstance(value, dict) else {"value": value}
    return Case(case.file, case.family, {**data, "id": f"{case.id} {field}[{index}]"})


def _rr_token(case: Case) -> Mapping[str, Output]:
    fn = rr.home_keygen_token if case.text("kind") == "home-token" else rr.care_of_keygen_token
    return {"token": fn(case.hex("kcn"), case.hex("address"), case.hex("nonce"))}


def _rr_kbm(case: Case) -> Mapping[str, Output]:
    care = case.hex("care_of_token") if case.has("care_of_token") else None
    return {"kbm": rr.binding_management_key(case.hex("home_token"), care)}


def _rr_authenticator(case: Case) -> Mapping[str, Output]:
    data = case.hex("mh")
    mh_data = mh.authenticated_data(data)
    args = (case.hex("kbm"), case.hex("care_of_address"), case.hex("correspondent"), mh_data)
    tag = rr.authenticator(*args)
    rr.verify_authenticator(*args, data[-rr.AUTHENTICATOR_LENGTH:])
    return {"mh_data": mh_data, "authenticator": tag}


def _rr_binding_update(case: Case) -> Mapping[str, Output]:
    kcn, hn, cn_ = case.hex("kcn"), case.hex("home_nonce"), case.hex("care_of_nonce")
    hoa, coa = case.hex("home_address"), case.hex("care_of_address")
    corr = case.hex("correspondent")
    home = rr.home_keygen_token(kcn, hoa, hn)
    care = rr.care_of_keygen_token(kcn, coa, cn_)
    dereg = case.num("lifetime") == 0
    kbm = rr.binding_management_key(home, None if dereg else care)
    bu = mh.BindingUpdate(sequence=case.num("sequence"), lifetime=case.num("lifetime"),
                          ack=True, options=(NonceIndices(case.num("home_nonce_index"),
                                                          case.num("care_of_nonce_index")),))
    _, wire = rr.sign_message(bu, kbm, hoa if dereg else coa, corr, hoa, corr)
    return {"home_token": home, "care_of_token": care, "kbm": kbm, "mh": wire}


def _rr_nonce_check(case: Case) -> Mapping[str, Output]:
    nonces = [_entry(case, "nonces", i, h).hex("value")
               for i, h in enumerate(_list(case, "nonces"))]
    table_owner = rr.Correspondent(bytes(16), _queue_rng([case.hex("kcn"), *nonces]),
                                   nonce_length=len(nonces[0]))
    for i, t in enumerate(_list(case, "created")):  # more than 30 s apart: each makes a nonce
        table_owner.nonces.issue(float(_entry(case, "created", i, t).num("value")))
    care_index = (None if case.raw("care_of_nonce_index") is None
                  else case.num("care_of_nonce_index"))
    try:
        table_owner.binding_key(bytes(16), bytes(16), case.num("home_nonce_index"),
                                care_index, float(case.num("now")))
    except NonceExpired as exc:
        if case.flag("raise", False):
            raise
        return {"status": exc.status}
    return {"status": 0}


_RR: dict[str, Callable[[Case], Mapping[str, Output]]] = {
    "home-token": _rr_token,
    "care-of-token": _rr_token,
    "kbm": _rr_kbm,
    "authenticator": _rr_authenticator,
    "binding-update": _rr_binding_update,
    "nonce-check": _rr_nonce_check,
}


@family("rr")
def check_rr(case: Case) -> Mapping[str, Output]:
    kind = case.text("kind")
    if kind not in _RR:
        raise VectorFileError(f"{case.file}: case {case.id!r}: unknown rr kind {kind!r}")
    return _RR[kind](case)


@family("mobility-header")
def check_mobility_header(case: Case) -> Mapping[str, Output]:
    data = case.hex("mh")
    msg = mh.decode(data)
    out: dict[str, Output] = {"mh_type": msg.mh_type, "header_len": data[1],
                              "checksum": msg.checksum, "reencoded": msg.to_bytes()}
    if case.has("source_address"):
        src, dst = case.hex("source_address"), case.hex("destination_address")
        out["checksum_ok"] = mh.mh_checksum(src, dst, data) == msg.checksum
    for name in ("sequence", "lifetime", "status", "nonce_index", "cookie", "keygen_token",
                 "home_address", "flags"):
        value = getattr(msg, name, None)
        if value is not None:
            out[name] = value
    out["options"] = ",".join(
        str(0 if isinstance(o, Pad1) else o.type if isinstance(o, UnknownOption) else o.TYPE)
        for o in msg.options)
    return out


def _prefix(case: Case, field: str, index: int, text: object) -> tuple[bytes, int]:
    entry = _entry(case, field, index, text)
    p, _, n = entry.text("value").partition("/")
    if not n.isdigit():
        raise VectorFileError(f"{case.file}: case {case.id!r}: field {field!r}: "
                              f"{text!r} is not \"hex/length\"")
    return _entry(case, field, index, p).hex("value"), int(n)


_CACHE_FIELDS = {"capacity", "home_agent", "mobile_routers", "authorized"}


@family("binding")
def check_binding(case: Case) -> Mapping[str, Output]:
    cfg = _entry(case, "cache", 0, case.raw("cache") if case.has("cache") else {})
    allowed = cfg.raw("authorized") if cfg.has("authorized") else {}
    if set(cfg.data) - _CACHE_FIELDS - {"id"} or not isinstance(allowed, dict):
        raise VectorFileError(f"{case.file}: case {case.id!r}: field 'cache' must be an "
                              f"object of {sorted(_CACHE_FIELDS)}, 'authorized' an object")
    authorized: dict[bytes, list[tuple[bytes, int]]] = {}
    for h, ps in allowed.items():
        if not isinstance(ps, list):
            raise VectorFileError(f"{case.file}: case {case.id!r}: field 'authorized' maps a "
                                  "home address to a list of \"hex/length\" prefixes")
        home = _entry(case, "authorized", 0, h).hex("value")
        authorized[home] = [_prefix(case, "authorized", i, p) for i, p in enumerate(ps)]
    cache = BindingCache(capacity=cfg.num("capacity", 1 << 20),
                         home_agent=cfg.flag("home_agent", False),
                         mobile_routers=cfg.flag("mobile_routers", False),
                         authorized_prefixes=authorized)
    updates = _list(case, "updates")
    result: dict[str, Output] = {}
    for i, raw in enumerate(updates):
        u = _entry(case, "updates", i, raw)
        prefixes = u.raw("prefixes") if u.has("prefixes") else []
        if not isinstance(prefixes, list):
            raise VectorFileError(f"{case.file}: case {u.id!r}: field 'prefixes' must be a list")
        opts = tuple(MobileNetworkPrefix(n, p) for p, n in
                     (_prefix(u, "prefixes", k, t) for k, t in enumerate(prefixes)))
        bu = mh.BindingUpdate(sequence=u.num("sequence"), lifetime=u.num("lifetime"), ack=True,
                              home_registration=u.flag("home_registration", False),
                              mobile_router=u.flag("mobile_router", False), options=opts)
        try:
            acc = cache.update(bu, home_address=u.hex("home_address"),
                               care_of_address=u.hex("care_of_address"),
                               now=float(u.num("now", 0)))
        except BindingError as exc:
            if i != len(updates) - 1:
                raise
            return {"status": exc.status, "expected_sequence": exc.expected_sequence}
        result = {"status": 0, "lifetime": acc.lifetime, "expected_sequence": None}
    return result
