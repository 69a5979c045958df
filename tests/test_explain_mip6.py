"""``secmob explain mip6``: the scenario's steps in order, with values that
agree with a second computation (plain hashlib/hmac) and with the packets."""

from __future__ import annotations

import hashlib
import json

import pytest

from secmob import cli


def steps(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, object]]:
    assert cli.main(["explain", "mip6", "--format", "json", *extra]) == 0
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out, list)
    return out


def test_mip6_walkthrough_is_consistent(capsys: pytest.CaptureFixture[str]) -> None:
    s = steps(capsys)
    names = [str(x["name"]) for x in s]
    assert names[0] == "scenario: at home" and names[-1].startswith("packet")
    assert all(x["rfc"] for x in s)
    # each Kbm is SHA1 of the keygen tokens recorded just before it
    tokens: dict[str, bytes] = {}
    kbms = 0
    for x in s:
        name, out = str(x["name"]), str(x["output"])
        if name in ("home keygen token", "care-of keygen token"):
            tokens[name] = bytes.fromhex(out)
        elif name == "Kbm":
            want = hashlib.sha1(tokens["home keygen token"] + tokens["care-of keygen token"])
            assert out == want.hexdigest()
            kbms += 1
        elif name == "Kbm (deregistration)":
            assert out == hashlib.sha1(tokens["home keygen token"]).hexdigest()
            kbms += 1
    assert kbms == 6  # mobile node and correspondent, for two updates and a deregistration
    # every authenticator the mobile node computed ends a Binding Update packet on the wire
    packets = [str(x["output"]) for x in s if str(x["name"]).startswith("packet")]
    auths = [str(x["output"]) for x in s if x["name"] == "authenticator"]
    assert auths and all(any(p.endswith(a) for p in packets) for a in auths)
    verdicts = {str(x["output"]) for x in s if x["name"] == "verify authenticator"}
    assert verdicts == {"valid"}
    assert any(str(x["name"]) == "ESP plaintext" for x in s)  # the BU inside ESP
    assert steps(capsys) == s  # deterministic


def test_mip6_walkthrough_nemo(capsys: pytest.CaptureFixture[str]) -> None:
    s = steps(capsys, "--nemo")
    accepted = [str(x["output"]) for x in s if x["name"] == "home-agent: accepted"]
    assert "prefixes 2001:db8:10::/48" in accepted[0]
    assert not any(x["name"] == "Kbm" for x in s)
