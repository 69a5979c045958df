"""``secmob explain rr``: the Return Routability procedure with real values
(RFC 6275 §5.2).

Fixed, documented inputs: the mobile node's home address 2001:db8:1::10,
care-of address 2001:db8:2::10, correspondent 2001:db8:4::1; every random
value comes from a counter RNG, octets ``SHA-256("secmob explain rr" | counter)``,
so each run prints the same numbers. ``--deregister`` shows a deregistration
(lifetime 0, Kbm from the home keygen token only).

The seven steps: (1) HoTI/CoTI with their init cookies, (2) the
correspondent's Kcn and nonce with its index, (3) the home keygen token in a
HoT, (4) the care-of keygen token in a CoT, (5) Kbm at the mobile node, (6)
the Binding Update and its Authenticator, (7) the correspondent's
verification and its signed Binding Acknowledgement.
"""

from __future__ import annotations

import argparse
import ipaddress

from secmob._rng import counter_rng
from secmob.explain import topic
from secmob.mip6 import rr
from secmob.trace import Recorder, emit
from secmob.wire import mobility as mh


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--home-address", default="2001:db8:1::10")
    p.add_argument("--care-of-address", default="2001:db8:2::10")
    p.add_argument("--correspondent", default="2001:db8:4::1")
    p.add_argument("--sequence", type=int, default=4660)
    p.add_argument("--lifetime", type=int, default=105, help="4-second units")
    p.add_argument("--deregister", action="store_true",
                   help="lifetime 0: Kbm = SHA1(home keygen token)")


@topic("rr", "Mobile IPv6 Return Routability: cookies, keygen tokens, Kbm, BU authenticator",
       _configure)
def run(args: argparse.Namespace) -> Recorder:
    rec = Recorder()
    hoa = ipaddress.IPv6Address(args.home_address).packed
    coa = ipaddress.IPv6Address(args.care_of_address).packed
    cn_addr = ipaddress.IPv6Address(args.correspondent).packed
    lifetime = 0 if args.deregister else args.lifetime
    now = 0.0

    # 1. HoTI (via the home agent, from the home address) and CoTI (direct).
    mn = rr.MobileNode(hoa, coa, cn_addr, counter_rng(b"secmob explain rr / mobile node"))
    hoti, coti = mn.start(tracer=rec)
    emit(rec, "HoTI message", "Mobility Header type 1: Reserved | Home Init Cookie",
         "RFC 6275 §6.1.3", {"source": hoa, "destination": cn_addr},
         hoti.to_bytes(hoa, cn_addr), "sent from the home address, reverse-tunnelled")
    emit(rec, "CoTI message", "Mobility Header type 2: Reserved | Care-of Init Cookie",
         "RFC 6275 §6.1.4", {"source": coa, "destination": cn_addr},
         coti.to_bytes(coa, cn_addr), "sent directly from the care-of address")

    # 2. The correspondent's secrets.
    cn = rr.Correspondent(cn_addr, counter_rng(b"secmob explain rr / correspondent"))
    nonce = cn.nonces.issue(now)
    emit(rec, "Kcn", "Kcn = random(160)", "RFC 6275 §5.2.1", {"rng octets": rr.KCN_LENGTH},
         nonce.kcn, "the correspondent's secret key; never leaves the node")
    emit(rec, "nonce", "nonce[index] = random(64), usable for MAX_NONCE_LIFETIME",
         "RFC 6275 §5.2.2, §5.2.7", {"nonce index": nonce.index, "created": int(now),
                                     "MAX_NONCE_LIFETIME": rr.MAX_NONCE_LIFETIME},
         nonce.value)

    # 3-4. Home Test and Care-of Test.
    hot = cn.home_test(hoti, hoa, now, tracer=rec)
    emit(rec, "HoT message", "Home Nonce Index | Home Init Cookie | Home Keygen Token",
         "RFC 6275 §6.1.5", {"nonce index": hot.nonce_index, "cookie": hot.cookie},
         hot.to_bytes(cn_addr, hoa), "routed to the home address, tunnelled by the home agent")
    cot = cn.care_of_test(coti, coa, now, tracer=rec)
    emit(rec, "CoT message", "Care-of Nonce Index | Care-of Init Cookie | Care-of Keygen Token",
         "RFC 6275 §6.1.6", {"nonce index": cot.nonce_index, "cookie": cot.cookie},
         cot.to_bytes(cn_addr, coa), "sent directly to the care-of address")
    mn.receive(hot, now + 0.1)
    mn.receive(cot, now + 0.1)

    # 5-6. Kbm and the Binding Update with its Authenticator.
    bu = mn.binding_update(args.sequence, lifetime, now + 0.2, tracer=rec)
    emit(rec, "Binding Update", "MH type 5 | Nonce Indices | Binding Authorization Data",
         "RFC 6275 §6.1.7, §6.2.6, §6.2.7", {"sequence": args.sequence, "lifetime": lifetime,
                                             "MH Data": mh.authenticated_data(bu)},
         bu, "checksum computed with the home address as source (Home Address option)")

    # 7. The correspondent regenerates the tokens from the nonce indices and verifies.
    source = hoa if args.deregister else coa
    ok = cn.verify_binding_update(bu, home_address=hoa, source_address=source, now=now + 0.3,
                                  tracer=rec)
    ba = cn.acknowledge(ok, 0, min(lifetime, rr.MAX_RR_BINDING_LIFETIME // 4), tracer=rec)
    emit(rec, "Binding Acknowledgement", "MH type 6 | Binding Authorization Data (same Kbm)",
         "RFC 6275 §6.1.8, §9.5.4", {"status": 0, "sequence": args.sequence}, ba,
         "the mobile node checks it with its own Kbm")
    mn.verify_acknowledgement(ba, now + 0.4, tracer=rec)
    return rec
