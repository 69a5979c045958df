"""Two IKEv1 sessions wired to each other in one process.

:func:`negotiate` carries each message of one :class:`~secmob.ike.ikev1_exchange.Session`
to the other until neither has anything to send: Main Mode (six messages)
and Quick Mode (three). It is the loop a test, a benchmark or a worked
example needs; a real deployment puts a UDP socket between the two calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from secmob.errors import UsageError
from secmob.ike.ikev1_config import Phase1Done, QuickModeDone
from secmob.ike.ikev1_exchange import Session
from secmob.ike.ikev1_states import Role

__all__ = ["Transcript", "negotiate"]


@dataclass(frozen=True)
class Transcript:
    """Every message sent, in order (the initiator sends the odd-numbered ones),
    and the events each side reported."""

    messages: tuple[bytes, ...]
    initiator_events: tuple[Phase1Done | QuickModeDone, ...]
    responder_events: tuple[Phase1Done | QuickModeDone, ...]


def negotiate(initiator: Session, responder: Session) -> Transcript:
    """Run ``initiator`` against ``responder`` until the exchange ends.

    Errors raised by either side propagate unchanged (the side that raised
    keeps its state).
    """
    if initiator.role is not Role.INITIATOR or responder.role is not Role.RESPONDER:
        raise UsageError("negotiate() takes an initiator and a responder session")
    messages = [initiator.start()]
    events: dict[Role, list[Phase1Done | QuickModeDone]] = {Role.INITIATOR: [],
                                                            Role.RESPONDER: []}
    turn = responder
    while True:
        out = turn.receive(messages[-1])
        events[turn.role].extend(out.events)
        if out.message is None:
            break
        messages.append(out.message)
        turn = initiator if turn is responder else responder
    return Transcript(tuple(messages), tuple(events[Role.INITIATOR]),
                      tuple(events[Role.RESPONDER]))
