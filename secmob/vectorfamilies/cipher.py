"""Family ``cipher``: ESP encryption and combined-mode transforms.

Case fields: ``algorithm`` (an :data:`~secmob.algorithms.ENCRYPTION` name or
IKEv2 id), ``key`` (the whole KEYMAT, ``key || salt``), ``iv`` (the per-packet
IV), ``aad`` (for AEAD transforms: ``SPI || Sequence Number``), and either

* ``plaintext`` -- the case seals it; outputs ``ciphertext`` (``C || ICV``)
  and ``plaintext`` (the result of opening that ciphertext again), or
* ``ciphertext`` -- the case opens it; output ``plaintext``. Negative cases
  name the error ``open`` must raise (``IntegrityError`` for a tampered or
  truncated ICV, ``DecodeError`` for a CBC ciphertext that is not a whole
  number of blocks, ``InvalidKeyLength`` for a key or IV of the wrong size).
"""

from __future__ import annotations

from collections.abc import Mapping

from secmob.algorithms import ENCRYPTION
from secmob.vectors import Case, Output, family


@family("cipher")
def check_cipher(case: Case) -> Mapping[str, Output]:
    alg_id = case.raw("algorithm")
    alg = ENCRYPTION.get(alg_id if isinstance(alg_id, int) else case.text("algorithm"))
    ctx = alg.new(case.hex("key"))
    iv, aad = case.hex("iv"), case.hex("aad", b"")
    if case.has("plaintext"):
        sealed = ctx.seal(iv, case.hex("plaintext"), aad)
        return {"ciphertext": sealed, "plaintext": ctx.open(iv, sealed, aad)}
    return {"plaintext": ctx.open(iv, case.hex("ciphertext"), aad)}
