"""The states of a request and the types of the messages its moves send: plain names.

Kept apart from ``lifecycle`` (the transition table), so that the access policy and the payload
builders can name a state without importing the module that moves requests (no import cycle).
"""

from __future__ import annotations

STATUS_MESSAGE = "mla.status"
REQUEST_MESSAGE = "mla.request"
RESPONSE_MESSAGE = "mla.response"
CONDITIONS_MESSAGE = "mla.conditions"

# The lifecycles a request type may run (its ``lifecycle`` key): the full one of a request for
# assistance; the short one of a notice (spontaneous information, UNTOC 18(4)-(5)); extradition
# (ECOWAS A/P.1/8/94; UNTOC 16), and provisional arrest pending the formal extradition request.
MLA_LIFECYCLE, NOTICE_LIFECYCLE, EXTRADITION_LIFECYCLE = "mla", "notice", "extradition"
PROVISIONAL_ARREST_LIFECYCLE = "provisional_arrest"
LIFECYCLES = (MLA_LIFECYCLE, NOTICE_LIFECYCLE, EXTRADITION_LIFECYCLE, PROVISIONAL_ARREST_LIFECYCLE)

# The states of extradition and provisional arrest, on both sides (lifecycle ``steps``).
EXTRADITION_STATES = (
    "person_arrested",
    "released",
    "formal_request_sent",
    "extradition_granted",
    "surrendered",
)

OUTGOING_STATES = (
    "draft",
    "in_review",
    "changes_requested",
    "approved",
    "transmitted",
    "delivered",
    "acknowledged",
    "in_execution",
    "info_requested",
    "conditions_proposed",
    "partially_executed",
    "executed",
    "refused",
    "withdrawn",
    "closed",
    *EXTRADITION_STATES,
)
INCOMING_STATES = (
    "received",
    "noted",
    "registered",
    "in_execution",
    "info_requested",
    "conditions_proposed",
    "partially_executed",
    "executed",
    "refused",
    "withdrawn",
    "closed",
    *EXTRADITION_STATES,
)
EDITABLE_STATES = frozenset({"draft", "changes_requested"})
FINAL_STATES = frozenset(
    {"closed", "withdrawn", "refused", "executed", "surrendered", "formal_request_sent"}
)
# Timeline entries that record a view, not a move: the reviewing officer was shown the
# identities a request discloses. The fold of the events passes over them.
VIEW_DISCLOSURE = "view_disclosure"
# Timeline entries of the paper channel (exchange.documents): a signed bundle built, the request
# or its answer dispatched by an official channel, and received by the other side. Records, not
# moves: the state and the request's version stay as they are.
BUNDLE_BUILT, PAPER_DISPATCHED, PAPER_RECEIVED = (
    "bundle_built",
    "paper_dispatched",
    "paper_received",
)
PAPER_RECORDS = frozenset({BUNDLE_BUILT, PAPER_DISPATCHED, PAPER_RECEIVED})
RECORDED_VIEWS = frozenset({VIEW_DISCLOSURE, *PAPER_RECORDS})
