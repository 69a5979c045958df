"""The stored vectors of family ``addr`` (vectors/addr/*.json), run, and the derived
ones recomputed independently here with plain hashlib / ipaddress / scapy."""

import hashlib
import ipaddress
from pathlib import Path

import pytest
from scapy.utils6 import in6_ifaceidtomac, in6_mactoifaceid

from secmob import vectors

ROOT = vectors.stored_root() / "addr"
FILES = sorted(ROOT.glob("*.json"))


def _cases(name: str) -> list[vectors.Case]:
    return vectors.load_file(ROOT / f"{name}.json")


def test_files_exist_and_have_enough_cases() -> None:
    assert len(FILES) >= 8
    assert sum(len(vectors.load_file(f)) for f in FILES) >= 70


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_file_passes(path: Path) -> None:
    results = list(vectors.run_files([path]))
    assert results and all(r.ok for r in results), [r for r in results if not r.ok]


def test_every_case_names_a_source() -> None:
    for path in FILES:
        for case in vectors.load_file(path):
            assert case.source.startswith(("RFC ", "derived: ")), case.id


# --- independent recomputations ---------------------------------------------


def _low64(digest: bytes) -> bytes:
    return digest[len(digest) - 8:]


def test_eui64_cases_agree_with_scapy() -> None:
    for case in _cases("rfc4291-modified-eui64"):
        if case.data.get("operation") != "modified_eui64" or "expected" not in case.data:
            continue
        ident = case.hex("identifier")
        want = case.data["expected"]
        if len(ident) == 6:
            mac = ":".join(f"{b:02x}" for b in ident)
            theirs = ipaddress.IPv6Address("::" + in6_mactoifaceid(mac)).packed[8:]
            assert theirs.hex() == want["iid"], case.id
            assert in6_ifaceidtomac(in6_mactoifaceid(mac)) == mac
            assert want["mac"] == ident.hex()
        else:
            assert bytes([ident[0] ^ 0x02]) + ident[1:] == bytes.fromhex(want["iid"])
        ll = ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + bytes.fromhex(want["iid"]))
        assert str(ll) == want["link_local"]
        assert ll.is_link_local


def test_slaac_cases_are_prefix_then_iid() -> None:
    for case in _cases("rfc4291-modified-eui64"):
        if case.data.get("operation") != "slaac" or "expected" not in case.data:
            continue
        net = ipaddress.IPv6Network(case.text("prefix"))
        if case.has("iid"):
            iid = case.hex("iid")
        else:
            mac = ":".join(f"{b:02x}" for b in case.hex("identifier"))
            iid = ipaddress.IPv6Address("::" + in6_mactoifaceid(mac)).packed[8:]
        addr = ipaddress.IPv6Address(int(net.network_address) | int.from_bytes(iid, "big"))
        assert str(addr) == case.data["expected"]["address"]


def test_rfc4941_cases_with_hashlib() -> None:
    for case in _cases("derived-rfc4941-temporary"):
        if "expected" not in case.data:
            continue
        history, iid = case.hex("history"), case.hex("iid")
        in_use = {bytes.fromhex(h) for h in case.data.get("in_use", [])}
        rounds = 0
        while True:
            rounds += 1
            digest = hashlib.md5(history + iid).digest()
            temp = bytes([digest[0] & 0b11111101]) + digest[1:8]
            history = digest[8:]
            if temp not in in_use:
                break
        want = case.data["expected"]
        assert (temp.hex(), history.hex(), rounds) == (
            want["temporary_iid"], want["next_history"], want["rounds"]), case.id


def test_rfc8981_hash_cases_with_hashlib() -> None:
    for case in _cases("derived-rfc8981-hash"):
        if "expected" not in case.data:
            continue
        prefix = ipaddress.IPv6Network(case.text("prefix")).network_address.packed[:8]
        counter = case.num("dad_counter", 0)
        # RFC 8981 §3.3.2: RID = F(Prefix, Net_Iface, Network_ID, Time, DAD_Counter,
        # secret_key), concatenated in that order.
        data = (prefix + case.hex("net_iface") + case.hex("network_id", b"") + case.hex("time")
                + bytes([counter]) + case.hex("secret_key"))
        rid = hashlib.new(case.text("prf", "sha256"), data).digest()
        assert case.data["expected"] == {"iid": _low64(rid).hex(), "dad_counter": counter}


def test_rfc7217_cases_with_hashlib() -> None:
    for case in _cases("derived-rfc7217-stable"):
        if "expected" not in case.data:
            continue
        net = ipaddress.IPv6Network(case.text("prefix"))
        in_use = {bytes.fromhex(h) for h in case.data.get("in_use", [])}
        counter = case.num("dad_counter", 0)
        while True:
            rid = hashlib.new(case.text("prf", "sha256"),
                              net.network_address.packed[:8] + case.hex("net_iface")
                              + case.hex("network_id", b"") + bytes([counter])
                              + case.hex("secret_key")).digest()
            if _low64(rid) not in in_use:
                break
            counter += 1
        want = case.data["expected"]
        assert want["iid"] == _low64(rid).hex() and want["dad_counter"] == counter, case.id
        if "address" in want:
            low = int.from_bytes(_low64(rid), "big")
            addr = ipaddress.IPv6Address(int(net.network_address) | low)
            assert want["address"] == str(addr)


def test_rfc4193_cases_with_hashlib() -> None:
    for case in _cases("derived-rfc4193-ula"):
        if "expected" not in case.data:
            continue
        gid = hashlib.sha1(case.hex("ntp_time") + case.hex("eui64")).digest()[-5:]
        want = case.data["expected"]
        assert want["global_id"] == gid.hex()
        prefix = ipaddress.IPv6Network(f"fd{gid.hex()[:2]}:{gid.hex()[2:6]}:{gid.hex()[6:]}::/48")
        assert want["prefix"] == str(prefix)
        subnets = prefix.subnets(new_prefix=64)
        for _ in range(case.num("subnet_id")):
            next(subnets)
        assert want["subnet"] == str(next(subnets))


def test_rfc4193_ntp_times_from_unix_seconds() -> None:
    # The NTP era 0 origin lies 2208988800 s before the Unix epoch (RFC 5905 §6).
    for case in _cases("derived-rfc4193-ula"):
        if "expected" not in case.data:
            continue
        ntp = case.hex("ntp_time")
        seconds = int.from_bytes(ntp[:4], "big") - 2208988800
        assert str(seconds) in case.source, case.id
