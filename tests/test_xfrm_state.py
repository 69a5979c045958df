"""``ip xfrm state add`` export: checked against the ip-xfrm(8) grammar, and fed
to iproute2 itself in a private network namespace when the machine allows one."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from interop_links import check_key_refusals, link

from secmob.errors import UsageError
from secmob.ipsec.sad import Lifetime, Mode, Protocol, SecurityAssociation
from secmob.ipsec.spd import SATemplate
from secmob.ipsec.xfrm import XFRM_AEAD, XFRM_ENCRYPTION, XFRM_INTEGRITY, xfrm_state_line

A6, B6, GA6, GB6 = "2001:db8::1", "2001:db8::2", "2001:db8:ffff::a", "2001:db8:ffff::b"
A4, B4 = "192.0.2.1", "192.0.2.2"

# Kernel algorithm names (net/xfrm/xfrm_algo.c) with the key lengths in octets
# (key || salt) and the truncation/ICV lengths in bits that the kernel accepts.
KERNEL_ENC = {"ecb(cipher_null)": {0}, "cbc(des)": {8}, "cbc(des3_ede)": {24},
              "cbc(aes)": {16, 24, 32}, "rfc3686(ctr(aes))": {20, 28, 36}}
KERNEL_AUTH = {"hmac(md5)": (16, 128), "hmac(sha1)": (20, 160), "hmac(sha256)": (32, 256),
               "hmac(sha384)": (48, 384), "hmac(sha512)": (64, 512),
               "xcbc(aes)": (16, 128), "cmac(aes)": (16, 128)}
KERNEL_AEAD = {"rfc4106(gcm(aes))": ({20, 28, 36}, {64, 96, 128}),
               "rfc4309(ccm(aes))": ({19, 27, 35}, {64, 96, 128}),
               "rfc4543(gcm(aes))": ({20, 28, 36}, {128}),
               "rfc7539esp(chacha20,poly1305)": ({36}, {128})}
FLAGS = {"noecn", "decap-dscp", "nopmtudisc", "wildrecv", "icmp", "af-unspec", "align4", "esn"}
LIMITS = {"time-soft", "time-hard", "time-use-soft", "time-use-hard", "byte-soft",
          "byte-hard", "packet-soft", "packet-hard"}
HEX = re.compile(r"0x([0-9a-f]{2})*")


def key_octets(word: str) -> int:
    if word == "":
        return 0
    assert HEX.fullmatch(word), word
    return (len(word) - 2) // 2


def parse_state(line: str) -> dict[str, object]:
    """Check ``line`` against the ip-xfrm(8) ``state add`` grammar; return its parts."""
    words = shlex.split(line)
    assert words[:4] == ["ip", "xfrm", "state", "add"]
    it = iter(words[4:])
    out: dict[str, object] = {"algos": [], "flags": [], "limits": {}}
    for word in it:
        if word in ("src", "dst"):
            out[word] = str(__import__("ipaddress").ip_address(next(it)))
        elif word == "proto":
            out["proto"] = next(it)
            assert out["proto"] in ("esp", "ah", "comp", "route2", "hao")
        elif word == "spi":
            spi = next(it)
            assert re.fullmatch(r"0x[0-9a-f]{8}", spi)
            out["spi"] = int(spi, 16)
        elif word == "enc":
            name, key = next(it), next(it)
            assert key_octets(key) in KERNEL_ENC[name], (name, key)
            out["algos"].append(("enc", name, key))  # type: ignore[attr-defined]
        elif word == "auth-trunc":
            name, key, bits = next(it), next(it), int(next(it))
            octets, full = KERNEL_AUTH[name]
            assert key_octets(key) == octets and 0 < bits <= full and bits % 8 == 0
            out["algos"].append(("auth-trunc", name, key, bits))  # type: ignore[attr-defined]
        elif word == "aead":
            name, key, bits = next(it), next(it), int(next(it))
            sizes, icvs = KERNEL_AEAD[name]
            assert key_octets(key) in sizes and bits in icvs, (name, key, bits)
            out["algos"].append(("aead", name, key, bits))  # type: ignore[attr-defined]
        elif word == "mode":
            out["mode"] = next(it)
            assert out["mode"] in ("transport", "tunnel", "beet", "ro", "in_trigger")
        elif word in ("reqid", "replay-window"):
            value = int(next(it))
            assert 0 <= value < 1 << 32
            out[word] = value
        elif word == "flag":
            rest = list(it)
            n = 0
            while n < len(rest) and rest[n] in FLAGS:
                out["flags"].append(rest[n])  # type: ignore[attr-defined]
                n += 1
            assert n > 0
            it = iter(rest[n:])
        elif word == "limit":
            kind, value = next(it), int(next(it))
            assert kind in LIMITS and value >= 0
            out["limits"][kind] = value  # type: ignore[index]
        else:
            raise AssertionError(f"not in the ip xfrm state grammar: {word!r} in {line}")
    assert {"src", "dst", "proto", "spi"} <= out.keys()
    return out


CASES: list[tuple[Protocol, str | None, str | None, bool, bool]] = [
    # protocol, cipher, integrity, tunnel, esn
    (Protocol.ESP, "aes128", "sha1", False, False),
    (Protocol.ESP, "aes256", "sha256", True, True),
    (Protocol.ESP, "3des", "md5", False, False),
    (Protocol.ESP, "des", "sha512", False, False),
    (Protocol.ESP, "aes128ctr", "sha384", True, False),
    (Protocol.ESP, "aes128gcm16", None, False, True),
    (Protocol.ESP, "aes256gcm8", None, True, False),
    (Protocol.ESP, "aes192ccm12", None, False, False),
    (Protocol.ESP, "aes128gmac", None, False, False),
    (Protocol.ESP, "chacha20poly1305", None, True, True),
    (Protocol.ESP, "null", "sha256", False, False),
    (Protocol.ESP, "aes128", "aesxcbc", False, False),
    (Protocol.ESP, "aes128", "aescmac", False, False),
    (Protocol.AH, None, "sha1", False, False),
    (Protocol.AH, None, "sha256", True, True),
]


def sa_and_keys(case: tuple[Protocol, str | None, str | None, bool, bool], family: int = 6,
                ) -> tuple[SecurityAssociation, SecurityAssociation, bytes, bytes]:
    protocol, cipher, integrity, tunnel, esn = case
    a, b = (A6, B6) if family == 6 else (A4, B4)
    lk = link(protocol, cipher, integrity, a=a, b=b, esn=esn,
              mode=Mode.TUNNEL if tunnel else Mode.TRANSPORT,
              tunnel=(GA6, GB6) if tunnel else None)
    return lk.out_sa, lk.in_sa, lk.cipher_key, lk.integrity_key


def ids(case: tuple[object, ...]) -> str:
    return "-".join(str(getattr(c, "name", c)) for c in case)


@pytest.mark.parametrize("case", CASES, ids=[ids(c) for c in CASES])
def test_state_lines_follow_the_grammar(case: tuple[Protocol, str | None, str | None, bool, bool],
                                        ) -> None:
    out_sa, in_sa, ckey, ikey = sa_and_keys(case)
    for sa in (out_sa, in_sa):
        got = parse_state(xfrm_state_line(sa, cipher_key=ckey, integrity_key=ikey))
        assert got["proto"] == case[0].name.lower() and got["spi"] == sa.spi
        assert (got["src"], got["dst"]) == ((GA6, GB6) if case[3] else (A6, B6))
        assert got["mode"] == sa.mode.value and got["reqid"] == 0
        algos = got["algos"]
        assert isinstance(algos, list)
        if sa.cipher is not None:
            assert algos[0][2] == ("0x" + ckey.hex() if ckey else "")
            if sa.cipher.aead:
                assert algos[0][0] == "aead" and algos[0][3] == sa.cipher.icv_size * 8
        if sa.integrity is not None:
            assert algos[-1] == ("auth-trunc", XFRM_INTEGRITY[sa.integrity.ikev2_id],
                                 "0x" + ikey.hex(), sa.integrity.icv_size * 8)
        expected_window = sa.replay.size if not case[4] else max(sa.replay.size, 1)
        assert got.get("replay-window", 0) == expected_window
        assert ("esn" in got["flags"]) is case[4]  # type: ignore[operator]


def test_example_line() -> None:
    out_sa, _, ckey, ikey = sa_and_keys(CASES[0])
    assert xfrm_state_line(out_sa, cipher_key=ckey, integrity_key=ikey) == (
        f"ip xfrm state add src {A6} dst {B6} proto esp spi 0x00001001 "
        f"enc 'cbc(aes)' 0x{ckey.hex()} auth-trunc 'hmac(sha1)' 0x{ikey.hex()} 96 "
        "mode transport reqid 0")


def test_sha256_is_truncated_to_128_and_ah_ipv4_aligns_to_32_bits() -> None:
    _, in_sa, _, ikey = sa_and_keys((Protocol.AH, None, "sha256", False, False), family=4)
    line = xfrm_state_line(in_sa, integrity_key=ikey)
    assert f"auth-trunc 'hmac(sha256)' 0x{ikey.hex()} 128" in line
    assert parse_state(line)["flags"] == ["align4"]
    assert "replay-window 64" in line
    _, in6, _, ikey6 = sa_and_keys((Protocol.AH, None, "sha256", False, False))
    assert "align4" not in xfrm_state_line(in6, integrity_key=ikey6)


def test_reqid_lifetimes_and_overrides() -> None:
    lk = link(Protocol.ESP, "aes128gcm16", None, a=A6, b=B6)
    tmpl = lk.out_sa.policy.template  # type: ignore[union-attr]
    assert isinstance(tmpl, SATemplate) and tmpl.reqid == 0
    sa = SecurityAssociation(0x4242, cipher=lk.out_sa.cipher, cipher_key=lk.cipher_key,
                             lifetime=Lifetime(soft_seconds=3000, hard_seconds=3600,
                                               soft_bytes=10**9, hard_packets=10**6))
    with pytest.raises(UsageError, match="no source address"):
        xfrm_state_line(sa, cipher_key=lk.cipher_key)
    got = parse_state(xfrm_state_line(sa, cipher_key=lk.cipher_key, reqid=7,
                                      source=A4, destination="192.0.2.9"))
    assert (got["src"], got["dst"], got["reqid"]) == (A4, "192.0.2.9", 7)
    assert got["limits"] == {"time-soft": 3000, "time-hard": 3600, "byte-soft": 10**9,
                             "packet-hard": 10**6}
    with pytest.raises(UsageError, match="mix IPv4 and IPv6"):
        xfrm_state_line(sa, cipher_key=lk.cipher_key, source=A4, destination=B6)
    frac = SecurityAssociation(0x4243, cipher=lk.out_sa.cipher, cipher_key=lk.cipher_key,
                               source=A6, destination=B6,
                               lifetime=Lifetime(hard_seconds=1.5))
    with pytest.raises(UsageError, match="whole seconds"):
        xfrm_state_line(frac, cipher_key=lk.cipher_key)


def test_refusals() -> None:
    gmac_ah = link(Protocol.AH, None, "aes128gmac", a=A6, b=B6)
    with pytest.raises(UsageError, match="AES-128-GMAC"):
        xfrm_state_line(gmac_ah.out_sa, integrity_key=gmac_ah.integrity_key)
    check_key_refusals(xfrm_state_line, A6, B6)
    gcm = link(Protocol.ESP, "aes128gcm16", None, a=A6, b=B6)
    big = SecurityAssociation(0x777, cipher=gcm.out_sa.cipher, cipher_key=gcm.cipher_key,
                              source=A6, destination=B6, replay_window=8192)
    with pytest.raises(UsageError, match="4096"):
        xfrm_state_line(big, cipher_key=gcm.cipher_key)


def test_tables_name_registered_algorithms() -> None:
    from secmob.algorithms import ENCRYPTION, INTEGRITY
    for table in (XFRM_ENCRYPTION, XFRM_AEAD):
        for ikev2_id, name in table.items():
            alg = ENCRYPTION.get(ikev2_id)
            assert (name in KERNEL_AEAD) is alg.aead
    for ikev2_id, name in XFRM_INTEGRITY.items():
        assert name in KERNEL_AUTH and INTEGRITY.get(ikev2_id).ikev2_id == ikev2_id


# -- iproute2 itself, in a network namespace of our own ------------------------

IP = shutil.which("ip")
# Errors the kernel returns after iproute2 parsed the line and sent it; a parse
# error of iproute2 never reaches the kernel.
KERNEL_ERRORS = re.compile(r"Error: (Requested type not found|"
                           r"Requested (CRYPT|AUTH|AUTH_TRUNC|AEAD) algorithm not found)\.")


def kernel_crypto() -> set[str]:
    try:
        text = Path("/proc/crypto").read_text()
    except OSError:
        return set()
    return set(re.findall(r"^name\s*:\s*(\S+)", text, re.M))


@pytest.fixture(scope="module")
def netns() -> Iterator[str]:
    if IP is None or os.geteuid() != 0:
        pytest.skip("needs iproute2 and the right to create a network namespace")
    name = f"secmob-xfrm-{os.getpid()}"
    made = subprocess.run([IP, "netns", "add", name], capture_output=True, text=True,
                          check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {made.stderr.strip()}")
    try:
        yield name
    finally:
        subprocess.run([IP, "netns", "del", name], capture_output=True, check=False)


@pytest.mark.parametrize("case", CASES, ids=[ids(c) for c in CASES])
def test_iproute2_accepts_the_line(netns: str,
                                   case: tuple[Protocol, str | None, str | None, bool, bool],
                                   ) -> None:
    """iproute2 parses every exported line and the kernel gets as far as its
    algorithm checks; algorithms the running kernel has must pass them (it may
    still lack the ESP/AH transform itself, "Requested type not found")."""
    assert IP is not None
    available = kernel_crypto()
    out_sa, in_sa, ckey, ikey = sa_and_keys(case)
    for sa in (out_sa, in_sa):
        words = shlex.split(xfrm_state_line(sa, cipher_key=ckey, integrity_key=ikey))
        res = subprocess.run([IP, "-n", netns, *words[1:]], capture_output=True, text=True,
                             timeout=30, check=False)
        if res.returncode == 0:  # installed: remove it before the next line (same SPI)
            subprocess.run([IP, "-n", netns, "xfrm", "state", "flush"], capture_output=True,
                           check=True)
            continue
        err = res.stderr.strip()
        assert KERNEL_ERRORS.fullmatch(err), f"iproute2/kernel refused {words}: {err}"
        names = [w for w in words if "(" in w]
        if "algorithm not found" in err:
            assert not set(names) <= available, (names, err)


def test_iproute2_rejects_a_malformed_line(netns: str) -> None:
    """Control: the same run does see parse errors (here a key that is not hex)."""
    assert IP is not None
    bad = [IP, "-n", netns, "xfrm", "state", "add", "src", A6, "dst", B6, "proto", "esp",
           "spi", "0x1000", "enc", "cbc(aes)", "0xzz"]
    res = subprocess.run(bad, capture_output=True, text=True, timeout=30, check=False)
    assert res.returncode != 0 and not KERNEL_ERRORS.fullmatch(res.stderr.strip())
    wrong_name = [IP, "-n", netns, "xfrm", "state", "add", "src", A6, "dst", B6, "proto",
                  "esp", "spi", "0x1000", "enc", "cbc(aes)", "0x" + "00" * 16,
                  "auth-trunc", "hmac(sha-1)", "0x" + "00" * 20, "96"]
    res = subprocess.run(wrong_name, capture_output=True, text=True, timeout=30, check=False)
    if "hmac(sha1)" in kernel_crypto():
        assert "Requested AUTH_TRUNC algorithm not found" in res.stderr
