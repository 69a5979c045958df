"""Diffie-Hellman groups: parameters, key agreement, cross-checks, validation, RNG, registry."""

import hashlib
import json
import warnings
from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import dh, ec, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from secmob import cli
from secmob.algorithms import DH_GROUPS, modp
from secmob.algorithms.dh import MIN_PRIVATE_BITS, DHGroup, random_below
from secmob.algorithms.ecp import ECPGroup, X25519Group
from secmob.algorithms.modp import TOY_GROUP_ID, MODPGroup
from secmob.errors import InvalidKeyLength, InvalidPublicValue, UnsupportedAlgorithm, UsageError
from secmob.trace import Recorder

ALL_IDS = [g.ikev2_id for g in DH_GROUPS]
MODP_IDS = [g.ikev2_id for g in DH_GROUPS if isinstance(g, MODPGroup)]
OPENSSL_MODP_IDS = [i for i in MODP_IDS if i != TOY_GROUP_ID]  # OpenSSL refuses p = 59
ECP_IDS = [19, 20, 21]
CURVES = {19: ec.SECP256R1(), 20: ec.SECP384R1(), 21: ec.SECP521R1()}


def shake_rng(seed: bytes) -> Callable[[int], bytes]:
    """A deterministic octet source for tests (independent of the library's)."""
    stream = hashlib.shake_256(seed).digest(4096)
    pos = [0]

    def rng(n: int) -> bytes:
        out = stream[pos[0]:pos[0] + n]
        pos[0] += n
        return out

    return rng


@pytest.fixture
def no_dh_deprecation() -> Iterator[None]:
    """cryptography deprecates finite-field DH; it is only our cross-check here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# -- group parameters -----------------------------------------------------------


def _arctan_inv(x: int, one: int) -> int:
    """arctan(1/x) * one, by the alternating Taylor series in integers."""
    total = term = one // x
    n, sign = 1, -1
    while term:
        term //= x * x
        n += 2
        total += sign * (term // n)
        sign = -sign
    return total


def _pi_floor(bits: int) -> int:
    """floor(2^bits * pi) by Machin's formula pi = 16 atan(1/5) - 4 atan(1/239)."""
    guard = 64
    one = 1 << (bits + guard)
    return (16 * _arctan_inv(5, one) - 4 * _arctan_inv(239, one)) >> guard


@pytest.mark.parametrize(("number", "bits", "k"), [
    (1, 768, 149686), (2, 1024, 129093),                                   # RFC 2409 §6.1, §6.2
    (5, 1536, 741804), (14, 2048, 124476), (15, 3072, 1690314),            # RFC 3526 §2-§4
    (16, 4096, 240904), (17, 6144, 929484), (18, 8192, 4743158),           # RFC 3526 §5-§7
])
def test_modp_primes_follow_the_rfc_formula(number: int, bits: int, k: int) -> None:
    group = DH_GROUPS.get(number)
    assert isinstance(group, MODPGroup)
    expected = 2**bits - 2**(bits - 64) - 1 + 2**64 * (_pi_floor(bits - 130) + k)
    assert group.p == expected and group.g == 2 and group.bits == bits
    assert group.public_size == group.shared_size == bits // 8


def test_pi_helper_is_right() -> None:
    assert _pi_floor(16) == 205887  # floor(65536 * 3.14159265...)


@pytest.mark.parametrize(("number", "pbits", "qbits"), [(22, 1024, 160), (23, 2048, 224),
                                                         (24, 2048, 256)])
def test_rfc5114_subgroup_parameters(number: int, pbits: int, qbits: int) -> None:
    g = DH_GROUPS.get(number)
    assert isinstance(g, MODPGroup)
    assert g.p.bit_length() == pbits and g.q.bit_length() == qbits
    assert (g.p - 1) % g.q == 0 and pow(g.g, g.q, g.p) == 1 and g.g not in (1, g.p - 1)


