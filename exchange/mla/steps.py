"""The steps of extradition, of provisional arrest, and of the consultation on costs, as data.

``lifecycle`` loads these rows into its transition tables, beside the drafting, review and
transmission that every lifecycle shares. One row: the lifecycles it belongs to, the side, the
states it leaves, the action, the state it reaches (empty with ``same``: the move keeps the
state), who makes it (a ``user`` on this node with ``permission``, or the ``peer`` by message)
and the message it sends to the other side.

Extradition is not mutual assistance (UN Model Treaty on MLA art. 1(3)): it has its own
convention (ECOWAS A/P.1/8/94; UNTOC 16) and its own steps. The requested state arrests the person
sought, may release them, and decides: extradition granted, then the surrender, or refused (with
reasons and, where appropriate, after consulting the requesting state: UNTOC 16(16)). Its
procedure is the requested state's law (A/P.1/8/94 art. 28(2)). A provisional arrest, in urgency,
precedes the formal request (UNTOC 16(9)): once the person is arrested, the formal request must
follow within the convention's time limit (the type's ``deadline``), or the person is released;
a release does not prevent a new arrest once the request arrives.

Costs (UNTOC 18(28)): the requested state bears the ordinary costs of executing a request;
extraordinary costs are settled by consultation. Either side records that consultation; it is
not the consultation on conditions that UNTOC 18(26) asks for before a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange.mla.models import INCOMING, OUTGOING
from exchange.mla.states import (
    CONDITIONS_MESSAGE,
    EXTRADITION_LIFECYCLE,
    MLA_LIFECYCLE,
    PROVISIONAL_ARREST_LIFECYCLE,
    STATUS_MESSAGE,
)

USER, PEER = "user", "peer"
EXTRADITION = (EXTRADITION_LIFECYCLE,)
PROVISIONAL = (PROVISIONAL_ARREST_LIFECYCLE,)
BOTH = (EXTRADITION_LIFECYCLE, PROVISIONAL_ARREST_LIFECYCLE)


@dataclass(frozen=True)
class Step:
    """One row of a transition table, as data."""

    lifecycles: tuple[str, ...]
    side: str
    states: tuple[str, ...]
    action: str
    to: str
    by: str
    permission: str | None = None
    notify: str | None = None

    @property
    def same(self) -> bool:
        """Tell whether the move keeps the state (an empty ``to``)."""
        return self.to == ""


# --- requesting side: what the requested side's messages do, and this side's own moves ----------
_ABROAD = ("transmitted", "delivered", "acknowledged")
_EXT_OPEN = (*_ABROAD, "person_arrested", "released", "extradition_granted")
_PA_OPEN = (*_ABROAD, "person_arrested", "released")
# --- requested side ---------------------------------------------------------------------------
_EXT_WORKING = ("registered", "person_arrested", "released")
_EXT_RCV_OPEN = ("received", *_EXT_WORKING, "extradition_granted")
_PA_RCV_OPEN = ("received", *_EXT_WORKING)

STEPS: tuple[Step, ...] = (
    # Requesting side (extradition and provisional arrest alike).
    Step(BOTH, OUTGOING, ("transmitted", "delivered"), "acknowledge", "acknowledged", PEER),
    Step(BOTH, OUTGOING, (*_ABROAD, "released"), "arrest", "person_arrested", PEER),
    Step(BOTH, OUTGOING, ("person_arrested",), "release", "released", PEER),
    Step(BOTH, OUTGOING, ("acknowledged", "person_arrested", "released"), "request_info", "", PEER),
    Step(
        BOTH,
        OUTGOING,
        ("acknowledged", "person_arrested", "released"),
        "provide_info",
        "",
        USER,
        "requests.draft",
        STATUS_MESSAGE,
    ),
    Step(EXTRADITION, OUTGOING, _EXT_OPEN, "consult", "", PEER),
    Step(PROVISIONAL, OUTGOING, _PA_OPEN, "consult", "", PEER),
    Step(EXTRADITION, OUTGOING, _EXT_OPEN[:-1], "refuse", "refused", PEER),
    Step(PROVISIONAL, OUTGOING, _ABROAD, "refuse", "refused", PEER),
    Step(
        EXTRADITION,
        OUTGOING,
        ("acknowledged", "person_arrested", "released"),
        "grant_extradition",
        "extradition_granted",
        PEER,
    ),
    Step(EXTRADITION, OUTGOING, ("extradition_granted",), "surrender", "surrendered", PEER),
    # Provisional arrest: the requesting side tells that the formal request has been sent, which
    # ends the time limit running since the arrest (UNTOC 16(9); A/P.1/8/94 art. 22).
    Step(
        PROVISIONAL,
        OUTGOING,
        _PA_OPEN,
        "send_formal_request",
        "formal_request_sent",
        USER,
        "requests.draft",
        STATUS_MESSAGE,
    ),
    # Withdrawal once abroad is told to the requested side, with its reasons.
    Step(
        EXTRADITION,
        OUTGOING,
        _EXT_OPEN,
        "withdraw",
        "withdrawn",
        USER,
        "requests.draft",
        STATUS_MESSAGE,
    ),
    Step(
        PROVISIONAL,
        OUTGOING,
        _PA_OPEN,
        "withdraw",
        "withdrawn",
        USER,
        "requests.draft",
        STATUS_MESSAGE,
    ),
    Step(
        EXTRADITION, OUTGOING, ("surrendered", "refused"), "close", "closed", USER, "requests.draft"
    ),
    Step(
        PROVISIONAL,
        OUTGOING,
        ("formal_request_sent", "released", "refused"),
        "close",
        "closed",
        USER,
        "requests.draft",
    ),
    # Requested side.
    Step(
        BOTH,
        INCOMING,
        ("received",),
        "register",
        "registered",
        USER,
        "requests.register",
        STATUS_MESSAGE,
    ),
    Step(EXTRADITION, INCOMING, _EXT_RCV_OPEN[1:], "assign", "", USER, "requests.register"),
    Step(PROVISIONAL, INCOMING, _PA_RCV_OPEN[1:], "assign", "", USER, "requests.register"),
    Step(
        BOTH,
        INCOMING,
        ("registered", "released"),
        "arrest",
        "person_arrested",
        USER,
        "requests.execute",
        STATUS_MESSAGE,
    ),
    Step(
        BOTH,
        INCOMING,
        ("person_arrested",),
        "release",
        "released",
        USER,
        "requests.execute",
        STATUS_MESSAGE,
    ),
    Step(
        BOTH,
        INCOMING,
        _EXT_WORKING,
        "request_info",
        "",
        USER,
        "requests.execute",
        STATUS_MESSAGE,
    ),
    Step(BOTH, INCOMING, _EXT_WORKING, "provide_info", "", PEER),
    # Before refusing extradition, the requested state consults where appropriate (UNTOC 16(16)).
    Step(
        EXTRADITION,
        INCOMING,
        _EXT_RCV_OPEN,
        "consult",
        "",
        USER,
        "requests.execute",
        CONDITIONS_MESSAGE,
    ),
    Step(
        PROVISIONAL,
        INCOMING,
        _PA_RCV_OPEN,
        "consult",
        "",
        USER,
        "requests.execute",
        CONDITIONS_MESSAGE,
    ),
    Step(
        EXTRADITION,
        INCOMING,
        _EXT_WORKING,
        "grant_extradition",
        "extradition_granted",
        USER,
        "requests.execute",
        STATUS_MESSAGE,
    ),
    Step(
        EXTRADITION,
        INCOMING,
        ("extradition_granted",),
        "surrender",
        "surrendered",
        USER,
        "requests.execute",
        STATUS_MESSAGE,
    ),
    Step(
        EXTRADITION,
        INCOMING,
        ("received", *_EXT_WORKING),
        "refuse",
        "refused",
        USER,
        "requests.execute",
        STATUS_MESSAGE,
    ),
    # A provisional arrest is refused before any arrest; once arrested, the person is released.
    Step(
        PROVISIONAL,
        INCOMING,
        ("received", "registered"),
        "refuse",
        "refused",
        USER,
        "requests.execute",
        STATUS_MESSAGE,
    ),
    Step(PROVISIONAL, INCOMING, _PA_RCV_OPEN, "send_formal_request", "formal_request_sent", PEER),
    Step(EXTRADITION, INCOMING, _EXT_RCV_OPEN, "withdraw", "withdrawn", PEER),
    Step(PROVISIONAL, INCOMING, _PA_RCV_OPEN, "withdraw", "withdrawn", PEER),
    Step(
        EXTRADITION,
        INCOMING,
        ("surrendered", "refused", "withdrawn"),
        "close",
        "closed",
        USER,
        "requests.register",
    ),
    Step(
        PROVISIONAL,
        INCOMING,
        ("formal_request_sent", "released", "refused", "withdrawn"),
        "close",
        "closed",
        USER,
        "requests.register",
    ),
)

# A move that answers another is possible only once that one is on the request's timeline.
ANSWERS = {"answer_costs": "consult_costs"}

# Extraordinary costs (UNTOC 18(28)), in a request for assistance: the requested side raises
# them, the requesting side answers; neither move changes the state.
_MLA_RCV_OPEN = (
    "received",
    "registered",
    "in_execution",
    "partially_executed",
    "info_requested",
    "conditions_proposed",
)
_MLA_REQ_OPEN = (
    "transmitted",
    "delivered",
    "acknowledged",
    "in_execution",
    "info_requested",
    "conditions_proposed",
    "partially_executed",
)
COST_STEPS: tuple[Step, ...] = (
    Step(
        (MLA_LIFECYCLE,),
        INCOMING,
        _MLA_RCV_OPEN,
        "consult_costs",
        "",
        USER,
        "requests.execute",
        CONDITIONS_MESSAGE,
    ),
    Step((MLA_LIFECYCLE,), OUTGOING, _MLA_REQ_OPEN, "consult_costs", "", PEER),
    Step(
        (MLA_LIFECYCLE,),
        OUTGOING,
        _MLA_REQ_OPEN,
        "answer_costs",
        "",
        USER,
        "requests.draft",
        CONDITIONS_MESSAGE,
    ),
    Step((MLA_LIFECYCLE,), INCOMING, _MLA_RCV_OPEN, "answer_costs", "", PEER),
)
