"""Independent ESP/AH computations for the tests (hashlib, hmac, pyca/cryptography).

Nothing here uses secmob's ESP or AH code: the packets are laid out from
RFC 4303 §2 / RFC 4302 §2 by hand, so the tests compare two implementations.
Run as a script to (re)write vectors/esp/derived-null-hmac.json from these
functions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HASHES = {"HMAC-SHA1-96": ("sha1", 12), "HMAC-SHA-256-128": ("sha256", 16),
          "HMAC-SHA-512-256": ("sha512", 32), "HMAC-MD5-96": ("md5", 12)}


def trailer(body: bytes, next_header: int, align: int) -> bytes:
    """``body || 1, 2, 3, ... || pad length || next header`` (RFC 4303 §2.4)."""
    pad_len = 0
    while (len(body) + pad_len + 2) % align:
        pad_len += 1
    return body + bytes(range(1, pad_len + 1)) + bytes([pad_len, next_header])


def mac(name: str, key: bytes, data: bytes) -> bytes:
    digest, size = HASHES[name]
    return hmac.new(key, data, getattr(hashlib, digest)).digest()[:size]


def esp_hmac(spi: int, seq: int, esn: bool, plaintext: bytes, integrity: str, key: bytes,
             *, cbc_key: bytes | None = None, iv: bytes = b"") -> bytes:
    """ESP with a separate ICV over SPI || seq || IV || ciphertext [|| ESN high]."""
    if cbc_key is None:
        ct = plaintext
    else:
        enc = Cipher(algorithms.AES(cbc_key), modes.CBC(iv)).encryptor()
        ct = enc.update(plaintext) + enc.finalize()
    head = struct.pack("!II", spi, seq & 0xFFFFFFFF) + iv + ct
    extra = struct.pack("!I", seq >> 32) if esn else b""
    return head + mac(integrity, key, head + extra)


def esp_gcm(spi: int, seq: int, esn: bool, plaintext: bytes, keymat: bytes,
            *, gmac: bool = False) -> bytes:
    """RFC 4106 (or RFC 4543 with ``gmac``): IV = the 64-bit sequence number."""
    key, salt = keymat[:-4], keymat[-4:]
    iv = seq.to_bytes(8, "big")
    aad = struct.pack("!I", spi) + (struct.pack("!Q", seq) if esn else
                                     struct.pack("!I", seq & 0xFFFFFFFF))
    head = struct.pack("!II", spi, seq & 0xFFFFFFFF) + iv
    if gmac:
        return head + plaintext + AESGCM(key).encrypt(salt + iv, b"", aad + iv + plaintext)
    return head + AESGCM(key).encrypt(salt + iv, plaintext, aad)


def ah_header(spi: int, seq: int, next_header: int, iv: bytes, icv: bytes, icv_size: int,
              align: int) -> bytes:
    fixed_len = 12 + len(iv) + icv_size
    total = fixed_len + (-fixed_len % align)
    fixed = struct.pack("!BBHII", next_header, total // 4 - 2, 0, spi, seq & 0xFFFFFFFF)
    return fixed + iv + icv + bytes(total - fixed_len)


def ah_hmac(spi: int, seq: int, esn: bool, next_header: int, before: bytes, after: bytes,
            integrity: str, key: bytes, ipv6: bool = True) -> bytes:
    """RFC 4302 §3.3.3: ICV over before || AH (ICV zero) || after [|| ESN high]."""
    size = HASHES[integrity][1]
    align = 8 if ipv6 else 4
    zero = ah_header(spi, seq, next_header, b"", bytes(size), size, align)
    extra = struct.pack("!I", seq >> 32) if esn else b""
    icv = mac(integrity, key, before + zero + after + extra)
    return ah_header(spi, seq, next_header, b"", icv, size, align)


def ah_gmac(spi: int, seq: int, next_header: int, before: bytes, after: bytes,
            keymat: bytes) -> bytes:
    """RFC 4543 §4: IV (the sequence number) after the sequence number, GMAC over the packet."""
    iv = seq.to_bytes(8, "big")
    zero = ah_header(spi, seq, next_header, iv, bytes(16), 16, 8)
    icv = AESGCM(keymat[:-4]).encrypt(keymat[-4:] + iv, b"", before + zero + after)
    return ah_header(spi, seq, next_header, iv, icv, 16, 8)


# -- the vector file ----------------------------------------------------------

K_SHA1 = bytes(range(1, 21))
K_SHA256 = bytes(range(0x20, 0x40))
PAYLOAD = bytes.fromhex("6000000000083a40") + bytes(range(8, 40))  # arbitrary inner data
BEFORE = bytes.fromhex("6000000000283340") + bytes(32)  # IPv6 header, flow label zeroed
AFTER = bytes.fromhex("0035003500140000") + b"AH over UDP!"


def _flip(hexstr: str, bit: int) -> str:
    raw = bytearray.fromhex(hexstr)
    raw[-1 - bit // 8] ^= 1 << (bit % 8)
    return raw.hex()


def build() -> dict[str, Any]:
    cases: list[dict[str, Any]] = []
    how = "derived: laid out from RFC 4303 §2 by hand, ICV with Python hmac"
    for integrity, key in (("HMAC-SHA1-96", K_SHA1), ("HMAC-SHA-256-128", K_SHA256)):
        for esn, seq in ((False, 1), (False, 0xFFFFFFFF), (True, 1), (True, (5 << 32) | 7)):
            tag = f"{integrity.lower()}-{'esn' if esn else 'seq32'}-{seq:x}"
            pt = trailer(PAYLOAD, 41, 4)
            wire = esp_hmac(0x11223344, seq, esn, pt, integrity, key)
            common = {"cipher": "ENCR_NULL", "integrity": integrity, "integrity_key": key.hex(),
                      "spi": 0x11223344, "esn": esn}
            cases.append({"id": f"protect-{tag}", "source": how, "operation": "protect",
                          **common, "sequence": seq, "next_header": 41,
                          "payload": PAYLOAD.hex(), "expected": {"esp": wire.hex()}})
            window_top = [seq - 1] if seq > 1 else []
            cases.append({"id": f"unprotect-{tag}", "source": how, "operation": "unprotect",
                          **common, "accepted": window_top, "esp": wire.hex(),
                          "expected": {"next_header": 41, "payload": PAYLOAD.hex(),
                                       "sequence": seq}})
    # Negative cases (NULL + HMAC-SHA1-96, 32-bit sequence numbers).
    neg = {"operation": "unprotect", "cipher": "ENCR_NULL", "integrity": "HMAC-SHA1-96",
           "integrity_key": K_SHA1.hex(), "spi": 0x11223344, "esn": False}
    good = esp_hmac(0x11223344, 9, False, trailer(PAYLOAD, 41, 4), "HMAC-SHA1-96", K_SHA1)
    cases.append({"id": "flipped-icv-bit", **neg, "source": how + "; last ICV bit flipped",
                  "esp": _flip(good.hex(), 0), "error": "IntegrityError"})
    cases.append({"id": "flipped-payload-bit", **neg,
                  "source": how + "; a payload bit flipped after the ICV was computed",
                  "esp": _flip(good.hex(), 8 * 20), "error": "IntegrityError"})
    cases.append({"id": "replayed", **neg, "source": how + "; sequence 9 already accepted",
                  "accepted": [9], "esp": good.hex(), "error": "ReplayError"})
    cases.append({"id": "too-old", **neg, "source": how + "; window of 64 ends at 100",
                  "accepted": [100], "esp": good.hex(), "error": "ReplayError"})
    cases.append({"id": "unknown-spi", **neg, "source": how + "; the SAD holds SPI 0x11223345",
                  "sa_spi": 0x11223345, "esp": good.hex(), "error": "UnknownSPI"})
    bad_pad = PAYLOAD + bytes([1, 4, 2, 41])  # pad octets 1, 4 instead of 1, 2
    cases.append({"id": "bad-padding", **neg,
                  "source": how + "; padding 01 04 (valid ICV)",
                  "esp": esp_hmac(0x11223344, 9, False, bad_pad, "HMAC-SHA1-96", K_SHA1).hex(),
                  "error": "PaddingError"})
    long_pad = PAYLOAD[:38] + bytes([200, 41])  # Pad Length 200 > the 38 octets before it
    cases.append({"id": "pad-length-too-large", **neg,
                  "source": how + "; Pad Length 200 (valid ICV)",
                  "esp": esp_hmac(0x11223344, 9, False, long_pad, "HMAC-SHA1-96", K_SHA1).hex(),
                  "error": "PaddingError"})
    # AH ICVs.
    how_ah = "derived: AH laid out from RFC 4302 §2 by hand, ICV with Python hmac"
    for integrity, key in (("HMAC-SHA1-96", K_SHA1), ("HMAC-SHA-256-128", K_SHA256)):
        for esn, seq, ipv6 in ((False, 1, True), (True, (1 << 32) | 3, True), (False, 2, False)):
            ah = ah_hmac(0x0A0B0C0D, seq, esn, 17, BEFORE, AFTER, integrity, key, ipv6)
            common = {"protocol": "ah", "integrity": integrity, "integrity_key": key.hex(),
                      "spi": 0x0A0B0C0D, "esn": esn, "ipv6": ipv6,
                      "before": BEFORE.hex()}
            tag = f"ah-{integrity.lower()}-{'esn' if esn else 'seq32'}-{'v6' if ipv6 else 'v4'}"
            cases.append({"id": f"protect-{tag}", "source": how_ah, "operation": "protect",
                          **common, "sequence": seq, "next_header": 17, "after": AFTER.hex(),
                          "expected": {"ah": ah.hex()}})
            cases.append({"id": f"unprotect-{tag}", "source": how_ah,
                          "operation": "unprotect", **common,
                          "accepted": [seq - 1] if seq > 1 else [],
                          "ah": (ah + AFTER).hex(),
                          "expected": {"next_header": 17, "sequence": seq}})
    ah = ah_hmac(0x0A0B0C0D, 4, False, 17, BEFORE, AFTER, "HMAC-SHA1-96", K_SHA1)
    cases.append({"id": "ah-flipped-icv-bit", "source": how_ah + "; one ICV bit flipped",
                  "protocol": "ah", "operation": "unprotect", "integrity": "HMAC-SHA1-96",
                  "integrity_key": K_SHA1.hex(), "spi": 0x0A0B0C0D, "before": BEFORE.hex(),
                  "ah": _flip(ah.hex(), 0) + AFTER.hex(), "error": "IntegrityError"})
    return {"family": "esp-payload",
            "title": "ESP (ENCR_NULL with HMAC integrity) and AH ICVs, 32-bit and extended "
                     "sequence numbers, with negative cases",
            "cases": cases}


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "vectors/esp/derived-null-hmac.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(build(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")
