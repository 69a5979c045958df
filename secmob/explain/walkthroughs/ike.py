"""Worked IKE key derivations: ``secmob explain ikev1-keys`` and ``ikev2-keys``.

The inputs are NIST CAVP SP 800-135 records (ikev1_psk.fax and ikev2.fax,
CAVS 17.3, first SHA-1 section, COUNT = 0); the example then continues with
the steps the CAVP files do not cover (Appendix B expansion, IVs, KEYMAT,
Child SA keys).
"""

from __future__ import annotations

import argparse

from secmob.algorithms import PRFS
from secmob.explain import topic
from secmob.ike import ikev1_keys as v1
from secmob.ike import ikev2 as v2
from secmob.trace import Recorder

_V1 = {"cky_i": "83d374c30b3b5082", "cky_r": "5afc0da06c728029", "ni": "b9a2d0e922dc66dd",
       "nr": "2130166863b5ddef", "psk": "75",
       "g_xy": "739003ba2c11c982946c65e26acf661fbf8ebb78011a9fead79efa12fe3e71cc"}
_V2 = {"ni": "32b50d5f4a3763f3", "nr": "9206a04b26564cb1", "spi_i": "34c9e7c188868785",
       "spi_r": "3ff77d760d2b2199",
       "g_ir": "4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52"}


def _v1_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--key-length", type=int, default=32,
                        help="phase 1 cipher key length in octets (default 32: AES-256)")
    parser.add_argument("--block-size", type=int, default=16, help="cipher block size")


@topic("ikev1-keys", "IKEv1 SKEYID family, Appendix B key, IVs and Quick Mode KEYMAT "
                     "(RFC 2409 §5, §5.5, Appendix B)", _v1_options)
def ikev1_keys(args: argparse.Namespace) -> Recorder:
    rec = Recorder()
    prf = PRFS.get("prfsha1")
    b = {k: bytes.fromhex(v) for k, v in _V1.items()}
    keys = v1.derive_phase1(prf, v1.AuthMethod.PRE_SHARED_KEY, b["ni"], b["nr"], b["g_xy"],
                            b["cky_i"], b["cky_r"], pre_shared_key=b["psk"], tracer=rec)
    v1.encryption_key(prf, keys.skeyid_e, args.key_length, tracer=rec)
    hf = v1.prf_hash(prf)
    v1.phase1_iv(hf, b"\x02" * 32, b"\x03" * 32, args.block_size, tracer=rec)
    v1.phase2_iv(hf, b"\x04" * args.block_size, 0x1A2B3C4D, args.block_size, tracer=rec)
    v1.quick_hash3(prf, keys.skeyid_a, 0x1A2B3C4D, b["ni"], b["nr"], tracer=rec)
    v1.keymat(prf, keys.skeyid_d, 3, bytes.fromhex("0000c0de"), b["ni"], b["nr"], 36,
              tracer=rec)
    return rec


@topic("ikev2-keys", "IKEv2 SKEYSEED, prf+, SK_* split and Child SA KEYMAT "
                     "(RFC 7296 §2.13 - §2.17)")
def ikev2_keys(args: argparse.Namespace) -> Recorder:
    rec = Recorder()
    prf = PRFS.get("prfsha1")
    b = {k: bytes.fromhex(v) for k, v in _V2.items()}
    keys = v2.derive_ike_sa(prf, b["ni"], b["nr"], b["g_ir"], b["spi_i"], b["spi_r"],
                            integrity_key_size=20, encryption_key_size=16, tracer=rec)
    v2.child_keymat(prf, keys.sk_d, b["ni"], b["nr"], 72, tracer=rec)
    return rec
