"""Keygen tokens at the correspondent (RFC 6275 §5.2.5, §5.2.7), computed
through each nonce's HMAC_SHA1(Kcn, ·) with the keyed blocks hashed once
(RFC 2104): the same tokens and Kbm as plain hmac/hashlib, recomputed for
every Binding Update, never taken from another nonce or address."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random

import pytest

from secmob.errors import DecodeError, IntegrityError, NonceExpired, UsageError
from secmob.mip6 import rr
from secmob.trace import Recorder
from secmob.wire import mobility as mh

HOA = ipaddress.IPv6Address("2001:db8:1::10").packed
COA = ipaddress.IPv6Address("2001:db8:2::10").packed
OTHER = ipaddress.IPv6Address("2001:db8:3::10").packed
CN = ipaddress.IPv6Address("2001:db8:4::1").packed


def handshake(cn: rr.Correspondent, now: float = 0.0, care_of: bytes = COA) -> rr.MobileNode:
    mn = rr.MobileNode(HOA, care_of, CN, random.Random(2).randbytes)
    hoti, coti = mn.start()
    mn.receive(cn.home_test(hoti, HOA, now), now)
    mn.receive(cn.care_of_test(coti, care_of, now), now)
    return mn


def plain_kbm(nonce: rr.Nonce, care_of: bytes = COA) -> bytes:
    home = hmac.digest(nonce.kcn, HOA + nonce.value + b"\0", "sha1")[:8]
    care = hmac.digest(nonce.kcn, care_of + nonce.value + b"\1", "sha1")[:8]
    return hashlib.sha1(home + care).digest()


@pytest.mark.parametrize("key_length", [0, 1, 16, 20, 63, 64, 65, 100, 200])
def test_keyed_hmac_is_hmac_sha1(key_length: int) -> None:
    rnd = random.Random(key_length)
    key = rnd.randbytes(key_length)
    mac = rr.hmac_sha1_under(key)
    for n in (0, 1, 25, 55, 56, 63, 64, 65, 200):
        message = rnd.randbytes(n)
        assert mac(message) == hmac.digest(key, message, "sha1")
    assert mac(b"a") == mac(b"a")  # the kept states are copied, never consumed
    # a key of a few octets could show up by chance in the function's address
    assert key.hex() not in repr(mac) or len(key) < 8


def test_tokens_give_the_same_kbm_for_every_update() -> None:
    cn = rr.Correspondent(CN, random.Random(1).randbytes)
    mn = handshake(cn)
    nonce = cn.nonces.lookup(0, 1)
    assert nonce is not None
    for seq in (1, 2, 3):
        ok = cn.verify_binding_update(mn.binding_update(seq, 100, 1), home_address=HOA,
                                      source_address=COA, now=1)
        assert ok.kbm == plain_kbm(nonce)
    assert cn.binding_key(HOA, OTHER, 0, 0, 1) == plain_kbm(nonce, OTHER)


def test_forged_updates_are_refused() -> None:
    cn = rr.Correspondent(CN, random.Random(1).randbytes)
    mn = handshake(cn)
    nonce = cn.nonces.lookup(0, 1)
    assert nonce is not None
    bad = bytearray(mn.binding_update(1, 100, 1))
    bad[-1] ^= 1
    with pytest.raises(IntegrityError):
        cn.verify_binding_update(bytes(bad), home_address=HOA, source_address=COA, now=1)
    with pytest.raises(IntegrityError):  # a care-of address the tokens were not sent to
        cn.verify_binding_update(mn.binding_update(2, 100, 1), home_address=HOA,
                                 source_address=OTHER, now=1)
    ok = cn.verify_binding_update(mn.binding_update(3, 100, 1), home_address=HOA,
                                  source_address=COA, now=1)
    assert ok.kbm == plain_kbm(nonce)


def test_a_token_does_not_vouch_for_another_address_or_an_expired_nonce() -> None:
    cn = rr.Correspondent(CN, random.Random(1).randbytes)
    mn = handshake(cn)
    cn.verify_binding_update(mn.binding_update(1, 100, 1), home_address=HOA,
                             source_address=COA, now=1)
    with pytest.raises(IntegrityError):
        cn.verify_binding_update(mn.binding_update(2, 100, 1), home_address=HOA,
                                 source_address=OTHER, now=1)
    with pytest.raises(NonceExpired) as err:
        cn.verify_binding_update(mn.binding_update(3, 100, 1), home_address=HOA,
                                 source_address=COA, now=rr.MAX_NONCE_LIFETIME + 1)
    assert err.value.status == 138


def test_a_reissued_nonce_index_gives_tokens_of_the_new_nonce() -> None:
    table = rr.NonceTable(random.Random(4).randbytes, first_index=0xFFFF)
    old = table.issue(0)
    later = 0.0
    for _ in range(0x10000):  # every index once more, each nonce outliving the last
        later += rr.MAX_NONCE_LIFETIME + 1
        new = table.issue(later)
    assert new.index == old.index and new is not old and new.value != old.value
    assert table.lookup(old.index, later) is new
    assert new.keyed(HOA + new.value + b"\0") == hmac.digest(
        new.kcn, HOA + new.value + b"\0", "sha1")


def test_a_new_kcn_gives_new_keyed_states_and_old_nonces_keep_theirs() -> None:
    table = rr.NonceTable(random.Random(5).randbytes)
    first = table.issue(0)
    table.regenerate_kcn()
    second = table.issue(0)
    assert first.kcn != second.kcn
    for n in (first, second):
        assert n.keyed(COA + n.value + b"\1") == hmac.digest(n.kcn, COA + n.value + b"\1",
                                                             "sha1")


def test_deregistration_uses_only_the_home_token() -> None:
    cn = rr.Correspondent(CN, random.Random(1).randbytes)
    mn = handshake(cn)
    nonce = cn.nonces.lookup(0, 1)
    assert nonce is not None
    ok = cn.verify_binding_update(mn.binding_update(1, 0, 1), home_address=HOA,
                                  source_address=COA, now=1)
    home = hmac.digest(nonce.kcn, HOA + nonce.value + b"\0", "sha1")[:8]
    assert ok.deregistration and ok.kbm == hashlib.sha1(home).digest()


def test_a_tracer_sees_every_token_and_the_same_kbm() -> None:
    cn = rr.Correspondent(CN, random.Random(1).randbytes)
    mn = handshake(cn)
    cn.verify_binding_update(mn.binding_update(1, 100, 1), home_address=HOA,
                             source_address=COA, now=1)
    rec = Recorder()
    ok = cn.verify_binding_update(mn.binding_update(2, 100, 1), home_address=HOA,
                                  source_address=COA, now=1, tracer=rec)
    names = [s.name for s in rec.steps]
    assert "home keygen token" in names and "care-of keygen token" in names and "Kbm" in names
    nonce = cn.nonces.lookup(0, 1)
    assert nonce is not None and ok.kbm == plain_kbm(nonce)


def test_wrong_address_lengths_are_refused_as_before() -> None:
    cn = rr.Correspondent(CN, random.Random(1).randbytes)
    handshake(cn)
    with pytest.raises(UsageError, match="home address must be 16 octets"):
        cn.binding_key(HOA[:15], COA, 0, 0, 1)
    with pytest.raises(UsageError, match="care-of address must be 16 octets"):
        cn.binding_key(HOA, COA + b"\0", 0, 0, 1)
    assert cn.binding_key(HOA, COA + b"\0", 0, None, 1)  # a deregistration ignores it
    for tracer in (None, Recorder()):
        with pytest.raises(NonceExpired):  # the nonce is checked first
            cn.binding_key(HOA[:15], COA, 9, 0, 1, tracer)


def test_a_decoded_message_is_used_as_given() -> None:
    cn = rr.Correspondent(CN, random.Random(1).randbytes)
    mn = handshake(cn)
    data = mn.binding_update(1, 100, 1)
    msg = mh.decode(data)
    ok = cn.verify_binding_update(data, home_address=HOA, source_address=COA, now=1,
                                  message=msg)
    assert ok.message is msg
    again = cn.verify_binding_update(data, home_address=HOA, source_address=COA, now=1)
    assert again.message == msg and again.kbm == ok.kbm
    with pytest.raises(DecodeError):
        cn.verify_binding_update(data, home_address=HOA, source_address=COA, now=1,
                                 message=mh.HomeTestInit(cookie=bytes(8)))


def test_authenticated_data_from_a_decoded_message() -> None:
    cn = rr.Correspondent(CN, random.Random(1).randbytes)
    data = handshake(cn).binding_update(1, 100, 1)
    msg = mh.decode(data)
    assert mh.authenticated_data(data, msg) == mh.authenticated_data(data)
    assert mh.authenticated_data(data, msg) == data[:4] + b"\0\0" + data[6:-12]
    unsigned = mh.BindingUpdate(sequence=1, lifetime=1).padded()
    with pytest.raises(DecodeError):
        mh.authenticated_data(unsigned.to_bytes(), unsigned)
