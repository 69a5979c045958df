"""Keygen tokens kept per nonce at the correspondent (RFC 6275 §5.2.5,
§5.2.7): kept only once a Binding Update made with them authenticated,
never reused from another nonce, and giving the same Kbm as a fresh
computation with plain hmac/hashlib."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random

import pytest

from secmob.errors import DecodeError, IntegrityError, NonceExpired
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


def test_tokens_are_kept_after_an_update_authenticates_and_give_the_same_kbm() -> None:
    cn = rr.Correspondent(CN, random.Random(1).randbytes)
    mn = handshake(cn)
    nonce = cn.nonces.lookup(0, 1)
    assert nonce is not None and nonce.tokens == {}
    for seq in (1, 2, 3):
        ok = cn.verify_binding_update(mn.binding_update(seq, 100, 1), home_address=HOA,
                                      source_address=COA, now=1)
        assert ok.kbm == plain_kbm(nonce)
        assert nonce.tokens == {
            HOA + b"\0": hmac.digest(nonce.kcn, HOA + nonce.value + b"\0", "sha1")[:8],
            COA + b"\1": hmac.digest(nonce.kcn, COA + nonce.value + b"\1", "sha1")[:8]}


def test_forged_updates_leave_no_tokens_behind() -> None:
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
    assert nonce.tokens == {}


def test_a_kept_token_does_not_vouch_for_another_address_or_an_expired_nonce() -> None:
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


def test_a_reissued_nonce_index_starts_without_tokens() -> None:
    table = rr.NonceTable(random.Random(4).randbytes, first_index=0xFFFF)
    old = table.issue(0)
    old.tokens[HOA + b"\0"] = bytes(8)
    later = 0.0
    for _ in range(0x10000):  # every index once more, each nonce outliving the last
        later += rr.MAX_NONCE_LIFETIME + 1
        new = table.issue(later)
    assert new.index == old.index and new is not old and new.tokens == {}
    assert table.lookup(old.index, later) is new


def test_deregistration_keeps_only_the_home_token() -> None:
    cn = rr.Correspondent(CN, random.Random(1).randbytes)
    mn = handshake(cn)
    nonce = cn.nonces.lookup(0, 1)
    assert nonce is not None
    ok = cn.verify_binding_update(mn.binding_update(1, 0, 1), home_address=HOA,
                                  source_address=COA, now=1)
    home = hmac.digest(nonce.kcn, HOA + nonce.value + b"\0", "sha1")[:8]
    assert ok.deregistration and ok.kbm == hashlib.sha1(home).digest()
    assert nonce.tokens == {HOA + b"\0": home}


def test_a_tracer_sees_every_token_even_when_kept() -> None:
    cn = rr.Correspondent(CN, random.Random(1).randbytes)
    mn = handshake(cn)
    cn.verify_binding_update(mn.binding_update(1, 100, 1), home_address=HOA,
                             source_address=COA, now=1)
    rec = Recorder()
    cn.verify_binding_update(mn.binding_update(2, 100, 1), home_address=HOA,
                             source_address=COA, now=1, tracer=rec)
    names = [s.name for s in rec.steps]
    assert "home keygen token" in names and "care-of keygen token" in names and "Kbm" in names


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
