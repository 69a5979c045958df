"""The stored ``dh`` vector files, plus independent checks of every case we derived ourselves."""

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import dh, ec, x25519

from secmob import vectors
from secmob.algorithms import DH_GROUPS
from secmob.algorithms.ecp import ECPGroup, X25519Group
from secmob.algorithms.modp import MODPGroup

DH_DIR = vectors.stored_root() / "dh"
FILES = sorted(DH_DIR.glob("*.json"))
CURVES = {19: ec.SECP256R1(), 20: ec.SECP384R1(), 21: ec.SECP521R1()}


def cases(name: str) -> list[dict[str, Any]]:
    doc = json.loads((DH_DIR / name).read_text())
    assert doc["family"] == "dh"
    result: list[dict[str, Any]] = doc["cases"]
    return result


def test_the_expected_files_are_stored() -> None:
    assert {f.name for f in FILES} >= {
        "lecture-toy.json", "strongswan-modp.json", "rfc5114.json", "rfc5903.json",
        "rfc7748.json", "rfc8031.json", "invalid-public-values.json",
        "wycheproof-ecdh-secp256r1-ecpoint.json", "wycheproof-ecdh-secp384r1-ecpoint.json",
        "wycheproof-ecdh-secp521r1-ecpoint.json", "wycheproof-x25519.json"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: Path(p).stem)
def test_vector_file(path: Path) -> None:
    results = list(vectors.run_files([path]))
    assert results, f"{path} has no cases"
    assert all(r.ok for r in results), [(r.id, r.detail) for r in results if not r.ok]


def test_every_group_has_a_positive_vector() -> None:
    covered = {DH_GROUPS.get(c["group"]).ikev2_id for f in FILES
               for c in json.loads(f.read_text())["cases"] if "expected" in c}
    assert covered == {g.ikev2_id for g in DH_GROUPS}


def test_lecture_example_by_plain_arithmetic() -> None:
    (case,) = cases("lecture-toy.json")
    x, y, p, g = case["private"], case["peer_private"], 59, 2
    m, n = pow(g, x, p), pow(g, y, p)
    assert (m, n, pow(n, x, p), pow(m, y, p)) == (10, 53, 19, 19)
    exp = case["expected"]
    assert [int(exp[k], 16) for k in ("public", "peer_public", "shared", "peer_shared")] == \
        [m, n, pow(n, x, p), pow(m, y, p)]


def test_strongswan_modp_exchanges_agree_with_openssl() -> None:
    """A third implementation: OpenSSL's DH (deprecated in cryptography; only a cross-check)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in cases("strongswan-modp.json"):
            g = DH_GROUPS.get(case["group"])
            assert isinstance(g, MODPGroup)
            pn = dh.DHParameterNumbers(g.p, g.g)
            exp = case["expected"]
            mine = dh.DHPrivateNumbers(
                int(case["private"], 16), dh.DHPublicNumbers(int(exp["public"], 16), pn),
            ).private_key()
            peer = dh.DHPublicNumbers(int(exp["peer_public"], 16), pn).public_key()
            assert mine.exchange(peer).hex() == exp["shared"], case["id"]


def _refused_independently(case: dict[str, Any]) -> bool:
    """Would the peer value be refused by checks written without secmob's code path?"""
    g = DH_GROUPS.get(case["group"])
    value = bytes.fromhex(case["peer_public"])
    if isinstance(g, MODPGroup):
        y = int.from_bytes(value, "big")
        return (len(value) != (g.p.bit_length() + 7) // 8 or y in (0, 1, g.p - 1) or y >= g.p
                or (g.q != 0 and pow(y, g.q, g.p) != 1))
    if isinstance(g, ECPGroup):
        if len(value) != 2 * g.field_size or not any(value):
            return True
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(CURVES[g.ikev2_id], b"\x04" + value)
        except ValueError:
            return True
        return False
    assert isinstance(g, X25519Group)
    if len(value) != 32:
        return True
    key = x25519.X25519PrivateKey.from_private_bytes(bytes.fromhex(case["private"]))
    try:
        return not any(key.exchange(x25519.X25519PublicKey.from_public_bytes(value)))
    except ValueError:
        return True


def test_invalid_values_are_invalid_by_independent_checks() -> None:
    negative = cases("invalid-public-values.json")
    assert len(negative) >= 60
    for case in negative:
        assert case["error"] == "InvalidPublicValue" and case["source"].startswith("derived: ")
        assert _refused_independently(case), case["id"]
