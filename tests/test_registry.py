import pytest

from secmob.algorithms import INTEGRITY, PRFS
from secmob.algorithms.registry import Registry
from secmob.errors import IntegrityError, InvalidKeyLength, UnsupportedAlgorithm, UsageError


def test_lookup_by_ikev2_id_name_alias_and_ikev1_number() -> None:
    sha1 = INTEGRITY.get(2)
    assert sha1.name == "HMAC-SHA1-96"
    assert INTEGRITY.get("sha1") is sha1
    assert INTEGRITY.get("HMAC_SHA1_96") is sha1
    assert INTEGRITY.by_ikev1("ah", 3) is sha1
    assert INTEGRITY.by_ikev1("auth", 2) is sha1
    assert PRFS.by_ikev1("oakley_hash", 2) is PRFS.get("prfsha1")


def test_unknown_ids_and_names_raise_typed_errors() -> None:
    with pytest.raises(UnsupportedAlgorithm, match="IKEv2 id 999"):
        INTEGRITY.get(999)
    with pytest.raises(UnsupportedAlgorithm, match="no integrity algorithm named 'rot13'"):
        INTEGRITY.get("rot13")
    with pytest.raises(UnsupportedAlgorithm):
        INTEGRITY.by_ikev1("ah", 250)
    # Caller misuse is also a ValueError (and a KeyError for look-ups).
    with pytest.raises(ValueError):
        PRFS.get("nope")


def test_legacy_is_marked() -> None:
    assert INTEGRITY.get("md5").legacy
    assert not INTEGRITY.get("sha256").legacy
    assert PRFS.get(1).legacy


def test_truncation_is_explicit() -> None:
    assert [(a.name, a.icv_size) for a in INTEGRITY if a.name.startswith("HMAC-SHA-")] == [
        ("HMAC-SHA-256-128", 16), ("HMAC-SHA-384-192", 24), ("HMAC-SHA-512-256", 32)]


def test_wrong_key_length_names_algorithm_and_sizes() -> None:
    with pytest.raises(InvalidKeyLength, match="HMAC-SHA1-96 key must be 20 octets, got 3"):
        INTEGRITY.get("sha1").new(b"abc")
    assert issubclass(InvalidKeyLength, UsageError)


def test_verify_raises_and_repr_hides_key() -> None:
    ctx = INTEGRITY.get("sha256").new(b"k" * 32)
    icv = ctx.compute(b"data")
    ctx.verify(b"data", icv)
    with pytest.raises(IntegrityError):
        ctx.verify(b"data", bytes([icv[0] ^ 1]) + icv[1:])
    with pytest.raises(IntegrityError):
        ctx.verify(b"data", icv[:-1])
    assert "6b6b" not in repr(ctx) and "kkkk" not in repr(ctx)


def test_duplicate_registration_is_refused() -> None:
    reg: Registry = Registry("test")  # type: ignore[type-arg]
    alg = INTEGRITY.get(2)
    reg.register(alg)
    with pytest.raises(ValueError):
        reg.register(alg)


def test_booleans_are_not_transform_ids() -> None:
    with pytest.raises(UnsupportedAlgorithm):
        INTEGRITY.get(True)
