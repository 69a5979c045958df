"""ESP encryption and combined-mode transforms: behaviour, registry, and
cross-checks against pycryptodome (an implementation secmob does not use for
these modes) in both directions."""

from __future__ import annotations

from typing import Any

import pytest
from Crypto.Cipher import AES, DES, DES3, ChaCha20_Poly1305
from Crypto.Util import Counter
from hypothesis import given
from hypothesis import strategies as st

from secmob.algorithms import ENCRYPTION, CipherAlgorithm
from secmob.errors import (
    DecodeError,
    IntegrityError,
    InvalidKeyLength,
    UnsupportedAlgorithm,
    UsageError,
)
from secmob.trace import Recorder

ALL = [a for a in ENCRYPTION if a.name != "ENCR_NULL"]
AEADS = [a for a in ALL if a.aead]


def keymat(alg: CipherAlgorithm, key_size: int, fill: int = 0x42) -> bytes:
    return bytes([fill]) * alg.keymat_size(key_size)


def pad(alg: CipherAlgorithm, data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % alg.block_size)


# -- registry ---------------------------------------------------------------

def test_ids_names_and_ikev1_numbers() -> None:
    expected = {
        "ENCR_DES": (2, {"esp": 2, "oakley_encr": 1}),
        "ENCR_3DES": (3, {"esp": 3, "oakley_encr": 5}),
        "ENCR_NULL": (11, {"esp": 11}),
        "ENCR_AES_CBC": (12, {"esp": 12, "oakley_encr": 7}),
        "ENCR_AES_CTR": (13, {"esp": 13}),
        "ENCR_AES_CCM_8": (14, {"esp": 14}),
        "ENCR_AES_CCM_12": (15, {"esp": 15}),
        "ENCR_AES_CCM_16": (16, {"esp": 16}),
        "ENCR_AES_GCM_8": (18, {"esp": 18}),
        "ENCR_AES_GCM_12": (19, {"esp": 19}),
        "ENCR_AES_GCM_16": (20, {"esp": 20}),
        "ENCR_NULL_AUTH_AES_GMAC": (21, {"esp": 23}),
        "ENCR_CHACHA20_POLY1305": (28, {}),
    }
    assert {a.name: (a.ikev2_id, a.ikev1_ids) for a in ENCRYPTION} == expected
    for alg in ENCRYPTION:
        assert ENCRYPTION.get(alg.ikev2_id) is alg
        for table, number in alg.ikev1_ids.items():
            assert ENCRYPTION.by_ikev1(table, number) is alg


@pytest.mark.parametrize(("keyword", "name", "key_size"), [
    ("aes", "ENCR_AES_CBC", 16), ("aes128", "ENCR_AES_CBC", 16),
    ("aes192", "ENCR_AES_CBC", 24), ("aes256", "ENCR_AES_CBC", 32),
    ("aes128ctr", "ENCR_AES_CTR", 16), ("aes256ctr", "ENCR_AES_CTR", 32),
    ("aes128ccm8", "ENCR_AES_CCM_8", 16), ("aes128ccm64", "ENCR_AES_CCM_8", 16),
    ("aes192ccm12", "ENCR_AES_CCM_12", 24), ("aes192ccm96", "ENCR_AES_CCM_12", 24),
    ("aes256ccm16", "ENCR_AES_CCM_16", 32), ("aes256ccm128", "ENCR_AES_CCM_16", 32),
    ("aes128gcm8", "ENCR_AES_GCM_8", 16), ("aes128gcm64", "ENCR_AES_GCM_8", 16),
    ("aes192gcm12", "ENCR_AES_GCM_12", 24), ("aes256gcm96", "ENCR_AES_GCM_12", 32),
    ("aes256gcm16", "ENCR_AES_GCM_16", 32), ("aes128gcm128", "ENCR_AES_GCM_16", 16),
    ("aes128gmac", "ENCR_NULL_AUTH_AES_GMAC", 16), ("aes256gmac", "ENCR_NULL_AUTH_AES_GMAC", 32),
])
def test_strongswan_keywords_fix_key_size(keyword: str, name: str, key_size: int) -> None:
    choice = ENCRYPTION.choose(keyword)
    assert (choice.algorithm.name, choice.key_size) == (name, key_size)


