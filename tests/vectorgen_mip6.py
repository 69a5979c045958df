"""Generator of the derived Mobile IPv6 vector files (rr, mobility-header, binding).

Run from the repository root: ``PYTHONPATH=. python tests/vectorgen_mip6.py``.
The rr values are computed here with secmob and checked independently (plain
hmac/hashlib over hand-built bytes) by tests/test_rr_vectors.py; the
mobility-header bytes are built by scapy and cross-checked by
tests/test_mobility_header_vectors.py.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def a(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


def kcn(i: int) -> bytes:
    return hashlib.sha256(f"secmob rr kcn {i}".encode()).digest()[:20]


def nonce(j: int) -> bytes:
    return hashlib.sha256(f"secmob rr nonce {j}".encode()).digest()[:8]


HOA = [a("2001:db8:1::10"), a("2001:db8:1::20")]
COA = [a("2001:db8:2::10"), a("2001:db8:3::77")]
CN = a("2001:db8:4::1")
ALT = a("2001:db8:5::abc")
INPUTS = ("Kcn_i = SHA-256('secmob rr kcn i')[:20], nonce_j = SHA-256('secmob rr nonce j')[:8], "
          "addresses in 2001:db8::/32")


def rr_cases() -> list[dict[str, Any]]:
    from secmob.mip6 import rr
    from secmob.wire import mobility as mh
    from secmob.wire.mobility_options import AlternateCareOfAddress, NonceIndices

    src = f"derived: secmob Return Routability (RFC 6275 §5.2.5, §6.2.7); {INPUTS}"
    cases: list[dict[str, Any]] = []
    for i, (k, h, n) in enumerate([(1, 0, 1), (1, 1, 2), (2, 0, 3)]):
        tok = rr.home_keygen_token(kcn(k), HOA[h], nonce(n))
        cases.append({"id": f"home-token-{i + 1}", "source": src, "kind": "home-token",
                      "kcn": kcn(k).hex(), "address": HOA[h].hex(), "nonce": nonce(n).hex(),
                      "expected": {"token": tok.hex()}})
    for i, (k, c, n) in enumerate([(1, 0, 1), (1, 1, 2), (2, 0, 4)]):
        tok = rr.care_of_keygen_token(kcn(k), COA[c], nonce(n))
        cases.append({"id": f"care-of-token-{i + 1}", "source": src, "kind": "care-of-token",
                      "kcn": kcn(k).hex(), "address": COA[c].hex(), "nonce": nonce(n).hex(),
                      "expected": {"token": tok.hex()}})
    home = rr.home_keygen_token(kcn(1), HOA[0], nonce(1))
    care = rr.care_of_keygen_token(kcn(1), COA[0], nonce(1))
    kbm = rr.binding_management_key(home, care)
    kbm_d = rr.binding_management_key(home)
    cases.append({"id": "kbm-registration", "source": src, "kind": "kbm",
                  "home_token": home.hex(), "care_of_token": care.hex(),
                  "expected": {"kbm": kbm.hex()}})
    cases.append({"id": "kbm-deregistration", "source": src + "; Kbm = SHA1(home keygen token)",
                  "kind": "kbm", "home_token": home.hex(), "expected": {"kbm": kbm_d.hex()}})

    def signed(msg: Any, key: bytes, coa: bytes, dst: bytes) -> bytes:
        return rr.sign_message(msg, key, coa, CN, HOA[0] if dst == CN else CN, dst)[1]

    bu = signed(mh.BindingUpdate(sequence=4660, lifetime=105, ack=True,
                                 options=(NonceIndices(1, 1),)), kbm, COA[0], CN)
    bu_alt = signed(mh.BindingUpdate(sequence=4661, lifetime=60, ack=True,
                                     options=(NonceIndices(1, 1), AlternateCareOfAddress(ALT))),
                    kbm, ALT, CN)
    bu_d = signed(mh.BindingUpdate(sequence=4662, lifetime=0, ack=True,
                                   options=(NonceIndices(1, 0),)), kbm_d, HOA[0], CN)
    ba = signed(mh.BindingAcknowledgement(status=0, sequence=4660, lifetime=105), kbm, COA[0],
                HOA[0])
    for cid, data, key, coa, what in [
        ("bu-authenticator", bu, kbm, COA[0], "Binding Update"),
        ("bu-alternate-coa-authenticator", bu_alt, kbm, ALT,
         "Binding Update with Alternate Care-of Address (its address is the care-of address)"),
        ("bu-deregistration-authenticator", bu_d, kbm_d, HOA[0],
         "deregistration Binding Update (lifetime 0; home address in place of care-of)"),
        ("ba-authenticator", ba, kbm, COA[0], "Binding Acknowledgement"),
    ]:
        mh_data = mh.authenticated_data(data)
        cases.append({"id": cid, "source": f"{src}; {what}", "kind": "authenticator",
                      "kbm": key.hex(), "care_of_address": coa.hex(), "correspondent": CN.hex(),
                      "mh": data.hex(), "expected": {
                          "mh_data": mh_data.hex(),
                          "authenticator": rr.authenticator(key, coa, CN, mh_data).hex()}})
    tampered = bytearray(bu)
    tampered[-1] ^= 0x01
    cases.append({"id": "bu-authenticator-tampered", "source": src + "; last bit flipped",
                  "kind": "authenticator", "kbm": kbm.hex(), "care_of_address": COA[0].hex(),
                  "correspondent": CN.hex(), "mh": bytes(tampered).hex(),
                  "error": "IntegrityError"})
    wrong_kbm = bytearray(kbm)
    wrong_kbm[0] ^= 0x80
    cases.append({"id": "bu-authenticator-wrong-kbm", "source": src + "; Kbm first bit flipped",
                  "kind": "authenticator", "kbm": bytes(wrong_kbm).hex(),
                  "care_of_address": COA[0].hex(), "correspondent": CN.hex(), "mh": bu.hex(),
                  "error": "IntegrityError"})
    for i, (h, c, n1, n2, seq, life) in enumerate([(0, 0, 5, 6, 1, 105), (1, 1, 7, 8, 65535, 30),
                                                   (0, 0, 9, 10, 77, 0)]):
        fields = {"kcn": kcn(3).hex(), "home_nonce": nonce(n1).hex(),
                  "care_of_nonce": nonce(n2).hex(), "home_address": HOA[h].hex(),
                  "care_of_address": COA[c].hex(), "correspondent": CN.hex(),
                  "sequence": seq, "lifetime": life, "home_nonce_index": 10 + i,
                  "care_of_nonce_index": 20 + i}
        hk = rr.home_keygen_token(kcn(3), HOA[h], nonce(n1))
        ck = rr.care_of_keygen_token(kcn(3), COA[c], nonce(n2))
        key = rr.binding_management_key(hk, None if life == 0 else ck)
        msg = mh.BindingUpdate(sequence=seq, lifetime=life, ack=True,
                               options=(NonceIndices(10 + i, 20 + i),))
        wire = rr.sign_message(msg, key, HOA[h] if life == 0 else COA[c], CN, HOA[h], CN)[1]
        cases.append({"id": f"binding-update-{i + 1}", "source": src + "; whole Binding Update "
                      "(checksum with the home address as source)", "kind": "binding-update",
                      **fields, "expected": {"home_token": hk.hex(), "care_of_token": ck.hex(),
                                             "kbm": key.hex(), "mh": wire.hex()}})
    nsrc = ("derived: RFC 6275 §9.5.1 nonce index checks, MAX_NONCE_LIFETIME 240 s (§12); "
            "nonce 0 made at t=0, nonce 1 at t=100")
    base = {"kind": "nonce-check", "kcn": kcn(4).hex(),
            "nonces": [nonce(20).hex(), nonce(21).hex()], "created": [0, 100]}
    for cid, hi, ci, now, status in [
        ("nonces-fresh", 0, 1, 240, 0), ("home-nonce-expired", 0, 1, 241, 136),
        ("care-of-nonce-expired", 1, 0, 241, 137), ("both-nonces-expired", 0, 0, 241, 138),
        ("unknown-indices", 7, 9, 10, 138), ("deregistration-home-only", 1, None, 300, 0),
        ("deregistration-home-expired", 0, None, 300, 136),
    ]:
        cases.append({"id": cid, "source": nsrc, **base, "home_nonce_index": hi,
                      "care_of_nonce_index": ci, "now": now, "expected": {"status": status}})
        if status:
            cases.append({"id": cid + "-raises", "source": nsrc, **base, "home_nonce_index": hi,
                          "care_of_nonce_index": ci, "now": now, "raise": True,
                          "error": "NonceExpired"})
    return cases


def mobility_header_cases() -> list[dict[str, Any]]:
    from scapy.all import raw
    from scapy.layers import inet6 as s

    src_s, dst_s = "2001:db8:1::10", "2001:db8:4::1"
    auth = int.from_bytes(bytes(range(0xA0, 0xAC)), "big")
    made = [
        ("brr", "MIP6MH_BRR()", s.MIP6MH_BRR()),
        ("hoti", "MIP6MH_HoTI(cookie=bytes.fromhex('0011223344556677'))",
         s.MIP6MH_HoTI(cookie=bytes.fromhex("0011223344556677"))),
        ("coti", "MIP6MH_CoTI(cookie=bytes.fromhex('8899aabbccddeeff'))",
         s.MIP6MH_CoTI(cookie=bytes.fromhex("8899aabbccddeeff"))),
        ("hot", "MIP6MH_HoT(index=513, cookie=b'\\x01'*8, token=b'\\x02'*8)",
         s.MIP6MH_HoT(index=513, cookie=b"\x01" * 8, token=b"\x02" * 8)),
        ("cot", "MIP6MH_CoT(index=514, cookie=b'\\x03'*8, token=b'\\x04'*8)",
         s.MIP6MH_CoT(index=514, cookie=b"\x03" * 8, token=b"\x04" * 8)),
        ("bu-rr", "MIP6MH_BU(seq=4660, flags='A', mhtime=105, options=[MIP6OptNonceIndices("
         "olen=4, hni=1, coni=2), MIP6OptBindingAuthData(olen=12, authenticator=0xa0..ab)])",
         s.MIP6MH_BU(seq=4660, flags="A", mhtime=105, options=[
             s.MIP6OptNonceIndices(olen=4, hni=1, coni=2),
             s.MIP6OptBindingAuthData(olen=12, authenticator=auth)])),
        ("bu-nemo", "MIP6MH_BU(seq=9, flags='AHR', mhtime=900, options=[MIP6OptMobNetPrefix("
         "plen=56, prefix='2001:db8:aa:bb00::'), MIP6OptAltCoA(acoa='2001:db8:3::77')])",
         s.MIP6MH_BU(seq=9, flags="AHR", mhtime=900, options=[
             s.MIP6OptMobNetPrefix(plen=56, prefix="2001:db8:aa:bb00::"),
             s.MIP6OptAltCoA(acoa="2001:db8:3::77")])),
        ("ba", "MIP6MH_BA(status=0, flags='KR', seq=9, mhtime=900, options=["
         "MIP6OptBRAdvice(rinter=200)])",
         s.MIP6MH_BA(status=0, flags="KR", seq=9, mhtime=900,
                     options=[s.MIP6OptBRAdvice(rinter=200)])),
        ("ba-135", "MIP6MH_BA(status=135, flags=0, seq=10000, mhtime=0)",
         s.MIP6MH_BA(status=135, flags=0, seq=10000, mhtime=0)),
        ("be", "MIP6MH_BE(status=1, ha='2001:db8:1::20')",
         s.MIP6MH_BE(status=1, ha="2001:db8:1::20")),
    ]
    cases = []
    for cid, cmd, pkt in made:
        data = raw(s.IPv6(src=src_s, dst=dst_s) / pkt)[40:]
        cases.append({"id": cid, "source": f"derived: scapy 2.8 IPv6(src='{src_s}', "
                      f"dst='{dst_s}')/{cmd}", "_data": data})
    return cases


def binding_cases() -> list[dict[str, Any]]:
    h, h2, c = HOA[0].hex(), HOA[1].hex(), COA[0].hex()
    pfx = "20010db800aa00000000000000000000"

    def bu(seq: int, life: int = 100, home: str = h, **kw: Any) -> dict[str, Any]:
        return {"home_address": home, "care_of_address": c, "sequence": seq,
                "lifetime": life, **kw}

    ha = {"home_agent": True}
    nemo = {"home_agent": True, "mobile_routers": True, "authorized": {h: [pfx + "/48"]}}
    rows: list[tuple[str, str, dict[str, Any], list[dict[str, Any]], dict[str, Any]]] = [
        ("seq-10000-then-42767", "§9.5.1: 42767 - 10000 = 32767 < 2^15, greater", {},
         [bu(10000), bu(42767)], {"status": 0, "lifetime": 100}),
        ("seq-10000-then-42768", "§9.5.1: 42768 - 10000 = 2^15, not greater", {},
         [bu(10000), bu(42768)], {"status": 135, "expected_sequence": 10000}),
        ("seq-equal", "§9.5.1: equal is not greater", {}, [bu(5), bu(5)],
         {"status": 135, "expected_sequence": 5}),
        ("seq-wraps", "§9.5.1: modulo 2^16, 0 follows 65535", {}, [bu(65535), bu(0)],
         {"status": 0}),
        ("expired-binding-forgets-sequence", "§9.5.1: no entry, any sequence", {},
         [bu(900, life=1), bu(3, now=5)], {"status": 0}),
        ("correspondent-lifetime-capped", "§9.5.1 and §12: MAX_RR_BINDING_LIFETIME 420 s", {},
         [bu(1, life=1000)], {"status": 0, "lifetime": 105}),
        ("cache-full", "§9.5.1: insufficient resources", {"capacity": 1},
         [bu(1), bu(1, home=h2)], {"status": 130}),
        ("home-registration-at-correspondent", "§10.3.1: home registration not supported", {},
         [bu(1, home_registration=True)], {"status": 131}),
        ("home-registration-over-correspondent-binding",
         "§10.3.1: §9.5.1 validation (registration type change) before the home agent tests",
         {}, [bu(1), bu(2, home_registration=True)], {"status": 139}),
        ("home-deregistration-unknown", "§10.3.2: not home agent for this mobile node", ha,
         [bu(1, life=0, home_registration=True)], {"status": 133}),
        ("registration-type-change", "§9.5.1: registration type change disallowed", ha,
         [bu(1, home_registration=True), bu(2)], {"status": 139}),
        ("mobile-router-refused", "RFC 3963 §6.6: mobile router operation not permitted", ha,
         [bu(1, home_registration=True, mobile_router=True)], {"status": 140}),
        ("mobile-router-without-home-registration", "RFC 3963 §6.2: the H flag MUST be set",
         nemo, [bu(1, mobile_router=True, prefixes=[pfx + "/48"])], {"status": 140}),
        ("mobile-router-flag-change", "RFC 3963 §6.2: R differs from the existing entry",
         nemo, [bu(1, home_registration=True, mobile_router=True, prefixes=[pfx + "/48"]),
                bu(2, home_registration=True)], {"status": 139}),
        ("invalid-prefix", "RFC 3963 §6.2: invalid prefix (length 0)", nemo,
         [bu(1, home_registration=True, mobile_router=True, prefixes=[pfx + "/0"])],
         {"status": 141}),
        ("prefix-not-authorized", "RFC 3963 §6.2: not authorized for prefix", nemo,
         [bu(1, home_registration=True, mobile_router=True,
             prefixes=["20010db800bb00000000000000000000/48"])], {"status": 142}),
        ("implicit-mode-without-prefixes", "RFC 3963 §6.2: forwarding setup failed", nemo,
         [bu(1, home=h2, home_registration=True, mobile_router=True)], {"status": 143}),
        ("nemo-care-of-equal-to-home-deletes",
         "RFC 3963 §6.2: care-of address = home address deletes a mobile router binding", nemo,
         [bu(1, home_registration=True, mobile_router=True, prefixes=[pfx + "/48"]),
          {**bu(2, home_registration=True, mobile_router=True, prefixes=[pfx + "/48"]),
           "care_of_address": h}], {"status": 0, "lifetime": 0}),
        ("nemo-explicit", "RFC 3963 §6.2: explicit mode accepted", nemo,
         [bu(1, home_registration=True, mobile_router=True, prefixes=[pfx + "/48"])],
         {"status": 0, "lifetime": 100}),
    ]
    out = []
    for cid, why, cache, updates, expected in rows:
        case: dict[str, Any] = {"id": cid, "source": f"derived: RFC 6275 {why}"
                                if why.startswith("§") else f"derived: {why}"}
        if cache:
            case["cache"] = cache
        case["updates"] = updates
        case["expected"] = expected
        out.append(case)
    return out


def write(family: str, name: str, title: str, cases: list[dict[str, Any]],
          defaults: dict[str, Any] | None = None) -> None:
    doc: dict[str, Any] = {"family": family, "title": title}
    if defaults:
        doc["defaults"] = defaults
    doc["cases"] = cases
    path = ROOT / "vectors" / family / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def mh_expected(data: bytes) -> dict[str, Any]:
    from secmob.vectorfamilies.mip6 import check_mobility_header
    from secmob.vectors import Case

    got = check_mobility_header(Case("gen", "mobility-header", {
        "id": "x", "source": "x", "mh": data.hex(), "source_address": HOA[0].hex(),
        "destination_address": CN.hex()}))
    return {k: (v.hex() if isinstance(v, bytes) else v) for k, v in got.items()}


def main() -> None:
    write("rr", "derived-rfc6275", "Return Routability keygen tokens, Kbm, authenticators and "
          "nonce expiry (no published vectors exist; derived and independently verified)",
          rr_cases())
    mcases = []
    for c in mobility_header_cases():
        data = c["_data"]
        mcases.append({"id": c["id"], "source": c["source"], "mh": data.hex(),
                       "expected": mh_expected(data)})
    write("mobility-header", "derived-scapy", "Mobility Header messages built by scapy, "
          "decoded by secmob (RFC 6275 §6.1, RFC 3963 §4)", mcases,
          {"source_address": HOA[0].hex(), "destination_address": CN.hex()})
    write("binding", "rfc6275-behaviour", "Binding cache decisions and their Binding "
          "Acknowledgement status codes (RFC 6275 §9.5.1, §10.3.1; RFC 3963 §6)", binding_cases())


if __name__ == "__main__":
    main()
