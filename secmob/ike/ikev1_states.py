"""The IKEv1 session's states and its transition table (RFC 2409 §5, §5.5).

The whole state machine of :class:`secmob.ike.ikev1_exchange.Session` is
:data:`TRANSITIONS`: for a role and a state, the handler that processes the
peer's next message, what that message carries, what the session sends back,
the next state and the event it reports. :func:`state_table` renders it (the
table in ``docs/ikev1-exchange.md`` is its output).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["TRANSITIONS", "Role", "State", "Transition", "state_table"]


class Role(Enum):
    INITIATOR = "initiator"
    RESPONDER = "responder"


class State(Enum):
    START = "start"
    MM1_SENT = "mm1-sent"
    MM2_SENT = "mm2-sent"
    MM3_SENT = "mm3-sent"
    MM4_SENT = "mm4-sent"
    MM5_SENT = "mm5-sent"
    PHASE1_DONE = "phase1-done"
    QM1_SENT = "qm1-sent"
    QM2_SENT = "qm2-sent"
    ESTABLISHED = "established"


@dataclass(frozen=True)
class Transition:
    """What a session in ``state`` does with the peer's next message."""

    handler: str
    receives: str
    sends: str
    next: State
    event: str = ""


#: (role, state) -> transition. ``*`` marks encrypted messages.
TRANSITIONS: dict[tuple[Role, State], Transition] = {
    (Role.INITIATOR, State.MM1_SENT): Transition("_i_mm2", "MM2 (SA)", "MM3 (KE, Ni)",
                                                 State.MM3_SENT),
    (Role.INITIATOR, State.MM3_SENT): Transition("_i_mm4", "MM4 (KE, Nr)", "MM5* (IDii, HASH_I)",
                                                 State.MM5_SENT),
    (Role.INITIATOR, State.MM5_SENT): Transition("_i_mm6", "MM6* (IDir, HASH_R)",
                                                 "QM1* (HASH(1), SA, Ni [, KE] [, IDci, IDcr])",
                                                 State.QM1_SENT, "Phase1Done"),
    (Role.INITIATOR, State.QM1_SENT): Transition("_i_qm2", "QM2* (HASH(2), SA, Nr [, KE] ...)",
                                                 "QM3* (HASH(3))", State.ESTABLISHED,
                                                 "QuickModeDone"),
    (Role.RESPONDER, State.START): Transition("_r_mm1", "MM1 (SA)", "MM2 (SA)", State.MM2_SENT),
    (Role.RESPONDER, State.MM2_SENT): Transition("_r_mm3", "MM3 (KE, Ni)", "MM4 (KE, Nr)",
                                                 State.MM4_SENT),
    (Role.RESPONDER, State.MM4_SENT): Transition("_r_mm5", "MM5* (IDii, HASH_I)",
                                                 "MM6* (IDir, HASH_R)", State.PHASE1_DONE,
                                                 "Phase1Done"),
    (Role.RESPONDER, State.PHASE1_DONE): Transition("_r_qm1", "QM1* (HASH(1), SA, Ni ...)",
                                                    "QM2* (HASH(2), SA, Nr [, KE] ...)",
                                                    State.QM2_SENT),
    (Role.RESPONDER, State.QM2_SENT): Transition("_r_qm3", "QM3* (HASH(3))", "--",
                                                 State.ESTABLISHED, "QuickModeDone"),
}


def state_table() -> str:
    """:data:`TRANSITIONS` as a Markdown table (the one in docs/ikev1-exchange.md)."""
    rows = ["| role | state | on receiving | sends | next state | event |",
            "|---|---|---|---|---|---|",
            "| initiator | start | `start()` | MM1 (SA) | mm1-sent |  |"]
    for (role, state), t in TRANSITIONS.items():
        rows.append(f"| {role.value} | {state.value} | {t.receives} | {t.sends} | "
                    f"{t.next.value} | {t.event} |")
    return "\n".join(rows)
