"""Independent reference MACs for the integrity and PRF tests.

Nothing here imports secmob: HMAC comes from the standard library, CMAC and
GCM from pycryptodome, and AES-XCBC-MAC is written out from RFC 3566 §4 on
pycryptodome's AES-ECB (a second, separate reading of the RFC). The key rules
of RFC 4434 §2 and RFC 4615 §3 are likewise restated here.
"""

from __future__ import annotations

import hashlib
import hmac

from Crypto.Cipher import AES
from Crypto.Hash import CMAC

HMAC_HASH = {
    "HMAC-MD5-96": "md5", "HMAC-SHA1-96": "sha1", "HMAC-SHA-256-128": "sha256",
    "HMAC-SHA-384-192": "sha384", "HMAC-SHA-512-256": "sha512",
    "PRF_HMAC_MD5": "md5", "PRF_HMAC_SHA1": "sha1", "PRF_HMAC_SHA2_256": "sha256",
    "PRF_HMAC_SHA2_384": "sha384", "PRF_HMAC_SHA2_512": "sha512",
}


def xcbc(key: bytes, msg: bytes) -> bytes:
    """AES-XCBC-MAC per RFC 3566 §4, block by block."""
    ecb = AES.new(key, AES.MODE_ECB)
    k1 = ecb.encrypt(bytes([1]) * 16)
    k2 = ecb.encrypt(bytes([2]) * 16)
    k3 = ecb.encrypt(bytes([3]) * 16)
    e1 = AES.new(k1, AES.MODE_ECB)
    blocks = [msg[i:i + 16] for i in range(0, len(msg), 16)] or [b""]
    e = bytes(16)
    for m in blocks[:-1]:
        e = e1.encrypt(bytes(a ^ b for a, b in zip(m, e, strict=True)))
    last = blocks[-1]
    if len(last) == 16:
        mask = k2
    else:
        last = last + b"\x80" + bytes(15 - len(last))
        mask = k3
    return e1.encrypt(bytes(a ^ b ^ c for a, b, c in zip(last, e, mask, strict=True)))


def cmac(key: bytes, msg: bytes) -> bytes:
    return CMAC.new(key, msg, ciphermod=AES).digest()


def gmac(key: bytes, salt: bytes, iv: bytes, aad: bytes) -> bytes:
    c = AES.new(key, AES.MODE_GCM, nonce=salt + iv, mac_len=16)
    c.update(aad)
    return c.digest()


def xcbc_prf(key: bytes, msg: bytes) -> bytes:
    """RFC 4434 §2: pad short keys with zeros, reduce long ones with XCBC(0^128, key)."""
    if len(key) < 16:
        key = key + bytes(16 - len(key))
    elif len(key) > 16:
        key = xcbc(bytes(16), key)
    return xcbc(key, msg)


def cmac_prf(key: bytes, msg: bytes) -> bytes:
    """RFC 4615 §3: any key that is not 128 bits becomes AES-CMAC(0^128, key)."""
    if len(key) != 16:
        key = cmac(bytes(16), key)
    return cmac(key, msg)


def full_mac(name: str, key: bytes, data: bytes, iv: bytes = b"") -> bytes:
    """The untruncated MAC of an integrity transform or the output of a PRF, by name."""
    if name in HMAC_HASH:
        return hmac.new(key, data, getattr(hashlib, HMAC_HASH[name])).digest()
    if name == "AES-XCBC-MAC-96":
        return xcbc(key, data)
    if name == "AES-CMAC-96":
        return cmac(key, data)
    if name.endswith("-GMAC"):
        return gmac(key[:-4], key[-4:], iv, data)
    if name == "PRF_AES128_XCBC":
        return xcbc_prf(key, data)
    if name == "PRF_AES128_CMAC":
        return cmac_prf(key, data)
    raise KeyError(name)
