"""Requests: the dashboard's list, a request, its draft (ETag / If-Match), its moves and timeline.

Every write goes through the request area's services, which hold the rules; every read through
its queries, scoped by the policy. Out of scope answers 404, never 403, so that nothing leaks.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask.typing import ResponseReturnValue
from flask_login import current_user

from exchange import policy
from exchange.api import present
from exchange.api import queries as api_queries
from exchange.api.blueprint import blp
from exchange.api.blueprint import check_if_match as check_version
from exchange.api.request_schemas import (
    DraftIn,
    EventListOut,
    MoveIn,
    PersonIn,
    PersonOut,
    RequestIn,
    RequestOut,
    RequestPageOut,
    RequestQueryIn,
)
from exchange.auth.permissions import permission_required
from exchange.cases import queries as case_queries
from exchange.directory import queries as directory
from exchange.directory.models import Authority
from exchange.extensions import db
from exchange.mla import lifecycle, queries, services
from exchange.mla.blueprint import targets
from exchange.mla.models import MlaRequest
from exchange.mla.particulars import REQUIRED_FROM_USERS, REQUIRED_PAYLOAD

# What the portal's form of moves sends besides the required particulars, move by move.
OPTIONAL_PARTICULARS: dict[str, frozenset[str]] = {
    "close": frozenset({"reason"}),
    "accept_conditions": frozenset({"reason"}),
    "refuse": frozenset({"no_consultation_reason"}),
    "postpone": frozenset({"no_consultation_reason", "until"}),
    "propose_conditions": frozenset({"kinds"}),
    "take_note": frozenset({"reference"}),
    "assign": frozenset({"officer"}),
    "execute": frozenset({"annexes"}),
    "execute_partially": frozenset({"annexes"}),
}
# Moves with an operation of their own.
OWN_OPERATIONS = frozenset({"create", "submit", "approve", "transmit"})
PRECONDITION = {
    412: {"description": "The request changed since the ETag sent in If-Match."},
}


def etag(req: MlaRequest) -> str:
    """Return the entity tag of a request's current version (the portal's)."""
    return f'"{req.public_id}-v{req.version}"'


def load_request(public_id: str) -> MlaRequest:
    """Return a request the user may see, or answer 404."""
    found = queries.find_request(db.session, current_user, public_id)
    if found is None:
        abort(404)
    return found


def check_if_match(req: MlaRequest, *, required: bool) -> None:
    """Refuse a change made from another version than the current one (RFC 9110 section 13.1.1)."""
    check_version(etag(req), required=required)


def answer(req: MlaRequest, status: int = 200) -> ResponseReturnValue:
    """Return the request as the user sees it now, with its ETag."""
    return present.request_detail(req, current_user), status, {"ETag": etag(req)}


@blp.route("/requests", methods=["GET"], tags=["requests"])
@permission_required("requests.view")
@blp.arguments(RequestQueryIn, location="query")
@blp.response(200, RequestPageOut)
def list_requests(query: dict[str, Any]) -> dict[str, Any]:
    """List requests newest first, with the dashboard's filters and a cursor (no offset)."""
    filters = queries.Filters(
        direction=query["direction"],
        state=query["state"],
        country=query["country"].upper(),
        request_type=query["type"],
        urgent=query["urgent"],
        overdue=query["overdue"],
        mine=query["mine"],
    )
    page = queries.dashboard_page(
        db.session, current_user, filters, cursor=query["cursor"] or None, limit=query["limit"]
    )
    return {"items": [present.summary(r) for r in page.rows], "next_cursor": page.next_cursor}


def _counterpart(code: str) -> Authority:
    """Return the authority of ``code``, or refuse."""
    found = directory.authority_by_code(db.session, code)
    if found is None:
        raise services.MlaError("bad_authority")
    return found


@blp.route("/requests", methods=["POST"], tags=["requests"])
@permission_required("requests.draft")
@blp.arguments(RequestIn)
@blp.response(201, RequestOut, headers={"ETag": {"schema": {"type": "string"}}})
def create_request(body: dict[str, Any]) -> ResponseReturnValue:
    """Open a draft of one of the user's cases, to a foreign authority."""
    case = case_queries.find_case(db.session, current_user, body["case_id"])
    if case is None:
        raise services.MlaError("forbidden")  # the same answer for another team's and no case
    req = services.create_request(
        db.session,
        current_user,
        case,
        request_type=body["request_type"],
        counterpart=_counterpart(body["counterpart"]),
    )
    return answer(load_request(req.public_id), 201)


@blp.route("/requests/<public_id>", methods=["GET"], tags=["requests"])
@permission_required("requests.view")
@blp.response(200, RequestOut, headers={"ETag": {"schema": {"type": "string"}}})
def get_request(public_id: str) -> ResponseReturnValue:
    """Return a request: its contents, persons (identities for its team only), annexes, moves."""
    actor = current_user._get_current_object()  # the user itself, not the proxy, for each check
    found = api_queries.find_request(db.session, actor, public_id)
    if found is None:
        abort(404)
    return present.request_detail(found, actor), 200, {"ETag": etag(found)}


