"""No object that holds key material shows it in ``repr()`` or ``str()``:
neither as hex (either case), nor as a bytes literal, nor as base64, nor as an
integer."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable

import pytest
from _ike_peers import peers
from test_engine import pair, sa_pair

from secmob.addr.temporary import rfc4941_iid
from secmob.algorithms import DH_GROUPS, ENCRYPTION, INTEGRITY, PRFS
from secmob.errors import SecmobError
from secmob.ike import ikev1_keys as v1
from secmob.ike import ikev2 as v2
from secmob.ike.handoff import INITIATOR_TO_RESPONDER, NegotiatedSA
from secmob.ike.ikev1_cipher import MessageCipher
from secmob.ike.ikev1_config import Phase1Config, Phase1Done, QuickModeDone
from secmob.ike.ikev1_exchange import Session
from secmob.ike.ikev1_peers import negotiate
from secmob.ike.proposal_strings import parse_ike
from secmob.ipsec import esp
from secmob.ipsec.sad import SAD, Protocol, SABundle
from secmob.ipsec.spd import SPD
from secmob.mip6 import rr
from secmob.trace import Recorder
from secmob.wire.isakmp import Protocol as IsakmpProtocol

KEY = b"\xa5" * 64
HOA, COA, CN = bytes(15) + b"\x01", bytes(15) + b"\x02", bytes(15) + b"\x03"


def forms(secret: bytes) -> set[str]:
    """The ways a repr could spell ``secret`` (or a recognisable part of it)."""
    part = secret[:8]
    out = {part.hex(), part.hex().upper(), repr(part)[2:-1],
           str(int.from_bytes(secret, "big"))}
    for k in range(3):  # base64 of the secret starting at any alignment
        out.add(base64.b64encode(secret[k:k + 12]).decode()[:12])
    return {f for f in out if len(f) >= 8}


def assert_hidden(obj: object, secrets: Iterable[bytes]) -> None:
    shown = repr(obj) + "\n" + str(obj)
    for secret in secrets:
        for form in forms(secret):
            assert form not in shown, f"{type(obj).__name__} shows a secret as {form!r}"


def test_forms_would_catch_a_leak() -> None:
    with pytest.raises(AssertionError):
        assert_hidden([KEY], [KEY])
    with pytest.raises(AssertionError):
        assert_hidden(KEY.hex(), [KEY])
    with pytest.raises(AssertionError):
        assert_hidden(base64.b64encode(KEY), [KEY])
    with pytest.raises(AssertionError):
        assert_hidden(int.from_bytes(KEY, "big"), [KEY])


# -- algorithms ----------------------------------------------------------------

@pytest.mark.parametrize("name", [a.name for a in ENCRYPTION])
def test_cipher_contexts(name: str) -> None:
    alg = ENCRYPTION.get(name)
    for size in alg.key_sizes:
        keymat = KEY[:alg.keymat_size(size)]
        assert_hidden(alg.new(keymat), [keymat])


@pytest.mark.parametrize("name", [a.name for a in INTEGRITY])
def test_integrity_contexts(name: str) -> None:
    alg = INTEGRITY.get(name)
    assert_hidden(alg.new(KEY[:alg.key_size]), [KEY[:alg.key_size]])


@pytest.mark.parametrize("name", [g.name for g in DH_GROUPS])
def test_dh_private_keys(name: str) -> None:
    group = DH_GROUPS.get(name)
    if group.name == "toy":
        key = group.new(37)
        assert "37" not in repr(key) + str(key)
        return
    private = group.generate(lambda n: b"\x35" * n)
    secret = private if isinstance(private, bytes) else private.to_bytes(
        (private.bit_length() + 7) // 8, "big")
    key = group.new(private)
    peer = group.public(group.generate(lambda n: b"\x3a" * n))
    assert_hidden(key, [secret, key.shared(peer)])


# -- IPsec -----------------------------------------------------------------------

def test_security_associations_sad_and_engine() -> None:
    out, inn = sa_pair(0x1001, Protocol.ESP, cipher="aes128", integrity="sha256")
    cipher_key, integrity_key = inn.cipher_ctx, inn.integrity_ctx
    assert cipher_key is not None and integrity_key is not None
    secrets = [bytes(range(16)), bytes(range(50, 82))]  # the keys sa_pair installs
    for sa in (out, inn):
        assert_hidden(sa, secrets)
        assert_hidden(sa.cipher_ctx, secrets)
        assert_hidden(sa.integrity_ctx, secrets)
    sad = SAD()
    sad.insert(inn)
    assert_hidden(sad, secrets)
    assert_hidden(SABundle((out,)), secrets)
    sender, receiver = pair("aes128", "sha256")
    for engine in (sender, receiver):
        assert_hidden(engine, secrets)
        assert_hidden(engine.sad, secrets)
    assert_hidden(SPD([]), secrets)


# -- IKE -------------------------------------------------------------------------

def test_ikev1_sessions_and_their_key_records() -> None:
    i, r = peers(psk_i=KEY[:20], psk_r=KEY[:20])
    t = negotiate(i, r)
    p1 = i.phase1
    qm = i.quick_mode
    assert isinstance(p1, Phase1Done) and isinstance(qm, QuickModeDone)
    keys = p1.keys
    secrets = [KEY[:20], keys.skeyid, keys.skeyid_d, keys.skeyid_a, keys.skeyid_e,
               p1.encryption_key]
    for n in qm.sas:
        secrets += [n.encryption_key, n.integrity_key]
    for obj in (i, r, p1, qm, keys, *qm.sas, r.phase1, r.quick_mode, *t.initiator_events,
                *t.responder_events, i._crypto, i._p1, i._dh_key):
        assert_hidden(obj, secrets)
    assert_hidden(t, secrets)


def test_ikev1_config_and_message_cipher() -> None:
    cfg = Phase1Config(parse_ike("aes128-sha1-modp1024"), KEY[:32], peers()[0]._p1.identity)
    assert_hidden(cfg, [KEY[:32]])
    mc = MessageCipher(ENCRYPTION.get("ENCR_AES_CBC"), KEY[:16], KEY[16:32])
    assert_hidden(mc, [KEY[:16]])
    session = Session(peers()[0].role, cfg, peers()[0]._qm, rng=lambda n: b"\x01" * n)
    assert_hidden(session, [KEY[:32]])


def test_ikev1_keys_records() -> None:
    prf = PRFS.get("PRF_HMAC_SHA1")
    keys = v1.Phase1Keys(KEY[:20], KEY[1:21], KEY[2:22], KEY[3:23])
    assert_hidden(keys, [KEY])
    derived = v1.derive_phase1(prf, v1.AuthMethod.PRE_SHARED_KEY, b"n" * 16, b"m" * 16,
                               KEY[:128], b"c" * 8, b"d" * 8, pre_shared_key=KEY[:16])
    assert_hidden(derived, [derived.skeyid, derived.skeyid_d, derived.skeyid_a,
                            derived.skeyid_e])


def test_ikev2_keys() -> None:
    prf = PRFS.get("PRF_HMAC_SHA2_256")
    keys = v2.derive_ike_sa(prf, b"n" * 16, b"m" * 16, KEY, b"i" * 8, b"r" * 8, 32, 16)
    assert_hidden(keys, [keys.skeyseed, keys.sk_d, keys.sk_ai, keys.sk_ar, keys.sk_ei,
                         keys.sk_er, keys.sk_pi, keys.sk_pr])


def test_handoff_records() -> None:
    n = NegotiatedSA(0x1234, IsakmpProtocol.IPSEC_ESP, INITIATOR_TO_RESPONDER, "aes128", 12,
                     KEY[:16], "sha1", 2, KEY[16:36])
    assert_hidden(n, [KEY[:16], KEY[16:36]])


# -- Mobile IPv6 -------------------------------------------------------------------

def test_return_routability_objects() -> None:
    cn = rr.Correspondent(CN, lambda n: KEY[:n])
    kcn = cn.nonces.kcn
    assert kcn == KEY[:rr.KCN_LENGTH]
    mn = rr.MobileNode(HOA, COA, CN, lambda n: b"\x11" * n)
    hoti, coti = mn.start()
    hot = cn.home_test(hoti, HOA, 0)
    cot = cn.care_of_test(coti, COA, 0)
    mn.receive(hot, 0)
    mn.receive(cot, 0)
    tokens = [hot.keygen_token, cot.keygen_token]
    kbm = rr.binding_management_key(*tokens)
    bu = mn.binding_update(1, 100, 1)
    verified = cn.verify_binding_update(bu, home_address=HOA, source_address=COA, now=1)
    nonce = cn.nonces.lookup(0, 0)
    assert nonce is not None
    secrets = [kcn, kbm, *tokens]
    for obj in (cn, cn.nonces, nonce, mn, verified):
        assert_hidden(obj, secrets)


# -- addresses ---------------------------------------------------------------------

def test_rfc4941_history_value() -> None:
    result = rfc4941_iid(KEY[:8], bytes(range(8)))
    assert_hidden(result, [result.history])


# -- error messages ----------------------------------------------------------------

def _message(fn: Callable[[], object]) -> str:
    with pytest.raises(SecmobError) as info:
        fn()
    exc: BaseException | None = info.value
    text = ""
    while exc is not None:  # the message and everything chained to it
        text += f"{exc!r} {exc}\n"
        exc = exc.__cause__ or exc.__context__
    return text


@pytest.mark.parametrize("name", [a.name for a in INTEGRITY])
def test_integrity_failures_name_no_key_and_no_mac(name: str) -> None:
    alg = INTEGRITY.get(name)
    ctx = alg.new(KEY[:alg.key_size])
    iv = bytes(8) if "GMAC" in name else b""
    icv = ctx.compute(b"data", iv)
    text = _message(lambda: ctx.verify(b"other data", icv, iv))
    computed = ctx.compute(b"other data", iv)
    assert_hidden(text, [KEY[:alg.key_size], icv, computed])


@pytest.mark.parametrize("name", [a.name for a in ENCRYPTION if a.aead])
def test_aead_failures_name_no_key_and_no_tag(name: str) -> None:
    alg = ENCRYPTION.get(name)
    keymat = KEY[:alg.keymat_size(alg.key_sizes[0])]
    ctx = alg.new(keymat)
    sealed = ctx.seal(bytes(alg.iv_size), b"plaintext", b"aad")
    text = _message(lambda: ctx.open(bytes(alg.iv_size), sealed, b"other aad"))
    assert_hidden(text, [keymat, sealed[-8:]])


def test_esp_ah_and_rr_failures_name_no_key_and_no_mac() -> None:
    out, inn = sa_pair(0x1001, Protocol.ESP, cipher="aes128", integrity="sha256")
    packet = esp.protect(out, 17, b"payload", now=0, rng=bytes)
    forged = packet[:-1] + bytes([packet[-1] ^ 1])
    assert_hidden(_message(lambda: esp.unprotect(inn, forged, now=0)),
                  [bytes(range(16)), bytes(range(50, 82)), packet[-16:]])
    cn = rr.Correspondent(CN, lambda n: KEY[:n])
    mn = rr.MobileNode(HOA, COA, CN, lambda n: b"\x11" * n)
    hoti, coti = mn.start()
    hot, cot = cn.home_test(hoti, HOA, 0), cn.care_of_test(coti, COA, 0)
    mn.receive(hot, 0)
    mn.receive(cot, 0)
    bu = mn.binding_update(1, 100, 1)
    bad = bu[:-1] + bytes([bu[-1] ^ 1])
    kbm = rr.binding_management_key(hot.keygen_token, cot.keygen_token)
    text = _message(lambda: cn.verify_binding_update(bad, home_address=HOA,
                                                     source_address=COA, now=1))
    assert_hidden(text, [KEY[:rr.KCN_LENGTH], kbm, bu[-12:], hot.keygen_token,
                         cot.keygen_token])


def test_ikev1_failures_name_no_key() -> None:
    i, r = peers(psk_i=KEY[:20], psk_r=b"\x5a" * 20)
    message = i.start()
    for _ in range(4):
        out = (r if _ % 2 == 0 else i).receive(message)
        assert out.message is not None
        message = out.message
    text = _message(lambda: r.receive(message))  # HASH_I under a different key
    assert_hidden(text, [KEY[:20], b"\x5a" * 20])


# -- traces ------------------------------------------------------------------------

def test_recorded_steps_show_their_values_only_when_rendered() -> None:
    rec = Recorder()
    cn = rr.Correspondent(CN, lambda n: KEY[:n])
    mn = rr.MobileNode(HOA, COA, CN, lambda n: b"\x11" * n)
    hoti, _ = mn.start()
    hot = cn.home_test(hoti, HOA, 0, tracer=rec)
    step = rec.find("home keygen token")
    assert step.inputs["Kcn"] == KEY[:rr.KCN_LENGTH]  # the trace holds the values ...
    assert step.to_json()["output"] == hot.keygen_token.hex()
    for obj in (rec, step):  # ... and its repr does not show them
        assert_hidden(obj, [KEY[:rr.KCN_LENGTH], hot.keygen_token])
    assert "home keygen token" in repr(rec) and "Kcn" in repr(step)
