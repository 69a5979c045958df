"""IKEv1 Main Mode (pre-shared key) + Quick Mode, both sides sans-IO.

The phase 1 cipher is injected: a toy CBC cipher defined here (so the state
machine runs before the real ciphers are registered), and AES-CBC from the
registry when it is there. Diffie-Hellman is plain ``pow()`` over the
RFC 2409 §6.2 group 2 prime.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace

import pytest

from secmob.algorithms import ENCRYPTION, CipherAlgorithm, CipherContext
from secmob.errors import NegotiationError, UsageError, WireError
from secmob.ike.ikev1_exchange import (
    TRANSITIONS,
    Phase1Config,
    Phase1Done,
    QuickModeConfig,
    QuickModeDone,
    Role,
    Session,
    State,
    registry_cipher,
)
from secmob.ike.ikev1_keys import AuthMethod
from secmob.ike.proposals import Lifetime, Phase1Proposal, Phase2Proposal, Phase2Transform
from secmob.trace import Tracer
from secmob.wire.isakmp import Identification, IdType, Message, Protocol

P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF", 16)


def dh(x: int) -> tuple[bytes, object]:
    pub = pow(2, x, P).to_bytes(128, "big")
    return pub, lambda peer: pow(int.from_bytes(peer, "big"), x, P).to_bytes(128, "big")


class _ToyCBC(CipherContext):
    """CBC over a keyed 8-octet permutation (XOR with a key-derived pad, then rotate):
    for exercising the state machine only, not a cipher."""

    def __init__(self, key: bytes) -> None:
        self._pad = hashlib.sha256(key).digest()[:8]

    def _enc(self, block: bytes) -> bytes:
        x = bytes(a ^ b for a, b in zip(block, self._pad, strict=True))
        return x[1:] + x[:1]

    def _dec(self, block: bytes) -> bytes:
        x = block[-1:] + block[:-1]
        return bytes(a ^ b for a, b in zip(x, self._pad, strict=True))

    def seal(self, iv: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        out, prev = bytearray(), iv
        for i in range(0, len(plaintext), 8):
            prev = self._enc(bytes(a ^ b for a, b in zip(plaintext[i:i + 8], prev, strict=True)))
            out += prev
        return bytes(out)

    def open(self, iv: bytes, data: bytes, aad: bytes = b"") -> bytes:
        out, prev = bytearray(), iv
        for i in range(0, len(data), 8):
            block = data[i:i + 8]
            out += bytes(a ^ b for a, b in zip(self._dec(block), prev, strict=True))
            prev = block
        return bytes(out)


@dataclass(frozen=True, eq=False, repr=False)
class ToyCipher(CipherAlgorithm):
    def new(self, keymat: bytes, tracer: Tracer | None = None) -> CipherContext:
        self.split_keymat(keymat)
        return _ToyCBC(keymat)


TOY = ToyCipher("TOY-CBC", 250, "test only", key_sizes=(24,), block_size=8, iv_size=8)
OFFER = [Phase1Proposal(7, 2, AuthMethod.PRE_SHARED_KEY, 2, 256, Lifetime(28800)),
         Phase1Proposal(5, 2, AuthMethod.PRE_SHARED_KEY, 2, None, Lifetime(28800))]
ESP = Phase2Proposal(Protocol.IPSEC_ESP, (Phase2Transform(11, auth_algorithm=2),))


def toy(_: Phase1Proposal) -> tuple[CipherAlgorithm, int]:
    return TOY, 24


def sessions(*, psk_r: bytes = b"secret", pfs: bool = False, ids: bool = False,
             policy: list[Phase1Proposal] | None = None, offer: list[Phase1Proposal] = OFFER,
             resolve: object = toy) -> tuple[Session, Session]:
    gi, fi = dh(0x1234567)
    gr, fr = dh(0x7654321)
    p1i = Phase1Config(offer, b"secret", Identification(IdType.FQDN, b"initiator.example"),
                       b"I" * 8, b"n" * 16, gi, fi, resolve_cipher=resolve)  # type: ignore[arg-type]
    p1r = Phase1Config(policy or offer[1:], psk_r,
                       Identification(IdType.IPV4_ADDR, bytes([192, 0, 2, 2])),
                       b"R" * 8, b"m" * 16, gr, fr, resolve_cipher=resolve)  # type: ignore[arg-type]
    qi, qr = {}, {}
    if pfs:
        gqi, fqi = dh(0x1111)
        gqr, fqr = dh(0x2222)
        qi = {"dh_public": gqi, "dh_shared": fqi}
        qr = {"dh_public": gqr, "dh_shared": fqr}
    idc = {}
    if ids:
        subnet = IdType.IPV4_ADDR_SUBNET
        idc = {"id_ci": Identification(subnet, bytes([10, 0, 0, 0, 255, 0, 0, 0])),
               "id_cr": Identification(subnet, bytes([10, 1, 0, 0, 255, 255, 0, 0]))}
    qmi = QuickModeConfig([ESP], b"\x00\x00\x10\x01", b"q" * 16, 0x0A0B0C0D, **qi, **idc)  # type: ignore[arg-type]
    qmr = QuickModeConfig([ESP], b"\x00\x00\x20\x02", b"r" * 16, **qr)  # type: ignore[arg-type]
    return Session(Role.INITIATOR, p1i, qmi), Session(Role.RESPONDER, p1r, qmr)


def run(i: Session, r: Session) -> tuple[list[object], list[object], list[bytes]]:
    wire = [i.start()]
    ev_i: list[object] = []
    ev_r: list[object] = []
    turn = r
    while wire[-1] is not None:
        out = turn.receive(wire[-1])
        (ev_r if turn is r else ev_i).extend(out.events)
        if out.message is None:
            break
        wire.append(out.message)
        turn = i if turn is r else r
    return ev_i, ev_r, wire


@pytest.mark.parametrize(("pfs", "ids"), [(False, False), (True, False), (True, True)])
def test_full_exchange(pfs: bool, ids: bool) -> None:
    i, r = sessions(pfs=pfs, ids=ids)
    ev_i, ev_r, wire = run(i, r)
    assert len(wire) == 9 and i.state is r.state is State.ESTABLISHED
    p1i, qmi = ev_i
    p1r, qmr = ev_r
    assert isinstance(p1i, Phase1Done) and isinstance(p1r, Phase1Done)
    assert p1i.chosen == p1r.chosen == OFFER[1]
    assert p1i.keys.skeyid_d == p1r.keys.skeyid_d
    assert isinstance(qmi, QuickModeDone) and isinstance(qmr, QuickModeDone)
    (i_out, i_in), (r_out, r_in) = qmi.sas, qmr.sas
    assert i_out.spi == r_out.spi == 0x2002 and i_in.spi == r_in.spi == 0x1001
    assert i_out.integrity_key == r_out.integrity_key != i_in.integrity_key == r_in.integrity_key
    # independent KEYMAT for the SA the initiator sends on (responder's SPI)
    ni, nr = b"q" * 16, b"r" * 16
    g = b""
    if pfs:
        g = pow(pow(2, 0x2222, P), 0x1111, P).to_bytes(128, "big")
    seed = g + b"\x03" + b"\x00\x00\x20\x02" + ni + nr
    assert i_out.integrity_key == hmac.new(p1i.keys.skeyid_d, seed, "sha1").digest()
    # messages 5 on are encrypted; 1-4 are clear
    flags = [Message.parse(m).header.flags & 1 for m in wire]
    assert flags == [0, 0, 0, 0, 1, 1, 1, 1, 1]


def test_wrong_pre_shared_key_fails_hash_i_and_keeps_state() -> None:
    i, r = sessions(psk_r=b"other")
    m1 = i.start()
    m2 = r.receive(m1).message
    assert m2 is not None
    m3 = i.receive(m2).message
    assert m3 is not None
    m4 = r.receive(m3).message
    assert m4 is not None
    m5 = i.receive(m4).message
    assert m5 is not None
    with pytest.raises(WireError):  # garbled decryption or HASH_I mismatch
        r.receive(m5)
    assert r.state is State.MM4_SENT


def test_tampered_quick_mode_is_refused_then_the_real_one_accepted() -> None:
    i, r = sessions()
    wire = [i.start()]
    turn = r
    for _ in range(6):
        out = turn.receive(wire[-1])
        assert out.message is not None
        wire.append(out.message)
        turn = i if turn is r else r
    qm1 = wire[-1]
    assert Message.parse(qm1).header.exchange_type == 32
    bad = bytearray(qm1)
    bad[-1] ^= 0x01  # last ciphertext octet: only the padding/last payload changes
    with pytest.raises(WireError):
        r.receive(bytes(bad))
    assert r.state is State.PHASE1_DONE
    out = r.receive(qm1)
    assert out.message is not None and r.state is State.QM2_SENT


def test_no_acceptable_proposal() -> None:
    other = [Phase1Proposal(7, 4, AuthMethod.PRE_SHARED_KEY, 14, 128)]
    i, r = sessions(policy=other)
    with pytest.raises(NegotiationError) as info:
        r.receive(i.start())
    assert info.value.notify == 14 and r.state is State.START


def test_wrong_state_and_misuse() -> None:
    i, r = sessions()
    with pytest.raises(UsageError):
        r.start()
    with pytest.raises(NegotiationError):
        i.receive(b"")  # initiator in START expects nothing
    m1 = i.start()
    with pytest.raises(UsageError):
        i.start()
    r.receive(m1)
    with pytest.raises(NegotiationError):
        r.receive(m1)  # a second MM1 where MM3 (KE, Nonce) is expected
    assert r.state is State.MM2_SENT
    assert "initiator" in repr(i) and "secret" not in repr(i)


def test_transition_table_is_complete() -> None:
    states = {s for (_, s) in TRANSITIONS} | {n for (_, n) in TRANSITIONS.values()}
    assert State.ESTABLISHED in states and State.START in states
    for (role, state), (name, nxt) in TRANSITIONS.items():
        assert hasattr(Session, name), name
        assert nxt is not state
        assert isinstance(role, Role)


@pytest.mark.skipif("aes128" not in ENCRYPTION or "oakley_encr" not in
                    getattr(ENCRYPTION.choose("aes128").algorithm if "aes128" in ENCRYPTION
                            else None, "ikev1_ids", {}),
                    reason="AES-CBC with an Oakley number is not registered yet")
def test_full_exchange_with_registered_aes_cbc() -> None:
    aes = ENCRYPTION.choose("aes128").algorithm
    offer = [replace(p, encryption=aes.ikev1_ids["oakley_encr"], key_length=128) for p in OFFER]
    i, r = sessions(offer=offer, resolve=registry_cipher)
    _, _, wire = run(i, r)
    assert i.state is r.state is State.ESTABLISHED and len(wire) == 9


def test_session_reports_every_step_to_its_tracer() -> None:
    from secmob.trace import Recorder

    i, r = sessions(pfs=True)
    rec = Recorder()
    i = Session(Role.INITIATOR, i._p1, i._qm, tracer=rec)  # same configuration, traced
    ev_i, _, _ = run(i, r)
    names = [s.name for s in rec]
    for step in ("SKEYID", "SKEYID_d", "SKEYID_a", "SKEYID_e", "phase 1 encryption key",
                 "phase 1 IV", "HASH_I", "HASH_R", "phase 2 IV", "HASH(1)", "HASH(2)",
                 "HASH(3)", "KEYMAT"):
        assert step in names, step
    done = ev_i[0]
    assert isinstance(done, Phase1Done)
    assert rec.find("SKEYID_d").output == done.keys.skeyid_d


def test_responder_lifetime_is_announced_and_applied() -> None:
    i, r = sessions()
    short = Phase2Proposal(Protocol.IPSEC_ESP, (Phase2Transform(11, auth_algorithm=2,
                                                                life=Lifetime(600)),))
    r = Session(Role.RESPONDER, r._p1, replace(r._qm, proposals=[short]))
    ev_i, ev_r, _ = run(i, r)
    qi, qr = ev_i[1], ev_r[1]
    assert isinstance(qi, QuickModeDone) and isinstance(qr, QuickModeDone)
    assert qi.sas[0].lifetime == qr.sas[0].lifetime == Lifetime(600)
    ev_i, ev_r, _ = run(*sessions())
    qi, qr = ev_i[1], ev_r[1]
    assert isinstance(qi, QuickModeDone) and isinstance(qr, QuickModeDone)
    assert qi.sas[0].lifetime == qr.sas[1].lifetime == Lifetime(28800)


def test_responder_lifetime_notification_round_trip() -> None:
    from secmob.ike.proposals import (
        lifetime_from_notification,
        responder_lifetime_notification,
    )

    n = responder_lifetime_notification(Lifetime(100000, 500), 3, b"\x00\x00\x20\x02")
    assert n.notify_type == 24576 and n.spi == b"\x00\x00\x20\x02"
    assert lifetime_from_notification(n) == Lifetime(100000, 500)
