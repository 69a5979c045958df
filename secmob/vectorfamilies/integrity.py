"""Family ``integrity``: AH/ESP integrity transforms (ICVs).

Case fields: ``algorithm`` (an :data:`~secmob.algorithms.INTEGRITY` name or
IKEv2 id), ``key``, ``data`` and, for AES-GMAC, ``iv`` (hex). Without an
``icv`` field the case computes the ICV; output ``icv`` (the transmitted,
truncated ICV). With an ``icv`` field the case verifies it; output
``verified`` (``true``), or the case names the error (``IntegrityError`` for
a wrong or truncated ICV, ``InvalidKeyLength`` for a key or IV of the wrong
length).
"""

from __future__ import annotations

from collections.abc import Mapping

from secmob.algorithms import INTEGRITY
from secmob.vectors import Case, Output, family


@family("integrity")
def check_integrity(case: Case) -> Mapping[str, Output]:
    alg = case.raw("algorithm")
    transform = INTEGRITY.get(alg if isinstance(alg, int) else case.text("algorithm"))
    ctx = transform.new(case.hex("key"))
    data, iv = case.hex("data"), case.hex("iv", b"")
    if case.has("icv"):
        ctx.verify(data, case.hex("icv"), iv)
        return {"verified": True}
    return {"icv": ctx.compute(data, iv)}
