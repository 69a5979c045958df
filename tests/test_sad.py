"""The SAD (RFC 4301 §4.4.2) and its inbound lookup rules (RFC 4301 §4.1)."""

from __future__ import annotations

import pytest
from ipsec_algs import AES_CBC, AES_GCM16

from secmob.algorithms import ENCRYPTION, INTEGRITY
from secmob.errors import SAExpired, SequenceOverflow, UnknownSPI, UsageError
from secmob.ipsec.sad import (
    SAD,
    Direction,
    Lifetime,
    Lookup,
    Mode,
    Protocol,
    SABundle,
    SecurityAssociation,
    inbound_sa,
    packed_address,
)

NULL = ENCRYPTION.get("null")
SHA1 = INTEGRITY.get("sha1")
KEY = bytes.fromhex("8badf00d" * 5)


def esp_sa(spi: int = 0x1000, **kw: object) -> SecurityAssociation:
    kw.setdefault("cipher", NULL)
    kw.setdefault("integrity", SHA1)
    kw.setdefault("integrity_key", KEY)
    return SecurityAssociation(spi, **kw)  # type: ignore[arg-type]


def test_repr_hides_keys() -> None:
    sa = esp_sa(cipher=AES_GCM16, cipher_key=KEY, integrity=None, source="2001:db8::1",
                destination="2001:db8::2")
    text = repr(sa) + repr(sa.cipher_ctx) + repr(sa.integrity_ctx) + str(vars(type(sa)))
    for needle in (KEY.hex(), repr(KEY), "8badf00d", "\\x8b"):
        assert needle not in text
    assert "SPI 0x00001000" in repr(sa) and "2001:db8::2" in repr(sa)
    assert "keys hidden" in repr(sa)


def test_slots_no_instance_dict() -> None:
    sa = esp_sa()
    assert not hasattr(sa, "__dict__") and not hasattr(sa.replay, "__dict__")


def test_lookup_unicast_by_spi_and_protocol() -> None:
    sad = SAD()
    esp = esp_sa(0x2000)
    ah = SecurityAssociation(0x2000, Protocol.AH, integrity=SHA1, integrity_key=KEY)
    sad.insert(esp)
    sad.insert(ah)
    assert sad.lookup(0x2000, "2001:db8::9") is esp  # SPI alone for unicast
    assert sad.lookup(0x2000, None, Protocol.AH) is ah
    with pytest.raises(UnknownSPI) as e:
        sad.lookup(0x2001, "2001:db8::9")
    assert e.value.spi == 0x2001 and "0x00002001" in str(e.value)
    assert len(sad) == 2 and set(sad) == {esp, ah}


def test_longest_match_wins() -> None:
    sad = SAD()
    spi_only = esp_sa(0x3000)
    by_dst = esp_sa(0x3000, destination="ff02::1:3", lookup=Lookup.SPI_DST)
    by_src = esp_sa(0x3000, destination="ff02::1:3", source="2001:db8::5",
                    lookup=Lookup.SPI_DST_SRC)
    for sa in (spi_only, by_dst, by_src):
        sad.insert(sa)
    assert sad.lookup(0x3000, "ff02::1:3", source="2001:db8::5") is by_src
    assert sad.lookup(0x3000, "ff02::1:3", source="2001:db8::6") is by_dst
    assert sad.lookup(0x3000, "ff02::1:3") is by_dst
    assert sad.lookup(0x3000, "2001:db8::77") is spi_only
    sad.remove(spi_only)
    with pytest.raises(UnknownSPI):
        sad.lookup(0x3000, "2001:db8::77")
    with pytest.raises(UnknownSPI):
        sad.remove(spi_only)


def test_duplicates_and_direction() -> None:
    sad = SAD()
    sad.insert(esp_sa(0x4000))
    with pytest.raises(UsageError, match="exists"):
        sad.insert(esp_sa(0x4000))
    with pytest.raises(UsageError):
        sad.insert(esp_sa(0x4001, direction=Direction.OUTBOUND))


@pytest.mark.parametrize("kw", [
    {"spi": 255},
    {"spi": 1 << 32},
    {"cipher": None},
    {"integrity": None},  # ENCR_NULL without integrity
    {"cipher": AES_GCM16, "cipher_key": KEY},  # combined mode plus integrity
    {"mode": Mode.TUNNEL},  # no tunnel endpoints
    {"lookup": Lookup.SPI_DST},  # no destination
    {"lookup": Lookup.SPI_DST_SRC, "destination": "ff02::1"},
    {"source": "not an address"},
    {"source": b"\x01\x02"},
    {"cipher": AES_CBC, "cipher_key": bytes(16), "integrity": None},  # anti-replay, no ICV
    {"replay_window": 64, "cipher": AES_GCM16, "cipher_key": KEY, "integrity": None,
     "protocol": Protocol.AH},
])
def test_invalid_configurations(kw: dict[str, object]) -> None:
    spi = kw.pop("spi", 0x5000)
    with pytest.raises(UsageError):
        esp_sa(spi, **kw)  # type: ignore[arg-type]