@pytest.mark.parametrize("number", ECP_IDS)
def test_ecp_curve_parameters(number: int) -> None:
    g = DH_GROUPS.get(number)
    assert isinstance(g, ECPGroup)
    # Points made by OpenSSL satisfy y^2 = x^3 - 3x + b with our p and b.
    for seed in (b"a", b"b"):
        pub = ec.derive_private_key(int.from_bytes(hashlib.sha256(seed).digest(), "big"),
                                    CURVES[number]).public_key().public_numbers()
        assert (pub.y**2 - pub.x**3 + 3 * pub.x - g.b) % g.p == 0
    # (n - 1) * G = -G: same x as G, so n is the order of G.
    s = g.field_size
    assert g.public(g.n - 1)[:s] == g.public(1)[:s] != g.public(2)[:s]
    with pytest.raises(UsageError):
        g.public(g.n)


# -- key agreement ----------------------------------------------------------------


@pytest.mark.parametrize("number", ALL_IDS)
@settings(max_examples=3)
@given(seed_a=st.binary(min_size=1, max_size=8), seed_b=st.binary(min_size=1, max_size=8))
def test_two_parties_agree(number: int, seed_a: bytes, seed_b: bytes) -> None:
    g = DH_GROUPS.get(number)
    a, pub_a = g.keypair(shake_rng(b"A" + seed_a))
    b, pub_b = g.keypair(shake_rng(b"B" + seed_b))
    assert len(pub_a) == len(pub_b) == g.public_size
    k = g.shared(a, pub_b)
    assert k == g.shared(b, pub_a) and len(k) == g.shared_size
    g.validate(pub_a)


def test_toy_lecture_example() -> None:
    toy = DH_GROUPS.get("toy")
    assert toy.public(7) == bytes([10]) and toy.public(22) == bytes([53])
    assert toy.shared(7, bytes([53])) == toy.shared(22, bytes([10])) == bytes([19])
    assert toy.public(b"\x07") == toy.public(7)


def test_modp_outputs_are_padded_to_the_prime_length() -> None:
    g = DH_GROUPS.get(2)
    assert isinstance(g, MODPGroup)
    # Find an exponent whose public value has a leading zero octet.
    x = next(x for x in range(1, 5000) if pow(2, x, g.p) < 1 << (g.bits - 8))
    pub = g.public(x)
    assert len(pub) == 128 and pub[0] == 0 and int.from_bytes(pub, "big") == pow(2, x, g.p)


# -- cross-checks with cryptography (OpenSSL) ---------------------------------------


@pytest.mark.usefixtures("no_dh_deprecation")
@pytest.mark.parametrize("number", OPENSSL_MODP_IDS)
def test_modp_matches_openssl_both_directions(number: int) -> None:
    g = DH_GROUPS.get(number)
    assert isinstance(g, MODPGroup)
    params = (dh.DHParameterNumbers(g.p, g.g, g.q) if g.q else
              dh.DHParameterNumbers(g.p, g.g)).parameters()
    theirs = params.generate_private_key()
    their_x = theirs.private_numbers().x
    their_pub = theirs.public_key().public_numbers().y.to_bytes(g.public_size, "big")
    # Their public value is what we compute from their x.
    assert g.public(their_x) == their_pub
    mine = g.generate(shake_rng(b"mine %d" % number))
    my_pub = g.public(mine)
    peer = dh.DHPublicNumbers(int.from_bytes(my_pub, "big"), params.parameter_numbers())
    assert theirs.exchange(peer.public_key()) == g.shared(mine, their_pub)


@pytest.mark.parametrize("number", ECP_IDS)
def test_ecp_matches_openssl_both_directions(number: int) -> None:
    g = DH_GROUPS.get(number)
    assert isinstance(g, ECPGroup)
    theirs = ec.generate_private_key(CURVES[number])
    their_pub = theirs.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    assert their_pub[0] == 4
    assert g.public(theirs.private_numbers().private_value) == their_pub[1:]
    mine = g.generate(shake_rng(b"ecp %d" % number))
    my_point = ec.EllipticCurvePublicKey.from_encoded_point(CURVES[number],
                                                            b"\x04" + g.public(mine))
    assert theirs.exchange(ec.ECDH(), my_point) == g.shared(mine, their_pub[1:])


