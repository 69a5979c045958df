"""Worked IKE examples: ``secmob explain ike``, ``ikev1-keys`` and ``ikev2-keys``.

``ike`` runs a whole IKEv1 negotiation -- Main Mode with a pre-shared key and
Quick Mode -- between two in-process peers and records every step: the
messages, both Diffie-Hellman sides, the SKEYID chain, the phase 1 key and
IVs, HASH_I/HASH_R, the Quick Mode hashes and KEYMAT. Its inputs are fixed
and documented: pre-shared key ``secmob``, identities 192.0.2.1 and
192.0.2.2, and randomness from :func:`~secmob.explain.walkthroughs.dh.seeded_rng`
with the labels ``"secmob explain ike initiator"`` and ``"... responder"``.

For ``ikev1-keys`` and ``ikev2-keys`` the inputs are NIST CAVP SP 800-135
records (ikev1_psk.fax and ikev2.fax, CAVS 17.3, first SHA-1 section,
COUNT = 0); the example then continues with the steps the CAVP files do not
cover (Appendix B expansion, IVs, KEYMAT, Child SA keys).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from secmob.algorithms import DH_GROUPS, PRFS
from secmob.errors import UnsupportedAlgorithm
from secmob.explain import topic
from secmob.explain.walkthroughs.dh import seeded_rng
from secmob.ike import ikev1_keys as v1
from secmob.ike import ikev2 as v2
from secmob.ike.ikev1_exchange import (
    TRANSITIONS,
    Phase1Config,
    QuickModeConfig,
    QuickModeDone,
    Role,
    Session,
)
from secmob.ike.proposal_strings import parse_esp, parse_ike
from secmob.trace import Recorder, Step, emit
from secmob.wire.isakmp import Identification, IdType, Message

_V1 = {"cky_i": "83d374c30b3b5082", "cky_r": "5afc0da06c728029", "ni": "b9a2d0e922dc66dd",
       "nr": "2130166863b5ddef", "psk": "75",
       "g_xy": "739003ba2c11c982946c65e26acf661fbf8ebb78011a9fead79efa12fe3e71cc"}
_V2 = {"ni": "32b50d5f4a3763f3", "nr": "9206a04b26564cb1", "spi_i": "34c9e7c188868785",
       "spi_r": "3ff77d760d2b2199",
       "g_ir": "4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52"}


def _v1_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--key-length", type=int, default=32,
                        help="phase 1 cipher key length in octets (default 32: AES-256)")
    parser.add_argument("--block-size", type=int, default=16, help="cipher block size")


@topic("ikev1-keys", "IKEv1 SKEYID family, Appendix B key, IVs and Quick Mode KEYMAT "
                     "(RFC 2409 §5, §5.5, Appendix B)", _v1_options)
def ikev1_keys(args: argparse.Namespace) -> Recorder:
    rec = Recorder()
    prf = PRFS.get("prfsha1")
    b = {k: bytes.fromhex(v) for k, v in _V1.items()}
    keys = v1.derive_phase1(prf, v1.AuthMethod.PRE_SHARED_KEY, b["ni"], b["nr"], b["g_xy"],
                            b["cky_i"], b["cky_r"], pre_shared_key=b["psk"], tracer=rec)
    v1.encryption_key(prf, keys.skeyid_e, args.key_length, tracer=rec)
    hf = v1.prf_hash(prf)
    v1.phase1_iv(hf, b"\x02" * 32, b"\x03" * 32, args.block_size, tracer=rec)
    v1.phase2_iv(hf, b"\x04" * args.block_size, 0x1A2B3C4D, args.block_size, tracer=rec)
    v1.quick_hash3(prf, keys.skeyid_a, 0x1A2B3C4D, b["ni"], b["nr"], tracer=rec)
    v1.keymat(prf, keys.skeyid_d, 3, bytes.fromhex("0000c0de"), b["ni"], b["nr"], 36,
              tracer=rec)
    return rec


@topic("ikev2-keys", "IKEv2 SKEYSEED, prf+, SK_* split and Child SA KEYMAT "
                     "(RFC 7296 §2.13 - §2.17)")
def ikev2_keys(args: argparse.Namespace) -> Recorder:
    rec = Recorder()
    prf = PRFS.get("prfsha1")
    b = {k: bytes.fromhex(v) for k, v in _V2.items()}
    keys = v2.derive_ike_sa(prf, b["ni"], b["nr"], b["g_ir"], b["spi_i"], b["spi_r"],
                            integrity_key_size=20, encryption_key_size=16, tracer=rec)
    v2.child_keymat(prf, keys.sk_d, b["ni"], b["nr"], 72, tracer=rec)
    return rec


# -- a whole IKEv1 negotiation ---------------------------------------------------

#: What the responder adds to the record: its Diffie-Hellman steps (the
#: initiator's side already shows every derived key, which both compute alike).
_RESPONDER_STEPS = ("private value", "public value", "shared secret")


_SWAP = str.maketrans({"x": "y", "y": "x"})


class _Side:
    """Forwards one peer's steps to the shared recorder, the peer named in
    ``note``. The responder's Diffie-Hellman steps read ``y`` for its private
    value (RFC 2409 writes g^xi and g^xr; the lecture's x and y)."""

    def __init__(self, recorder: Recorder, role: Role, keep: tuple[str, ...] = ()) -> None:
        self.recorder, self.role, self.keep = recorder, role, keep

    def step(self, step: Step) -> None:
        if self.keep and not step.name.startswith(self.keep):
            return
        if self.role is Role.RESPONDER:
            step = replace(step, name=step.name.translate(_SWAP),
                           formula=step.formula.translate(_SWAP),
                           inputs={k.translate(_SWAP): v for k, v in step.inputs.items()})
        self.recorder.step(replace(step, note=self.role.value))


def _oakley_group(ref: str) -> int:
    """``--group``: an Oakley group number or a group name/keyword."""
    try:
        group = DH_GROUPS.get(int(ref) if ref.isdigit() else ref)
    except UnsupportedAlgorithm as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    number = group.ikev1_ids.get("oakley_group")
    if number is None:
        raise argparse.ArgumentTypeError(f"{group.name} has no IKEv1 (Oakley) group number")
    return number


def _ike_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group", default=2, type=_oakley_group,
                        help="Diffie-Hellman group: Oakley number or name (default 2, MODP 1024)")
    parser.add_argument("--ike", default="aes128-sha1",
                        help="phase 1 cipher and hash, strongSwan style (default aes128-sha1)")
    parser.add_argument("--esp", default="aes128-sha1",
                        help="Quick Mode ESP proposal (default aes128-sha1)")
    parser.add_argument("--pfs", action="store_true",
                        help="Quick Mode PFS: a KE payload in the same group")


