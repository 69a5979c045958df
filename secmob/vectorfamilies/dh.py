"""Family ``dh``: Diffie-Hellman key agreement in the IKE groups.

Case fields: ``group`` (a :data:`~secmob.algorithms.DH_GROUPS` name or IKE
group number), ``private`` (our private value: hex -- big-endian for MODP/ECP,
the 32-octet scalar for Curve25519 -- or a JSON integer), and the peer's
``peer_public`` (hex) and/or ``peer_private``.

Outputs: ``public`` (our public value), ``shared`` (the shared secret computed
with ``peer_public``, or with the public value of ``peer_private`` when
``peer_public`` is absent) and, when ``peer_private`` is given,
``peer_public`` (the peer's public value) and ``peer_shared`` (the secret as
the peer computes it from our public value). Negative cases name
``InvalidPublicValue``.
"""

from __future__ import annotations

from collections.abc import Mapping

from secmob.algorithms import DH_GROUPS
from secmob.algorithms.dh import PrivateValue
from secmob.vectors import Case, Output, family


def _private(case: Case, field: str) -> PrivateValue:
    return case.num(field) if isinstance(case.raw(field), int) else case.hex(field)


@family("dh")
def check_dh(case: Case) -> Mapping[str, Output]:
    ref = case.raw("group")
    group = DH_GROUPS.get(case.num("group") if isinstance(ref, int) else case.text("group"))
    private = _private(case, "private")
    out: dict[str, Output] = {"public": group.public(private)}
    peer_public = case.hex("peer_public") if case.has("peer_public") else None
    if case.has("peer_private") or peer_public is None:
        peer_private = _private(case, "peer_private")  # "is missing" if neither is given
        computed = group.public(peer_private)
        out["peer_public"] = computed
        out["peer_shared"] = group.shared(peer_private, group.public(private))
        peer_public = computed if peer_public is None else peer_public
    out["shared"] = group.shared(private, peer_public)
    return out