def test_x25519_matches_openssl_both_directions() -> None:
    g = DH_GROUPS.get(31)
    theirs = x25519.X25519PrivateKey.generate()
    their_pub = theirs.public_key().public_bytes_raw()
    assert g.public(theirs.private_bytes_raw()) == their_pub
    mine = g.generate(shake_rng(b"x25519"))
    mine_pub = x25519.X25519PublicKey.from_public_bytes(g.public(mine))
    assert theirs.exchange(mine_pub) == g.shared(mine, their_pub)


def test_pow_fallback_gives_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    g = DH_GROUPS.get(14)
    x, y = g.generate(shake_rng(b"x")), g.generate(shake_rng(b"y"))
    fast = (g.public(x), g.shared(x, g.public(y)))
    monkeypatch.setattr(modp, "_powmod", modp._pow_builtin)
    assert (g.public(x), g.shared(x, g.public(y))) == fast
    assert modp.BACKEND in ("gmpy2", "pow")


# -- peer validation ------------------------------------------------------------------


def _modp_bad_values(g: MODPGroup) -> list[tuple[str, bytes]]:
    size = g.public_size
    return [("0", bytes(size)), ("1", (1).to_bytes(size, "big")),
            ("p - 1", (g.p - 1).to_bytes(size, "big")), ("below p", g.p.to_bytes(size, "big")),
            ("below p", b"\xff" * size), ("octets", bytes(size + 1)),
            ("octets", b"\x02" * (size - 1))]


@pytest.mark.parametrize("number", MODP_IDS)
def test_modp_invalid_public_values(number: int) -> None:
    g = DH_GROUPS.get(number)
    assert isinstance(g, MODPGroup)
    for words, value in _modp_bad_values(g):
        for call in (g.validate, lambda v: g.shared(1, v)):
            with pytest.raises(InvalidPublicValue, match=words.replace("-", r"\-")):
                call(value)


