"""The per-SA fast paths of ESP and AH and the engine's bare IPv6 fast path
give the same packets, results, errors and SA state as the general paths
(an engine or a protect() call with a tracer takes the general path).

Outbound, ESP has a separate step-by-step path (taken with a tracer); inbound,
``esp.unprotect`` and ``ah.unprotect`` always run the per-SA function, so the
inbound comparisons here cover the engine's two routes to it. The inbound
per-SA checks themselves are verified against independent computations in
test_esp.py, test_ah.py, test_esp_packet_vectors.py and test_engine_scapy.py."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from scapy.layers.inet import TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt

from secmob.algorithms import ENCRYPTION, INTEGRITY
from secmob.errors import SecmobError
from secmob.ipsec import ah, esp
from secmob.ipsec.engine import Engine, OutboundResult
from secmob.ipsec.sad import (
    SAD,
    Direction,
    Lifetime,
    Protocol,
    SABundle,
    SecurityAssociation,
)
from secmob.ipsec.selectors import Selector
from secmob.ipsec.spd import SPD, Action, Entry, SATemplate
from secmob.trace import Recorder

A, B, C = "2001:db8::1", "2001:db8::2", "2001:db8::3"
SPI = 0x4242
UNLIMITED = Lifetime()


def counter_rng() -> Callable[[int], bytes]:
    c = itertools.count()
    return lambda n: bytes((next(c) * 7 + i) & 0xFF for i in range(n))


def keyed(cipher: str | None, integrity: str | None) -> dict[str, object]:
    kw: dict[str, object] = {}
    if cipher is not None:
        choice = ENCRYPTION.choose(cipher)
        alg = choice.algorithm
        kw.update(cipher=alg, cipher_key=bytes(range(alg.keymat_size(
            choice.key_size or alg.key_sizes[-1]))))
    if integrity is not None:
        ia = INTEGRITY.get(integrity)
        kw.update(integrity=ia, integrity_key=bytes(range(40, 40 + ia.key_size)))
    return kw


def outcome(fn: Callable[..., object], *args: object, **kw: object) -> object:
    """What ``fn(*args, **kw)`` produced: its value, or its exception's type and message."""
    try:
        return fn(*args, **kw)
    except SecmobError as e:
        return type(e), str(e)


def state(sa: SecurityAssociation) -> tuple[object, ...]:
    return (sa.seq_out, sa.packets, sa.octets, sa.expired, sa.soft_expired, sa.replay.top,
            sa.auth_failures, sa.replay_drops)


ESP_SUITES = [("aes128gcm16", None), ("aes256gcm8", None), ("aes128", "sha1"),
              ("3des", "md5"), ("aes128ctr", "sha256"), ("chacha20poly1305", None),
              ("aes128ccm12", None), ("aes128gmac", None), ("null", "sha512")]


@pytest.mark.parametrize("esn", [False, True])
@pytest.mark.parametrize(("cipher", "integrity"), ESP_SUITES)
def test_esp_protect_fast_equals_traced(cipher: str, integrity: str | None, esn: bool) -> None:
    lifetime = Lifetime(soft_packets=3, hard_packets=5)
    fast, general = (SecurityAssociation(SPI, direction=Direction.OUTBOUND, esn=esn,
                                         lifetime=lifetime, **keyed(cipher, integrity))
                     for _ in range(2))  # type: ignore[arg-type]
    fast_rng, general_rng = counter_rng(), counter_rng()
    for payload in (b"", b"x", bytes(range(13)), bytes(1400), b"y", b"z"):
        got = outcome(esp.protect, fast, 17, payload, now=0.0, rng=fast_rng)
        want = outcome(esp.protect, general, 17, payload, now=0.0, rng=general_rng,
                       tracer=Recorder())
        assert got == want
        assert state(fast) == state(general)
        assert fast.take_events() == general.take_events()
    assert fast.expired  # the hard limit was reached on both


def test_esp_protect_errors_fast_equals_traced() -> None:
    fast, general = (SecurityAssociation(SPI, direction=Direction.OUTBOUND,
                                         **keyed("aes128", "sha1")) for _ in range(2))  # type: ignore[arg-type]
    calls: list[tuple[int, dict[str, object]]] = [
        (256, {"rng": counter_rng()}),  # Next Header out of range
        (17, {}),  # CBC without an rng
        (17, {"rng": lambda n: b""}),  # an rng that returns too little
    ]
    untouched = state(fast)
    for next_header, kw in calls:
        assert outcome(esp.protect, fast, next_header, b"x", now=0.0, **kw) == outcome(
            esp.protect, general, next_header, b"x", now=0.0, tracer=Recorder(), **kw)
        assert state(fast) == state(general) == untouched  # a refused call changes nothing
        assert (fast.seq_out, fast.packets, fast.octets) == (0, 0, 0)
    fast.seq_out = general.seq_out = (1 << 32) - 1  # SequenceOverflow
    assert outcome(esp.protect, fast, 17, b"x", now=0.0, rng=counter_rng()) == outcome(
        esp.protect, general, 17, b"x", now=0.0, rng=counter_rng(), tracer=Recorder())
    assert state(fast) == state(general)


