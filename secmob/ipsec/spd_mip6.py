"""SPD entries protecting Mobile IPv6 signalling between a mobile node and its
home agent (RFC 4877 §6.1, §6.2 for manual keying and §7.2.1, §7.2.2 for
IKEv2; the earlier forms of RFC 3776 §5.2.1, §5.2.2).

The example SPD entries of RFC 4877 (§6.1, §7.2.1) write a mobile node's
policy as::

    IF local_address = home_address & remote_address = home_agent &
       proto = MH & local_mh_type = BU & remote_mh_type = BAck
    THEN use SA ESP transport mode

and the home agent's as the mirror image (local_mh_type = BAck,
remote_mh_type = BU). The addresses are the home address, not the care-of
address: "an address appearing in a Home Address destination option is
considered as the source address of the packet", and the home address of a
type 2 routing header as its destination (RFC 4877 §4.2, RFC 3776 §4.2).
Home Test Init / Home Test messages, which travel through the reverse
tunnel, are protected by ESP in tunnel mode between the care-of address and
the home agent (RFC 4877 §6.2, §7.2.2: ``local_address = home_address_1 &
remote_address = any & proto = MH & local_mh_type = HoTi & remote_mh_type =
HoT``). For IKEv2 the MH type is the high octet of the 16-bit local "port"
selector (RFC 4877 §7.2.1, RFC 4301 §4.4.1.1).
"""

from __future__ import annotations

from typing import Literal

from secmob.errors import UsageError
from secmob.ipsec.selectors import ANY, MOBILITY_HEADER, IPAddress, Selector
from secmob.ipsec.spd import Action, Entry, Mode, SATemplate

__all__ = [
    "MH_BA",
    "MH_BE",
    "MH_BRR",
    "MH_BU",
    "MH_COT",
    "MH_COTI",
    "MH_HOT",
    "MH_HOTI",
    "home_signalling_entries",
]

# Mobility Header types, RFC 6275 §6.1.2-§6.1.9.
MH_BRR = 0  # Binding Refresh Request
MH_HOTI = 1  # Home Test Init
MH_COTI = 2  # Care-of Test Init
MH_HOT = 3  # Home Test
MH_COT = 4  # Care-of Test
MH_BU = 5  # Binding Update
MH_BA = 6  # Binding Acknowledgement
MH_BE = 7  # Binding Error


def home_signalling_entries(
    role: Literal["mobile-node", "home-agent"],
    home_address: IPAddress | str,
    home_agent: IPAddress | str,
    *,
    care_of: IPAddress | str | None = None,
    encryption: str | None = "aes128gcm16",
    integrity: str | None = None,
    reqid: int = 0,
) -> list[Entry]:
    """PROTECT entries for BU/BAck (ESP transport) and, with ``care_of``,
    HoTI/HoT (ESP tunnel between care-of address and home agent), seen from
    ``role``. Insert them before any broader entry covering the same hosts."""
    if role not in ("mobile-node", "home-agent"):
        raise UsageError(f"role must be 'mobile-node' or 'home-agent', not {role!r}")
    mn = role == "mobile-node"
    local, remote = (home_address, home_agent) if mn else (home_agent, home_address)
    bu = Entry(
        Selector.make(
            local, remote, MOBILITY_HEADER,
            local_mh_type=MH_BU if mn else MH_BA,
            remote_mh_type=MH_BA if mn else MH_BU,
        ),
        Action.PROTECT,
        SATemplate(("esp",), Mode.TRANSPORT, encryption=encryption, integrity=integrity,
                   reqid=reqid),
        name="mip6-bu-ba",
    )
    entries = [bu]
    if care_of is not None:
        tunnel_local, tunnel_remote = (care_of, home_agent) if mn else (home_agent, care_of)
        entries.append(
            Entry(
                Selector.make(
                    home_address if mn else ANY,
                    ANY if mn else home_address,
                    MOBILITY_HEADER,
                    local_mh_type=MH_HOTI if mn else MH_HOT,
                    remote_mh_type=MH_HOT if mn else MH_HOTI,
                ),
                Action.PROTECT,
                SATemplate(
                    ("esp",), Mode.TUNNEL,
                    tunnel_local=tunnel_local,  # type: ignore[arg-type]
                    tunnel_remote=tunnel_remote,  # type: ignore[arg-type]
                    encryption=encryption, integrity=integrity, reqid=reqid + 1,
                ),
                name="mip6-hoti-hot",
            )
        )
    return entries
