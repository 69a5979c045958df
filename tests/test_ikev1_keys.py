"""IKEv1 key derivation (RFC 2409 §5, §5.5, Appendix B), checked against plain hmac/hashlib."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from secmob.algorithms import ENCRYPTION, INTEGRITY, PRFS
from secmob.errors import InvalidKeyLength, UnsupportedAlgorithm, UsageError
from secmob.ike import ikev1_keys as v1
from secmob.ike.handoff import (
    INITIATOR_TO_RESPONDER,
    RESPONDER_TO_INITIATOR,
    ikev1_quick_mode_sas,
    split_keymat,
)
from secmob.ike.proposals import Phase2Proposal, Phase2Transform
from secmob.trace import Recorder
from secmob.wire.isakmp import Protocol

SHA1 = PRFS.get("prfsha1")
NI, NR = bytes(range(16)), bytes(range(16, 32))
CKY_I, CKY_R = b"I" * 8, b"R" * 8
GXY = bytes(range(128))


def h1(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, "sha1").digest()


def test_nist_sp800_135_signature_sample() -> None:
    keys = v1.derive_phase1(
        SHA1, v1.AuthMethod.DSS_SIGNATURES, bytes.fromhex("ced5635da6796075"),
        bytes.fromhex("6244b427712fb776"), bytes.fromhex(
            "2a2e0bbe8da3657a83f3d35826e49e2d38e557e912a1b9e6c30c63577b3eab715466202862027f2c26f3"
            "090743555579611771db0b92bef93834432a3a7762fc8a0f4889fd281d6082770d10a40d7bad61e832f0"
            "41e620d6787e7f62ab2861ddfbe272e0d9d3cdec5f1bbf750e24b8b32d6d714968ad69ce5086c32ad2742ebc"),
        bytes.fromhex("382e5c8b0a3fa307"), bytes.fromhex("ba4b7616700a2413"))
    assert keys.skeyid.hex() == "dc37ac99de6dcfbd1ee74af7fb36f9b4b0a7829d"
    assert keys.skeyid_e.hex() == "49a1d53a80fb77e663552964fbbcb45092021473"


@pytest.mark.parametrize("method", list(v1.AuthMethod))
def test_skeyid_per_method(method: v1.AuthMethod) -> None:
    psk = b"secret"
    got = v1.skeyid(SHA1, method, NI, NR, g_xy=GXY, pre_shared_key=psk, cky_i=CKY_I,
                    cky_r=CKY_R)
    if method is v1.AuthMethod.PRE_SHARED_KEY:
        assert got == h1(psk, NI + NR)
    elif method in (v1.AuthMethod.DSS_SIGNATURES, v1.AuthMethod.RSA_SIGNATURES):
        assert got == h1(NI + NR, GXY)
    else:
        assert got == h1(hashlib.sha1(NI + NR).digest(), CKY_I + CKY_R)


def test_skeyid_inputs_are_checked() -> None:
    with pytest.raises(UsageError, match="pre-shared key"):
        v1.skeyid(SHA1, 1, NI, NR)
    with pytest.raises(UsageError, match="g\\^xy"):
        v1.skeyid(SHA1, 3, NI, NR)
    with pytest.raises(UsageError, match="cookies"):
        v1.skeyid(SHA1, 4, NI, NR, cky_i=b"short", cky_r=CKY_R)
    with pytest.raises(UsageError, match="unknown IKEv1 authentication method 9"):
        v1.skeyid(SHA1, 9, NI, NR, g_xy=GXY)


def test_skeyid_dae_chain_and_repr() -> None:
    s = h1(b"k", NI + NR)
    keys = v1.skeyid_dae(SHA1, s, GXY, CKY_I, CKY_R)
    d = h1(s, GXY + CKY_I + CKY_R + b"\x00")
    a = h1(s, d + GXY + CKY_I + CKY_R + b"\x01")
    e = h1(s, a + GXY + CKY_I + CKY_R + b"\x02")
    assert (keys.skeyid_d, keys.skeyid_a, keys.skeyid_e) == (d, a, e)
    assert d.hex() not in repr(keys) and "20 octets" in repr(keys)


def test_encryption_key_truncates_or_expands() -> None:
    e = h1(b"e", b"")
    assert v1.encryption_key(SHA1, e, 16) == e[:16]
    k1 = h1(e, b"\x00")
    k2 = h1(e, k1)
    assert v1.encryption_key(SHA1, e, 32) == (k1 + k2)[:32]
    assert v1.encryption_key(SHA1, e, 20) == e  # exactly long enough: no expansion


def test_hash_i_and_hash_r() -> None:
    s, gi, gr, sa, idi, idr = b"s", b"gi", b"gr", b"sa", b"idi", b"idr"
    assert v1.hash_i(SHA1, s, gi, gr, CKY_I, CKY_R, sa, idi) == h1(s, gi + gr + CKY_I + CKY_R
                                                                  + sa + idi)
    assert v1.hash_r(SHA1, s, gi, gr, CKY_I, CKY_R, sa, idr) == h1(s, gr + gi + CKY_R + CKY_I
                                                                  + sa + idr)


def test_ivs() -> None:
    hf = v1.prf_hash(SHA1)
    assert v1.phase1_iv(hf, b"x", b"y", 16) == hashlib.sha1(b"xy").digest()[:16]
    ct = bytes(range(48))
    assert v1.last_block(ct, 16) == ct[32:]
    with pytest.raises(UsageError):
        v1.last_block(ct[:47], 16)
    assert v1.phase2_iv(hf, ct[32:], 0x01020304, 8) == hashlib.sha1(
        ct[32:] + b"\x01\x02\x03\x04").digest()[:8]


def test_quick_mode_hashes() -> None:
    a, mid = b"skeyid_a", 0xCAFEBABE
    m = mid.to_bytes(4, "big")
    assert v1.quick_hash1(SHA1, a, mid, b"SA|Ni") == h1(a, m + b"SA|Ni")
    assert v1.quick_hash2(SHA1, a, mid, NI, b"SA|Nr") == h1(a, m + NI + b"SA|Nr")
    assert v1.quick_hash3(SHA1, a, mid, NI, NR) == h1(a, b"\x00" + m + NI + NR)
    assert v1.informational_hash(SHA1, a, mid, b"N") == h1(a, m + b"N")


@pytest.mark.parametrize("mid", [-1, 1 << 32])
def test_message_id_outside_32_bits_is_a_usage_error(mid: int) -> None:
    for call in (lambda: v1.quick_hash1(SHA1, b"a", mid, b""),
                 lambda: v1.quick_hash2(SHA1, b"a", mid, NI, b""),
                 lambda: v1.quick_hash3(SHA1, b"a", mid, NI, NR),
                 lambda: v1.informational_hash(SHA1, b"a", mid, b""),
                 lambda: v1.phase2_iv(hashlib.sha1, bytes(16), mid, 16)):
        with pytest.raises(UsageError, match="Message ID"):
            call()


def test_expansion_length_is_bounded() -> None:
    assert len(v1.expand(SHA1, b"k", b"\x00", v1.MAX_EXPANSION)) == v1.MAX_EXPANSION
    for length in (-1, v1.MAX_EXPANSION + 1, 1 << 70):
        with pytest.raises(UsageError, match="cannot expand"):
            v1.encryption_key(SHA1, b"skeyid_e", length)
        with pytest.raises(UsageError, match="cannot expand"):
            v1.keymat(SHA1, b"d", 3, bytes(4), NI, NR, length)


@pytest.mark.parametrize("protocol", [-1, 256])
def test_keymat_protocol_outside_one_octet_is_a_usage_error(protocol: int) -> None:
    with pytest.raises(UsageError, match="protocol"):
        v1.keymat(SHA1, b"d", protocol, bytes(4), NI, NR, 20)


@pytest.mark.parametrize("g_qm", [None, b"\x42" * 96])
def test_keymat_expansion(g_qm: bytes | None) -> None:
    d, spi = b"skeyid_d", b"\x00\x00\x12\x34"
    seed = (g_qm or b"") + b"\x03" + spi + NI + NR
    k1 = h1(d, seed)
    k2 = h1(d, k1 + seed)
    k3 = h1(d, k2 + seed)
    assert v1.keymat(SHA1, d, 3, spi, NI, NR, 52, g_qm) == (k1 + k2 + k3)[:52]
    other = v1.keymat(SHA1, d, 3, b"\x00\x00\x12\x35", NI, NR, 52, g_qm)
    assert other != (k1 + k2 + k3)[:52]


def test_tracer_records_each_step() -> None:
    rec = Recorder()
    keys = v1.derive_phase1(SHA1, 1, NI, NR, GXY, CKY_I, CKY_R, pre_shared_key=b"p", tracer=rec)
    v1.encryption_key(SHA1, keys.skeyid_e, 32, tracer=rec)
    v1.keymat(SHA1, keys.skeyid_d, 3, b"spi!", NI, NR, 40, tracer=rec)
    names = [s.name for s in rec]
    assert names == ["SKEYID", "SKEYID_d", "SKEYID_a", "SKEYID_e", "phase 1 encryption key",
                     "KEYMAT"]
    assert rec.find("SKEYID_a").rfc == "RFC 2409 §5"
    assert rec.find("phase 1 encryption key").rfc == "RFC 2409 Appendix B"
    assert rec.find("SKEYID_d").output == keys.skeyid_d


def test_prf_hash_needs_hmac() -> None:
    class Fake:
        name = "fake"

    with pytest.raises(UsageError):
        v1.prf_hash(Fake())  # type: ignore[arg-type]


# -- hand-off -------------------------------------------------------------------

def test_quick_mode_sas_esp_null_sha1() -> None:
    chosen = Phase2Proposal(Protocol.IPSEC_ESP, (Phase2Transform(11, auth_algorithm=2),))
    d = b"skeyid_d"
    out, back = ikev1_quick_mode_sas(SHA1, d, chosen, b"\x00\x00\x00\x01", b"\x00\x00\x00\x02",
                                     NI, NR)
    assert out.direction == INITIATOR_TO_RESPONDER and out.spi == 2
    assert back.direction == RESPONDER_TO_INITIATOR and back.spi == 1
    assert out.encryption == "ENCR_NULL" and out.encryption_key == b""
    assert out.integrity == "HMAC-SHA1-96" and out.integrity_id == 2
    assert out.integrity_key == v1.keymat(SHA1, d, 3, b"\x00\x00\x00\x02", NI, NR, 20)
    assert back.integrity_key == v1.keymat(SHA1, d, 3, b"\x00\x00\x00\x01", NI, NR, 20)
    assert out.ip_protocol == 50
    assert (out.encryption_key_size, out.integrity_key_size) == (0, 20)
    assert out.integrity_key.hex() not in repr(out)


def test_quick_mode_sas_ah() -> None:
    chosen = Phase2Proposal(Protocol.IPSEC_AH, (Phase2Transform(5, auth_algorithm=5),))
    sa, _ = ikev1_quick_mode_sas(SHA1, b"d", chosen, b"\x00\x00\x00\x01", b"\x00\x00\x00\x02",
                                 NI, NR)
    assert sa.integrity == "HMAC-SHA-256-128" and len(sa.integrity_key) == 32
    assert sa.encryption is None and sa.ip_protocol == 51


def test_unknown_transform_ids_raise() -> None:
    chosen = Phase2Proposal(Protocol.IPSEC_ESP, (Phase2Transform(250, auth_algorithm=2),))
    with pytest.raises(UnsupportedAlgorithm):
        ikev1_quick_mode_sas(SHA1, b"d", chosen, b"1234", b"5678", NI, NR)


def test_split_keymat() -> None:
    assert split_keymat(b"abcdef", 2, 3) == (b"ab", b"cde")
    with pytest.raises(UsageError):
        split_keymat(b"ab", 2, 3)


@pytest.mark.skipif("aes128" not in ENCRYPTION, reason="AES-CBC is not registered yet")
def test_quick_mode_sas_aes_cbc_key_then_integrity() -> None:
    aes = ENCRYPTION.choose("aes128").algorithm
    integ = INTEGRITY.get("sha256")
    t = Phase2Transform(aes.ikev1_ids["esp"], auth_algorithm=integ.ikev1_ids["auth"],
                        key_length=128)
    chosen = Phase2Proposal(Protocol.IPSEC_ESP, (t,))
    sa, _ = ikev1_quick_mode_sas(SHA1, b"d", chosen, b"1111", b"2222", NI, NR)
    km = v1.keymat(SHA1, b"d", 3, b"2222", NI, NR, 16 + 32)
    assert sa.encryption_key == km[:16] and sa.integrity_key == km[16:]


def test_wrong_key_length_is_caught_by_cipher() -> None:
    chosen = Phase2Proposal(Protocol.IPSEC_ESP, (Phase2Transform(11, 2, key_length=128),))
    with pytest.raises(InvalidKeyLength):
        ikev1_quick_mode_sas(SHA1, b"d", chosen, b"1111", b"2222", NI, NR)