@pytest.mark.parametrize("esn", [False, True])
@pytest.mark.parametrize("integrity", ["sha1", "sha256", "aesxcbc", "aes128gmac"])
def test_ah_protect_matches_an_independent_icv_input(integrity: str, esn: bool) -> None:
    """ah.protect (now the per-SA path) still covers before | AH with a zero
    ICV | after (| ESN high), RFC 4302 §3.3.3: checked with ah.unprotect on
    a second SA, and every octet of the result matters."""
    out = SecurityAssociation(SPI, Protocol.AH, direction=Direction.OUTBOUND, esn=esn,
                              **keyed(None, integrity))  # type: ignore[arg-type]
    inb = SecurityAssociation(SPI, Protocol.AH, esn=esn, **keyed(None, integrity))  # type: ignore[arg-type]
    before, after = bytes(range(40)), b"payload" * 9
    for ipv6 in (True, False):
        hdr = ah.protect(out, 17, before, after, now=0.0, ipv6=ipv6)
        assert len(hdr) == ah.header_length(out, ipv6=ipv6)
        res = ah.unprotect(inb, before, hdr + after, now=0.0, ipv6=ipv6)
        assert (res.next_header, res.header_length, res.sequence) == (17, len(hdr), out.seq_out)


# -- the engine: bare IPv6 flows against the general path ------------------------------


def engines(protocols: tuple[str, ...], cipher: str | None, integrity: str | None,
            ah_integrity: str | None, traced: bool, lifetime: Lifetime = UNLIMITED,
            ) -> tuple[Engine, Engine, Entry]:
    out_entry = Entry(Selector.make(A, B), Action.PROTECT, SATemplate(protocols), name="out")
    in_entry = Entry(Selector.make(B, A), Action.PROTECT, SATemplate(protocols), name="in")
    tx, rx, sas = SAD(), SAD(), []
    if "esp" in protocols:
        kw = keyed(cipher, integrity)
        sas.append(SecurityAssociation(0x1001, direction=Direction.OUTBOUND, lifetime=lifetime,
                                       **kw))  # type: ignore[arg-type]
        rx.insert(SecurityAssociation(0x1001, policy=in_entry, replay_window=32,
                                      lifetime=lifetime, **kw))  # type: ignore[arg-type]
    if "ah" in protocols:
        kw = keyed(None, ah_integrity)
        sas.append(SecurityAssociation(0x2002, Protocol.AH, direction=Direction.OUTBOUND,
                                       lifetime=lifetime, **kw))  # type: ignore[arg-type]
        rx.insert(SecurityAssociation(0x2002, Protocol.AH, policy=in_entry, replay_window=32,
                                      lifetime=lifetime, **kw))  # type: ignore[arg-type]
    tx.insert_bundle(out_entry, SABundle(tuple(sas)))
    bypass = Entry(Selector.make(B, C), Action.BYPASS, name="bypass")
    tracer = Recorder() if traced else None
    return (Engine(SPD([out_entry, bypass]), tx, rng=counter_rng(), tracer=tracer),
            Engine(SPD([in_entry, Entry(Selector.make(C, B), Action.BYPASS)]), rx,
                   rng=counter_rng(), tracer=tracer), out_entry)


def packets() -> list[bytes]:
    return [bytes(p) for p in (
        IPv6(src=A, dst=B) / UDP(sport=4000, dport=53) / b"hello",
        IPv6(src=A, dst=B) / UDP(sport=4000, dport=53) / b"hello again",
        IPv6(src=A, dst=B) / UDP(sport=4001, dport=53) / bytes(1352),
        IPv6(src=A, dst=B) / TCP(sport=1, dport=2) / b"t",
        IPv6(src=A, dst=B) / ICMPv6EchoRequest(id=1, seq=2),
        IPv6(src=A, dst=B, nh=59),
        IPv6(src=A, dst=B, hlim=3, tc=0xB8, fl=12345) / UDP(sport=4000, dport=53) / b"mutable",
        IPv6(src=A, dst=B) / IPv6ExtHdrDestOpt() / UDP(sport=4000, dport=53) / b"dstopts",
        IPv6(src=A, dst=C) / UDP(sport=1, dport=2) / b"bypass",
        IPv6(src=B, dst=A) / UDP(sport=1, dport=2) / b"no policy",
        IPv6(src=A, dst=B) / UDP(sport=4000, dport=53),
    )]


