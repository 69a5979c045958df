"""strongSwan-style proposal strings for IKEv1 policies.

``aes128-sha1-modp1024`` names an encryption algorithm, a hash (phase 1) or
integrity algorithm (ESP/AH) and a Diffie-Hellman group (for ESP/AH: the PFS
group). Every token is resolved through the registries
(:data:`~secmob.algorithms.ENCRYPTION`, :data:`~secmob.algorithms.INTEGRITY`,
:data:`~secmob.algorithms.PRFS`, :data:`~secmob.algorithms.DH_GROUPS`), so
an unknown token raises :class:`~secmob.errors.UnsupportedAlgorithm`. Several
tokens of one kind are alternatives: ``aes128-aes256-sha1-modp2048`` offers
both ciphers, in that order (encryption varies slowest, then integrity, then
group). Combined-mode ciphers (``aes128gcm16``) need no integrity token.

The IKEv1 numbers come from the registry entries' IKEv1 tables
(``oakley_encr``/``oakley_hash`` for phase 1, ``esp``/``ah``/``auth`` for
phase 2); an algorithm without a number in the needed table raises
:class:`~secmob.errors.UnsupportedAlgorithm` too. A key length attribute is
sent for ciphers that accept several key sizes (RFC 2409 Appendix A, RFC 2407
§4.5 "Key Length").
"""

from __future__ import annotations

from itertools import product
from typing import Any

from secmob.algorithms import DH_GROUPS, ENCRYPTION, INTEGRITY, PRFS, Choice, Registry
from secmob.errors import UnsupportedAlgorithm, UsageError
from secmob.ike.ikev1_keys import AuthMethod
from secmob.ike.proposals import (
    NO_LIMIT,
    Encapsulation,
    Lifetime,
    Phase1Proposal,
    Phase2Proposal,
    Phase2Transform,
)
from secmob.wire.isakmp import Protocol

__all__ = ["parse_ah", "parse_esp", "parse_ike"]



def _classify(text: str, kinds: tuple[str, ...]) -> dict[str, list[Choice[Any]]]:
    registries: dict[str, Registry[Any]] = {
        "encryption": ENCRYPTION, "integrity": INTEGRITY, "prf": PRFS, "group": DH_GROUPS}
    found: dict[str, list[Choice[Any]]] = {k: [] for k in kinds}
    tokens = [t for t in text.strip().split("-")]
    if not text.strip() or any(not t for t in tokens):
        raise UsageError(f"malformed proposal string {text!r}")
    for token in tokens:
        for kind in kinds:
            if token in registries[kind]:
                found[kind].append(registries[kind].choose(token))
                break
        else:
            raise UnsupportedAlgorithm(
                f"proposal {text!r}: token {token!r} names no registered "
                f"{' / '.join(kinds)} algorithm")
    return found


def _number(entry: Any, table: str, token: str) -> int:
    try:
        return int(entry.ikev1_ids[table])
    except KeyError:
        raise UnsupportedAlgorithm(
            f"{entry.name} ({token}) has no IKEv1 number in table {table!r}") from None


def _key_bits(choice: Choice[Any]) -> int | None:
    sizes = choice.algorithm.key_sizes
    if len(sizes) <= 1:
        return None
    return 8 * (choice.key_size if choice.key_size is not None else sizes[0])


def parse_ike(text: str, auth_method: AuthMethod = AuthMethod.PRE_SHARED_KEY,
              life: Lifetime = NO_LIMIT) -> list[Phase1Proposal]:
    """Phase 1 proposals from ``encryption-hash-group`` (hash: an integrity or PRF keyword)."""
    found = _classify(text, ("encryption", "prf", "group"))
    for kind in ("encryption", "prf", "group"):
        if not found[kind]:
            raise UsageError(f"IKE proposal {text!r} names no {kind} algorithm")
    out = []
    for enc, prf, grp in product(found["encryption"], found["prf"], found["group"]):
        out.append(Phase1Proposal(_number(enc.algorithm, "oakley_encr", text),
                                  _number(prf.algorithm, "oakley_hash", text), auth_method,
                                  int(grp.algorithm.ikev2_id), _key_bits(enc), life))
    return out


def parse_esp(text: str, mode: Encapsulation = Encapsulation.TUNNEL,
              life: Lifetime = NO_LIMIT) -> list[Phase2Proposal]:
    """An ESP proposal from ``encryption[-integrity][-group]`` (group = PFS)."""
    found = _classify(text, ("encryption", "integrity", "group"))
    if not found["encryption"]:
        raise UsageError(f"ESP proposal {text!r} names no encryption algorithm")
    transforms = []
    integs: list[Choice[Any] | None] = list(found["integrity"]) or [None]
    groups: list[Choice[Any] | None] = list(found["group"]) or [None]
    for enc, integ, grp in product(found["encryption"], integs, groups):
        if integ is None and not enc.algorithm.aead:
            raise UsageError(f"ESP proposal {text!r}: {enc.algorithm.name} needs an "
                             "integrity algorithm")
        transforms.append(Phase2Transform(
            _number(enc.algorithm, "esp", text),
            _number(integ.algorithm, "auth", text) if integ is not None else None,
            mode, int(grp.algorithm.ikev2_id) if grp is not None else None,
            _key_bits(enc), life))
    return [Phase2Proposal(Protocol.IPSEC_ESP, tuple(transforms))]


def parse_ah(text: str, mode: Encapsulation = Encapsulation.TUNNEL,
             life: Lifetime = NO_LIMIT) -> list[Phase2Proposal]:
    """An AH proposal from ``integrity[-group]``."""
    found = _classify(text, ("integrity", "group"))
    if not found["integrity"]:
        raise UsageError(f"AH proposal {text!r} names no integrity algorithm")
    groups: list[Choice[Any] | None] = list(found["group"]) or [None]
    transforms = [
        Phase2Transform(_number(integ.algorithm, "ah", text),
                        _number(integ.algorithm, "auth", text), mode,
                        int(grp.algorithm.ikev2_id) if grp is not None else None, None, life)
        for integ, grp in product(found["integrity"], groups)]
    return [Phase2Proposal(Protocol.IPSEC_AH, tuple(transforms))]
