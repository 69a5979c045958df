"""AES-based integrity transforms for AH and ESP.

Registered in :data:`~secmob.algorithms.integrity.INTEGRITY`:

==================  =====  =========  ============  =====  ======  ========
transform           IKEv2  IKEv1 AH   IKEv1 auth    key    ICV     RFC
==================  =====  =========  ============  =====  ======  ========
AES-XCBC-MAC-96     5      9          9             16     12      RFC 3566
AES-CMAC-96         8      --         --            16     12      RFC 4494
AES-128-GMAC        9      11         11            16+4   16      RFC 4543
AES-192-GMAC        10     12         12            24+4   16      RFC 4543
AES-256-GMAC        11     13         13            32+4   16      RFC 4543
==================  =====  =========  ============  =====  ======  ========

AES-GMAC takes a per-packet 8-octet IV (``iv_size`` = 8) passed to
``compute``/``verify``; its key is the AES key followed by a 4-octet salt
(RFC 4543 §5.4) and the GCM nonce is ``salt || IV`` (§3.2). In AH the IV is
carried at the start of the Authentication Data field, before the tag
(RFC 4543 §4, Figure 5), and the GMAC AAD is the packet as AH authenticates
it (§4, RFC 4302 §3.1); in ESP it is the transform ENCR_NULL_AUTH_AES_GMAC
(§3), registered with the encryption transforms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from secmob.algorithms.aes_mac import CMAC, GMAC, XCBC
from secmob.algorithms.base import IntegrityContext, check_length
from secmob.algorithms.integrity import INTEGRITY, MACContext, MACIntegrity
from secmob.trace import Tracer

__all__ = ["BlockMACIntegrity", "GMACIntegrity"]


class _BlockMAC(Protocol):
    def mac(self, data: bytes) -> bytes: ...


class _BlockMACContext(MACContext):
    __slots__ = ("_core",)

    def __init__(self, alg: BlockMACIntegrity, key: bytes, tracer: Tracer | None) -> None:
        super().__init__(alg, tracer)
        self._core = alg.core(key, tracer)
        self.formula = f"ICV = First({alg.icv_size * 8}, {alg.mac_name}(K, data))"

    def _mac(self, data: bytes, iv: bytes) -> bytes:
        return self._core.mac(data)


@dataclass(frozen=True, eq=False, repr=False)
class BlockMACIntegrity(MACIntegrity):
    """A 128-bit block-cipher MAC truncated to ``icv_size`` octets.

    AES-XCBC-MAC-96 (RFC 3566 §4, truncation §4.3) and AES-CMAC-96
    (RFC 4494 §2: AES-CMAC of RFC 4493 §2.4 truncated to 96 bits). ``core``
    builds the keyed MAC (its key schedule runs once per context).
    """

    mac_name: str = ""
    core: Callable[[bytes, Tracer | None], _BlockMAC] = XCBC

    def new(self, key: bytes, tracer: Tracer | None = None) -> IntegrityContext:
        check_length(f"{self.name} key", key, self.key_sizes)
        return _BlockMACContext(self, key, tracer)


class _GMACContext(MACContext):
    __slots__ = ("_core",)
    formula = "ICV = GHASH tag of AES-GCM(K, nonce = salt || IV, P = empty, A = data)"

    def __init__(self, alg: GMACIntegrity, key: bytes, tracer: Tracer | None) -> None:
        super().__init__(alg, tracer)
        self._core = GMAC(key[:-4], key[-4:])

    def _mac(self, data: bytes, iv: bytes) -> bytes:
        return self._core.mac(iv, data)


@dataclass(frozen=True, eq=False, repr=False)
class GMACIntegrity(MACIntegrity):
    """AES-GMAC as an AH/ESP integrity transform (RFC 4543).

    ``key`` is the AES key followed by the 4-octet salt (RFC 4543 §5.4);
    ``compute``/``verify`` take the 8-octet IV of the packet (§3.1). The ICV
    is the full 16-octet tag (§3.4, "MUST NOT be truncated"; §4 for AH).
    """

    def new(self, key: bytes, tracer: Tracer | None = None) -> IntegrityContext:
        check_length(f"{self.name} key (AES key + 4-octet salt)", key, self.key_sizes)
        return _GMACContext(self, key, tracer)


INTEGRITY.register(
    BlockMACIntegrity("AES-XCBC-MAC-96", 5, "RFC 3566", {"ah": 9, "auth": 9},
                      key_sizes=(16,), icv_size=12, full_size=16,
                      spec="RFC 3566 §4 (AES-XCBC-MAC), §4.3 (truncation to 96 bits)",
                      mac_name="AES-XCBC-MAC", core=XCBC),
    "aesxcbc", "aes-xcbc", "auth-aes-xcbc-96", "aes-xcbc-mac",
)
INTEGRITY.register(
    BlockMACIntegrity("AES-CMAC-96", 8, "RFC 4494",
                      key_sizes=(16,), icv_size=12, full_size=16,
                      spec="RFC 4494 §2 (AES-CMAC of RFC 4493 §2.4, truncated to 96 bits)",
                      mac_name="AES-CMAC", core=CMAC),
    "aescmac", "aes-cmac", "auth-aes-cmac-96",
)
for _bits, _ikev2, _ikev1 in ((128, 9, 11), (192, 10, 12), (256, 11, 13)):
    INTEGRITY.register(
        GMACIntegrity(f"AES-{_bits}-GMAC", _ikev2, "RFC 4543", {"ah": _ikev1, "auth": _ikev1},
                      key_sizes=(_bits // 8 + 4,), icv_size=16, full_size=16, iv_size=8,
                      spec="RFC 4543 §2 (GMAC), §3.2 (nonce = salt || IV), §5.4 (key + salt)"),
        f"aes{_bits}gmac", f"auth-aes-{_bits}-gmac", f"aes-{_bits}-gmac",
    )
