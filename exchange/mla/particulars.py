"""What each move must carry: its mandatory elements, their size, and grounds its basis offers.

Called by ``lifecycle.check`` only, before any change; the table of allowed moves is there.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from exchange.mla import grounds
from exchange.mla.errors import TransitionError
from exchange.mla.models import MlaRequest

# Payload keys each action must carry (non-empty), checked before any move.
REQUIRED_PAYLOAD: dict[str, tuple[str, ...]] = {
    "request_changes": ("reason",),
    "register": ("reference",),
    "assign": ("authority",),
    "request_info": ("reason",),
    "provide_info": ("reason",),
    "postpone": ("reason",),
    "refuse": ("ground", "reason"),
    "execute_partially": ("summary",),
    "execute": ("summary",),
    "propose_conditions": ("conditions",),
    "consult": ("consultation",),
    "decline_conditions": ("reason",),
    "object_to_conditions": ("reason",),
    # Extradition and provisional arrest (``steps``): the date of an arrest or a surrender, the
    # reasons of a release, the reference of the formal request that follows a provisional arrest.
    "arrest": ("on",),
    "release": ("reason",),
    "surrender": ("on",),
    "send_formal_request": ("reference",),
    # Extraordinary costs, settled by consultation (UNTOC 18(28)).
    "consult_costs": ("costs",),
    "answer_costs": ("costs",),
}
# Keys that a person on this node must give besides. A message from a node of an earlier version
# may lack them (schemas/README.md): postponement names its ground (UNTOC 18(25)).
# A withdrawal says why (issue 15, defect 4); a peer's withdrawal may lack the reason, which
# mla.status keeps optional for nodes that send none.
REQUIRED_FROM_USERS: dict[str, tuple[str, ...]] = {"postpone": ("ground",), "withdraw": ("reason",)}
# The longest reasons a person may give: what an mla.status message carries (maxLength there).
MAX_REASON_LENGTH = 4000
# The longest free text of each payload key (as the forms and the wire schemas say).
MAX_TEXT = {
    "reason": MAX_REASON_LENGTH,
    "conditions": 4000,
    "consultation": 4000,
    "no_consultation_reason": 4000,
    "summary": 8000,
    "costs": 4000,
    "reference": 80,
}
# What proposed conditions bear on: use of the results (UNTOC 18(19)), confidentiality (18(20)),
# return of materials (UN Model Treaty art. 7), anything else agreed in consultation (18(26)).
CONDITION_KINDS = ("use", "confidentiality", "return_of_materials", "other")


def check_payload(
    request: MlaRequest, action: str, payload: dict[str, Any], *, by_user: bool
) -> None:
    """Refuse a move whose payload lacks a mandatory element (a reason, a ground...), holds a
    text too long, or cites a ground that the request's legal basis does not offer.

    ``by_user``: a person on this node makes the move (else it arrives from the other side).
    """
    required = REQUIRED_PAYLOAD.get(action, ()) + (
        REQUIRED_FROM_USERS.get(action, ()) if by_user else ()
    )
    for key in required:
        value = payload.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise TransitionError(
                "missing_postponement_ground"
                if (action, key) == ("postpone", "ground")
                else f"missing_{key}"
            )
    for key, limit in MAX_TEXT.items():
        if len(str(payload.get(key) or "")) > limit:
            raise TransitionError("too_long", key)
    if payload.get("on") is not None and not _is_date(payload["on"]):
        raise TransitionError("bad_date", "on")
    kinds = payload.get("kinds", [])
    if not isinstance(kinds, list) or not set(kinds) <= set(CONDITION_KINDS):
        raise TransitionError("unknown_condition_kind")
    if action in ("refuse", "postpone") and payload.get("ground"):
        _check_ground(request, action, str(payload["ground"]), by_user=by_user)


def _is_date(value: Any) -> bool:
    """Tell whether ``value`` is a calendar date written as ISO 8601 (2026-12-02)."""
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return len(str(value)) == 10


def _check_ground(request: MlaRequest, action: str, ground: str, *, by_user: bool) -> None:
    """Refuse a ground unknown to the vocabulary, or one a person cites that the request's legal
    basis does not offer (UNTOC 18(7): a treaty's grounds replace those of 18(9)-(29))."""
    refusing = action == "refuse"
    if ground not in (grounds.REFUSAL_CODES if refusing else grounds.POSTPONEMENT_CODES):
        raise TransitionError("unknown_ground" if refusing else "unknown_postponement_ground")
    if not by_user:
        return  # the other side decided under its own table: its message is recorded as sent
    offered = grounds.offer(request.legal_basis or "")
    if ground not in (offered.refusal_codes if refusing else offered.postponement_codes):
        raise TransitionError("ground_not_for_basis", f"{ground} under {offered.instrument}")
