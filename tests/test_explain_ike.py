"""``secmob explain ike``: a whole Main Mode + Quick Mode between two peers,
every step recorded, checked against hmac/pow() recomputations."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from secmob import cli
from secmob.algorithms import DH_GROUPS


def _run(capsys: pytest.CaptureFixture[str], *options: str) -> list[dict[str, object]]:
    assert cli.main(["explain", "ike", "--format", "json", *options]) == 0
    steps = json.loads(capsys.readouterr().out)
    assert isinstance(steps, list)
    return steps


def _one(steps: list[dict[str, object]], name: str, note: str = "initiator") -> dict[str, object]:
    found = [s for s in steps if s["name"] == name and s["note"] in (note, "")]
    assert found, name
    return found[0]


def _b(step: dict[str, object], key: str | None = None) -> bytes:
    value = step["output"] if key is None else step["inputs"][key]  # type: ignore[index]
    assert isinstance(value, str)
    return bytes.fromhex(value)


def test_explain_ike_records_the_whole_negotiation(capsys: pytest.CaptureFixture[str]) -> None:
    steps = _run(capsys)
    names = [s["name"] for s in steps]
    assert [n for n in names if str(n).startswith("message ")] == [
        "message 1: MM1 (SA)", "message 2: MM2 (SA)", "message 3: MM3 (KE, Ni)",
        "message 4: MM4 (KE, Nr)", "message 5: MM5* (IDii, HASH_I)",
        "message 6: MM6* (IDir, HASH_R)",
        "message 7: QM1* (HASH(1), SA, Ni [, KE] [, IDci, IDcr])",
        "message 8: QM2* (HASH(2), SA, Nr [, KE] ...)", "message 9: QM3* (HASH(3))"]
    for name in ("SKEYID", "SKEYID_d", "SKEYID_a", "SKEYID_e", "phase 1 encryption key",
                 "phase 1 IV", "next IV", "HASH_I", "HASH_R", "phase 2 IV", "HASH(1)",
                 "HASH(2)", "HASH(3)", "KEYMAT"):
        assert name in names, name
    sas = [s for s in steps if str(s["name"]).startswith("ESP SA")]
    assert len(sas) == 2 and all(s["output"] == "both peers derived the same" for s in sas)
    assert _run(capsys) == steps  # fixed inputs: the same record every time

    # g^xy from the recorded exponent and the responder's public value, with pow()
    p = DH_GROUPS.get("modp1024").p  # type: ignore[attr-defined]
    x_i = int.from_bytes(_b(_one(steps, "private value x")), "big")
    g_xr = _b(_one(steps, "public value g^y mod p", "responder"))
    g_xy = pow(int.from_bytes(g_xr, "big"), x_i, p).to_bytes(128, "big")
    assert _b(_one(steps, "shared secret (g^y)^x mod p")) == g_xy
    skeyid_step = _one(steps, "SKEYID")
    skeyid = hmac.new(b"secmob", _b(skeyid_step, "Ni_b") + _b(skeyid_step, "Nr_b"),
                      "sha1").digest()
    assert _b(skeyid_step) == skeyid
    m1, m2 = (_b(_one(steps, n)) for n in ("message 1: MM1 (SA)", "message 2: MM2 (SA)"))
    ck = m1[:8] + m2[8:16]
    d = hmac.new(skeyid, g_xy + ck + b"\x00", "sha1").digest()
    assert _b(_one(steps, "SKEYID_d")) == d
    g_xi = _b(_one(steps, "public value g^x mod p"))
    assert _b(_one(steps, "phase 1 IV")) == hashlib.sha1(g_xi + g_xr).digest()[:16]


def test_explain_ike_options(capsys: pytest.CaptureFixture[str]) -> None:
    steps = _run(capsys, "--group", "14", "--pfs", "--esp", "aes128gcm16", "--ike",
                 "3des-md5")
    publics = [s for s in steps if str(s["name"]).startswith("public value g^")]
    assert len(publics) == 4 and all(len(_b(s)) == 256 for s in publics)  # PFS: 2 more
    assert all("g(qm)^xy" in s["inputs"] for s in steps if s["name"] == "KEYMAT")  # type: ignore[operator]
    assert len(_b(_one(steps, "phase 1 IV"))) == 8  # 3DES block
    with pytest.raises(SystemExit):
        cli.main(["explain", "ike", "--group", "31"])  # Curve25519: no Oakley number
    assert "Oakley" in capsys.readouterr().err
