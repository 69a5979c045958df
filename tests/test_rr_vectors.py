"""vectors/rr/derived-rfc6275.json: a second, independent computation.

Everything here uses plain hmac/hashlib and Mobility Header bytes built by
hand with struct, never secmob's code path; then the stored file is also run
through secmob's vector runner.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from secmob import vectors

FILE = Path(__file__).resolve().parent.parent / "vectors" / "rr" / "derived-rfc6275.json"
DOC = json.loads(FILE.read_text(encoding="utf-8"))
CASES = {c["id"]: c for c in DOC["cases"]}
CN = ipaddress.IPv6Address("2001:db8:4::1").packed
HOA = ipaddress.IPv6Address("2001:db8:1::10").packed


def h(x: str) -> bytes:
    return bytes.fromhex(x)


def first_hmac_sha1(key: bytes, data: bytes, octets: int) -> bytes:
    return hmac.new(key, data, hashlib.sha1).digest()[:octets]


def ones_complement_checksum(src: bytes, dst: bytes, segment: bytes) -> int:
    pseudo = src + dst + struct.pack("!I", len(segment)) + b"\x00\x00\x00" + bytes([135])
    data = pseudo + segment
    total = 0
    for (word,) in struct.iter_unpack("!H", data):
        total += word
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def hand_bu(seq: int, lifetime: int, hni: int, cni: int, alt: bytes | None = None) -> bytes:
    """A Binding Update (A flag) laid out by hand, Authenticator zero."""
    fixed = struct.pack("!HHH", seq, 0x8000, lifetime)
    nonce = struct.pack("!BBHH", 4, 4, hni, cni)  # 2n: offset 12
    if alt is None:
        opts = nonce + b"\x05\x0c" + bytes(12)  # BAD at 18 = 8*2+2
    else:  # PadN(2) to 8n+6 = 22, AltCoA, PadN(0) to 8n+2 = 42, BAD
        opts = nonce + b"\x01\x02\x00\x00" + b"\x03\x10" + alt + b"\x01\x00" + b"\x05\x0c" \
            + bytes(12)
    body = fixed + opts
    return bytes([59, (6 + len(body)) // 8 - 1, 5, 0, 0, 0]) + body


def hand_ba(status: int, seq: int, lifetime: int) -> bytes:
    body = struct.pack("!BBHH", status, 0, seq, lifetime) + b"\x01\x04" + bytes(4) \
        + b"\x05\x0c" + bytes(12)
    return bytes([59, 3, 6, 0, 0, 0]) + body


def signed(mh: bytes, kbm: bytes, coa: bytes, src: bytes, dst: bytes) -> bytes:
    mh_data = mh[:4] + b"\x00\x00" + mh[6:-12]
    auth = first_hmac_sha1(kbm, coa + CN + mh_data, 12)
    whole = mh[:-12] + auth
    ck = ones_complement_checksum(src, dst, whole[:4] + b"\0\0" + whole[6:])
    return whole[:4] + struct.pack("!H", ck) + whole[6:]


def test_inputs_are_what_the_source_says() -> None:
    c = CASES["home-token-1"]
    assert h(c["kcn"]) == hashlib.sha256(b"secmob rr kcn 1").digest()[:20]
    assert h(c["nonce"]) == hashlib.sha256(b"secmob rr nonce 1").digest()[:8]
    assert all(c["source"].startswith("derived: ") for c in DOC["cases"])


@pytest.mark.parametrize("cid", [c for c in CASES if "token-" in c])
def test_keygen_tokens(cid: str) -> None:
    c = CASES[cid]
    last = b"\x00" if c["kind"] == "home-token" else b"\x01"
    want = first_hmac_sha1(h(c["kcn"]), h(c["address"]) + h(c["nonce"]) + last, 8)
    assert want.hex() == c["expected"]["token"]


def test_kbm_registration_and_deregistration() -> None:
    home, care = CASES["home-token-1"], CASES["care-of-token-1"]
    ht, ct = h(home["expected"]["token"]), h(care["expected"]["token"])
    reg, dereg = CASES["kbm-registration"], CASES["kbm-deregistration"]
    assert (reg["home_token"], reg["care_of_token"]) == (ht.hex(), ct.hex())
    assert hashlib.sha1(ht + ct).hexdigest() == reg["expected"]["kbm"]
    assert hashlib.sha1(ht).hexdigest() == dereg["expected"]["kbm"]
    assert "care_of_token" not in dereg


HAND: dict[str, Any] = {
    "bu-authenticator": lambda: hand_bu(4660, 105, 1, 1),
    "bu-alternate-coa-authenticator":
        lambda: hand_bu(4661, 60, 1, 1, ipaddress.IPv6Address("2001:db8:5::abc").packed),
    "bu-deregistration-authenticator": lambda: hand_bu(4662, 0, 1, 0),
    "ba-authenticator": lambda: hand_ba(0, 4660, 105),
}


@pytest.mark.parametrize("cid", sorted(HAND))
def test_authenticators_over_hand_built_messages(cid: str) -> None:
    c = CASES[cid]
    kbm, coa = h(c["kbm"]), h(c["care_of_address"])
    src, dst = (CN, HOA) if cid.startswith("ba") else (HOA, CN)
    mh = signed(HAND[cid](), kbm, coa, src, dst)
    assert mh.hex() == c["mh"]
    mh_data = mh[:4] + b"\x00\x00" + mh[6:-12]
    assert mh_data.hex() == c["expected"]["mh_data"]
    assert first_hmac_sha1(kbm, coa + CN + mh_data, 12).hex() == c["expected"]["authenticator"]
    assert mh[-12:].hex() == c["expected"]["authenticator"]


def test_deregistration_uses_the_home_address_and_the_home_only_kbm() -> None:
    c = CASES["bu-deregistration-authenticator"]
    assert h(c["care_of_address"]) == HOA
    assert c["kbm"] == CASES["kbm-deregistration"]["expected"]["kbm"]


@pytest.mark.parametrize("cid", ["bu-authenticator-tampered", "bu-authenticator-wrong-kbm"])
def test_negative_cases_do_not_verify(cid: str) -> None:
    c = CASES[cid]
    mh = h(c["mh"])
    mh_data = mh[:4] + b"\x00\x00" + mh[6:-12]
    computed = first_hmac_sha1(h(c["kbm"]), h(c["care_of_address"]) + CN + mh_data, 12)
    assert not hmac.compare_digest(computed, mh[-12:])
    assert c["error"] == "IntegrityError"


@pytest.mark.parametrize("cid", [c for c in CASES if c.startswith("binding-update-")])
def test_whole_binding_updates(cid: str) -> None:
    c = CASES[cid]
    kcn, hoa, coa = h(c["kcn"]), h(c["home_address"]), h(c["care_of_address"])
    ht = first_hmac_sha1(kcn, hoa + h(c["home_nonce"]) + b"\x00", 8)
    ct = first_hmac_sha1(kcn, coa + h(c["care_of_nonce"]) + b"\x01", 8)
    dereg = c["lifetime"] == 0
    kbm = hashlib.sha1(ht if dereg else ht + ct).digest()
    bu = hand_bu(c["sequence"], c["lifetime"], c["home_nonce_index"], c["care_of_nonce_index"])
    mh = signed(bu, kbm, hoa if dereg else coa, hoa, h(c["correspondent"]))
    want = c["expected"]
    assert (want["home_token"], want["care_of_token"], want["kbm"], want["mh"]) == (
        ht.hex(), ct.hex(), kbm.hex(), mh.hex())


@pytest.mark.parametrize("cid", [c for c in CASES if CASES[c]["kind"] == "nonce-check"])
def test_nonce_statuses_follow_the_lifetime_rule(cid: str) -> None:
    c = CASES[cid]
    created = c["created"]

    def alive(index: int) -> bool:
        return index < len(created) and 0 <= c["now"] - created[index] <= 240

    home_ok = alive(c["home_nonce_index"])
    care = c["care_of_nonce_index"]
    care_ok = care is None or alive(care)
    status = 0 if home_ok and care_ok else 136 if care_ok else 137 if home_ok else 138
    if "expected" in c:
        assert c["expected"]["status"] == status
    else:
        assert c["error"] == "NonceExpired" and status


def test_secmob_runner_agrees() -> None:
    results = list(vectors.run_files([FILE]))
    assert len(results) == len(DOC["cases"]) >= 25
    assert [r.id for r in results if not r.ok] == []