@pytest.mark.parametrize(("keyword", "name"), [
    ("des", "ENCR_DES"), ("3des", "ENCR_3DES"), ("chacha20poly1305", "ENCR_CHACHA20_POLY1305"),
    ("null", "ENCR_NULL"), ("ENCR_AES_GCM_16", "ENCR_AES_GCM_16"),
])
def test_plain_names(keyword: str, name: str) -> None:
    assert ENCRYPTION.get(keyword).name == name


def test_unknown_name_or_id_raises() -> None:
    with pytest.raises(UnsupportedAlgorithm, match="rot13"):
        ENCRYPTION.get("rot13")
    with pytest.raises(UnsupportedAlgorithm, match="IKEv2 id 17"):
        ENCRYPTION.get(17)
    with pytest.raises(UnsupportedAlgorithm):
        ENCRYPTION.by_ikev1("esp", 17)


def test_legacy_flags() -> None:
    assert {a.name for a in ENCRYPTION if a.legacy} == {"ENCR_DES", "ENCR_3DES"}


@pytest.mark.parametrize(("name", "keys", "salt", "block", "iv", "icv"), [
    ("ENCR_DES", (8,), 0, 8, 8, 0),
    ("ENCR_3DES", (24,), 0, 8, 8, 0),
    ("ENCR_AES_CBC", (16, 24, 32), 0, 16, 16, 0),
    ("ENCR_AES_CTR", (16, 24, 32), 4, 4, 8, 0),
    ("ENCR_AES_CCM_8", (16, 24, 32), 3, 4, 8, 8),
    ("ENCR_AES_CCM_12", (16, 24, 32), 3, 4, 8, 12),
    ("ENCR_AES_CCM_16", (16, 24, 32), 3, 4, 8, 16),
    ("ENCR_AES_GCM_8", (16, 24, 32), 4, 4, 8, 8),
    ("ENCR_AES_GCM_12", (16, 24, 32), 4, 4, 8, 12),
    ("ENCR_AES_GCM_16", (16, 24, 32), 4, 4, 8, 16),
    ("ENCR_NULL_AUTH_AES_GMAC", (16, 24, 32), 4, 4, 8, 16),
    ("ENCR_CHACHA20_POLY1305", (32,), 4, 4, 8, 16),
])
def test_sizes(name: str, keys: tuple[int, ...], salt: int, block: int, iv: int, icv: int) -> None:
    alg = ENCRYPTION.get(name)
    assert (alg.key_sizes, alg.salt_size, alg.block_size, alg.iv_size, alg.icv_size) == (
        keys, salt, block, iv, icv)
    assert alg.aead == (icv > 0)


# -- properties ---------------------------------------------------------------

@pytest.mark.parametrize("alg", ALL, ids=lambda a: a.name)
@given(data=st.data())
def test_round_trip(alg: CipherAlgorithm, data: st.DataObject) -> None:
    key_size = data.draw(st.sampled_from(alg.key_sizes))
    size = alg.keymat_size(key_size)
    km = data.draw(st.binary(min_size=size, max_size=size))
    iv = data.draw(st.binary(min_size=alg.iv_size, max_size=alg.iv_size))
    pt = pad(alg, data.draw(st.binary(max_size=300)))
    aad = data.draw(st.binary(max_size=12)) if alg.aead else b""
    ctx = alg.new(km)
    sealed = ctx.seal(iv, pt, aad)
    assert len(sealed) == len(pt) + alg.icv_size
    assert ctx.open(iv, sealed, aad) == pt
    if alg.name == "ENCR_NULL_AUTH_AES_GMAC":
        assert sealed[: len(pt)] == pt  # RFC 4543: the payload is not encrypted


