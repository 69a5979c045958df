"""``secmob explain rr``: every Return Routability step with consistent real values."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json

import pytest

from secmob import cli

HOA = ipaddress.IPv6Address("2001:db8:1::10").packed
COA = ipaddress.IPv6Address("2001:db8:2::10").packed
CN = ipaddress.IPv6Address("2001:db8:4::1").packed


def run(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, object]]:
    assert cli.main(["explain", "rr", "--format", "json", *extra]) == 0
    steps = json.loads(capsys.readouterr().out)
    assert isinstance(steps, list)
    return steps


def by_name(steps: list[dict[str, object]], name: str) -> dict[str, object]:
    return next(s for s in steps if s["name"] == name)


def test_rr_walkthrough_values_are_consistent(capsys: pytest.CaptureFixture[str]) -> None:
    steps = run(capsys)
    names = [s["name"] for s in steps]
    for want in ("home init cookie", "care-of init cookie", "HoTI message", "CoTI message",
                 "Kcn", "nonce", "home keygen token", "HoT message", "care-of keygen token",
                 "CoT message", "Kbm", "authenticator", "Binding Update",
                 "verify authenticator", "Binding Acknowledgement"):
        assert want in names, want
    kcn = bytes.fromhex(str(by_name(steps, "Kcn")["output"]))
    nonce = bytes.fromhex(str(by_name(steps, "nonce")["output"]))
    home = hmac.new(kcn, HOA + nonce + b"\0", hashlib.sha1).digest()[:8]
    care = hmac.new(kcn, COA + nonce + b"\1", hashlib.sha1).digest()[:8]
    assert by_name(steps, "home keygen token")["output"] == home.hex()
    assert by_name(steps, "care-of keygen token")["output"] == care.hex()
    kbm = hashlib.sha1(home + care).digest()
    assert by_name(steps, "Kbm")["output"] == kbm.hex()
    bu = bytes.fromhex(str(by_name(steps, "Binding Update")["output"]))
    mh_data = bu[:4] + b"\0\0" + bu[6:-12]
    auth = hmac.new(kbm, COA + CN + mh_data, hashlib.sha1).digest()[:12]
    assert by_name(steps, "authenticator")["output"] == auth.hex() == bu[-12:].hex()
    hot = bytes.fromhex(str(by_name(steps, "HoT message")["output"]))
    cookie = bytes.fromhex(str(by_name(steps, "home init cookie")["output"]))
    assert hot[8:16] == cookie and hot[16:24] == home
    verdicts = [s["output"] for s in steps if s["name"] == "verify authenticator"]
    assert verdicts == ["valid", "valid"]
    assert all(s["rfc"] for s in steps) and run(capsys) == steps  # deterministic


def test_rr_walkthrough_deregistration(capsys: pytest.CaptureFixture[str]) -> None:
    steps = run(capsys, "--deregister")
    kbm = by_name(steps, "Kbm (deregistration)")
    home = bytes.fromhex(str(by_name(steps, "home keygen token")["output"]))
    assert kbm["output"] == hashlib.sha1(home).hexdigest()


def test_rr_walkthrough_renders_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["explain", "rr"]) == 0
    out = capsys.readouterr().out
    assert "RFC 6275 §5.2.5" in out and "First(96, HMAC_SHA1(Kbm" in out
