"""Worked example ``esp``: one ESP packet built and checked (RFC 4303)."""

from __future__ import annotations

import argparse

from secmob.algorithms import ENCRYPTION, INTEGRITY
from secmob.explain import topic
from secmob.ipsec import esp
from secmob.ipsec.sad import Direction, SecurityAssociation
from secmob.trace import Recorder, emit


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--integrity", default="sha1_96", help="integrity transform (default sha1_96)")
    p.add_argument("--key", default="", help="integrity key in hex (default 00 01 02 ...)")
    p.add_argument("--spi", default="00001000", help="SPI in hex")
    p.add_argument("--sequence", type=int, default=1, help="full sequence number to send")
    p.add_argument("--esn", action="store_true", help="use 64-bit Extended Sequence Numbers")
    p.add_argument("--payload", default="68656c6c6f", help="payload in hex")
    p.add_argument("--next-header", type=int, default=17, help="protocol of the payload")


@topic("esp", "ESP with ENCR_NULL and an HMAC ICV: padding, ICV input, packet, inbound checks",
       _configure)
def run(args: argparse.Namespace) -> Recorder:
    rec = Recorder()
    integrity = INTEGRITY.get(args.integrity)
    key = bytes.fromhex(args.key) if args.key else bytes(range(integrity.key_size))
    common = {"cipher": ENCRYPTION.get("null"), "integrity": integrity, "integrity_key": key,
              "esn": args.esn}
    spi = int(args.spi, 16)
    out = SecurityAssociation(spi, direction=Direction.OUTBOUND, tracer=rec, **common)
    out.seq_out = args.sequence - 1
    packet = esp.protect(out, args.next_header, bytes.fromhex(args.payload), now=0.0,
                         tracer=rec)
    inb = SecurityAssociation(spi, **common)
    if args.sequence > 1:
        inb.replay.accept(args.sequence - 1)
    result = esp.unprotect(inb, packet, now=0.0)
    emit(rec, "ESP inbound", "lookup, replay check, ICV, window update, decrypt, padding",
         "RFC 4303 §3.4", {"sequence": result.sequence, "next header": result.next_header},
         result.payload)
    return rec
