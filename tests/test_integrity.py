"""Integrity transforms (AH/ESP ICVs): registry entries, properties, and
cross-checks against implementations secmob does not contain."""

import hashlib
import hmac as std_hmac
import json
from typing import Any

import pytest
from _mac_reference import HMAC_HASH, full_mac
from Crypto.Cipher import AES
from Crypto.Hash import CMAC
from cryptography.hazmat.primitives import cmac as crypto_cmac
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from secmob.algorithms import INTEGRITY, IntegrityAlgorithm
from secmob.algorithms.integrity import hmac_once, keyed_hmac
from secmob.errors import IntegrityError, InvalidKeyLength
from secmob.trace import Recorder

ALL = list(INTEGRITY)
NAMES = [a.name for a in ALL]

# (name, IKEv2 id, IKEv1 AH id, IKEv1 auth attribute, key, ICV, full, IV, keyword)
TABLE = [
    ("HMAC-MD5-96", 1, 2, 1, 16, 12, 16, 0, "md5"),
    ("HMAC-SHA1-96", 2, 3, 2, 20, 12, 20, 0, "sha1"),
    ("AES-XCBC-MAC-96", 5, 9, 9, 16, 12, 16, 0, "aesxcbc"),
    ("AES-CMAC-96", 8, None, None, 16, 12, 16, 0, "aescmac"),
    ("AES-128-GMAC", 9, 11, 11, 20, 16, 16, 8, "aes128gmac"),
    ("AES-192-GMAC", 10, 12, 12, 28, 16, 16, 8, "aes192gmac"),
    ("AES-256-GMAC", 11, 13, 13, 36, 16, 16, 8, "aes256gmac"),
    ("HMAC-SHA-256-128", 12, 5, 5, 32, 16, 32, 0, "sha256"),
    ("HMAC-SHA-384-192", 13, 6, 6, 48, 24, 48, 0, "sha384"),
    ("HMAC-SHA-512-256", 14, 7, 7, 64, 32, 64, 0, "sha512"),
]


@pytest.mark.parametrize("row", TABLE, ids=[r[0] for r in TABLE])
def test_registry_numbers_sizes_and_keywords(row: tuple) -> None:  # type: ignore[type-arg]
    name, ikev2, ah, auth, key, icv, full, iv, keyword = row
    alg = INTEGRITY.get(ikev2)
    assert (alg.name, alg.key_sizes, alg.icv_size, alg.full_size, alg.iv_size) == (
        name, (key,), icv, full, iv)
    assert INTEGRITY.get(keyword) is alg
    if ah is not None:
        assert INTEGRITY.by_ikev1("ah", ah) is alg
        assert INTEGRITY.by_ikev1("auth", auth) is alg
    assert alg.legacy == (name == "HMAC-MD5-96")


def test_iana_names_resolve() -> None:
    for iana, ikev2 in (("AUTH_AES_XCBC_96", 5), ("AUTH_AES_CMAC_96", 8),
                        ("AUTH_AES_128_GMAC", 9), ("AUTH_AES_192_GMAC", 10),
                        ("AUTH_AES_256_GMAC", 11), ("AUTH_HMAC_SHA2_256_128", 12)):
        assert INTEGRITY.get(iana) is INTEGRITY.get(ikev2)


def _inputs(alg: IntegrityAlgorithm, data: st.DrawFn) -> tuple[bytes, bytes]:
    key = data(st.binary(min_size=alg.key_size, max_size=alg.key_size))
    iv = data(st.binary(min_size=alg.iv_size, max_size=alg.iv_size))
    return key, iv


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data(), msg=st.binary(max_size=200))
def test_round_trip_and_every_bit_flip_fails(name: str, data: st.DataObject,
                                             msg: bytes) -> None:
    alg = INTEGRITY.get(name)
    key, iv = _inputs(alg, data.draw)
    ctx = alg.new(key)
    icv = ctx.compute(msg, iv)
    assert len(icv) == alg.icv_size
    ctx.verify(msg, icv, iv)
    bit = data.draw(st.integers(0, alg.icv_size * 8 - 1))
    bad = bytearray(icv)
    bad[bit // 8] ^= 0x80 >> (bit % 8)
    with pytest.raises(IntegrityError) as exc:
        ctx.verify(msg, bytes(bad), iv)
    assert icv.hex() not in str(exc.value) and bytes(bad).hex() not in str(exc.value)
    with pytest.raises(IntegrityError):
        ctx.verify(msg, icv[:-1], iv)
    with pytest.raises(IntegrityError):
        ctx.verify(msg, icv + b"\x00", iv)
    if msg:
        with pytest.raises(IntegrityError):
            ctx.verify(msg[:-1], icv, iv)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data(), msg=st.binary(max_size=300))
