"""Return Routability (RFC 6275 §5.2, §6.2.7, §9.4, §9.5.1) behaviour."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secmob.errors import DecodeError, IntegrityError, NonceExpired, UsageError
from secmob.mip6 import rr
from secmob.trace import Recorder
from secmob.wire import mobility as mh
from secmob.wire.mobility_options import AlternateCareOfAddress, NonceIndices

HOA = ipaddress.IPv6Address("2001:db8:1::10").packed
COA = ipaddress.IPv6Address("2001:db8:2::10").packed
CN = ipaddress.IPv6Address("2001:db8:4::1").packed


def seeded(seed: int = 7) -> rr.Rng:
    r = random.Random(seed)
    return r.randbytes


def handshake(now: float = 0.0, cn: rr.Correspondent | None = None
              ) -> tuple[rr.Correspondent, rr.MobileNode]:
    cn = cn or rr.Correspondent(CN, seeded(1))
    mn = rr.MobileNode(HOA, COA, CN, seeded(2))
    hoti, coti = mn.start()
    mn.receive(cn.home_test(hoti, HOA, now), now)
    mn.receive(cn.care_of_test(coti, COA, now), now)
    return cn, mn


def test_full_exchange_and_acknowledgement() -> None:
    cn, mn = handshake()
    bu = mn.binding_update(sequence=10, lifetime=100, now=1)
    mh.verify_checksum(HOA, CN, bu)
    ok = cn.verify_binding_update(bu, home_address=HOA, source_address=COA, now=2)
    assert ok.care_of_address == COA and not ok.deregistration and ok.message.sequence == 10
    ba = cn.acknowledge(ok, status=0, lifetime=100)
    mh.verify_checksum(CN, HOA, ba)
    got = mn.verify_acknowledgement(ba, now=3)
    assert got.accepted and got.sequence == 10


def test_kbm_matches_an_independent_computation() -> None:
    cn, _mn = handshake()
    n = cn.nonces.lookup(0, 0)
    assert n is not None
    home = hmac.new(n.kcn, HOA + n.value + b"\0", hashlib.sha1).digest()[:8]
    care = hmac.new(n.kcn, COA + n.value + b"\1", hashlib.sha1).digest()[:8]
    assert cn.binding_key(HOA, COA, 0, 0, 1) == hashlib.sha1(home + care).digest()
    assert cn.binding_key(HOA, COA, 0, None, 1) == hashlib.sha1(home).digest()


def test_every_step_reports_formula_rfc_and_values() -> None:
    rec = Recorder()
    cn = rr.Correspondent(CN, seeded(1))
    mn = rr.MobileNode(HOA, COA, CN, seeded(2))
    hoti, coti = mn.start(tracer=rec)
    mn.receive(cn.home_test(hoti, HOA, 0, tracer=rec), 0)
    mn.receive(cn.care_of_test(coti, COA, 0, tracer=rec), 0)
    bu = mn.binding_update(1, 50, 1, tracer=rec)
    cn.verify_binding_update(bu, home_address=HOA, source_address=COA, now=1, tracer=rec)
    names = [s.name for s in rec]
    assert names[:4] == ["home init cookie", "care-of init cookie", "home keygen token",
                         "care-of keygen token"]
    assert {"Kbm", "authenticator", "verify authenticator"} <= set(names)
    tok = rec.find("home keygen token")
    assert tok.rfc == "RFC 6275 §5.2.5" and "HMAC_SHA1(Kcn" in tok.formula
    assert tok.inputs["home address"] == HOA and len(tok.output) == 8  # type: ignore[arg-type]
    auth = rec.find("authenticator")
    assert auth.rfc == "RFC 6275 §6.2.7" and auth.output == bu[-12:]
    assert rec.steps[-1].output == "valid"
    assert rec.find("nonce indices").output == "valid"


def test_tampered_binding_update_is_refused() -> None:
    cn, mn = handshake()
    bu = bytearray(mn.binding_update(2, 100, 1))
    for i in [0, 2, 3, *list(range(6, len(bu)))]:
        bad = bytearray(bu)
        bad[i] ^= 0x01
        with pytest.raises((IntegrityError, DecodeError, NonceExpired)):
            cn.verify_binding_update(bytes(bad), home_address=HOA, source_address=COA, now=2)
    bad = bytearray(bu)
    bad[4] ^= 0xFF  # the checksum is not covered by the Authenticator
    cn.verify_binding_update(bytes(bad), home_address=HOA, source_address=COA, now=2)


def test_wrong_addresses_are_refused() -> None:
    cn, mn = handshake()
    bu = mn.binding_update(2, 100, 1)
    other = ipaddress.IPv6Address("2001:db8:9::9").packed
    with pytest.raises(IntegrityError, match="Authenticator"):
        cn.verify_binding_update(bu, home_address=HOA, source_address=other, now=2)
    with pytest.raises(IntegrityError):
        cn.verify_binding_update(bu, home_address=other, source_address=COA, now=2)


def test_alternate_care_of_address_is_the_one_authenticated() -> None:
    cn, mn = handshake()
    home = mn._token(mn._home_token, "home", 1)
    care = mn._token(mn._care_token, "care-of", 1)
    kbm = rr.binding_management_key(home, care)
    bu = mh.BindingUpdate(sequence=3, lifetime=10, options=(
        NonceIndices(0, 0), AlternateCareOfAddress(COA)))
    _, wire = rr.sign_message(bu, kbm, COA, CN, HOA, CN)
    elsewhere = ipaddress.IPv6Address("2001:db8:7::7").packed
    ok = cn.verify_binding_update(wire, home_address=HOA, source_address=elsewhere, now=1)
    assert ok.care_of_address == COA


def test_deregistration_needs_only_the_home_token() -> None:
    cn, mn = handshake()
    mn._care_token = None  # e.g. returned home: no care-of token
    bu = mn.binding_update(4, 0, 1)
    ok = cn.verify_binding_update(bu, home_address=HOA, source_address=HOA, now=2)
    assert ok.deregistration and ok.kbm == hashlib.sha1(mn._home_token[0]).digest()  # type: ignore[index]
    assert mn.verify_acknowledgement(cn.acknowledge(ok, 0, 0), 3).lifetime == 0


def test_deregistration_sends_care_of_nonce_index_zero() -> None:
    # RFC 6275 §11.7.2: in a deletion "The care-of nonce index SHOULD be set to
    # zero"; the correspondent ignores it (§6.2.6).
    cn = rr.Correspondent(CN, seeded(1))
    for _ in range(3):  # move the nonce index on
        cn.nonces.regenerate_kcn()
        cn.nonces.issue(0)
    mn = rr.MobileNode(HOA, COA, CN, seeded(2))
    hoti, coti = mn.start()
    mn.receive(cn.home_test(hoti, HOA, 0), 0)
    mn.receive(cn.care_of_test(coti, COA, 0), 0)
    assert mn.indices[1] != 0
    registration = mh.decode(mn.binding_update(4, 10, 1))
    assert registration.option(NonceIndices).care_of_nonce_index == mn.indices[1]  # type: ignore[union-attr]
    bu = mn.binding_update(5, 0, 1)
    indices = mh.decode(bu).option(NonceIndices)
    assert indices is not None and indices.care_of_nonce_index == 0
    assert indices.home_nonce_index == mn.indices[0]
    assert cn.verify_binding_update(bu, home_address=HOA, source_address=COA, now=2).deregistration


def test_no_authenticator_in_an_expired_nonce_acknowledgement() -> None:
    # RFC 6275 §9.5.4: with status 136, 137 or 138 the Binding Acknowledgement
    # "MUST NOT include the Binding Authorization Data mobility option"; it is
    # built unsigned (secmob.mip6.binding.refusal), never by acknowledge().
    cn, mn = handshake()
    ok = cn.verify_binding_update(mn.binding_update(3, 10, 1), home_address=HOA,
                                  source_address=COA, now=2)
    for status in (136, 137, 138):
        with pytest.raises(UsageError, match="carries no Binding Authorization"):
            cn.acknowledge(ok, status, 0)
    mn.verify_acknowledgement(cn.acknowledge(ok, 135, 0), 3)  # 135 is signed


def test_care_of_equal_to_home_with_a_lifetime_needs_both_tokens() -> None:
    # RFC 6275 §9.5.1: only a zero Lifetime makes a deletion, whose Kbm is
    # SHA1(home keygen token); any other Binding Update uses both tokens
    # (§5.2.5), whatever its care-of address.
    cn = rr.Correspondent(CN, seeded(1))
    mn = rr.MobileNode(HOA, HOA, CN, seeded(2))
    hoti, coti = mn.start()
    mn.receive(cn.home_test(hoti, HOA, 0), 0)
    mn.receive(cn.care_of_test(coti, HOA, 0), 0)
    bu = mn.binding_update(5, 10, 1)
    ok = cn.verify_binding_update(bu, home_address=HOA, source_address=HOA, now=2)
    n = cn.nonces.lookup(0, 2)
    assert n is not None
    home = hmac.new(n.kcn, HOA + n.value + b"\0", hashlib.sha1).digest()[:8]
    care = hmac.new(n.kcn, HOA + n.value + b"\1", hashlib.sha1).digest()[:8]
    assert not ok.deregistration and ok.kbm == hashlib.sha1(home + care).digest()
    mn.verify_acknowledgement(cn.acknowledge(ok, 0, 10), 3)


@pytest.mark.parametrize(("home_at", "care_at", "status"),
                         [(0, 100, 136), (100, 0, 137), (0, 0, 138)])
def test_expired_nonce_indices(home_at: float, care_at: float, status: int) -> None:
    cn = rr.Correspondent(CN, seeded(1))
    mn = rr.MobileNode(HOA, COA, CN, seeded(2))
    hoti, coti = mn.start()
    answers = sorted([(home_at, 0), (care_at, 1)])  # the correspondent's clock moves forward
    for at, which in answers:
        msg = cn.home_test(hoti, HOA, at) if which == 0 else cn.care_of_test(coti, COA, at)
        mn.receive(msg, 200)
    bu = mn.binding_update(5, 100, 200)
    with pytest.raises(NonceExpired) as exc:
        cn.verify_binding_update(bu, home_address=HOA, source_address=COA, now=241)
    assert exc.value.status == status
    cn.verify_binding_update(bu, home_address=HOA, source_address=COA, now=240)


def test_tokens_only_from_nonces_with_token_lifetime_left() -> None:
    table = rr.NonceTable(seeded(3))
    first = table.issue(0)
    assert table.issue(rr.MAX_NONCE_LIFETIME - rr.MAX_TOKEN_LIFETIME) is first
    second = table.issue(31)
    assert second.index == first.index + 1 and second.value != first.value
    assert table.lookup(first.index, 240) is first
    assert table.lookup(first.index, 240.5) is None
    table.issue(300)  # prunes expired nonces
    assert table.lookup(first.index, 300) is None


def test_kcn_regeneration_keeps_old_tokens_valid() -> None:
    cn, mn = handshake()
    old = cn.nonces.kcn
    cn.nonces.regenerate_kcn()
    assert cn.nonces.kcn != old and len(cn.nonces.kcn) == rr.KCN_LENGTH
    bu = mn.binding_update(6, 100, 5)
    cn.verify_binding_update(bu, home_address=HOA, source_address=COA, now=5)
    assert cn.nonces.issue(5).kcn == cn.nonces.kcn and cn.nonces.issue(5).index == 1


def test_nonce_index_wraps_at_16_bits() -> None:
    table = rr.NonceTable(seeded(4), first_index=0xFFFF)
    assert table.issue(0).index == 0xFFFF and table.issue(100).index == 0


def test_mobile_node_checks_cookies_and_token_age() -> None:
    cn = rr.Correspondent(CN, seeded(1))
    mn = rr.MobileNode(HOA, COA, CN, seeded(2))
    hoti, coti = mn.start()
    forged = mh.HomeTest(nonce_index=0, cookie=bytes(8), keygen_token=bytes(8))
    with pytest.raises(IntegrityError, match="cookie"):
        mn.receive(forged, 0)
    mn.receive(cn.home_test(hoti, HOA, 0), 0)
    mn.receive(cn.care_of_test(coti, COA, 0), 0)
    mn.binding_update(1, 10, rr.MAX_TOKEN_LIFETIME)
    with pytest.raises(UsageError, match="keygen token"):
        mn.binding_update(2, 10, rr.MAX_TOKEN_LIFETIME + 1)


def test_missing_options_and_wrong_message() -> None:
    cn, _ = handshake()
    plain = mh.BindingUpdate(sequence=1, lifetime=1).padded().to_bytes()
    with pytest.raises(IntegrityError, match="Nonce Indices"):
        cn.verify_binding_update(plain, home_address=HOA, source_address=COA, now=0)
    hoti = mh.HomeTestInit(cookie=bytes(8)).padded().to_bytes()
    with pytest.raises(DecodeError, match="expected a Binding Update"):
        cn.verify_binding_update(hoti, home_address=HOA, source_address=COA, now=0)


def test_verification_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append(1)
        return real(a, b)

    monkeypatch.setattr(rr.hmac, "compare_digest", spy)
    with pytest.raises(IntegrityError):
        rr.verify_authenticator(bytes(20), COA, CN, b"data", bytes(12))
    assert calls


def test_no_secrets_in_repr() -> None:
    cn, mn = handshake()
    n = cn.nonces.issue(0)
    hot = cn.home_test(mh.HomeTestInit(cookie=bytes(8)), HOA, 0)
    text = repr(cn) + repr(mn) + repr(n) + repr(hot) + repr(cn.nonces)
    for secret in (cn.nonces.kcn, n.value, hot.keygen_token):
        assert secret.hex() not in text and repr(secret) not in text


def test_bad_inputs() -> None:
    with pytest.raises(UsageError):
        rr.NonceTable(lambda n: b"short")
    with pytest.raises(UsageError):
        rr.home_keygen_token(bytes(20), b"\x20\x01", bytes(8))
    with pytest.raises(UsageError):
        rr.binding_management_key(bytes(7))
    with pytest.raises(UsageError):
        rr.authenticator(bytes(20), COA, b"short", b"")


@given(st.binary(min_size=16, max_size=16), st.binary(min_size=16, max_size=16),
       st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.integers(0, 10_000),
       st.integers(0, 200))
def test_hypothesis_sign_and_verify(hoa: bytes, coa: bytes, seq: int, lifetime: int,
                                    flip: int, now: int) -> None:
    cn = rr.Correspondent(CN, seeded(seq))
    mn = rr.MobileNode(hoa, coa, CN, seeded(lifetime))
    hoti, coti = mn.start()
    mn.receive(cn.home_test(hoti, hoa, 0), 0)
    mn.receive(cn.care_of_test(coti, coa, 0), 0)
    bu = mn.binding_update(seq, lifetime, now)
    ok = cn.verify_binding_update(bu, home_address=hoa, source_address=coa, now=now)
    assert ok.deregistration == (lifetime == 0)
    mn.verify_acknowledgement(cn.acknowledge(ok, 0, min(lifetime, 105)), now)
    bad = bytearray(bu)
    i = flip % len(bad)
    if i in (4, 5):  # the checksum is outside the Authenticator
        return
    bad[i] ^= 1 << (flip % 8)
    with pytest.raises((IntegrityError, DecodeError, NonceExpired)):
        cn.verify_binding_update(bytes(bad), home_address=hoa, source_address=coa, now=now)


def test_expire_forgets_old_nonces_and_their_kcn() -> None:
    table = rr.NonceTable(seeded(4))
    first = table.issue(0)
    table.expire(rr.MAX_NONCE_LIFETIME)
    assert table.lookup(first.index, rr.MAX_NONCE_LIFETIME) is first
    table.expire(rr.MAX_NONCE_LIFETIME + 1)
    assert table.lookup(first.index, 0) is None  # gone, whatever the clock says
