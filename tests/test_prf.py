"""IKE PRFs: registry entries, the key rules of RFC 4434 and RFC 4615, and
cross-checks against implementations secmob does not contain."""

import pytest
from _mac_reference import HMAC_HASH, cmac, full_mac, xcbc
from Crypto.Hash import HMAC, MD5, SHA1, SHA256, SHA384, SHA512
from cryptography.hazmat.primitives import cmac as crypto_cmac
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import algorithms
from hypothesis import given
from hypothesis import strategies as st

from secmob.algorithms import PRFS
from secmob.trace import Recorder

NAMES = [p.name for p in PRFS]
PYHASH = {"md5": MD5, "sha1": SHA1, "sha256": SHA256, "sha384": SHA384, "sha512": SHA512}

# (name, IKEv2 id, Oakley hash, output, preferred key, keywords)
TABLE = [
    ("PRF_HMAC_MD5", 1, 1, 16, 16, ("prfmd5",)),
    ("PRF_HMAC_SHA1", 2, 2, 20, 20, ("prfsha1",)),
    ("PRF_AES128_XCBC", 4, None, 16, 16, ("prfaesxcbc", "aesxcbc", "PRF_AES128_XCBC")),
    ("PRF_HMAC_SHA2_256", 5, 4, 32, 32, ("prfsha256",)),
    ("PRF_HMAC_SHA2_384", 6, 5, 48, 48, ("prfsha384",)),
    ("PRF_HMAC_SHA2_512", 7, 6, 64, 64, ("prfsha512",)),
    ("PRF_AES128_CMAC", 8, None, 16, 16, ("prfaescmac", "aescmac", "PRF_AES128_CMAC")),
]


@pytest.mark.parametrize("row", TABLE, ids=[r[0] for r in TABLE])
def test_registry_numbers_sizes_and_keywords(row: tuple) -> None:  # type: ignore[type-arg]
    name, ikev2, oakley, out, key, keywords = row
    prf = PRFS.get(ikev2)
    assert (prf.name, prf.output_size, prf.key_size) == (name, out, key)
    for k in keywords:
        assert PRFS.get(k) is prf
    if oakley is not None:
        assert PRFS.by_ikev1("oakley_hash", oakley) is prf


@pytest.mark.parametrize("name", NAMES)
@given(key=st.binary(max_size=200), msg=st.binary(max_size=300))
def test_agrees_with_independent_implementation(name: str, key: bytes, msg: bytes) -> None:
    out = PRFS.get(name).compute(key, msg)
    assert len(out) == PRFS.get(name).output_size
    assert out == full_mac(name, key, msg)


@given(data=st.data(), key=st.binary(max_size=200), msg=st.binary(max_size=300))
def test_hmac_prfs_against_cryptography_and_pycryptodome(data: st.DataObject, key: bytes,
                                                          msg: bytes) -> None:
    name = data.draw(st.sampled_from([n for n in NAMES if "HMAC" in n]))
    out = PRFS.get(name).compute(key, msg)
    h = crypto_hmac.HMAC(key, getattr(hashes, HMAC_HASH[name].upper())())
    h.update(msg)
    h.verify(out)  # theirs accepts ours
    HMAC.new(key, msg, digestmod=PYHASH[HMAC_HASH[name]]).verify(out)


@given(key=st.binary(min_size=16, max_size=16), msg=st.binary(max_size=300))
def test_cmac_prf_with_128_bit_key_is_plain_cmac(key: bytes, msg: bytes) -> None:
    out = PRFS.get("prfaescmac").compute(key, msg)
    c = crypto_cmac.CMAC(algorithms.AES(key))
    c.update(msg)
    c.verify(out)


@given(key=st.binary(min_size=0, max_size=15), msg=st.binary(max_size=64))
def test_xcbc_prf_pads_short_keys_with_zeros(key: bytes, msg: bytes) -> None:
    """RFC 4434 §2: a key shorter than 128 bits is padded on the right with zero bits."""
    prf = PRFS.get("prfaesxcbc")
    padded = key + bytes(16 - len(key))
    assert prf.compute(key, msg) == prf.compute(padded, msg) == xcbc(padded, msg)


@given(key=st.binary(min_size=17, max_size=100), msg=st.binary(max_size=64))
def test_xcbc_prf_reduces_long_keys_with_xcbc_under_zero_key(key: bytes, msg: bytes) -> None:
    """RFC 4434 §2: a longer key becomes AES-XCBC-MAC(0^128, key)."""
    reduced = xcbc(bytes(16), key)
    assert PRFS.get("prfaesxcbc").compute(key, msg) == xcbc(reduced, msg)


@given(key=st.binary(max_size=100).filter(lambda k: len(k) != 16), msg=st.binary(max_size=64))
def test_cmac_prf_reduces_every_other_key_length(key: bytes, msg: bytes) -> None:
    """RFC 4615 §3: any key that is not 128 bits becomes AES-CMAC(0^128, key);
    short keys are not zero-padded (unlike RFC 4434)."""
    prf = PRFS.get("prfaescmac")
    assert prf.compute(key, msg) == cmac(cmac(bytes(16), key), msg)
    if len(key) < 16:
        assert prf.compute(key, msg) != cmac(key + bytes(16 - len(key)), msg)


def test_trace_shows_key_rule_and_rfc_sections() -> None:
    rec = Recorder()
    out = PRFS.get("prfaesxcbc").compute(bytes(range(10)), bytes(range(20)), rec)
    key_step = rec.find("AES-XCBC-PRF-128 key")
    assert key_step.rfc == "RFC 4434 §2" and key_step.output == bytes(range(10)) + bytes(6)
    assert rec.find("PRF_AES128_XCBC").output == out
    rec = Recorder()
    PRFS.get("prfaescmac").compute(bytes(range(18)), b"", rec)
    assert rec.find("AES-CMAC-PRF-128 key").formula == "K = AES-CMAC(0^128, VK)"
    assert rec.find("PRF_AES128_CMAC").rfc.startswith("RFC 4615 §3")
    rec = Recorder()
    PRFS.get("prfsha256").compute(b"k", b"s", rec)
    assert rec.find("PRF_HMAC_SHA2_256").rfc == "RFC 4868; RFC 2104 §2"


def test_repr_names_the_prf_only() -> None:
    for prf in PRFS:
        assert repr(prf) == f"<{type(prf).__name__} {prf.name} (IKEv2 id {prf.ikev2_id})>"
