import argparse
import json

import pytest

from secmob import cli, explain
from secmob.algorithms import INTEGRITY, PRFS
from secmob.trace import Recorder, Step, emit


def test_recorder_collects_algorithm_steps() -> None:
    rec = Recorder()
    out = PRFS.get("prfsha1").compute(b"k", b"data", tracer=rec)
    step = rec.find("PRF_HMAC_SHA1")
    assert step.output == out and step.inputs["S"] == b"data"
    ctx = INTEGRITY.get("sha1").new(bytes(20), tracer=rec)
    icv = ctx.compute(b"x")
    assert rec.steps[-1].output == icv and "First(96" in rec.steps[-1].formula


def test_emit_without_tracer_is_a_no_op() -> None:
    emit(None, "n", "f", "RFC 0", {"a": 1}, 2)


def test_renderers() -> None:
    steps = [Step("K", "K = g^xy mod p", "RFC 2409 §5", {"x": 7, "blob": b"\x01" * 40}, 19)]
    text = explain.render(steps, "text")
    assert "1. K    [RFC 2409 §5]" in text and "=> 19" in text and "(40 octets)" in text
    md = explain.render(steps, "markdown")
    assert "### 1. K" in md and "`19`" in md
    assert json.loads(explain.render(steps, "json"))[0]["inputs"]["blob"] == "01" * 40
    with pytest.raises(ValueError):
        explain.render(steps, "pdf")


def test_cli_runs_registered_topics(capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def run(args: argparse.Namespace) -> Recorder:
        rec = Recorder()
        PRFS.get("prfsha256").compute(b"key", args.data.encode(), tracer=rec)
        return rec

    def configure(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", default="abc")

    topics = dict(explain.topics())
    topics["demo"] = explain.Topic("demo", "demo topic", configure, run)
    monkeypatch.setattr(explain, "topics", lambda: topics)
    assert cli.main(["explain", "demo", "--data", "xyz", "--format", "json"]) == 0
    (step,) = json.loads(capsys.readouterr().out)
    assert step["inputs"]["S"] == b"xyz".hex()