def test_agrees_with_independent_implementation_both_directions(
        name: str, data: st.DataObject, msg: bytes) -> None:
    alg = INTEGRITY.get(name)
    key, iv = _inputs(alg, data.draw)
    ctx = alg.new(key)
    theirs = full_mac(name, key, msg, iv)[: alg.icv_size]
    assert ctx.compute(msg, iv) == theirs
    ctx.verify(msg, theirs, iv)


@given(key=st.binary(min_size=16, max_size=16), msg=st.binary(max_size=300))
def test_cmac96_against_pycryptodome_and_cryptography(key: bytes, msg: bytes) -> None:
    ctx = INTEGRITY.get("aescmac").new(key)
    icv = ctx.compute(msg)
    CMAC.new(key, msg, ciphermod=AES, mac_len=12).verify(icv)  # theirs accepts ours
    c = crypto_cmac.CMAC(algorithms.AES(key))
    c.update(msg)
    ctx.verify(msg, c.finalize()[:12])  # ours accepts theirs


@given(data=st.data(), msg=st.binary(max_size=300))
def test_hmac_against_cryptography_both_directions(data: st.DataObject, msg: bytes) -> None:
    name = data.draw(st.sampled_from([n for n in NAMES if n.startswith("HMAC")]))
    alg = INTEGRITY.get(name)
    key = data.draw(st.binary(min_size=alg.key_size, max_size=alg.key_size))
    h = crypto_hmac.HMAC(key, getattr(hashes, HMAC_HASH[name].upper())())
    h.update(msg)
    full = h.finalize()
    ctx = alg.new(key)
    ctx.verify(msg, full[: alg.icv_size])
    assert std_hmac.compare_digest(ctx.compute(msg), full[: alg.icv_size])


@given(data=st.data(), msg=st.binary(max_size=300))
def test_gmac_against_cryptography_and_pycryptodome(data: st.DataObject, msg: bytes) -> None:
    bits = data.draw(st.sampled_from([128, 192, 256]))
    alg = INTEGRITY.get(f"aes{bits}gmac")
    key, iv = _inputs(alg, data.draw)
    icv = alg.new(key).compute(msg, iv)
    # Theirs accepts ours: an AES-GCM open of an empty ciphertext with our tag.
    assert AESGCM(key[:-4]).decrypt(key[-4:] + iv, icv, msg) == b""
    c = AES.new(key[:-4], AES.MODE_GCM, nonce=key[-4:] + iv)
    c.update(msg)
    c.verify(icv)


def test_gmac_nonce_is_salt_then_iv() -> None:
    key, salt, iv = bytes(range(16)), b"SALT", b"8octets!"
    icv = INTEGRITY.get("aes128gmac").new(key + salt).compute(b"aad", iv)
    assert icv == AESGCM(key).encrypt(salt + iv, b"", b"aad")
    assert icv != AESGCM(key).encrypt(iv + salt, b"", b"aad")


@pytest.mark.parametrize("name", NAMES)
def test_wrong_key_length_names_algorithm_and_sizes(name: str) -> None:
    alg = INTEGRITY.get(name)
    for bad in (0, alg.key_size - 1, alg.key_size + 1):
        with pytest.raises(InvalidKeyLength, match=rf"{name} key.* must be {alg.key_size} "
                                                   rf"octets, got {bad}"):
            alg.new(bytes(bad))


@pytest.mark.parametrize("name", NAMES)
def test_wrong_iv_length_is_refused(name: str) -> None:
    alg = INTEGRITY.get(name)
    ctx = alg.new(bytes(alg.key_size))
    bad = b"\x00" * (alg.iv_size + 4)
    with pytest.raises(InvalidKeyLength, match=name):
        ctx.compute(b"x", bad)
    with pytest.raises(InvalidKeyLength, match=name):
        ctx.verify(b"x", bytes(alg.icv_size), bad)
    if alg.iv_size:
        with pytest.raises(InvalidKeyLength, match="IV must be 8 octets, got 0"):
            ctx.compute(b"x")


