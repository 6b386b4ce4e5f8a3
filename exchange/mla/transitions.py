"""The transition tables of the lifecycles: which move is allowed from which state, on which side.

One table per lifecycle (``states.LIFECYCLES``), keyed by (side, state, action) and giving the
``Rule``: the new state, who makes the move (a ``user`` holding a permission, the ``peer``
authority through a message, or the ``system``) and which message goes to the other side. The
rows of extradition, provisional arrest and the consultation on costs are data in ``steps``.
``lifecycle`` reads these tables; nothing else changes a request's state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from exchange.mla import steps
from exchange.mla.models import INCOMING, OUTGOING
from exchange.mla.states import (
    CONDITIONS_MESSAGE,
    EXTRADITION_LIFECYCLE,
    INCOMING_STATES,
    MLA_LIFECYCLE,
    NOTICE_LIFECYCLE,
    OUTGOING_STATES,
    PROVISIONAL_ARREST_LIFECYCLE,
    REQUEST_MESSAGE,
    RESPONSE_MESSAGE,
    STATUS_MESSAGE,
)

USER, PEER, SYSTEM = "user", "peer", "system"

# The moves that count as the consultation UNTOC 18(26) asks for before a refusal or postponement.
CONSULTATION_ACTIONS = frozenset(
    {"propose_conditions", "consult", "accept_conditions", "decline_conditions"}
)


@dataclass(frozen=True)
class Rule:
    """One allowed move: the new state, who makes it, and the message it sends to the other side."""

    to: str
    by: str
    permission: str | None = None
    notify: str | None = None
    same: bool = False  # the move keeps the state (postpone, assign)


Table = dict[tuple[str, str, str], Rule]
TABLES: dict[str, Table] = {
    MLA_LIFECYCLE: {},
    NOTICE_LIFECYCLE: {},
    EXTRADITION_LIFECYCLE: {},
    PROVISIONAL_ARREST_LIFECYCLE: {},
}
TABLE = TABLES[MLA_LIFECYCLE]  # the table of a request for assistance


def _allow(side: str, states: Iterable[str], action: str, rule: Rule, table: Table = TABLE) -> None:
    """Add ``rule`` for ``action`` from each of ``states`` on ``side`` to ``table``."""
    for state in states:
        to = state if rule.same else rule.to
        table[(side, state, action)] = Rule(to, rule.by, rule.permission, rule.notify, rule.same)


# --- requesting side ------------------------------------------------------------------------
_REQ_OPEN_ABROAD = (
    "transmitted",
    "delivered",
    "acknowledged",
    "in_execution",
    "info_requested",
    "conditions_proposed",
    "partially_executed",
)
_REQ_WORKING = ("acknowledged", "in_execution", "partially_executed")
# Drafting, review and transmission are the same whatever the lifecycle.
for _table in TABLES.values():
    _allow(OUTGOING, [""], "create", Rule("draft", USER, "requests.draft"), _table)
    _allow(
        OUTGOING,
        ["draft", "changes_requested"],
        "submit",
        Rule("in_review", USER, "requests.draft"),
        _table,
    )
    _allow(OUTGOING, ["in_review"], "approve", Rule("approved", USER, "requests.approve"), _table)
    _allow(
        OUTGOING,
        ["in_review"],
        "request_changes",
        Rule("changes_requested", USER, "requests.approve"),
        _table,
    )
    _allow(
        OUTGOING,
        ["approved"],
        "transmit",
        Rule("transmitted", USER, "requests.approve", REQUEST_MESSAGE),
        _table,
    )
    _allow(OUTGOING, ["transmitted"], "deliver", Rule("delivered", SYSTEM), _table)
    _allow(
        OUTGOING,
        ["draft", "changes_requested", "in_review", "approved"],
        "withdraw",
        Rule("withdrawn", USER, "requests.draft"),
        _table,
    )
    _allow(INCOMING, [""], "receive", Rule("received", PEER), _table)

_allow(OUTGOING, ["transmitted", "delivered"], "acknowledge", Rule("acknowledged", PEER))
_allow(
    OUTGOING,
    ["transmitted", "delivered", "acknowledged"],
    "start_execution",
    Rule("in_execution", PEER),
)
_allow(OUTGOING, _REQ_WORKING, "request_info", Rule("info_requested", PEER))
_allow(
    OUTGOING,
    ["info_requested"],
    "provide_info",
    Rule("in_execution", USER, "requests.draft", STATUS_MESSAGE),
)
_allow(OUTGOING, _REQ_WORKING, "postpone", Rule("", PEER, same=True))
# Consultation before refusal or postponement (UNTOC 18(26)): the requested side proposes
# conditions, which the requesting side accepts (and must then comply with) or declines.
_allow(OUTGOING, _REQ_WORKING, "propose_conditions", Rule("conditions_proposed", PEER))
_allow(
    OUTGOING,
    ["conditions_proposed"],
    "accept_conditions",
    Rule("in_execution", USER, "requests.draft", CONDITIONS_MESSAGE),
)
_allow(
    OUTGOING,
    ["conditions_proposed"],
    "decline_conditions",
    Rule("in_execution", USER, "requests.draft", CONDITIONS_MESSAGE),
)
_allow(OUTGOING, _REQ_OPEN_ABROAD, "consult", Rule("", PEER, same=True))
_allow(OUTGOING, _REQ_WORKING, "execute_partially", Rule("partially_executed", PEER))
_allow(OUTGOING, _REQ_WORKING, "execute", Rule("executed", PEER))
_allow(OUTGOING, _REQ_OPEN_ABROAD, "refuse", Rule("refused", PEER))
_allow(
    OUTGOING,
    ["executed", "refused", "partially_executed"],
    "close",
    Rule("closed", USER, "requests.draft"),
)
# Withdrawal once abroad: "no longer required" (UNTOC 18(24)) is told to the requested side.
_allow(
    OUTGOING,
    _REQ_OPEN_ABROAD,
    "withdraw",
    Rule("withdrawn", USER, "requests.draft", STATUS_MESSAGE),
)

# --- requested side -------------------------------------------------------------------------
_RCV_WORKING = ("registered", "in_execution", "partially_executed")
_RCV_OPEN = ("received", *_RCV_WORKING, "info_requested", "conditions_proposed")
_allow(
    INCOMING,
    ["received"],
    "register",
    Rule("registered", USER, "requests.register", STATUS_MESSAGE),
)
_allow(
    INCOMING,
    [*_RCV_WORKING, "info_requested", "conditions_proposed"],
    "assign",
    Rule("", USER, "requests.register", same=True),
)
_allow(
    INCOMING,
    ["registered"],
    "start_execution",
    Rule("in_execution", USER, "requests.execute", STATUS_MESSAGE),
)
# Additional information: UNTOC 18(16); ECOWAS 5(3).
_allow(
    INCOMING,
    _RCV_WORKING,
    "request_info",
    Rule("info_requested", USER, "requests.execute", STATUS_MESSAGE),
)
_allow(INCOMING, ["info_requested"], "provide_info", Rule("in_execution", PEER))
# Postponement with its ground and reasons, after consultation: UNTOC 18(25)-(26).
_allow(
    INCOMING,
    _RCV_WORKING,
    "postpone",
    Rule("", USER, "requests.execute", STATUS_MESSAGE, same=True),
)
_allow(
    INCOMING,
    _RCV_WORKING,
    "propose_conditions",
    Rule("conditions_proposed", USER, "requests.execute", CONDITIONS_MESSAGE),
)
_allow(INCOMING, ["conditions_proposed"], "accept_conditions", Rule("in_execution", PEER))
_allow(INCOMING, ["conditions_proposed"], "decline_conditions", Rule("in_execution", PEER))
_allow(
    INCOMING,
    _RCV_OPEN,
    "consult",
    Rule("", USER, "requests.execute", CONDITIONS_MESSAGE, same=True),
)
_allow(
    INCOMING,
    _RCV_WORKING,
    "execute_partially",
    Rule("partially_executed", USER, "requests.execute", RESPONSE_MESSAGE),
)
_allow(
    INCOMING, _RCV_WORKING, "execute", Rule("executed", USER, "requests.execute", RESPONSE_MESSAGE)
)
_allow(
    INCOMING,
    _RCV_OPEN,
    "refuse",
    Rule("refused", USER, "requests.execute", STATUS_MESSAGE),
)
_allow(
    INCOMING,
    ["executed", "refused", "withdrawn"],
    "close",
    Rule("closed", USER, "requests.register"),
)
_allow(INCOMING, _RCV_OPEN, "withdraw", Rule("withdrawn", PEER))

# --- a notice: spontaneous information (UNTOC 18(4)-(5)) ---------------------------------------
# The receiving state takes note and respects the conditions on use and confidentiality (18(5));
# it may object to them. Nothing is executed, refused or postponed.
_NOTICE = TABLES[NOTICE_LIFECYCLE]
_allow(OUTGOING, ["transmitted", "delivered"], "acknowledge", Rule("acknowledged", PEER), _NOTICE)
_allow(
    OUTGOING,
    ["transmitted", "delivered", "acknowledged"],
    "object_to_conditions",
    Rule("", PEER, same=True),
    _NOTICE,
)
_allow(
    OUTGOING,
    ["delivered", "acknowledged"],
    "close",
    Rule("closed", USER, "requests.draft"),
    _NOTICE,
)
_allow(
    INCOMING,
    ["received"],
    "take_note",
    Rule("noted", USER, "requests.register", STATUS_MESSAGE),
    _NOTICE,
)
_allow(
    INCOMING,
    ["received", "noted"],
    "object_to_conditions",
    Rule("", USER, "requests.register", CONDITIONS_MESSAGE, same=True),
    _NOTICE,
)
_allow(INCOMING, ["noted"], "close", Rule("closed", USER, "requests.register"), _NOTICE)

# --- extradition, provisional arrest, and the consultation on costs: rows of data -----------------
for _step in (*steps.STEPS, *steps.COST_STEPS):
    for _name in _step.lifecycles:
        _allow(
            _step.side,
            _step.states,
            _step.action,
            Rule(_step.to, _step.by, _step.permission, _step.notify, _step.same),
            TABLES[_name],
        )
# The retrieval evidence (ETSI REM): a person at the requested authority first opened the request.
# It keeps the state; recorded there by the system when the page is first opened, and here when
# its evidence arrives (``mla.evidence``). Never a button.
_allow(
    OUTGOING,
    [*_REQ_OPEN_ABROAD, "executed", "refused", "withdrawn", "closed"],
    "retrieve",
    Rule("", PEER, same=True),
)
_allow(
    INCOMING,
    [*_RCV_OPEN, "executed", "refused", "withdrawn", "closed"],
    "retrieve",
    Rule("", SYSTEM, same=True),
)
_allow(
    OUTGOING,
    ["transmitted", "delivered", "acknowledged", "closed"],
    "retrieve",
    Rule("", PEER, same=True),
    _NOTICE,
)
_allow(INCOMING, ["received", "noted", "closed"], "retrieve", Rule("", SYSTEM, same=True), _NOTICE)
# Extradition and provisional arrest: the same evidence, from whatever state the request is in
# once it has left (the rows of their own steps are data, above).
for _name in (EXTRADITION_LIFECYCLE, PROVISIONAL_ARREST_LIFECYCLE):
    _table = TABLES[_name]
    _sent = {s for (side, s, _a), r in _table.items() if side == OUTGOING} | {
        r.to for (side, _s, _a), r in _table.items() if side == OUTGOING
    }
    _sent -= {"", "draft", "changes_requested", "submitted", "approved"}
    _allow(OUTGOING, sorted(_sent), "retrieve", Rule("", PEER, same=True), _table)
    _held = {s for (side, s, _a) in _table if side == INCOMING} | {
        r.to for (side, _s, _a), r in _table.items() if side == INCOMING
    }
    _allow(INCOMING, sorted(_held - {""}), "retrieve", Rule("", SYSTEM, same=True), _table)

ACTIONS: frozenset[str] = frozenset(a for table in TABLES.values() for (_s, _f, a) in table)

# The tables reach only the declared states of each side (states.py lists them for the pages).
_DECLARED = {OUTGOING: set(OUTGOING_STATES), INCOMING: set(INCOMING_STATES)}
if any(
    rule.to not in _DECLARED[side]
    for table in TABLES.values()
    for (side, _f, _a), rule in table.items()
):
    raise RuntimeError("the transition table reaches a state that states.py does not declare")

# A move made on one side arrives on the other side as this action (same name unless listed).
PEER_ACTION = {"register": "acknowledge", "transmit": "receive", "take_note": "acknowledge"}
