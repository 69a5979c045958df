"""Every MAC, ICV, keyed hash and cookie check goes through
``hmac.compare_digest`` (combined-mode tags are checked inside OpenSSL /
pycryptodome): each verification below must call it, whether it succeeds or
fails."""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Callable

import pytest
from _ike_peers import peers
from test_rr import CN, COA, HOA, handshake

from secmob.algorithms import ENCRYPTION, INTEGRITY
from secmob.errors import IntegrityError
from secmob.ike.ikev1_peers import negotiate
from secmob.ipsec import esp
from secmob.ipsec.sad import Direction, Protocol, SecurityAssociation
from secmob.mip6 import rr
from secmob.wire import mobility as mh

Counter = list[tuple[bytes, bytes]]


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> Counter:
    calls: Counter = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((bytes(a), bytes(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    return calls


def _counts(calls: Counter, fn: Callable[[], object]) -> int:
    before = len(calls)
    with contextlib.suppress(IntegrityError):
        fn()
    return len(calls) - before


@pytest.mark.parametrize("name", [a.name for a in INTEGRITY])
def test_icv_verification(compared: Counter, name: str) -> None:
    alg = INTEGRITY.get(name)
    ctx = alg.new(bytes(range(alg.key_size)))
    iv = bytes(8) if "GMAC" in name else b""
    icv = ctx.compute(b"data", iv)
    assert _counts(compared, lambda: ctx.verify(b"data", icv, iv)) == 1
    wrong = bytes([icv[0] ^ 1]) + icv[1:]
    assert _counts(compared, lambda: ctx.verify(b"data", wrong, iv)) == 1


def test_esp_icv(compared: Counter) -> None:
    kw = {"cipher": ENCRYPTION.get("ENCR_NULL"), "integrity": INTEGRITY.get("HMAC-SHA-256-128"),
          "integrity_key": bytes(32)}
    out = SecurityAssociation(0x1234, Protocol.ESP, direction=Direction.OUTBOUND, **kw)
    inn = SecurityAssociation(0x1234, Protocol.ESP, direction=Direction.INBOUND, **kw)
    packet = esp.protect(out, 17, b"payload", now=0)
    assert _counts(compared, lambda: esp.unprotect(inn, packet, now=0)) == 1
    assert compared[-1][0] == compared[-1][1] == packet[-16:]


def test_return_routability(compared: Counter) -> None:
    cn, mn = handshake()
    bu = mn.binding_update(sequence=1, lifetime=10, now=1)
    n = _counts(compared, lambda: cn.verify_binding_update(bu, home_address=HOA,
                                                          source_address=COA, now=1))
    assert n == 1
    forged = bu[:-1] + bytes([bu[-1] ^ 1])
    n = _counts(compared, lambda: cn.verify_binding_update(forged, home_address=HOA,
                                                          source_address=COA, now=1))
    assert n == 1
    fresh = rr.MobileNode(HOA, COA, CN, lambda k: b"\x07" * k)
    hoti, _ = fresh.start()
    hot = cn.home_test(mh.HomeTestInit(cookie=b"\x08" * 8), HOA, 0)
    assert _counts(compared, lambda: fresh.receive(hot, 0)) == 1
    assert _counts(compared, lambda: fresh.receive(cn.home_test(hoti, HOA, 0), 0)) == 1


def test_ikev1_hashes(compared: Counter) -> None:
    negotiate(*peers())
    # HASH_I, HASH_R (Main Mode 5 and 6), Quick Mode HASH(1), HASH(2), HASH(3)
    assert len(compared) == 5
    assert all(a == b for a, b in compared)