@pytest.mark.parametrize("name", NAMES)
def test_repr_hides_key(name: str) -> None:
    alg = INTEGRITY.get(name)
    key = b"\xa5" * alg.key_size
    ctx = alg.new(key)
    assert "a5a5" not in repr(ctx) and "\\xa5" not in repr(ctx)
    assert "a5a5" not in repr(alg) and name in repr(alg)


@pytest.mark.parametrize("name", NAMES)
def test_trace_reports_formula_and_rfc_section(name: str) -> None:
    alg = INTEGRITY.get(name)
    rec = Recorder()
    ctx = alg.new(bytes(alg.key_size), rec)
    icv = ctx.compute(b"data", bytes(alg.iv_size))
    step = rec.find(name)
    assert step.output == icv and step.inputs["data"] == b"data"
    assert "§" in step.rfc and alg.rfc in step.rfc
    assert "ICV" in step.formula


def test_xcbc_key_schedule_runs_once_per_context() -> None:
    rec = Recorder()
    ctx = INTEGRITY.get("aesxcbc").new(bytes(range(16)), rec)
    for n in range(5):
        ctx.compute(bytes(n))
    names = [s.name for s in rec]
    assert names.count("AES-XCBC-MAC K1") == 1 and names.count("AES-XCBC-MAC-96") == 5
    k1 = rec.find("AES-XCBC-MAC K1")
    assert k1.rfc == "RFC 3566 §4 step 1"
    assert k1.output == AES.new(bytes(range(16)), AES.MODE_ECB).encrypt(b"\x01" * 16)


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256", "sha384", "sha512"])
def test_hmac_key_longer_than_the_block_is_hashed_first(name: str) -> None:
    # RFC 2104 §2; the registered transforms fix shorter keys, so the context
    # is made directly.
    from secmob.algorithms.integrity import _HMACContext

    alg = INTEGRITY.get(name)
    digest = HMAC_HASH[alg.name]
    key, msg = bytes(range(200)), b"a message longer than nothing"
    assert len(key) > hashlib.new(digest).block_size
    icv = std_hmac.new(key, msg, digest).digest()[:alg.icv_size]
    for tracer in (None, Recorder()):  # the per-packet closures and the traced methods
        ctx = _HMACContext(alg, key, tracer)  # type: ignore[arg-type]
        assert ctx.compute(msg) == icv
        ctx.verify(msg, icv)


def test_sha256_icv_is_128_bits_not_96() -> None:
    """RFC 4868 §2.3 truncates HMAC-SHA-256 to 128 bits; a 96-bit ICV (as some
    pre-standard implementations sent) is refused."""
    key = bytes(32)
    ctx = INTEGRITY.get("sha256").new(key)
    full = std_hmac.digest(key, b"m", "sha256")
    assert ctx.compute(b"m") == full[:16]
    with pytest.raises(IntegrityError):
        ctx.verify(b"m", full[:12])


def test_explain_topics_reproduce_the_rfc_vectors(capsys: pytest.CaptureFixture[str]) -> None:
    from secmob import cli

    assert cli.main(["explain", "icv", "--format", "json"]) == 0
    steps = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in steps][-1] == "AES-XCBC-MAC-96"
    assert steps[-1]["output"] == "47f51b4564966215b8985c63"  # RFC 3566 §4.6 Test Case #4
    assert cli.main(["explain", "prf", "--format", "json"]) == 0
    steps = json.loads(capsys.readouterr().out)
    assert steps[0]["rfc"] == "RFC 4434 §2"
    assert steps[-1]["output"] == "0fa087af7d866e7653434e602fdde835"  # RFC 4434 §4, 10 octets


@pytest.mark.parametrize("factory", [hashlib.md5, hashlib.sha1, hashlib.sha256, hashlib.sha384,
                                     hashlib.sha512])
@pytest.mark.parametrize("key_length", [0, 1, 20, 64, 127, 128, 129, 300])
def test_hmac_helpers_match_the_standard_library(factory: Any, key_length: int) -> None:
    # RFC 2104 §2: keys longer than the block (64 or 128 octets) are hashed first.
    key = bytes(i % 251 for i in range(key_length))
    keyed = keyed_hmac(factory, memoryview(key))
    for n in (0, 1, 55, 64, 200):
        data = bytes(n)
        want = std_hmac.digest(key, data, factory().name)
        assert hmac_once(factory, key, data) == want
        assert keyed(data) == want == keyed(data)  # the kept states are never consumed
