"""The function F of RFC 7217 §5 and RFC 8981 §3.3.2, and the IID it yields.

Both RFCs compute ``RID = F(inputs..., secret_key)`` with F a pseudorandom
function "such as SHA-256" applied to the concatenation of its parameters,
and take the interface identifier from the *least significant* 64 bits of
RID. Callers may name a :mod:`hashlib` algorithm or pass any callable from
bytes to bytes of at least 64 bits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TypeAlias

from secmob.addr.iid import IID_OCTETS, is_reserved_iid
from secmob.errors import UnsupportedAlgorithm, UsageError
from secmob.trace import Tracer, emit

__all__ = ["MAX_ATTEMPTS", "PRF", "HashedIID", "acceptable", "counter_octet", "resolve_prf",
           "rid_iid"]

MAX_ATTEMPTS = 16
"""How often an unacceptable IID is drawn again before giving up. With a real
RNG or hash the chance of even one reserved IID is below 2^-38."""


def acceptable(iid: bytes, in_use: Collection[bytes]) -> bool:
    """Neither reserved (RFC 5453) nor already in use on the interface and prefix."""
    return not is_reserved_iid(iid) and iid not in in_use


PRF: TypeAlias = "str | Callable[[bytes], bytes]"


_NAMED: dict[str, tuple[str, Callable[[bytes], bytes]]] = {}


def resolve_prf(prf: PRF) -> tuple[str, Callable[[bytes], bytes]]:
    """``(name, function)`` for a hashlib name (``"sha256"``) or a callable."""
    if isinstance(prf, str) and prf in _NAMED:
        return _NAMED[prf]
    if callable(prf):
        name = getattr(prf, "__name__", "F")

        def call(data: bytes) -> bytes:
            out = prf(data)
            if not isinstance(out, bytes) or len(out) < IID_OCTETS:
                raise UsageError(f"F() must return at least {IID_OCTETS} octets (RFC 7217 §5)")
            return out

        return name, call
    if not isinstance(prf, str):
        raise UsageError(f"F must be a hashlib name or a callable, got {type(prf).__name__}")
    name = prf.lower().replace("-", "")
    if name == "md5":
        raise UsageError("MD5 is unacceptable for F() (RFC 7217 §5, RFC 8981 §3.3.2, RFC 6151)")
    if name not in hashlib.algorithms_guaranteed or name.startswith("shake"):
        raise UnsupportedAlgorithm(
            f"no hash {prf!r} for F(); use one of sha1, sha256, sha384, sha512, "
            "sha3_256 or a callable"
        )

    ctor = getattr(hashlib, name, None)

    def digest(data: bytes) -> bytes:
        if ctor is not None:
            return bytes(ctor(data).digest())
        return hashlib.new(name, data).digest()

    label = name.upper()
    if name.startswith("sha") and "_" not in name:
        label = "SHA-" + name[3:]
    _NAMED[prf] = (label, digest)
    return label, digest


def counter_octet(dad_counter: int) -> bytes:
    """DAD_Counter as the single octet secmob feeds to F (RFC 7217 §5 leaves the
    encoding to the implementation; 0..255 covers IDGEN_RETRIES many times)."""
    if isinstance(dad_counter, bool) or not isinstance(dad_counter, int) \
            or not 0 <= dad_counter <= 255:
        raise UsageError(f"DAD_Counter must be an integer 0..255, got {dad_counter!r}")
    return bytes([dad_counter])


@dataclass(frozen=True)
class HashedIID:
    """An IID taken from RID: the IID, the DAD_Counter that produced it and RID."""

    iid: bytes
    dad_counter: int
    rid: bytes

    def __repr__(self) -> str:  # RID is a function of the secret key: keep it out
        return f"{type(self).__name__}(iid={self.iid.hex()}, dad_counter={self.dad_counter})"


def rid_iid(
    rfc: str,
    formula: str,
    parts: list[tuple[str, bytes]],
    secret_key: bytes,
    dad_counter: int,
    prf: PRF,
    in_use: Collection[bytes],
    tracer: Tracer | None,
) -> HashedIID:
    """RID = F(parts | DAD_Counter | secret_key); IID = low 64 bits; retry on reserved."""
    for name, value in [*parts, ("secret_key", secret_key)]:
        if not isinstance(value, bytes):
            raise UsageError(f"{name} must be bytes, got {type(value).__name__}")
    fname, f = resolve_prf(prf)
    head = b"".join(v for _, v in parts)
    counter = dad_counter
    for _ in range(MAX_ATTEMPTS):
        rid = f(head + counter_octet(counter) + secret_key)
        iid = rid[-8:]
        if tracer is not None:
            emit(tracer, f"RID ({fname})", formula.replace("F(", f"{fname}(", 1), rfc,
                 {**dict(parts), "DAD_Counter": counter, "secret_key": secret_key}, rid)
            emit(tracer, "IID", "IID = least significant 64 bits of RID", rfc, {"RID": rid}, iid)
        if acceptable(iid, in_use):
            return HashedIID(iid, counter, rid)
        counter += 1
    raise UsageError(f"no acceptable IID after {MAX_ATTEMPTS} DAD_Counter values ({rfc})")