@pytest.mark.parametrize("alg", AEADS, ids=lambda a: a.name)
@given(data=st.data())
def test_any_single_bit_flip_is_rejected(alg: CipherAlgorithm, data: st.DataObject) -> None:
    ctx = alg.new(keymat(alg, alg.key_sizes[0]))
    iv, aad = b"\x01" * 8, b"\x00\x00\x12\x34\x00\x00\x00\x01"
    pt = data.draw(st.binary(max_size=64))
    sealed = bytearray(ctx.seal(iv, pt, aad))
    where = data.draw(st.integers(0, len(sealed) * 8 - 1))
    sealed[where // 8] ^= 1 << (where % 8)
    with pytest.raises(IntegrityError, match=alg.name):
        ctx.open(iv, bytes(sealed), aad)


@pytest.mark.parametrize("alg", AEADS, ids=lambda a: a.name)
def test_tampered_aad_iv_truncation_and_empty_are_rejected(alg: CipherAlgorithm) -> None:
    ctx = alg.new(keymat(alg, alg.key_sizes[-1]))
    iv, aad = b"\x01" * 8, b"\x00\x00\x12\x34\x00\x00\x00\x01"
    sealed = ctx.seal(iv, b"payload!", aad)
    for bad_iv, bad_aad, bad in ((iv, aad[:-1] + b"\x02", sealed), (b"\x02" * 8, aad, sealed),
                                 (iv, aad, sealed[:-1]), (iv, aad, sealed[1:]),
                                 (iv, aad, b""), (iv, aad, sealed[: alg.icv_size - 1])):
        with pytest.raises(IntegrityError) as info:
            ctx.open(bad_iv, bad, bad_aad)
        message = str(info.value)
        assert sealed.hex() not in message and sealed[-alg.icv_size:].hex() not in message


@pytest.mark.parametrize("alg", ALL, ids=lambda a: a.name)
def test_wrong_key_and_iv_lengths_name_the_sizes(alg: CipherAlgorithm) -> None:
    good = keymat(alg, alg.key_sizes[0])
    with pytest.raises(InvalidKeyLength,
                       match=f"{alg.name} keying material.*must be .* octets, got 5"):
        alg.new(b"\x00" * 5)
    ctx = alg.new(good)
    iv_message = f"{alg.name} IV must be {alg.iv_size} octets, got 3"
    with pytest.raises(InvalidKeyLength, match=iv_message):
        ctx.seal(b"\x00" * 3, pad(alg, b"x"))
    with pytest.raises(InvalidKeyLength, match=iv_message):
        ctx.open(b"\x00" * 3, b"\x00" * 32)
    with pytest.raises(InvalidKeyLength, match="key size must be one of"):
        alg.keymat_size(7)
    assert issubclass(InvalidKeyLength, UsageError)


@pytest.mark.parametrize("name", ["ENCR_DES", "ENCR_3DES", "ENCR_AES_CBC"])
def test_cbc_alignment(name: str) -> None:
    alg = ENCRYPTION.get(name)
    ctx = alg.new(keymat(alg, alg.key_sizes[0]))
    iv = b"\x00" * alg.iv_size
    with pytest.raises(UsageError, match=f"multiple of {alg.block_size} octets"):
        ctx.seal(iv, b"\x00" * (alg.block_size + 1))
    with pytest.raises(DecodeError, match="not a multiple"):
        ctx.open(iv, b"\x00" * (alg.block_size - 1))


@pytest.mark.parametrize("alg", list(ENCRYPTION), ids=lambda a: a.name)
def test_repr_hides_keys(alg: CipherAlgorithm) -> None:
    km = keymat(alg, alg.key_sizes[0], 0x5A)
    ctx = alg.new(km)
    assert "5a5a" not in repr(ctx) and "ZZZZ" not in repr(ctx) and "key hidden" in repr(ctx)
    assert alg.name in repr(alg)


def test_null_is_identity() -> None:
    ctx = ENCRYPTION.get("null").new(b"")
    assert ctx.seal(b"", b"abc") == b"abc" and ctx.open(b"", b"abc") == b"abc"


@pytest.mark.parametrize("name", ["aes128", "aes128ctr", "aes128gcm16", "aes128gmac",
                                  "chacha20poly1305", "3des"])
def test_tracer_reports_steps(name: str) -> None:
    choice = ENCRYPTION.choose(name)
    alg = choice.algorithm
    rec = Recorder()
    ctx = alg.new(keymat(alg, choice.key_size or alg.key_sizes[0]), tracer=rec)
    iv = b"\x07" * alg.iv_size
    sealed = ctx.seal(iv, pad(alg, b"hello"), b"aad!")
    ctx.open(iv, sealed, b"aad!")
    assert len(rec) == 2
    step = rec.find(alg.name)
    assert step.output == sealed and step.rfc.startswith(alg.rfc)
    assert "K" in step.formula and "IV" in step.formula


def test_tracer_reports_nothing_for_a_forgery() -> None:
    rec = Recorder()
    alg = ENCRYPTION.get("aes128gcm16")
    ctx = alg.new(keymat(alg, 16), tracer=rec)
    with pytest.raises(IntegrityError):
        ctx.open(b"\x00" * 8, b"\x00" * 32)
    assert len(rec) == 0


# -- cross-checks against pycryptodome, both directions -------------------------

KEYS = st.sampled_from([16, 24, 32])
IV8 = st.binary(min_size=8, max_size=8)
PAYLOAD = st.binary(max_size=200)
AAD = st.sampled_from([8, 12]).flatmap(lambda n: st.binary(min_size=n, max_size=n))


@given(k=KEYS, iv=st.binary(min_size=16, max_size=16), blocks=st.integers(0, 8), data=st.data())
def test_aes_cbc_against_pycryptodome(k: int, iv: bytes, blocks: int, data: st.DataObject) -> None:
    key = data.draw(st.binary(min_size=k, max_size=k))
    pt = data.draw(st.binary(min_size=16 * blocks, max_size=16 * blocks))
    ctx = ENCRYPTION.get("aes-cbc").new(key)
    assert AES.new(key, AES.MODE_CBC, iv=iv).decrypt(ctx.seal(iv, pt)) == pt
    assert ctx.open(iv, AES.new(key, AES.MODE_CBC, iv=iv).encrypt(pt)) == pt


@given(key=st.binary(min_size=24, max_size=24), iv=st.binary(min_size=8, max_size=8),
       blocks=st.integers(0, 8), data=st.data())
def test_3des_and_des_cbc_against_pycryptodome(key: bytes, iv: bytes, blocks: int,
                                               data: st.DataObject) -> None:
    pt = data.draw(st.binary(min_size=8 * blocks, max_size=8 * blocks))
    try:
        tdes = DES3.new(DES3.adjust_key_parity(key), DES3.MODE_CBC, iv=iv)
    except ValueError:  # pycryptodome refuses keys that degenerate to single DES
        return
    key = DES3.adjust_key_parity(key)
    ctx = ENCRYPTION.get("3des").new(key)
    assert ctx.seal(iv, pt) == tdes.encrypt(pt)
    assert ctx.open(iv, DES3.new(key, DES3.MODE_CBC, iv=iv).encrypt(pt)) == pt
    des = ENCRYPTION.get("des").new(key[:8])
    assert DES.new(key[:8], DES.MODE_CBC, iv=iv).decrypt(des.seal(iv, pt)) == pt


@given(k=KEYS, iv=IV8, pt=PAYLOAD, data=st.data())
def test_aes_ctr_against_pycryptodome(k: int, iv: bytes, pt: bytes, data: st.DataObject) -> None:
    key = data.draw(st.binary(min_size=k, max_size=k))
    nonce = data.draw(st.binary(min_size=4, max_size=4))
    ctx = ENCRYPTION.get("aes-ctr").new(key + nonce)

    def peer() -> AES:  # type: ignore[valid-type]
        ctr = Counter.new(32, prefix=nonce + iv, initial_value=1)
        return AES.new(key, AES.MODE_CTR, counter=ctr)

    assert peer().decrypt(ctx.seal(iv, pt)) == pt  # type: ignore[attr-defined]
    assert ctx.open(iv, peer().encrypt(pt)) == pt  # type: ignore[attr-defined]


@pytest.mark.parametrize(("mode", "icv"), [(m, i) for m in ("GCM", "CCM") for i in (8, 12, 16)])
@given(k=KEYS, iv=IV8, pt=PAYLOAD, aad=AAD, data=st.data())
def test_aes_gcm_and_ccm_against_pycryptodome(mode: str, icv: int, k: int, iv: bytes, pt: bytes,
                                              aad: bytes, data: st.DataObject) -> None:
    key = data.draw(st.binary(min_size=k, max_size=k))
    salt_size = 4 if mode == "GCM" else 3  # RFC 4106 §4, RFC 4309 §4
    salt = data.draw(st.binary(min_size=salt_size, max_size=salt_size))
    ctx = ENCRYPTION.get(f"ENCR_AES_{mode}_{icv}").new(key + salt)
    aes_mode = AES.MODE_GCM if mode == "GCM" else AES.MODE_CCM

    def peer() -> Any:
        return AES.new(key, aes_mode, nonce=salt + iv, mac_len=icv).update(aad)

    sealed = ctx.seal(iv, pt, aad)
    assert peer().decrypt_and_verify(sealed[:-icv], sealed[-icv:]) == pt
    ct, tag = peer().encrypt_and_digest(pt)
    assert ctx.open(iv, ct + tag, aad) == pt


@given(key=st.binary(min_size=32, max_size=32), salt=st.binary(min_size=4, max_size=4),
       iv=IV8, pt=PAYLOAD, aad=AAD)
def test_chacha20_poly1305_against_pycryptodome(key: bytes, salt: bytes, iv: bytes, pt: bytes,
                                                aad: bytes) -> None:
    ctx = ENCRYPTION.get("chacha20poly1305").new(key + salt)
    sealed = ctx.seal(iv, pt, aad)
    peer = ChaCha20_Poly1305.new(key=key, nonce=salt + iv)
    peer.update(aad)
    assert peer.decrypt_and_verify(sealed[:-16], sealed[-16:]) == pt
    peer = ChaCha20_Poly1305.new(key=key, nonce=salt + iv)
    peer.update(aad)
    ct, tag = peer.encrypt_and_digest(pt)
    assert ctx.open(iv, ct + tag, aad) == pt


@given(k=KEYS, iv=IV8, pt=PAYLOAD, aad=AAD, data=st.data())
def test_aes_gmac_against_pycryptodome(k: int, iv: bytes, pt: bytes, aad: bytes,
                                       data: st.DataObject) -> None:
    key = data.draw(st.binary(min_size=k, max_size=k))
    salt = data.draw(st.binary(min_size=4, max_size=4))
    ctx = ENCRYPTION.get(f"aes{k * 8}gmac").new(key + salt)
    sealed = ctx.seal(iv, pt, aad)
    # RFC 4543 §3.3: GMAC over SPI || Seq || IV || payload, payload sent in clear.
    peer = AES.new(key, AES.MODE_GCM, nonce=salt + iv, mac_len=16).update(aad + iv + pt)
    peer.verify(sealed[-16:])
    assert sealed[:-16] == pt
    tag = AES.new(key, AES.MODE_GCM, nonce=salt + iv, mac_len=16).update(aad + iv + pt).digest()
    assert ctx.open(iv, pt + tag, aad) == pt
