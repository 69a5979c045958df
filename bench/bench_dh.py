"""Diffie-Hellman: secmob against cryptography (OpenSSL), side by side.

One operation = a key pair (private value + public value) and the shared
secret with a fixed peer value, which is what one side of an IKE exchange
does. For MODP groups secmob is timed with both exponentiation backends
(gmpy2.powmod and the built-in pow()), and once more with a full-length
exponent so that the comparison with OpenSSL (which uses a full-length
exponent for unnamed 1024-bit parameters) is like for like.

Run: ``PYTHONPATH=. python bench/bench_dh.py``
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import dh, ec, x25519

from secmob.algorithms import DH_GROUPS, modp
from secmob.algorithms.dh import DHGroup
from secmob.algorithms.modp import MODPGroup

warnings.simplefilter("ignore")  # finite-field DH is deprecated in cryptography; reference only


def best(fn: Callable[[], object], seconds: float = 0.6) -> float:
    """Best mean time per call over three rounds of about ``seconds`` / 3 each."""
    fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds / 3:
        fn()
        n += 1
    results = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        results.append((time.perf_counter() - t0) / n)
    return min(results)


def row(label: str, ours: float, ref: float) -> None:
    print(f"{label:<44} {ours * 1e6:>10.0f} us {ref * 1e6:>10.0f} us {ours / ref:>7.2f}x")


def exchange(g: DHGroup, peer_pub: bytes) -> Callable[[], None]:
    """One side of an exchange with secmob: a private value, its public value, the secret."""

    def run() -> None:
        key = g.new(g.generate(os.urandom))
        key.public()
        key.shared(peer_pub)

    return run


def bench_modp(number: int) -> None:
    g = DH_GROUPS.get(number)
    assert isinstance(g, MODPGroup)
    params = dh.DHParameterNumbers(g.p, g.g).parameters()
    peer_key = params.generate_private_key()
    peer_pub = peer_key.public_key().public_numbers().y.to_bytes(g.public_size, "big")
    peer_obj = peer_key.public_key()
    xbits = params.generate_private_key().private_numbers().x.bit_length()

    def openssl() -> None:
        k = params.generate_private_key()
        k.public_key()
        k.exchange(peer_obj)

    ours = exchange(g, peer_pub)
    full = g.p - 3 - int.from_bytes(os.urandom(8), "big")  # a full-length exponent

    def ours_full() -> None:
        key = g.new(full)
        key.public()
        key.shared(peer_pub)

    ref = best(openssl)
    print(f"-- group {number} ({g.name}): secmob exponent {g.private_bits} bits, "
          f"OpenSSL exponent ~{xbits} bits")
    for backend, fn in (("gmpy2", modp._pow_gmpy2 if modp.BACKEND == "gmpy2" else None),
                        ("pow", modp._pow_builtin)):
        if fn is None:
            print(f"   ({backend} not installed)")
            continue
        saved = modp._powmod
        modp._powmod = fn
        try:
            row(f"secmob [{backend}] keypair + shared", best(ours), ref)
            row(f"secmob [{backend}] full-length exponent", best(ours_full), ref)
        finally:
            modp._powmod = saved


def bench_ecp() -> None:
    g = DH_GROUPS.get(19)
    curve = ec.SECP256R1()
    peer = ec.generate_private_key(curve).public_key()
    n = peer.public_numbers()
    peer_pub = n.x.to_bytes(32, "big") + n.y.to_bytes(32, "big")

    def openssl() -> None:
        k = ec.generate_private_key(curve)
        k.public_key().public_numbers()
        k.exchange(ec.ECDH(), peer)

    print("-- group 19 (ECP_256)")
    row("secmob keypair + shared (x||y, checks)", best(exchange(g, peer_pub)), best(openssl))


def bench_x25519() -> None:
    g = DH_GROUPS.get(31)
    peer = x25519.X25519PrivateKey.generate().public_key()
    peer_pub = peer.public_bytes_raw()

    def openssl() -> None:
        k = x25519.X25519PrivateKey.generate()
        k.public_key().public_bytes_raw()
        k.exchange(peer)

    print("-- group 31 (Curve25519)")
    row("secmob keypair + shared", best(exchange(g, peer_pub)), best(openssl))


def main() -> None:
    print(f"{'operation':<44} {'secmob':>13} {'OpenSSL':>13} {'ratio':>8}")
    bench_modp(2)
    bench_modp(14)
    bench_ecp()
    bench_x25519()


if __name__ == "__main__":
    main()