@pytest.mark.parametrize("number", [22, 23, 24])
def test_subgroup_check(number: int) -> None:
    g = DH_GROUPS.get(number)
    assert isinstance(g, MODPGroup)
    y = next(y for y in range(2, 50) if pow(y, g.q, g.p) != 1)
    with pytest.raises(InvalidPublicValue, match="subgroup"):
        g.validate(y.to_bytes(g.public_size, "big"))
    g.validate(pow(y, (g.p - 1) // g.q, g.p).to_bytes(g.public_size, "big"))  # in the subgroup


@pytest.mark.parametrize("number", ECP_IDS)
def test_ecp_invalid_public_values(number: int) -> None:
    g = DH_GROUPS.get(number)
    assert isinstance(g, ECPGroup)
    good = g.public(7)
    s = g.field_size
    flipped = bytearray(good)
    flipped[-1] ^= 1
    bad = {"octets": [b"\x04" + good, good[:-1], b""], "infinity": [bytes(2 * s)],
           "curve": [bytes(flipped), bytes(s) + good[s:]],
           "field prime": [g.p.to_bytes(s, "big") + good[s:], good[:s] + b"\xff" * s]}
    for words, values in bad.items():
        for value in values:
            with pytest.raises(InvalidPublicValue, match=words):
                g.shared(3, value)


def test_x25519_invalid_public_values() -> None:
    g = DH_GROUPS.get(31)
    k = bytes(range(32))
    for value in (bytes(31), bytes(33), b""):
        with pytest.raises(InvalidPublicValue, match="32 octets"):
            g.shared(k, value)
    for u in (0, 1, 2**255 - 20, 2**255 - 19):
        with pytest.raises(InvalidPublicValue, match="all zero"):
            g.shared(k, u.to_bytes(32, "little"))
    g.validate(bytes(32))  # RFC 8031 §2.3: length only; the zero check is on the result


# -- private values and RNG injection ---------------------------------------------------------


@pytest.mark.parametrize("number", ALL_IDS)
def test_fixed_rng_gives_fixed_values(number: int) -> None:
    g = DH_GROUPS.get(number)
    one = g.keypair(shake_rng(b"seed"))
    assert one == g.keypair(shake_rng(b"seed"))
    if number != TOY_GROUP_ID:  # 57 possible values: collisions are likely there
        assert one != g.keypair(shake_rng(b"other"))


EXPECTED_BITS = {1: 256, 2: 256, 5: 256, 14: 320, 15: 420, 16: 480, 17: 540, 18: 620}


@pytest.mark.parametrize(("number", "bits"), EXPECTED_BITS.items())
def test_private_value_length_rule(number: int, bits: int) -> None:
    g = DH_GROUPS.get(number)
    assert isinstance(g, MODPGroup)
    assert g.private_bits == bits == max(2 * g.strength, MIN_PRIVATE_BITS)
    assert bits >= MIN_PRIVATE_BITS
    x = g.generate(lambda n: b"\xff" * n)  # the largest value the rule allows
    assert len(x) == (bits + 7) // 8 and int.from_bytes(x, "big") == 2**bits - 1
    x = int.from_bytes(g.generate(shake_rng(b"len")), "big")
    assert x.bit_length() <= bits


@pytest.mark.parametrize("number", [22, 23, 24])
def test_subgroup_private_values_are_below_q(number: int) -> None:
    g = DH_GROUPS.get(number)
    assert isinstance(g, MODPGroup)
    for seed in (b"1", b"2", b"3"):
        x = int.from_bytes(g.generate(shake_rng(seed)), "big")
        assert 1 <= x < g.q and len(g.generate(shake_rng(seed))) == (g.q.bit_length() + 7) // 8
    with pytest.raises(UsageError):
        g.public(g.q)


def test_rejection_sampling_never_reduces() -> None:
    draws = iter([b"\x00", b"\xff", b"\xf0", b"\x14"])  # top 6 bits: 0, 63, 60, 5
    assert random_below(lambda n: next(draws), 59) == 5  # 0, 63 and 60 are redrawn
    with pytest.raises(UsageError, match="constant"):
        random_below(bytes, 59)
    with pytest.raises(UsageError):
        random_below(lambda n: b"", 59)


def test_all_ff_rng_is_refused_for_subgroup_groups() -> None:
    # q is not a power of two, so an all-ones draw is out of range every time.
    with pytest.raises(UsageError):
        DH_GROUPS.get(22).generate(lambda n: b"\xff" * n)


@pytest.mark.parametrize("number", ALL_IDS)
def test_private_values_out_of_range(number: int) -> None:
    g = DH_GROUPS.get(number)
    if isinstance(g, X25519Group):
        with pytest.raises(InvalidKeyLength):
            g.public(bytes(31))
        with pytest.raises(UsageError):
            g.public(-1)
        return
    with pytest.raises(UsageError, match="private value"):
        g.public(0)
    with pytest.raises(InvalidKeyLength):
        g.public(b"")
    with pytest.raises(UsageError):
        g.public(True)


# -- registry -------------------------------------------------------------------------------------


def test_registry_names_and_numbers() -> None:
    names = {"modp768": 1, "modp1024": 2, "modp1536": 5, "modp2048": 14, "modp3072": 15,
             "modp4096": 16, "modp6144": 17, "modp8192": 18, "modp1024s160": 22,
             "modp2048s224": 23, "modp2048s256": 24, "ecp256": 19, "ecp384": 20, "ecp521": 21,
             "curve25519": 31, "x25519": 31, "MODP-768": 1, "MODP-2048": 14,
             "768-bit MODP Group": 1, "256-bit random ECP group": 19, "toy": TOY_GROUP_ID}
    for name, number in names.items():
        assert DH_GROUPS.get(name).ikev2_id == number, name
    assert sorted(ALL_IDS) == [1, 2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 31,
                               TOY_GROUP_ID]
    for number in (1, 2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24):
        assert DH_GROUPS.by_ikev1("oakley_group", number).ikev2_id == number
    with pytest.raises(UnsupportedAlgorithm):
        DH_GROUPS.by_ikev1("oakley_group", 31)
    with pytest.raises(UnsupportedAlgorithm):
        DH_GROUPS.get(3)
    assert 1024 <= TOY_GROUP_ID <= 65535  # IANA private use


def test_legacy_flags() -> None:
    legacy = {g.ikev2_id for g in DH_GROUPS if g.legacy}
    assert legacy == {1, 2, 5, 22, TOY_GROUP_ID}


def test_repr_names_the_group_only() -> None:
    g: DHGroup = DH_GROUPS.get(14)
    assert repr(g) == "<MODPGroup MODP_2048 (IKEv2 id 14)>"


# -- tracing and teaching -------------------------------------------------------------------------


def test_trace_steps_for_the_toy_group() -> None:
    rec = Recorder()
    toy = DH_GROUPS.get("toy")
    toy.shared(7, toy.public(22), tracer=rec)
    toy.public(7, tracer=rec)
    assert [s.name for s in rec] == ["shared secret (g^y)^x mod p", "private value x",
                                     "public value g^x mod p"]
    assert rec.find("shared secret (g^y)^x mod p").output == 19
    assert rec.find("public value g^x mod p").output == 10
    assert all(s.rfc.startswith("RFC") for s in rec)


def test_trace_steps_for_large_groups_are_octets() -> None:
    rec = Recorder()
    g = DH_GROUPS.get(14)
    pub = g.public(12345, tracer=rec)
    assert rec.find("public value g^x mod p").output == pub


def test_explain_dh_toy_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["explain", "dh", "--group", "toy", "--format", "json"]) == 0
    steps = {s["name"]: s for s in json.loads(capsys.readouterr().out)}
    assert steps["initiator: public value g^x mod p"]["output"] == 10
    assert steps["responder: public value g^y mod p"]["output"] == 53
    assert steps["responder: public value g^y mod p"]["inputs"]["y"] == 22
    assert steps["initiator: shared secret (g^y)^x mod p"]["output"] == 19
    assert steps["responder: shared secret (g^x)^y mod p"]["output"] == 19
    assert steps["both parties hold K"]["output"] == "equal"


@pytest.mark.parametrize("group", ["19", "x25519", "modp2048s256"])
def test_explain_dh_other_groups_is_reproducible(group: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["explain", "dh", "--group", group, "--format", "json"]) == 0
    first = capsys.readouterr().out
    assert cli.main(["explain", "dh", "--group", group, "--format", "json"]) == 0
    assert capsys.readouterr().out == first
    assert json.loads(first)[-1]["output"] == "equal"


def test_toy_never_generates_a_value_the_peer_refuses() -> None:
    toy = DH_GROUPS.get("toy")
    draws = iter([bytes([29 << 2]), bytes([5 << 2])])  # 29 is redrawn: 2^29 mod 59 = p - 1
    assert toy.generate(lambda n: next(draws)) == bytes([5])
    for seed in range(200):
        toy.validate(toy.keypair(shake_rng(bytes([seed])))[1])


@given(x=st.integers(1, 57), y=st.integers(1, 57))
def test_toy_agreement_for_every_exponent_pair(x: int, y: int) -> None:
    toy = DH_GROUPS.get("toy")
    m, n = toy.public(x), toy.public(y)
    assert m[0] == pow(2, x, 59) and n[0] == pow(2, y, 59)
    if 29 not in (x, y):  # 2^29 = p - 1 is refused; the generator never draws it
        assert toy.shared(x, n) == toy.shared(y, m) == bytes([pow(2, x * y, 59)])


@pytest.mark.parametrize("number", ALL_IDS)
def test_bound_key_matches_the_group_methods(number: int) -> None:
    g = DH_GROUPS.get(number)
    a, b = g.generate(shake_rng(b"a")), g.generate(shake_rng(b"b"))
    key = g.new(a)
    assert key.group is g and key.public() == g.public(a)
    assert key.shared(g.public(b)) == g.shared(a, g.public(b))
    assert a.hex() not in repr(key) and "hidden" in repr(key)
    with pytest.raises(InvalidPublicValue):
        key.shared(b"")
