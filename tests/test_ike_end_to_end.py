"""Two in-process IKEv1 peers negotiate Main Mode and Quick Mode from
strongSwan-style proposal strings; their hand-off records key ESP SAs that
carry a packet each way. Phase 1 is recomputed independently (hashlib/hmac,
pow() and the ``cryptography`` package) from the messages on the wire."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from _ike_peers import ID_I, ipsec_sa, peers
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from secmob.algorithms import DH_GROUPS
from secmob.errors import IntegrityError, InvalidPublicValue, NegotiationError
from secmob.ike.ikev1_exchange import Phase1Done, QuickModeDone, Session, State
from secmob.ike.ikev1_peers import Transcript, negotiate
from secmob.ipsec import esp
from secmob.ipsec.sad import Direction
from secmob.trace import Recorder
from secmob.wire.isakmp import KeyExchange, Message, Nonce, payload_body

SUITES = [
    ("3des-md5-modp768", "3des-md5"),
    ("aes128-sha1-modp1024", "aes128-sha1"),
    ("aes128-sha1-modp1024", "aes128gcm16"),
    ("aes256-sha256-modp2048", "aes128gcm16"),
    ("aes256-sha256-modp2048", "aes128-sha1-modp2048"),
    ("aes128-sha1-modp1024", "aes128gcm16-modp1024"),
    ("aes128-sha256-ecp256", "aes128gcm16-ecp256"),
]
HASHES = {1: "md5", 2: "sha1", 4: "sha256"}


def _events(t: Transcript) -> tuple[Phase1Done, QuickModeDone, Phase1Done, QuickModeDone]:
    p1i, qmi = t.initiator_events
    p1r, qmr = t.responder_events
    assert isinstance(p1i, Phase1Done) and isinstance(p1r, Phase1Done)
    assert isinstance(qmi, QuickModeDone) and isinstance(qmr, QuickModeDone)
    return p1i, qmi, p1r, qmr


@pytest.mark.parametrize(("ike", "esp_proposal"), SUITES)
def test_peers_agree_and_their_sas_carry_esp(ike: str, esp_proposal: str) -> None:
    i, r = peers(ike, esp_proposal)
    t = negotiate(i, r)
    assert len(t.messages) == 9 and i.state is r.state is State.ESTABLISHED
    p1i, qmi, p1r, qmr = _events(t)
    assert p1i.keys == p1r.keys and p1i.encryption_key == p1r.encryption_key
    assert len({p1i.keys.skeyid, p1i.keys.skeyid_d, p1i.keys.skeyid_a, p1i.keys.skeyid_e}) == 4
    assert qmi.sas == qmr.sas  # same SPIs, algorithms and KEYMAT for both SPIs
    assert qmi.sas[0].spi != qmi.sas[1].spi
    assert qmi.sas[0].encryption_key != qmi.sas[1].encryption_key
    rng = iter(range(1, 1 << 20))

    def ivs(n: int) -> bytes:
        return hashlib.sha256(next(rng).to_bytes(4, "big")).digest()[:n]

    for a, b, payload in ((True, False, b"initiator to responder"),
                          (False, True, b"responder to initiator")):
        index = 0 if a else 1  # the SA the sender sends on
        out = ipsec_sa(qmi.sas[index] if a else qmr.sas[index], a)
        inbound = ipsec_sa(qmr.sas[index] if a else qmi.sas[index], b)
        assert out.direction is Direction.OUTBOUND and inbound.direction is Direction.INBOUND
        packet = esp.protect(out, 4, payload, now=0.0, rng=ivs)
        got = esp.unprotect(inbound, packet, now=0.0)
        assert got.payload == payload and got.next_header == 4
        second = esp.protect(out, 4, payload, now=0.0, rng=ivs)
        with pytest.raises(IntegrityError):
            esp.unprotect(inbound, second[:-1] + bytes([second[-1] ^ 1]), now=0.0)


@pytest.mark.parametrize(("ike", "esp_proposal"), [
    ("3des-md5-modp768", "3des-md5"), ("aes128-sha1-modp1024", "aes128-sha1"),
    ("aes256-sha256-modp2048", "aes128-sha1-modp2048")])
def test_phase1_recomputed_independently(ike: str, esp_proposal: str) -> None:
    rec = Recorder()
    i, r = peers(ike, esp_proposal, tracer_i=rec)
    t = negotiate(i, r)
    p1i = _events(t)[0]
    msgs = [Message.parse(m) for m in t.messages]
    g_xi, g_xr = (m.find(KeyExchange)[0].data for m in msgs[2:4])  # type: ignore[attr-defined]
    ni_b, nr_b = (payload_body(m.find(Nonce)[0]) for m in msgs[2:4])
    x_i = next(s.output for s in rec if s.name == "private value x")
    assert isinstance(x_i, bytes)
    group = DH_GROUPS.by_ikev1("oakley_group", p1i.chosen.group)
    p = group.p  # type: ignore[attr-defined]
    g_xy = pow(int.from_bytes(g_xr, "big"), int.from_bytes(x_i, "big"), p)
    g_xy_b = g_xy.to_bytes(group.public_size, "big")
    h = HASHES[p1i.chosen.hash]
    ck = msgs[0].header.initiator_cookie + msgs[1].header.responder_cookie

    def prf(k: bytes, d: bytes) -> bytes:
        return hmac.new(k, d, h).digest()

    skeyid = prf(b"shared secret", ni_b + nr_b)                        # RFC 2409 §5
    d = prf(skeyid, g_xy_b + ck + b"\x00")
    a = prf(skeyid, d + g_xy_b + ck + b"\x01")
    e = prf(skeyid, a + g_xy_b + ck + b"\x02")
    assert (p1i.keys.skeyid, p1i.keys.skeyid_d, p1i.keys.skeyid_a, p1i.keys.skeyid_e) == \
        (skeyid, d, a, e)
    klen = p1i.chosen.key_length // 8 if p1i.chosen.key_length else 24
    key = e
    if len(key) < klen:                                                 # Appendix B
        k = prf(e, b"\x00")
        key = k
        while len(key) < klen:
            k = prf(e, k)
            key += k
    key = key[:klen]
    assert key == p1i.encryption_key
    algo = TripleDES(key) if p1i.chosen.encryption == 5 else algorithms.AES(key)
    bs = 8 if p1i.chosen.encryption == 5 else 16
    iv = hashlib.new(h, g_xi + g_xr).digest()[:bs]
    m5 = msgs[4].body
    plain5 = Cipher(algo, modes.CBC(iv)).decryptor().update(m5)
    id_len = int.from_bytes(plain5[2:4], "big")
    assert plain5[4:id_len] == payload_body(ID_I)
    hash_i = prf(skeyid, g_xi + g_xr + ck + payload_body(msgs[0].payloads[0])
                 + payload_body(ID_I))
    assert plain5[id_len + 4:id_len + 4 + len(hash_i)] == hash_i
    # message 6 chains on the last block of message 5; Quick Mode restarts the chain
    plain6 = Cipher(algo, modes.CBC(m5[-bs:])).decryptor().update(msgs[5].body)
    assert plain6[0] == 8  # ID payload followed by HASH_R
    qm_iv = hashlib.new(h, msgs[5].body[-bs:] + msgs[6].header.message_id.to_bytes(4, "big"))
    plain7 = Cipher(algo, modes.CBC(qm_iv.digest()[:bs])).decryptor().update(msgs[6].body)
    assert plain7[0] == 1 and int.from_bytes(plain7[2:4], "big") == 4 + len(hash_i)


def _until(i: Session, r: Session, count: int) -> list[bytes]:
    wire = [i.start()]
    turn = r
    while len(wire) < count:
        out = turn.receive(wire[-1])
        assert out.message is not None
        wire.append(out.message)
        turn = i if turn is r else r
    return wire


@pytest.mark.parametrize("ike", ["3des-md5-modp768", "aes256-sha256-modp2048"])
def test_wrong_pre_shared_key(ike: str) -> None:
    i, r = peers(ike, psk_r=b"not the same secret")
    wire = _until(i, r, 5)
    with pytest.raises(IntegrityError):
        r.receive(wire[4])
    assert r.state is State.MM4_SENT and r.phase1 is None


def test_no_acceptable_proposal() -> None:
    i, r = peers("3des-md5-modp768", responder_ike="aes128-sha1-modp1024")
    with pytest.raises(NegotiationError) as info:
        r.receive(i.start())
    assert info.value.notify == NegotiationError.NO_PROPOSAL_CHOSEN == 14
    assert r.state is State.START


def test_tampered_encrypted_message() -> None:
    i, r = peers("aes128-sha1-modp1024")
    wire = _until(i, r, 6)
    m6 = bytearray(wire[5])
    m6[-5] ^= 0x80
    with pytest.raises(IntegrityError):
        i.receive(bytes(m6))
    assert i.state is State.MM5_SENT
    assert i.receive(wire[5]).message is not None and i.state is State.QM1_SENT


@pytest.mark.parametrize("value", ["one", "p-1"])
def test_invalid_dh_public_value(value: str) -> None:
    i, r = peers("3des-md5-modp768")
    wire = _until(i, r, 4)
    p = DH_GROUPS.get("modp768").p  # type: ignore[attr-defined]
    bad = (1 if value == "one" else p - 1).to_bytes(96, "big")
    m4 = Message.parse(wire[3])
    forged = Message(m4.header, tuple(KeyExchange(bad) if isinstance(x, KeyExchange) else x
                                      for x in m4.payloads)).to_bytes()
    with pytest.raises(InvalidPublicValue):
        i.receive(forged)
    assert i.state is State.MM3_SENT
