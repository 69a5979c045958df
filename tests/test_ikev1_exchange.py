"""IKEv1 Main Mode (pre-shared key) + Quick Mode, both sides sans-IO, with the
registered ciphers, PRFs and Diffie-Hellman groups."""

from __future__ import annotations

import hmac
from dataclasses import replace

import pytest
from _ike_peers import ID_I, counter_rng, peers
from hypothesis import given
from hypothesis import strategies as st

from secmob.algorithms import DH_GROUPS
from secmob.errors import (
    DecodeError,
    IntegrityError,
    InvalidPublicValue,
    NegotiationError,
    UsageError,
    WireError,
)
from secmob.ike.ikev1_exchange import (
    TRANSITIONS,
    Phase1Config,
    Phase1Done,
    QuickModeConfig,
    QuickModeDone,
    Role,
    Session,
    State,
    state_table,
)
from secmob.ike.ikev1_peers import negotiate
from secmob.ike.proposal_strings import parse_esp, parse_ike
from secmob.ike.proposals import Lifetime, Phase2Proposal, Phase2Transform
from secmob.trace import Recorder
from secmob.wire.isakmp import ExchangeType, KeyExchange, Message, Nonce, Protocol


def _steps(i: Session, r: Session, count: int) -> list[bytes]:
    wire = [i.start()]
    turn = r
    for _ in range(count - 1):
        out = turn.receive(wire[-1])
        assert out.message is not None
        wire.append(out.message)
        turn = i if turn is r else r
    return wire


@pytest.mark.parametrize(("esp", "ids"), [("aes128-sha1", False), ("aes128-sha1-modp1024", False),
                                          ("aes128-sha1-modp1024", True)])
def test_full_exchange(esp: str, ids: bool) -> None:
    i, r = peers(esp=esp, client_ids=ids)
    t = negotiate(i, r)
    assert len(t.messages) == 9 and i.state is r.state is State.ESTABLISHED
    p1i, qmi = t.initiator_events
    p1r, qmr = t.responder_events
    assert isinstance(p1i, Phase1Done) and isinstance(p1r, Phase1Done)
    assert p1i.chosen == p1r.chosen == parse_ike("aes128-sha1-modp1024")[0]
    assert p1i.keys.skeyid_d == p1r.keys.skeyid_d and p1i.encryption_key == p1r.encryption_key
    assert i.phase1 is p1i and r.quick_mode is qmr
    assert isinstance(qmi, QuickModeDone) and isinstance(qmr, QuickModeDone)
    (i_out, i_in), (r_out, r_in) = qmi.sas, qmr.sas
    assert i_out.spi == r_out.spi != i_in.spi == r_in.spi
    assert i_out.integrity_key == r_out.integrity_key != i_in.integrity_key == r_in.integrity_key
    qm1 = Message.parse(t.messages[6])
    assert qm1.header.exchange_type == ExchangeType.QUICK_MODE and qm1.header.encrypted
    kes = [m for m in (Message.parse(x) for x in t.messages[:4])
           if m.find(KeyExchange)]
    assert len(kes) == 2  # Main Mode KE only in messages 3 and 4
    flags = [Message.parse(m).header.flags & 1 for m in t.messages]
    assert flags == [0, 0, 0, 0, 1, 1, 1, 1, 1]


def test_keymat_matches_an_independent_computation() -> None:
    rec = Recorder()
    i, r = peers(tracer_i=rec)
    t = negotiate(i, r)
    qmi = t.initiator_events[1]
    assert isinstance(qmi, QuickModeDone)
    skeyid_d = rec.find("SKEYID_d").output
    assert isinstance(skeyid_d, bytes)
    keymat_steps = [s for s in rec if s.name == "KEYMAT"]
    assert len(keymat_steps) == 2
    out = qmi.sas[0]
    first = keymat_steps[0]
    seed = b"\x03" + out.spi.to_bytes(4, "big") + first.inputs["Ni_b"] + first.inputs["Nr_b"]
    k1 = hmac.new(skeyid_d, seed, "sha1").digest()
    k2 = hmac.new(skeyid_d, k1 + seed, "sha1").digest()
    assert out.encryption_key + out.integrity_key == (k1 + k2)[:36]


def test_pfs_puts_g_qm_xy_into_keymat() -> None:
    rec_i, rec_r = Recorder(), Recorder()
    i, r = peers(esp="aes128-sha1-modp1024", tracer_i=rec_i, tracer_r=rec_r)
    t = negotiate(i, r)
    qmr = t.responder_events[1]
    assert isinstance(qmr, QuickModeDone)
    # the Quick Mode exponent of the initiator and public value of the responder
    # (second of each), combined with pow(): g(qm)^xy as KEYMAT used it
    x_i = [s.output for s in rec_i if s.name == "private value x"][1]
    g_r = [s.output for s in rec_r if s.name == "public value g^x mod p"][1]
    assert isinstance(x_i, bytes) and isinstance(g_r, bytes)
    p = DH_GROUPS.get("modp1024").p  # type: ignore[attr-defined]
    g_qm = pow(int.from_bytes(g_r, "big"), int.from_bytes(x_i, "big"), p).to_bytes(128, "big")
    steps = [s for s in rec_r if s.name == "KEYMAT"]
    assert len(steps) == 2 and all(s.inputs["g(qm)^xy"] == g_qm for s in steps)
    no_pfs = negotiate(*peers(esp="aes128-sha1")).responder_events[1]
    assert isinstance(no_pfs, QuickModeDone)
    assert no_pfs.sas[0].encryption_key != qmr.sas[0].encryption_key


