"""Elliptic-curve groups for IKE: NIST ECP groups (RFC 5903) and Curve25519 (RFC 8031).

The scalar multiplications are done by ``cryptography`` (OpenSSL); this
module adds the IKE encodings and the peer-value checks.

**ECP groups 19, 20, 21** (RFC 5903): the curves P-256, P-384 and P-521,
``y^2 = x^3 - 3x + b`` over GF(p). The public value is ``x || y``, each
coordinate left-padded to the field length (32, 48 or 66 octets; RFC 5903 §7,
no point-format octet); the shared secret is the x coordinate of the shared
point alone, same length (RFC 5903 §7). Private values ``d`` are uniform in
``[1, n - 1]`` (``n`` the order of the base point), as octet strings of the
field length. Peer checks (RFC 6989 §2.3, RFC 5903 §7): exact length, not the
all-zero encoding some stacks use for the point at infinity, both coordinates
below ``p``, and the point on the curve.

**Curve25519, group 31** (RFC 8031): X25519 of RFC 7748 §5. The private value
is 32 random octets (RFC 7748 §6.1; the clamping of RFC 7748 §5 happens inside
X25519), the public value and the shared secret are 32-octet u-coordinates
(RFC 8031 §2). Peer values are checked for length only; an all-zero shared
secret -- the result for small-order peer points -- is refused (RFC 8031 §2.3).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, x25519

from secmob.algorithms.dh import DH_GROUPS, RNG, DHGroup, DHKey, PrivateValue, random_below
from secmob.errors import InvalidKeyLength, InvalidPublicValue, UsageError
from secmob.trace import Tracer, emit

__all__ = ["ECPGroup", "ECPKey", "X25519Group", "X25519Key"]


@dataclass(frozen=True, eq=False, repr=False)
class ECPGroup(DHGroup):
    """A prime-field curve ``y^2 = x^3 - 3x + b mod p`` with base point order ``n``."""

    curve: ec.EllipticCurve | None = None
    p: int = 0
    b: int = 0
    n: int = 0

    @property
    def field_size(self) -> int:
        """Octets of one coordinate."""
        return (self.p.bit_length() + 7) // 8

    def _curve(self) -> ec.EllipticCurve:
        if self.curve is None:  # pragma: no cover - every registered group has one
            raise UsageError(f"{self.name} has no curve")
        return self.curve

    def generate(self, rng: RNG) -> bytes:
        """``d`` uniform in ``[1, n - 1]``, as a field-length big-endian octet string."""
        return random_below(rng, self.n).to_bytes(self.field_size, "big")

    def new(self, private: PrivateValue) -> ECPKey:
        """``d`` bound to this group, loaded into OpenSSL once."""
        d = self._scalar(private, self.field_size)
        if not 1 <= d < self.n:
            raise UsageError(f"{self.name}: private value must be in [1, n - 1], "
                             f"got a {d.bit_length()}-bit value")
        return ECPKey(self, d, ec.derive_private_key(d, self._curve()))

    def validate(self, peer_public: bytes) -> None:
        """Length, infinity, range and on-curve checks (RFC 6989 §2.3)."""
        self._peer_point(peer_public)

    def _peer_point(self, peer_public: bytes) -> tuple[int, int]:
        what = f"{self.name} peer public value"
        size = self.field_size
        if len(peer_public) != 2 * size:
            raise InvalidPublicValue(
                f"{what} must be {2 * size} octets (x || y, {size} octets each, RFC 5903 §7), "
                f"got {len(peer_public)}")
        if not any(peer_public):
            raise InvalidPublicValue(
                f"{what} is all zero, the encoding of the point at infinity (RFC 6989 §2.3)")
        x = int.from_bytes(peer_public[:size], "big")
        y = int.from_bytes(peer_public[size:], "big")
        if x >= self.p or y >= self.p:
            raise InvalidPublicValue(f"{what} has a coordinate not below the field prime p")
        if (y * y - (x * x * x - 3 * x + self.b)) % self.p:
            raise InvalidPublicValue(
                f"{what} is not a point on the curve y^2 = x^3 - 3x + b (RFC 6989 §2.3)")
        return x, y


class ECPKey(DHKey):
    """An ECP private value ``d`` bound to its group."""

    def __init__(self, group: ECPGroup, d: int, key: ec.EllipticCurvePrivateKey) -> None:
        self.group: ECPGroup = group
        self._d, self._key = d, key

    def public(self, tracer: Tracer | None = None) -> bytes:
        """``x || y`` of ``d * G`` (RFC 5903 §7)."""
        size = self.group.field_size
        nums = self._key.public_key().public_numbers()
        out = nums.x.to_bytes(size, "big") + nums.y.to_bytes(size, "big")
        if tracer is not None:
            d_octets = self._d.to_bytes(size, "big")
            emit(tracer, "private value d", "1 <= d <= n - 1", "RFC 5903 §7",
                 {"bits": self._d.bit_length()}, d_octets)
            emit(tracer, "public value d*G", "(x, y) = d * G; sent as x || y", "RFC 5903 §7",
                 {"d": d_octets}, out)
        return out

    def shared(self, peer_public: bytes, tracer: Tracer | None = None) -> bytes:
        """The x coordinate of ``d * Q_peer`` (RFC 5903 §7)."""
        g = self.group
        x, y = g._peer_point(peer_public)
        try:
            peer = ec.EllipticCurvePublicNumbers(x, y, g._curve()).public_key()
        except ValueError as exc:  # pragma: no cover - our checks catch it first
            raise InvalidPublicValue(f"{g.name} peer public value rejected: {exc}") from None
        out = self._key.exchange(ec.ECDH(), peer)
        if tracer is not None:
            emit(tracer, "shared secret x(d*Q)", "x coordinate of d * Q_peer", "RFC 5903 §7",
                 {"Q_peer": peer_public, "d": self._d.to_bytes(g.field_size, "big")}, out)
        return out


@dataclass(frozen=True, eq=False, repr=False)
class X25519Group(DHGroup):
    """Curve25519 for IKEv2 (RFC 8031): X25519 of RFC 7748 §5."""

    def generate(self, rng: RNG) -> bytes:
        """32 octets from ``rng`` (RFC 7748 §6.1, RFC 8031 §2)."""
        k = rng(32)
        if len(k) != 32:
            raise UsageError(f"rng(32) returned {len(k)} octets")
        return k

    def new(self, private: PrivateValue) -> X25519Key:
        """The 32-octet scalar ``k`` bound to this group (an ``int`` is encoded little-endian,
        RFC 7748 §5)."""
        if isinstance(private, bool):
            raise UsageError(f"{self.name}: a private value is an int or bytes, not a bool")
        if isinstance(private, int):
            if not 0 <= private < 1 << 256:
                raise UsageError(f"{self.name}: an integer private value must fit 32 octets")
            private = private.to_bytes(32, "little")  # RFC 7748 §5 decodeScalar25519
        if len(private) != 32:
            raise InvalidKeyLength(f"{self.name}: private value must be 32 octets, "
                                   f"got {len(private)}")
        return X25519Key(self, private, x25519.X25519PrivateKey.from_private_bytes(private))

    def validate(self, peer_public: bytes) -> None:
        """Only the length is checked (RFC 8031 §2.3); see :meth:`shared` for the zero check."""
        if len(peer_public) != 32:
            raise InvalidPublicValue(
                f"{self.name} peer public value must be 32 octets (RFC 8031 §2), "
                f"got {len(peer_public)}")


class X25519Key(DHKey):
    """A Curve25519 private scalar ``k`` bound to its group."""

    def __init__(self, group: X25519Group, k: bytes, key: x25519.X25519PrivateKey) -> None:
        self.group: X25519Group = group
        self._k, self._key = k, key

    def public(self, tracer: Tracer | None = None) -> bytes:
        """``X25519(k, 9)`` (RFC 7748 §6.1, RFC 8031 §2)."""
        out = self._key.public_key().public_bytes_raw()
        if tracer is not None:
            emit(tracer, "private value k", "32 random octets (clamped inside X25519)",
                 "RFC 7748 §6.1; RFC 8031 §2", {}, self._k)
            emit(tracer, "public value X25519(k, 9)", "u-coordinate of k * (u = 9)",
                 "RFC 7748 §6.1; RFC 8031 §2", {"k": self._k}, out)
        return out

    def shared(self, peer_public: bytes, tracer: Tracer | None = None) -> bytes:
        """``X25519(k, u_peer)``; an all-zero result is refused (RFC 8031 §2.3)."""
        name = self.group.name
        self.group.validate(peer_public)
        zero = InvalidPublicValue(
            f"{name} peer public value is a small-order point: the shared secret is "
            "all zero, which RFC 8031 §2.3 requires to be refused")
        try:
            out = self._key.exchange(x25519.X25519PublicKey.from_public_bytes(peer_public))
        except ValueError:
            raise zero from None
        if not any(out):  # pragma: no cover - OpenSSL already refuses it
            raise zero
        if tracer is not None:
            emit(tracer, "shared secret X25519(k, u_peer)", "u-coordinate of k * u_peer",
                 "RFC 7748 §6.1; RFC 8031 §2", {"u_peer": peer_public, "k": self._k}, out)
        return out


# RFC 5903 §3.1-3.3 (the same curves as FIPS 186 P-256, P-384, P-521): p, b, n.
def _h(text: str) -> int:
    return int("".join(text.split()), 16)


_P256 = 2**256 - 2**224 + 2**192 + 2**96 - 1
_P384 = 2**384 - 2**128 - 2**96 + 2**32 - 1
_P521 = 2**521 - 1
for _number, _bits, _curve, _p, _b, _n, _strength in (
    (19, 256, ec.SECP256R1(), _P256,
     _h("5AC635D8 AA3A93E7 B3EBBD55 769886BC 651D06B0 CC53B0F6 3BCE3C3E 27D2604B"),
     _h("FFFFFFFF 00000000 FFFFFFFF FFFFFFFF BCE6FAAD A7179E84 F3B9CAC2 FC632551"), 128),
    (20, 384, ec.SECP384R1(), _P384,
     _h("B3312FA7 E23EE7E4 988E056B E3F82D19 181D9C6E FE814112 0314088F 5013875A "
        "C656398D 8A2ED19D 2A85C8ED D3EC2AEF"),
     _h("FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF C7634D81 F4372DDF "
        "581A0DB2 48B0A77A ECEC196A CCC52973"), 192),
    (21, 521, ec.SECP521R1(), _P521,
     _h("0051 953EB961 8E1C9A1F 929A21A0 B68540EE A2DA725B 99B315F3 B8B48991 8EF109E1 "
        "56193951 EC7E937B 1652C0BD 3BB1BF07 3573DF88 3D2C34F1 EF451FD4 6B503F00"),
     _h("01FF FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFA "
        "51868783 BF2F966B 7FCC0148 F709A5D0 3BB5C9B8 899C47AE BB6FB71E 91386409"), 256),
):
    _size = (_bits + 7) // 8
    DH_GROUPS.register(
        ECPGroup(f"ECP_{_bits}", _number, f"RFC 5903 §3.{_number - 18}",
                 {"oakley_group": _number}, kind="ECP", public_size=2 * _size,
                 shared_size=_size, strength=_strength, curve=_curve, p=_p, b=_b, n=_n),
        f"ecp{_bits}", f"ECP-{_bits}", f"{_bits}-bit random ECP group",
    )

DH_GROUPS.register(
    X25519Group("Curve25519", 31, "RFC 8031", kind="Curve25519", public_size=32,
                shared_size=32, strength=128),
    "curve25519", "x25519",
)