def summary(result: object) -> object:
    """A result with its SPD entry and SAs named (the two engines have their own)."""
    if not isinstance(result, tuple) or not hasattr(result, "sas"):
        return result
    return tuple(
        (f.name, f.action) if isinstance(f, Entry) else
        tuple(sa.spi for sa in f) if f is result.sas else f
        for f in result)


def tamper(packet: bytes, at: int) -> bytes:
    bad = bytearray(packet)
    bad[at] ^= 0x01
    return bytes(bad)


SUITES = [(("esp",), "aes128gcm16", None, None), (("esp",), "aes128", "sha1", None),
          (("esp",), "null", "sha256", None), (("ah",), None, None, "sha1"),
          (("ah",), None, None, "aes128gmac"), (("esp", "ah"), "aes128gcm16", None, "sha1")]


@pytest.mark.parametrize(("protocols", "cipher", "integrity", "ah_integrity"), SUITES)
def test_engine_fast_path_equals_general_path(
        protocols: tuple[str, ...], cipher: str | None, integrity: str | None,
        ah_integrity: str | None) -> None:
    fast_tx, fast_rx, _ = engines(protocols, cipher, integrity, ah_integrity, traced=False)
    slow_tx, slow_rx, _ = engines(protocols, cipher, integrity, ah_integrity, traced=True)
    sent: list[bytes] = []
    for packet in packets() * 2:  # the second round hits the flow caches
        got = outcome(fast_tx.outbound, packet, now=0.0)
        assert summary(got) == summary(outcome(slow_tx.outbound, packet, now=0.0))
        if isinstance(got, OutboundResult) and got.packet is not None:
            sent.append(got.packet)
    # Arrivals: in order, replayed, tampered at each region, truncated,
    # and packets that were never protected.
    arrivals = sent + sent[:3] + [tamper(p, at) for p in sent[:4] for at in (1, 7, 41, 45,
                                                                            50, len(p) - 1)]
    arrivals += [p[:-1] for p in sent[:2]] + packets()
    for packet in arrivals:
        got = outcome(fast_rx.inbound, packet, now=0.0)
        assert summary(got) == summary(outcome(slow_rx.inbound, packet, now=0.0))
    for fast_sa, slow_sa in zip(fast_rx.sad, slow_rx.sad, strict=True):
        assert state(fast_sa) == state(slow_sa)


@pytest.mark.parametrize("protocols", [("esp",), ("ah",)])
def test_engine_fast_path_lifetimes_equal_general_path(protocols: tuple[str, ...]) -> None:
    lifetime = Lifetime(soft_packets=2, hard_packets=4)
    fast_tx, fast_rx, _ = engines(protocols, "aes128gcm16", None, "sha1", False, lifetime)
    slow_tx, slow_rx, _ = engines(protocols, "aes128gcm16", None, "sha1", True, lifetime)
    packet = packets()[0]
    results = []
    for _ in range(6):
        fast = outcome(fast_tx.outbound, packet, now=0.0)
        slow = outcome(slow_tx.outbound, packet, now=0.0)
        assert summary(fast) == summary(slow)
        if isinstance(fast, OutboundResult) and fast.packet is not None:
            results.append(summary(outcome(fast_rx.inbound, fast.packet, now=0.0)))
            assert results[-1] == summary(outcome(slow_rx.inbound, fast.packet, now=0.0))
    # Outbound: soft event with the second packet, SAExpired after the fourth.
    # Inbound results carry the receiving SA's soft event the same way.
    assert len(results) == 4
    assert [len(r[3]) for r in results] == [0, 1, 0, 0]  # type: ignore[index]


def test_engine_fast_path_follows_spd_and_sad_changes() -> None:
    tx, rx, out_entry = engines(("esp",), "aes128gcm16", None, None, traced=False)
    packet = packets()[0]
    first = tx.outbound(packet, now=0.0)
    assert first.sas[0].spi == 0x1001 and rx.inbound(first.packet, now=0.0).packet == packet  # type: ignore[arg-type]
    # A new bundle for the entry is used at once.
    new_sa = SecurityAssociation(0x1003, direction=Direction.OUTBOUND,
                                 **keyed("aes128gcm16", None))  # type: ignore[arg-type]
    tx.sad.insert_bundle(out_entry, new_sa)
    assert tx.outbound(packet, now=0.0).sas == (new_sa,)
    tx.sad.remove_bundle(out_entry)
    assert tx.outbound(packet, now=0.0).verdict.value == "acquire"
    # A DISCARD entry in front of the flow wins at once.
    tx.spd.insert(0, Entry(Selector.make(A, B), Action.DISCARD))
    assert tx.outbound(packet, now=0.0).verdict.value == "discarded"


