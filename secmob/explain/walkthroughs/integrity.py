"""Worked examples: an ICV (``secmob explain icv``) and a PRF (``secmob explain prf``).

Defaults reproduce published vectors: RFC 3566 §4.6 Test Case #4 for the ICV
(AES-XCBC-MAC-96, showing the K1/K2/K3 derivation) and RFC 4434 §4 with a
10-octet key for the PRF (showing the key rule of AES-XCBC-PRF-128).
"""

from __future__ import annotations

import argparse

from secmob.algorithms import INTEGRITY, PRFS
from secmob.explain import topic
from secmob.trace import Recorder

_KEY16 = bytes(range(16)).hex()
_MSG20 = bytes(range(20)).hex()


def _icv_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--algorithm", default="aesxcbc",
                   help="integrity transform: keyword, name or IKEv2 id (default aesxcbc)")
    p.add_argument("--key", default=_KEY16, help="key in hex (GMAC: AES key || 4-octet salt)")
    p.add_argument("--data", default=_MSG20, help="data in hex")
    p.add_argument("--iv", default="", help="IV in hex (AES-GMAC: 8 octets)")


def _prf_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--algorithm", default="prfaesxcbc",
                   help="PRF: keyword, name or IKEv2 id (default prfaesxcbc)")
    p.add_argument("--key", default=bytes(range(10)).hex(), help="key in hex, any length")
    p.add_argument("--data", default=_MSG20, help="data in hex")


def _lookup(name: str) -> int | str:
    return int(name) if name.isdigit() else name


@topic("icv", "an AH/ESP integrity check value, step by step", _icv_options)
def icv(args: argparse.Namespace) -> Recorder:
    rec = Recorder()
    ctx = INTEGRITY.get(_lookup(args.algorithm)).new(bytes.fromhex(args.key), rec)
    ctx.compute(bytes.fromhex(args.data), bytes.fromhex(args.iv))
    return rec


@topic("prf", "an IKE pseudo-random function, with its key rule", _prf_options)
def prf(args: argparse.Namespace) -> Recorder:
    rec = Recorder()
    key, data = bytes.fromhex(args.key), bytes.fromhex(args.data)
    PRFS.get(_lookup(args.algorithm)).compute(key, data, rec)
    return rec