def test_wrong_pre_shared_key_fails_on_message_5_and_keeps_state() -> None:
    i, r = peers(psk_r=b"another secret")
    wire = _steps(i, r, 5)
    with pytest.raises(IntegrityError):
        r.receive(wire[4])
    assert r.state is State.MM4_SENT and r.phase1 is None


def test_tampered_quick_mode_is_refused_then_the_real_one_accepted() -> None:
    i, r = peers()
    wire = _steps(i, r, 7)
    qm1 = wire[-1]
    assert Message.parse(qm1).header.exchange_type == ExchangeType.QUICK_MODE
    for pos in (40, len(qm1) - 1):
        bad = bytearray(qm1)
        bad[pos] ^= 0x01
        with pytest.raises(IntegrityError):
            r.receive(bytes(bad))
        assert r.state is State.PHASE1_DONE
    out = r.receive(qm1)
    assert out.message is not None and r.state is State.QM2_SENT


def test_encrypted_body_of_partial_blocks_is_a_decode_error() -> None:
    i, r = peers()
    wire = _steps(i, r, 5)
    m5 = wire[4]
    cut = m5[:-1]
    cut = cut[:24] + len(cut).to_bytes(4, "big") + cut[28:]
    with pytest.raises(DecodeError):
        r.receive(cut)
    with pytest.raises(DecodeError):
        r.receive(m5[:30])  # length field disagrees with the message
    assert r.state is State.MM4_SENT
    assert r.receive(m5).message is not None


def test_no_acceptable_proposal() -> None:
    i, r = peers(responder_ike="aes256-sha256-modp2048")
    with pytest.raises(NegotiationError) as info:
        r.receive(i.start())
    assert info.value.notify == 14 and r.state is State.START
    i, r = peers(esp="aes128-sha1", responder_esp="aes128gcm16")
    wire = _steps(i, r, 7)
    with pytest.raises(NegotiationError) as info:
        r.receive(wire[-1])
    assert info.value.notify == 14 and r.state is State.PHASE1_DONE


@pytest.mark.parametrize("which", ["one", "p-1", "short"])
def test_invalid_dh_public_value(which: str) -> None:
    i, r = peers()
    wire = _steps(i, r, 3)
    m3 = Message.parse(wire[2])
    ke = m3.find(KeyExchange)[0]
    assert isinstance(ke, KeyExchange)
    p = DH_GROUPS.get("modp1024").p  # type: ignore[attr-defined]
    bad = {"one": (1).to_bytes(128, "big"), "p-1": (p - 1).to_bytes(128, "big"),
           "short": ke.data[1:]}[which]
    forged = Message(m3.header, tuple(KeyExchange(bad) if isinstance(x, KeyExchange) else x
                                      for x in m3.payloads)).to_bytes()
    with pytest.raises(InvalidPublicValue):
        r.receive(forged)
    assert r.state is State.MM2_SENT
    assert r.receive(wire[2]).message is not None


def test_pfs_on_one_side_only() -> None:
    i, r = peers(esp="aes128-sha1-modp1024", responder_esp="aes128-sha1")
    wire = _steps(i, r, 7)
    with pytest.raises(NegotiationError):  # the policy has no group: transform refused
        r.receive(wire[-1])
    with pytest.raises(UsageError):  # the KE travels before the choice: one group only
        Session(Role.INITIATOR, Phase1Config(parse_ike("aes128-sha1-modp1024"), b"k", ID_I),
                QuickModeConfig(parse_esp("aes128-sha1-modp1024-modp2048")),
                rng=counter_rng(b"x"))


def test_wrong_state_and_misuse() -> None:
    i, r = peers()
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
    with pytest.raises(UsageError):
        negotiate(r, i)


def test_fixed_values_are_used_and_checked() -> None:
    p1 = Phase1Config(parse_ike("aes128-sha1-modp1024"), b"k", ID_I, cookie=b"I" * 8,
                      nonce=b"n" * 16)
    qm = QuickModeConfig(parse_esp("aes128-sha1"), spi=b"\x00\x00\x10\x01", nonce=b"q" * 16,
                         message_id=0x0A0B0C0D)
    s = Session(Role.INITIATOR, p1, qm, rng=counter_rng(b"fixed"))
    assert Message.parse(s.start()).header.initiator_cookie == b"I" * 8
    with pytest.raises(UsageError):
        Session(Role.INITIATOR, replace(p1, cookie=b"short"), qm, rng=counter_rng(b"x"))


