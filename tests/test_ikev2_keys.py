"""IKEv2 key derivation (RFC 7296 §2.13 - §2.18), checked against plain hmac."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import pytest

from secmob.algorithms import ENCRYPTION, INTEGRITY, PRFS, PRFAlgorithm
from secmob.errors import UsageError
from secmob.ike import ikev2
from secmob.ike.handoff import INITIATOR_TO_RESPONDER, ikev2_child_sas
from secmob.trace import Recorder, Tracer

SHA256 = PRFS.get("prfsha256")
NI, NR = bytes(range(32)), bytes(range(32, 64))
SPI_I, SPI_R = b"\x01" * 8, b"\x02" * 8
GIR = bytes(range(256))


def ref_prf_plus(key: bytes, seed: bytes, length: int, alg: str = "sha256") -> bytes:
    out, t, n = b"", b"", 1
    while len(out) < length:
        t = hmac.new(key, t + seed + bytes([n]), alg).digest()
        out += t
        n += 1
    return out[:length]


def test_prf_plus_matches_rfc_7296_definition() -> None:
    for length in (0, 1, 32, 33, 100):
        assert ikev2.prf_plus(SHA256, b"k", b"seed", length) == ref_prf_plus(b"k", b"seed", length)


def test_prf_plus_iteration_limit() -> None:
    limit = 255 * 32
    assert len(ikev2.prf_plus(SHA256, b"k", b"s", limit)) == limit
    with pytest.raises(UsageError, match="255 iterations"):
        ikev2.prf_plus(SHA256, b"k", b"s", limit + 1)


def test_ike_sa_keys_order_and_sizes() -> None:
    keys = ikev2.derive_ike_sa(SHA256, NI, NR, GIR, SPI_I, SPI_R, integrity_key_size=32,
                               encryption_key_size=20)
    seed = hmac.new(NI + NR, GIR, "sha256").digest()
    assert keys.skeyseed == seed
    stream = ref_prf_plus(seed, NI + NR + SPI_I + SPI_R, 32 * 3 + 32 * 2 + 20 * 2)
    parts = [keys.sk_d, keys.sk_ai, keys.sk_ar, keys.sk_ei, keys.sk_er, keys.sk_pi, keys.sk_pr]
    assert [len(p) for p in parts] == [32, 32, 32, 20, 20, 32, 32]
    assert b"".join(parts) == stream
    assert keys.sk_d.hex() not in repr(keys) and "sk_ei=<20 octets>" in repr(keys)


def test_aead_has_no_integrity_keys() -> None:
    keys = ikev2.derive_ike_sa(SHA256, NI, NR, GIR, SPI_I, SPI_R, 0, 36)
    assert keys.sk_ai == keys.sk_ar == b"" and len(keys.sk_ei) == 36


def test_spi_sizes_checked() -> None:
    with pytest.raises(UsageError):
        ikev2.derive_ike_sa(SHA256, NI, NR, GIR, b"\x01" * 4, SPI_R, 32, 16)


def test_child_keymat_and_rekey() -> None:
    sk_d = b"\x07" * 32
    assert ikev2.child_keymat(SHA256, sk_d, NI, NR, 80) == ref_prf_plus(sk_d, NI + NR, 80)
    new = b"\x09" * 64
    assert ikev2.child_keymat(SHA256, sk_d, NI, NR, 80, new) == ref_prf_plus(
        sk_d, new + NI + NR, 80)
    assert ikev2.rekey_skeyseed(SHA256, sk_d, new, NI, NR) == hmac.new(
        sk_d, new + NI + NR, "sha256").digest()


def test_rekeyed_ike_sa_uses_given_seed() -> None:
    seed = ikev2.rekey_skeyseed(SHA256, b"\x07" * 32, b"\x09" * 64, NI, NR)
    keys = ikev2.derive_ike_sa(SHA256, NI, NR, b"", SPI_I, SPI_R, 32, 16, seed_key=seed)
    assert keys.skeyseed == seed
    assert keys.sk_d == ref_prf_plus(seed, NI + NR + SPI_I + SPI_R, 32)


@dataclass(frozen=True, eq=False, repr=False)
class _FixedKeyPRF(PRFAlgorithm):
    """A stand-in fixed-key-size PRF (like AES-XCBC-PRF-128): records the key it got."""

    def compute(self, key: bytes, data: bytes, tracer: Tracer | None = None) -> bytes:
        if len(key) != self.key_size:
            raise AssertionError("fixed key size violated")
        return hmac.new(key, data, "sha256").digest()[:16]


def test_fixed_key_prf_takes_half_from_each_nonce() -> None:
    prf = _FixedKeyPRF("TEST_FIXED", 250, "test", output_size=16, key_size=16)
    assert ikev2.skeyseed_key(prf, NI, NR) == NI[:8] + NR[:8]
    assert ikev2.skeyseed(prf, NI, NR, GIR) == hmac.new(NI[:8] + NR[:8], GIR,
                                                        "sha256").digest()[:16]
    with pytest.raises(UsageError):
        ikev2.skeyseed_key(prf, NI[:4], NR[:16])
    assert ikev2.skeyseed_key(SHA256, NI, NR) == NI + NR
    assert ikev2.skeyseed_key(prf, NI[:4], NR[:12]) == NI[:4] + NR[:12]  # lengths add up


@pytest.mark.skipif("prfaesxcbc" not in PRFS, reason="AES-XCBC-PRF-128 is not registered yet")
def test_registered_xcbc_prf_uses_first_64_bits_of_each_nonce() -> None:
    prf = PRFS.get("prfaesxcbc")
    assert ikev2.skeyseed_key(prf, NI, NR) == NI[:8] + NR[:8]
    assert ikev2.skeyseed(prf, NI, NR, GIR) == prf.compute(NI[:8] + NR[:8], GIR)
    # NSS gtests/common/testvectors/ike-aesxcbc-vectors.h entries 6 and 8 (NSS self-generated)
    ni, nr = bytes.fromhex("32b50d5f4a3763f3"), bytes.fromhex("9206a04b26564cb1")
    g_ir = bytes.fromhex("4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52")
    seed = ikev2.skeyseed(prf, ni, nr, g_ir)
    assert seed.hex() == "08b95345c9557240ddc98d6e1dfda875"
    dkm = ikev2.prf_plus(prf, seed, ni + nr + bytes.fromhex("34c9e7c1888687853ff77d760d2b2199"), 16)
    assert dkm.hex() == "efa38ecee9fd05062f64b655105436d5"


def test_tracer_names_steps() -> None:
    rec = Recorder()
    ikev2.derive_ike_sa(SHA256, NI, NR, GIR, SPI_I, SPI_R, 32, 16, tracer=rec)
    names = [s.name for s in rec]
    assert names[:2] == ["SKEYSEED", "prf+"]
    assert names[2:] == ["SK_d", "SK_ai", "SK_ar", "SK_ei", "SK_er", "SK_pi", "SK_pr"]
    assert rec.find("SKEYSEED").rfc == "RFC 7296 §2.14"


def test_child_sas_split_initiator_first() -> None:
    sha1 = INTEGRITY.get("sha1")
    null = ENCRYPTION.get("null")
    sk_d = b"\x05" * 32
    i_to_r, r_to_i = ikev2_child_sas(SHA256, sk_d, NI, NR, b"\x00\x00\x00\x0a",
                                     b"\x00\x00\x00\x0b", null, 0, sha1)
    km = ref_prf_plus(sk_d, NI + NR, 40)
    assert i_to_r.direction == INITIATOR_TO_RESPONDER and i_to_r.spi == 0x0B
    assert i_to_r.integrity_key == km[:20] and r_to_i.integrity_key == km[20:]
    assert r_to_i.spi == 0x0A


@pytest.mark.skipif("aes128gcm16" not in ENCRYPTION, reason="AES-GCM is not registered yet")
def test_child_sas_aead_salt_included() -> None:
    gcm = ENCRYPTION.choose("aes128gcm16").algorithm
    i_to_r, r_to_i = ikev2_child_sas(SHA256, b"\x05" * 32, NI, NR, b"aaaa", b"bbbb", gcm, 16,
                                     None)
    km = ref_prf_plus(b"\x05" * 32, NI + NR, 40)
    assert i_to_r.encryption_key == km[:20] and r_to_i.encryption_key == km[20:]
    assert i_to_r.integrity_key == b""


def test_explain_topics_reproduce_cavp_records() -> None:
    import argparse

    from secmob import explain

    topics = explain.topics()
    rec2 = topics["ikev2-keys"].run(argparse.Namespace())
    # ikev2.fax [g^ir length = 256][SHA-1] COUNT = 0
    assert rec2.find("SKEYSEED").output == bytes.fromhex("a9a7b222b59f8f48645f28a1db5b5f5d7479cba7")
    assert rec2.find("SK_d").output.hex() == "a14293677cc80ff8f9cc0eee30d895da9d8f4056"
    rec1 = topics["ikev1-keys"].run(argparse.Namespace(key_length=32, block_size=16))
    # ikev1_psk.fax [g^xy length = 256][SHA-1] COUNT = 0
    assert rec1.find("SKEYID").output.hex() == "62b04d112877e442fc3282fc37c076997718a0b9"
    assert rec1.find("SKEYID_e").output.hex() == "cd74b0c048219db81384d3fda8f6cda51e398a2b"
    assert [s.name for s in rec1][-1] == "KEYMAT"
    assert "markdown" in explain.render_formats()
    assert "RFC 2409 Appendix B" in explain.render(rec1.steps, "text")


def test_key_sizes_from_transforms() -> None:
    null, sha1 = ENCRYPTION.get("null"), INTEGRITY.get("sha1")
    assert ikev2.key_sizes(null, 0, sha1) == (20, 0)
    with pytest.raises(UsageError):
        ikev2.key_sizes(null, 0, None)
    if "aes128gcm16" in ENCRYPTION:
        gcm = ENCRYPTION.choose("aes128gcm16").algorithm
        assert ikev2.key_sizes(gcm, 16, None) == (0, 20)
        with pytest.raises(UsageError):
            ikev2.key_sizes(gcm, 16, sha1)