@blp.route("/requests/<public_id>", methods=["PATCH"], tags=["requests"])
@permission_required("requests.draft")
@blp.arguments(DraftIn)
@blp.response(200, RequestOut, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(412, description="Stale If-Match: the draft changed in between.")
@blp.alt_response(428, description="If-Match is missing.")
@blp.doc(
    parameters=[
        {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}
    ]
)
def edit_draft(body: dict[str, Any], public_id: str) -> ResponseReturnValue:
    """Change a draft's basics and contents, from the version named by If-Match."""
    req = load_request(public_id)
    if not policy.can_edit_draft(current_user, req):
        raise services.MlaError("forbidden")
    check_if_match(req, required=True)
    basics = {k: v for k, v in body.items() if k != "contents"}
    if basics:
        services.update_basics(
            db.session,
            current_user,
            req,
            expected_version=req.version,
            counterpart=_counterpart(basics["counterpart"])
            if "counterpart" in basics
            else req.counterpart,
            language=basics.get("language", req.language),
            legal_basis=basics.get("legal_basis", [c for c in req.legal_basis.split(",") if c]),
            urgent=basics.get("urgent", req.urgent),
            urgency_reason=basics.get("urgency_reason", req.urgency_reason),
            desired_date=basics.get("desired_date", req.desired_date),
            confidential=basics.get("confidential", req.confidential),
        )
    if body.get("contents"):
        services.update_contents(
            db.session, current_user, req, expected_version=req.version, values=body["contents"]
        )
    return answer(req)


@blp.route("/requests/<public_id>/persons", methods=["POST"], tags=["requests"])
@permission_required("requests.draft")
@blp.arguments(PersonIn)
@blp.response(201, PersonOut)
def add_person(body: dict[str, Any], public_id: str) -> dict[str, Any]:
    """Add a person concerned to a draft (the identity is stored encrypted)."""
    req = load_request(public_id)
    check_if_match(req, required=False)
    person = services.add_person(
        db.session,
        current_user,
        req,
        identity=body["identity"],
        victim=body["victim"],
        minor=body["minor"],
        witness=body["witness"],
        suspect=body["suspect"],
    )
    return present.person(person, services.person_identities(req))


@blp.route("/requests/<public_id>/persons/<person_id>", methods=["DELETE"], tags=["requests"])
@permission_required("requests.draft")
@blp.response(204)
def remove_person(public_id: str, person_id: str) -> None:
    """Remove a person concerned from a draft."""
    req = load_request(public_id)
    check_if_match(req, required=False)
    person = next((p for p in req.persons if p.public_id == person_id), None)
    if person is None:
        abort(404)
    services.remove_person(db.session, current_user, req, person)


@blp.route("/requests/<public_id>/submit", methods=["POST"], tags=["moves"])
@permission_required("requests.draft")
@blp.response(200, RequestOut, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(412, description="Stale If-Match.")
def submit(public_id: str) -> ResponseReturnValue:
    """Send a complete draft to review by the central authority."""
    req = load_request(public_id)
    check_if_match(req, required=False)
    services.submit(db.session, current_user, req)
    return answer(req)


@blp.route("/requests/<public_id>/approve", methods=["POST"], tags=["moves"])
@permission_required("requests.approve")
@blp.response(200, RequestOut, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(412, description="Stale If-Match.")
def approve(public_id: str) -> ResponseReturnValue:
    """Approve a request under review (four-eyes) and transmit it."""
    req = load_request(public_id)
    check_if_match(req, required=False)
    services.approve(db.session, current_user, req, targets=targets())
    return answer(req)


@blp.route("/requests/<public_id>/moves/<action>", methods=["POST"], tags=["moves"])
@permission_required("requests.view")
@blp.arguments(MoveIn)
@blp.response(200, RequestOut, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(412, description="Stale If-Match.")
def move(body: dict[str, Any], public_id: str, action: str) -> ResponseReturnValue:
    """Make any other move (register, assign, request information, refuse, execute, close...)."""
    req = load_request(public_id)
    if action not in lifecycle.ACTIONS or action in OWN_OPERATIONS:
        abort(404)
    check_if_match(req, required=False)
    allowed = (
        set(REQUIRED_PAYLOAD.get(action, ()))
        | set(REQUIRED_FROM_USERS.get(action, ()))
        | OPTIONAL_PARTICULARS.get(action, frozenset())
    )
    unknown = set(body) - allowed
    if unknown:
        raise services.MlaError("unknown_field", ", ".join(sorted(unknown)))
    payload: dict[str, Any] = {key: "" for key in REQUIRED_PAYLOAD.get(action, ())}
    for key, value in body.items():
        payload[key] = value.isoformat() if key == "until" else value
    services.act(db.session, current_user, req, action, payload, targets=targets())
    return answer(req)


@blp.route("/requests/<public_id>/events", methods=["GET"], tags=["requests"])
@permission_required("requests.view")
@blp.response(200, EventListOut)
def events(public_id: str) -> dict[str, Any]:
    """Return a request's timeline, oldest first."""
    return {"items": [present.event(e) for e in load_request(public_id).events]}