# -- CBC on long-lived contexts -------------------------------------------------------


@pytest.mark.parametrize("name", ["aes128", "aes256", "3des"])
def test_cbc_contexts_equal_a_fresh_cbc_per_packet(name: str) -> None:
    """Each seal/open is one CBC operation under its own IV (checked against
    a new ``cryptography`` CBC context per packet), whatever came before:
    opens out of order, of lengths 0 to many blocks, and after a failed call."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    alg = ENCRYPTION.get(name)
    size = alg.block_size
    key = bytes(range(7, 7 + alg.key_sizes[-1]))
    ctx = alg.new(key)
    prim = TripleDES(key) if name == "3des" else algorithms.AES(key)
    rng = counter_rng()
    sealed: list[tuple[bytes, bytes, bytes]] = []
    for blocks in (1, 0, 3, 88, 2, 1, 5):
        iv, plain = rng(size), rng(blocks * size)
        ct = ctx.seal(iv, plain)
        assert ct == Cipher(prim, modes.CBC(iv)).encryptor().update(plain)
        sealed.append((iv, plain, ct))
        with pytest.raises(SecmobError):
            ctx.seal(iv, plain + b"x")  # not a whole number of blocks: nothing runs
    for iv, plain, ct in sealed[::-1] + sealed:
        assert ctx.open(iv, ct) == plain
        with pytest.raises(SecmobError):
            ctx.open(iv, ct + b"x")


def test_3des_esp_packets_through_one_sa_equal_fresh_cbc() -> None:
    """Consecutive ESP packets of one 3DES-CBC SA (one long-lived cipher
    context) each decrypt, with a new ``cryptography`` CBC context, under
    their own IV to the payload and the RFC 4303 §2.4 trailer."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    kw = keyed("3des", "sha1")
    key = kw["cipher_key"]
    assert isinstance(key, bytes)
    sa = SecurityAssociation(SPI, direction=Direction.OUTBOUND, **kw)  # type: ignore[arg-type]
    rng = counter_rng()
    for n, payload in enumerate((b"", b"abc", bytes(range(8)), bytes(1400), b"z" * 17), 1):
        packet = esp.protect(sa, 17, payload, now=0.0, rng=rng)
        iv, ct = packet[8:16], packet[16:-12]
        assert packet[:8] == SPI.to_bytes(4, "big") + n.to_bytes(4, "big")
        plain = Cipher(TripleDES(key), modes.CBC(iv)).decryptor().update(ct)
        pad = -(len(payload) + 2) % 8
        assert plain == payload + bytes(range(1, pad + 1)) + bytes((pad, 17))


# -- untraced HMAC contexts ------------------------------------------------------------


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256", "sha384", "sha512"])
def test_untraced_hmac_context_equals_traced(name: str) -> None:
    import hashlib
    import hmac

    alg = INTEGRITY.get(name)
    key = bytes(range(3, 3 + alg.key_size))
    fast, traced = alg.new(key), alg.new(key, Recorder())
    for data in (b"", b"abc", bytes(range(256)) * 6):
        icv = fast.compute(data)
        digest = getattr(hashlib, name)
        assert icv == traced.compute(data) == hmac.digest(key, data, digest)[:alg.icv_size]
        bad = bytes([icv[0] ^ 1]) + icv[1:]
        for args in ((data, icv), (data, bad), (data, icv[:-1]), (data, icv, b"iv")):
            assert outcome(fast.verify, *args) == outcome(traced.verify, *args)
        assert outcome(fast.compute, data, b"iv") == outcome(traced.compute, data, b"iv")


@pytest.mark.parametrize("name", ["aes128", "3des", "des"])
def test_untraced_cbc_context_errors_equal_traced(name: str) -> None:
    alg = ENCRYPTION.get(name)
    key = bytes(range(7, 7 + alg.key_sizes[-1]))
    fast, traced = alg.new(key), alg.new(key, Recorder())
    iv, size = bytes(alg.iv_size), alg.block_size
    for args in ((iv, bytes(2 * size)), (iv[:-1], bytes(size)), (iv, bytes(size + 1)),
                 (iv + b"x", b"")):
        assert outcome(fast.seal, *args) == outcome(traced.seal, *args)
        assert outcome(fast.open, *args) == outcome(traced.open, *args)
