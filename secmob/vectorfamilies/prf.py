"""Family ``prf``: IKE pseudo-random functions.

Case fields: ``algorithm`` (a :data:`~secmob.algorithms.PRFS` name or IKEv2 id),
``key`` and ``data`` (hex), optional ``truncate`` (octets). Outputs:
``output`` (the full PRF output, or its first ``truncate`` octets, for
published cases that give only a truncated value such as RFC 4231 Test
Case 5).
"""

from __future__ import annotations

from collections.abc import Mapping

from secmob.algorithms import PRFS
from secmob.vectors import Case, Output, family


@family("prf")
def check_prf(case: Case) -> Mapping[str, Output]:
    alg = case.raw("algorithm")
    prf = PRFS.get(alg if isinstance(alg, int) else case.text("algorithm"))
    out = prf.compute(case.hex("key"), case.hex("data"))
    if case.has("truncate"):
        out = out[: case.num("truncate")]
    return {"output": out}
