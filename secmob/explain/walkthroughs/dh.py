"""``secmob explain dh``: a Diffie-Hellman exchange between two parties, step by step.

The initiator holds the private value ``x`` and sends ``m = g^x mod p``; the
responder holds ``y`` and sends ``n = g^y mod p``; both compute
``K = g^xy mod p`` (RFC 2409 §5, RFC 7296 §2.14). The steps are the real
library calls (:mod:`secmob.algorithms.dh`) with a recorder attached; the
responder's steps are renamed so that its private value reads ``y``.

Defaults: the toy group (p = 59, g = 2) with x = 7 and y = 22, which gives
m = 10, n = 53 and K = 19. For any other group, private values not given
with ``--x``/``--y`` are drawn from a seeded, reproducible generator
(SHAKE-256 of ``"secmob explain dh initiator"`` or ``"... responder"``), so
the output is the same on every run -- never use those values for real.
"""

from __future__ import annotations

import argparse
import hashlib

from secmob.algorithms import DH_GROUPS
from secmob.algorithms.dh import RNG, DHGroup, PrivateValue
from secmob.errors import UnsupportedAlgorithm
from secmob.explain import topic
from secmob.trace import Recorder, Step, emit

__all__ = ["seeded_rng"]

_SWAP = str.maketrans({"x": "y", "y": "x"})

_AGREEMENT = {
    "MODP": "(g^y)^x mod p = (g^x)^y mod p = g^xy mod p",
    "ECP": "x(d_i * Q_r) = x(d_r * Q_i) = x(d_i * d_r * G)",
    "Curve25519": "X25519(k_i, X25519(k_r, 9)) = X25519(k_r, X25519(k_i, 9))",
}


def seeded_rng(label: str) -> RNG:
    """A reproducible octet source: successive SHAKE-256 output of ``label`` (teaching only)."""
    state = {"offset": 0}

    def rng(n: int) -> bytes:
        start = state["offset"]
        state["offset"] = start + n
        return hashlib.shake_256(label.encode()).digest(start + n)[start:]

    return rng


class _Party:
    """Forwards steps to ``recorder``, named for one party.

    With ``swap`` (MODP groups) the symbols x and y trade places in names,
    formulas and inputs, so the responder's private value reads ``y``.
    """

    def __init__(self, recorder: Recorder, role: str, swap: bool) -> None:
        self.recorder, self.role, self.swap = recorder, role, swap

    def _fix(self, text: str) -> str:
        return text.translate(_SWAP) if self.swap else text

    def step(self, step: Step) -> None:
        self.recorder.step(Step(
            f"{self.role}: {self._fix(step.name)}", self._fix(step.formula), step.rfc,
            {self._fix(k): v for k, v in step.inputs.items()}, step.output, step.note))


def _group(ref: str) -> DHGroup:
    """``--group``: a name or IKE number (argparse reports an unknown one)."""
    try:
        return DH_GROUPS.get(int(ref) if ref.isdigit() else ref)
    except UnsupportedAlgorithm as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _integer(text: str) -> int:
    """``--x``/``--y``: decimal, or hex with ``0x``."""
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _value(given: int | None, group: DHGroup, label: str) -> PrivateValue:
    if given is None:
        return group.generate(seeded_rng(f"secmob explain dh {label}"))
    return given


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group", default=_group("toy"), type=_group,
                        help="group name or IKE number (default: toy, p = 59, g = 2)")
    parser.add_argument("--x", default=None, type=_integer,
                        help="initiator's private value (decimal or 0x hex; toy default 7)")
    parser.add_argument("--y", default=None, type=_integer,
                        help="responder's private value (decimal or 0x hex; toy default 22)")


@topic("dh", "Diffie-Hellman exchange in an IKE group (m = g^x, n = g^y, K = g^xy mod p)",
       _configure)
def run(args: argparse.Namespace) -> Recorder:
    """Both parties' steps: private value, public value, shared secret, and the agreement."""
    group: DHGroup = args.group if isinstance(args.group, DHGroup) else _group(str(args.group))
    toy = group.name == "toy"
    x = _value(7 if args.x is None and toy else args.x, group, "initiator")
    y = _value(22 if args.y is None and toy else args.y, group, "responder")
    rec = Recorder()
    modp = group.kind == "MODP"
    initiator, responder = _Party(rec, "initiator", False), _Party(rec, "responder", modp)
    m = group.public(x, initiator)
    n = group.public(y, responder)
    k_i = group.shared(x, n, initiator)
    k_r = group.shared(y, m, responder)
    same = "equal" if k_i == k_r else "DIFFERENT"
    emit(rec, "both parties hold K", _AGREEMENT.get(group.kind, ""), "RFC 7296 §2.14",
         {"K (initiator)": _shown(group, k_i), "K (responder)": _shown(group, k_r)}, same,
         note=f"group {group.name} (IKE number {group.ikev2_id}, {group.rfc})")
    return rec


def _shown(group: DHGroup, value: bytes) -> bytes | int:
    """Small groups show numbers (the toy example reads 10, 53, 19); others octets."""
    return int.from_bytes(value, "big") if group.public_size <= 8 else value
