"""IKE side by side: secmob's ISAKMP codec against scapy, secmob's key
derivation against the same formulas written directly with hmac, and whole
in-process IKEv1 negotiations (Main Mode + Quick Mode, both peers) against
their Diffie-Hellman floor (the same key generation and four
exponentiations, eight with PFS, through DH_GROUPS): the ratio is what the
rest of the exchange costs on top.

Run: ``PYTHONPATH=. python bench/bench_ike.py``. Prints time per call and the
ratio to the reference (below 1: secmob is faster).
"""

from __future__ import annotations

import hashlib
import hmac
import timeit

from secmob.algorithms import DH_GROUPS, PRFS
from secmob.ike import ikev1_keys as v1
from secmob.ike import ikev2
from secmob.ike.ikev1_exchange import Phase1Config, QuickModeConfig, Role, Session
from secmob.ike.ikev1_peers import negotiate
from secmob.ike.proposal_strings import parse_esp, parse_ike
from secmob.wire.isakmp import (
    Attribute,
    ExchangeType,
    Hash,
    Header,
    Identification,
    IdType,
    Message,
    Nonce,
    Proposal,
    Protocol,
    SecurityAssociation,
    Transform,
)


def _quick_mode_message() -> bytes:
    t = Transform(1, 12, (Attribute(1, 1), Attribute(2, 3600), Attribute(4, 1), Attribute(5, 2),
                          Attribute(6, 128)))
    sa = SecurityAssociation((Proposal(1, Protocol.IPSEC_ESP, b"\x11\x22\x33\x44", (t,)),))
    return Message(Header(b"I" * 8, b"R" * 8, exchange_type=ExchangeType.QUICK_MODE,
                          message_id=7),
                   (Hash(bytes(20)), sa, Nonce(bytes(16)),
                    Identification(IdType.IPV4_ADDR_SUBNET, bytes(8)),
                    Identification(IdType.IPV4_ADDR_SUBNET, bytes(8)))).to_bytes()


def _time(fn: object, number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number  # type: ignore[arg-type]


def _row(name: str, ours: float, ref: float, ref_name: str) -> None:
    print(f"{name:38s} {ours * 1e6:9.2f} us   {ref_name:22s} {ref * 1e6:9.2f} us   "
          f"ratio {ours / ref:5.2f}")


def main() -> None:
    raw = _quick_mode_message()
    ours = _time(lambda: Message.parse(raw).to_bytes(), 2000)
    try:
        from scapy.layers.isakmp import ISAKMP

        ref = _time(lambda: bytes(ISAKMP(raw)), 300)
        _row("ISAKMP Quick Mode parse + encode", ours, ref, "scapy ISAKMP")
    except ImportError:
        print(f"ISAKMP parse + encode: {ours * 1e6:.2f} us (scapy not installed)")

    prf = PRFS.get("prfsha256")
    key, seed = bytes(32), bytes(80)

    def plain_prf_plus() -> bytes:
        out, t = b"", b""
        for n in range(1, 13):
            t = hmac.digest(key, t + seed + bytes([n]), "sha256")
            out += t
        return out[:384]

    _row("IKEv2 prf+ 384 octets", _time(lambda: ikev2.prf_plus(prf, key, seed, 384), 3000),
         _time(plain_prf_plus, 3000), "hmac loop")

    sha1 = PRFS.get("prfsha1")
    ni, nr, gxy, ci, cr = bytes(16), bytes(16), bytes(256), bytes(8), bytes(8)

    def plain_phase1() -> bytes:
        s = hmac.digest(b"psk", ni + nr, "sha1")
        d = hmac.digest(s, gxy + ci + cr + b"\x00", "sha1")
        a = hmac.digest(s, d + gxy + ci + cr + b"\x01", "sha1")
        return hmac.digest(s, a + gxy + ci + cr + b"\x02", "sha1")

    _row("IKEv1 SKEYID family (PSK, SHA-1)",
         _time(lambda: v1.derive_phase1(sha1, 1, ni, nr, gxy, ci, cr, pre_shared_key=b"psk"),
               3000), _time(plain_phase1, 3000), "hmac calls")


    print()
    for ike, esp in (("aes128-sha1-modp1024", "aes128-sha1"),
                     ("aes128-sha256-modp2048", "aes128gcm16"),
                     ("aes128-sha256-modp2048", "aes128gcm16-modp2048")):
        _negotiations(ike, esp)


def _rng() -> object:
    counter = iter(range(1 << 62))
    return lambda n: hashlib.shake_256(next(counter).to_bytes(8, "big")).digest(n)


def _negotiations(ike: str, esp: str) -> None:
    """Main Mode + Quick Mode between two in-process peers, per second."""
    ident = Identification(IdType.IPV4_ADDR, bytes([192, 0, 2, 1]))
    p1, qm = Phase1Config(parse_ike(ike), b"psk", ident), QuickModeConfig(parse_esp(esp))

    def once() -> None:
        negotiate(Session(Role.INITIATOR, p1, qm, rng=_rng()),  # type: ignore[arg-type]
                  Session(Role.RESPONDER, p1, qm, rng=_rng()))  # type: ignore[arg-type]

    group = DH_GROUPS.by_ikev1("oakley_group", parse_ike(ike)[0].group)
    rng = _rng()
    rounds = 2 if parse_esp(esp)[0].transforms[0].group is not None else 1

    def dh_floor() -> None:
        for _ in range(rounds):
            a, b = group.new(group.generate(rng)), group.new(group.generate(rng))  # type: ignore[arg-type]
            a.shared(b.public()), b.shared(a.public())

    number = 20 if group.public_size <= 128 else 8
    ours, ref = _time(once, number), _time(dh_floor, number)
    print(f"IKEv1 MM+QM {ike} / ESP {esp}: {1 / ours:7.1f} negotiations/s "
          f"({ours * 1e3:.2f} ms); its DH alone {ref * 1e3:.2f} ms; ratio {ours / ref:5.2f}")


if __name__ == "__main__":
    main()