@topic("ike", "A whole IKEv1 negotiation between two peers: Main Mode (PSK) and Quick Mode "
              "(RFC 2409 §5.4, §5.5, Appendix B)", _ike_options)
def ike(args: argparse.Namespace) -> Recorder:
    rec = Recorder()
    group = int(args.group)
    keyword = DH_GROUPS.by_ikev1("oakley_group", group).name
    offer = [replace(p, group=group) for p in parse_ike(f"{args.ike}-modp1024")]
    esp = [replace(p, transforms=tuple(replace(t, group=group) for t in p.transforms))
           for p in parse_esp(args.esp)] if args.pfs else parse_esp(args.esp)
    psk = b"secmob"
    sessions = {}
    for role, addr in ((Role.INITIATOR, 1), (Role.RESPONDER, 2)):
        p1 = Phase1Config(offer, psk, Identification(IdType.IPV4_ADDR, bytes([192, 0, 2, addr])))
        sessions[role] = Session(role, p1, QuickModeConfig(esp),
                                 rng=seeded_rng(f"secmob explain ike {role.value}"),
                                 tracer=_Side(rec, role, () if addr == 1 else _RESPONDER_STEPS))
    emit(rec, "configuration", "Main Mode (pre-shared key) + Quick Mode", "RFC 2409 §5.4, §5.5",
         {"phase 1": f"{args.ike}, group {group} ({keyword})", "ESP": args.esp,
          "PFS": "yes" if args.pfs else "no", "pre-shared key": psk},
         "initiator 192.0.2.1, responder 192.0.2.2")
    i, r = sessions[Role.INITIATOR], sessions[Role.RESPONDER]
    message, turn, n = i.start(), r, 1
    _message(rec, 1, "MM1 (SA)", Role.INITIATOR, message)
    while True:
        label = TRANSITIONS[(turn.role, turn.state)].sends
        out = turn.receive(message)
        if out.message is None:
            break
        n += 1
        message, turn = out.message, (i if turn is r else r)
        _message(rec, n, label, Role.INITIATOR if turn is r else Role.RESPONDER, message)
    done = r.quick_mode
    assert isinstance(done, QuickModeDone) and i.quick_mode == done
    for sa in done.sas:
        emit(rec, f"ESP SA {sa.direction}", "keys split from that SPI's KEYMAT: encryption | "
             "integrity", "RFC 2409 §5.5", {"SPI": sa.spi, "encryption": sa.encryption or "",
                                            "integrity": sa.integrity or "",
                                            "encryption key": sa.encryption_key,
                                            "integrity key": sa.integrity_key},
             "both peers derived the same" if i.quick_mode == r.quick_mode else "DIFFERENT")
    return rec


def _message(rec: Recorder, n: int, label: str, sender: Role, data: bytes) -> None:
    h = Message.parse(data).header
    emit(rec, f"message {n}: {label}", "HDR | payloads (encrypted from message 5 on)",
         "RFC 2409 §5.4" if n <= 6 else "RFC 2409 §5.5",
         {"from": sender.value, "exchange type": h.exchange_type, "message ID": h.message_id,
          "encrypted": "yes" if h.encrypted else "no"}, data)
