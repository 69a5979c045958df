"""``secmob explain mip6``: Mobile IPv6 home registration and route
optimisation with real values (RFC 6275, RFC 3963 with ``--nemo``).

Plays the seed scenario of :mod:`secmob.mip6.scenario` with a recorder on
the network and the nodes, so the steps come in the order they happen:
each scenario step, every packet (summary, RFC sections, octets), what each
node did with it (binding accepted, refused, tunnelled, ...) and the Return
Routability crypto of :mod:`secmob.mip6.rr` (init cookies, keygen tokens,
Kbm, the Binding Update and Acknowledgement authenticators), with the
deregistration Kbm from the home keygen token alone at the end. Every
random value comes from a counter RNG, so each run prints the same numbers.
"""

from __future__ import annotations

import argparse

from secmob.explain import topic
from secmob.mip6.scenario import run_scenario
from secmob.trace import Recorder


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--nemo", action="store_true",
                   help="a mobile router with a network behind it (RFC 3963)")


@topic("mip6", "Mobile IPv6: movement, ESP-protected home registration, tunnelling, "
       "return routability, route optimisation, deregistration", _configure)
def run(args: argparse.Namespace) -> Recorder:
    rec = Recorder()
    run_scenario(nemo=bool(getattr(args, "nemo", False)), tracer=rec)
    return rec