def test_transition_table_is_complete() -> None:
    for (role, state), t in TRANSITIONS.items():
        assert hasattr(Session, t.handler), t.handler
        assert t.next is not state and isinstance(role, Role)
    table = state_table()
    assert table.count("\n") == len(TRANSITIONS) + 2 and "| responder | qm2-sent |" in table


def test_session_reports_every_step_to_its_tracer() -> None:
    rec = Recorder()
    i, r = peers(esp="aes128-sha1-modp1024", tracer_i=rec)
    t = negotiate(i, r)
    names = [s.name for s in rec]
    for step in ("private value x", "public value g^x mod p", "shared secret (g^y)^x mod p",
                 "SKEYID", "SKEYID_d", "SKEYID_a", "SKEYID_e", "phase 1 encryption key",
                 "phase 1 IV", "next IV", "HASH_I", "HASH_R", "phase 2 IV", "HASH(1)",
                 "HASH(2)", "HASH(3)", "KEYMAT"):
        assert step in names, step
    done = t.initiator_events[0]
    assert isinstance(done, Phase1Done)
    assert rec.find("SKEYID_d").output == done.keys.skeyid_d


def test_responder_lifetime_is_announced_and_applied() -> None:
    i, r = peers(client_ids=False)
    short = Phase2Proposal(Protocol.IPSEC_ESP, (Phase2Transform(12, auth_algorithm=2,
                                                                key_length=128,
                                                                life=Lifetime(600)),))
    r = Session(Role.RESPONDER, r._p1, replace(r._qm, proposals=[short]), rng=counter_rng(b"r"))
    t = negotiate(i, r)
    qi, qr = t.initiator_events[1], t.responder_events[1]
    assert isinstance(qi, QuickModeDone) and isinstance(qr, QuickModeDone)
    assert qi.sas[0].lifetime == qr.sas[0].lifetime == Lifetime(600)
    t = negotiate(*peers())
    qi, qr = t.initiator_events[1], t.responder_events[1]
    assert isinstance(qi, QuickModeDone) and isinstance(qr, QuickModeDone)
    assert qi.sas[0].lifetime == qr.sas[1].lifetime == Lifetime(28800)


def test_nonce_payloads_carry_the_drawn_nonces() -> None:
    i, r = peers()
    wire = _steps(i, r, 4)
    n3 = Message.parse(wire[2]).find(Nonce)[0]
    assert isinstance(n3, Nonce) and len(n3.data) == 16


def test_docs_state_table_is_generated_from_transitions() -> None:
    from pathlib import Path

    page = Path(__file__).parent.parent / "docs" / "ikev1-exchange.md"
    assert state_table() in page.read_text(encoding="utf-8")


_GENUINE = negotiate(*peers()).messages


@given(st.integers(0, 8), st.integers(0, 10_000), st.integers(1, 255))
def test_a_corrupted_message_is_refused_without_trace_or_accepted(
        which: int, pos: int, mask: int) -> None:
    i, r = peers()
    wire = [i.start()]
    assert wire[0] == _GENUINE[0]
    turn = r
    for n in range(9):
        if n == which:
            bad = bytearray(_GENUINE[n])
            bad[pos % len(bad)] ^= mask
            crypto = turn._crypto
            before = (turn.state, dict(turn.__dict__), crypto.iv if crypto else b"")
            try:
                turn.receive(bytes(bad))
            except WireError:
                assert (turn.state, turn.__dict__, crypto.iv if crypto else b"") == before
            else:
                return  # clear messages carry no integrity of their own
        out = turn.receive(_GENUINE[n])
        if out.message is None:
            break
        assert out.message == _GENUINE[n + 1]
        turn = i if turn is r else r
    assert i.state is r.state is State.ESTABLISHED


def test_drawn_and_fixed_values_are_range_checked() -> None:
    p1 = Phase1Config(parse_ike("aes128-sha1-modp1024"), b"k", ID_I)
    qm = QuickModeConfig(parse_esp("aes128-sha1"))
    zeros = iter([bytes(8), bytes(16), bytes(4), bytes(4), b"\x00\x00\x01\x00"])
    s = Session(Role.RESPONDER, p1, qm, rng=lambda n: next(zeros, bytes(n)))
    assert s._qm_spi == b"\x00\x00\x01\x00"  # SPIs 0-255 are drawn again
    for bad_p1, bad_qm in ((replace(p1, nonce=b"short"), qm), (replace(p1, nonce_size=300), qm),
                           (p1, replace(qm, spi=b"\x00\x00\x00\xff"))):
        with pytest.raises(UsageError):
            Session(Role.INITIATOR, bad_p1, bad_qm, rng=counter_rng(b"x"))
    s = Session(Role.INITIATOR, replace(p1, nonce=bytes(40)), qm, rng=counter_rng(b"x"))
    assert s._nonce == bytes(40)