def test_confidentiality_only_needs_window_zero() -> None:
    sa = esp_sa(cipher=AES_CBC, cipher_key=bytes(16), integrity=None, replay_window=0)
    assert sa.icv_size == 0 and sa.replay.size == 0


def test_lifetime_validation_and_tunnel_mode() -> None:
    with pytest.raises(UsageError):
        Lifetime(soft_bytes=10, hard_bytes=5)
    with pytest.raises(UsageError):
        Lifetime(hard_seconds=-1)
    sa = esp_sa(mode=Mode.TUNNEL, tunnel_source="192.0.2.1", tunnel_destination="192.0.2.2")
    assert sa.tunnel_destination == packed_address("192.0.2.2") == bytes([192, 0, 2, 2])


def test_outbound_counter() -> None:
    sa = esp_sa(direction=Direction.OUTBOUND)
    assert [sa.next_sequence() for _ in range(3)] == [1, 2, 3]
    sa.seq_out = (1 << 32) - 1
    with pytest.raises(SequenceOverflow):
        sa.next_sequence()
    with pytest.raises(UsageError):
        esp_sa().next_sequence()  # inbound SAs do not send


def test_lifetime_accounting() -> None:
    sa = esp_sa(lifetime=Lifetime(soft_seconds=5, hard_seconds=9, soft_packets=3),
                now=1000.0)
    sa.account(10, 1001.0)
    assert sa.take_events() == ()
    sa.account(10, 1006.0)  # soft time
    (ev,) = sa.take_events()
    assert (ev.limit, ev.kind, ev.protocol) == ("seconds", "soft", Protocol.ESP)
    sa.account(10, 1007.0)  # soft packets, but soft expiry is reported once
    assert sa.take_events() == () and sa.packets == 3 and sa.octets == 30
    with pytest.raises(SAExpired):
        sa.check_alive(1009.0)
    assert sa.expired


def test_sad_expire_removes_dead_sas() -> None:
    sad = SAD()
    old = esp_sa(0x6000, lifetime=Lifetime(hard_seconds=10), now=0.0)
    young = esp_sa(0x6001, lifetime=Lifetime(hard_seconds=10), now=5.0)
    sad.insert(old)
    sad.insert(young)
    assert sad.expire(12.0) == [old]
    assert list(sad) == [young]


def test_bundles() -> None:
    sad = SAD()
    esp = esp_sa(0x7000, direction=Direction.OUTBOUND)
    ah = SecurityAssociation(0x7001, Protocol.AH, direction=Direction.OUTBOUND,
                             integrity=SHA1, integrity_key=KEY)
    sad.insert_bundle("policy-1", SABundle((esp, ah)))
    sad.insert_bundle("policy-2", esp)
    assert list(sad.outbound("policy-1") or ()) == [esp, ah]
    assert sad.outbound("policy-2") == SABundle((esp,))
    assert sad.outbound("policy-3") is None
    sad.remove_bundle("policy-2")
    assert sad.outbound("policy-2") is None
    with pytest.raises(UsageError, match="ESP is applied first"):
        SABundle((ah, esp))
    with pytest.raises(UsageError):
        SABundle(())
    with pytest.raises(UsageError):
        SABundle((esp, esp))
    with pytest.raises(UsageError):
        SABundle((esp_sa(0x7002),))  # inbound


def test_policy_reference_slot() -> None:
    sa = esp_sa(policy=("2001:db8::/64", "2001:db8:1::/64", 17))
    assert sa.policy == ("2001:db8::/64", "2001:db8:1::/64", 17)


def test_new_limits_take_effect_on_the_next_packet() -> None:
    from secmob.algorithms import ENCRYPTION, INTEGRITY
    from secmob.errors import SAExpired
    from secmob.ipsec import esp
    from secmob.ipsec.sad import Direction, Lifetime, SecurityAssociation

    sa = SecurityAssociation(0x4321, direction=Direction.OUTBOUND,
                             cipher=ENCRYPTION.get("null"),
                             integrity=INTEGRITY.get("sha1"), integrity_key=bytes(20))
    esp.protect(sa, 17, b"x", now=0.0)  # builds the per-SA path with no limits
    sa.lifetime = Lifetime(hard_packets=2)
    esp.protect(sa, 17, b"x", now=0.0)
    with pytest.raises(SAExpired):
        esp.protect(sa, 17, b"x", now=0.0)


def test_inbound_sa_given_directly_must_match_the_packet() -> None:
    sa = esp_sa(0x1000, direction=Direction.INBOUND)
    assert inbound_sa(sa, 0x1000, Protocol.ESP) is sa
    with pytest.raises(UnknownSPI, match="ESP SPI 0x00001001; the given SA is ESP SPI 0x00001000"):
        inbound_sa(sa, 0x1001, Protocol.ESP)
    with pytest.raises(UnknownSPI, match="AH SPI 0x00001000; the given SA is ESP"):
        inbound_sa(sa, 0x1000, Protocol.AH)
    outbound = esp_sa(0x1000, direction=Direction.OUTBOUND)
    with pytest.raises(UsageError, match="needs an inbound SA"):
        inbound_sa(outbound, 0x1000, Protocol.ESP)
