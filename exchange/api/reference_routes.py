"""Case references beyond sharing one: those of a case, linking a received one to an own case
(ETag / If-Match), and the consultation thread about a reference, through the portal's services.

Out of scope answers 404, never 403, so that nothing leaks; the policy decides in the services.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask.typing import ResponseReturnValue
from flask_login import current_user

from exchange.api import present
from exchange.api.blueprint import blp, check_if_match
from exchange.api.case_routes import load_case
from exchange.api.request_schemas import MessageListOut, MessageOut
from exchange.api.schemas import LinkIn, ReferenceListOut, ReferenceMessageIn, ReferenceOut
from exchange.auth.permissions import permission_required
from exchange.cases import queries, services
from exchange.cases.models import CaseReference
from exchange.extensions import db
from exchange.mla import services as mla_services

ETAG = {"ETag": {"schema": {"type": "string"}}}


def load_reference(public_id: str) -> CaseReference:
    """Return a case reference the user may see, or answer 404."""
    found = queries.find_reference(db.session, current_user, public_id)
    if found is None:
        abort(404)
    return found


@blp.route("/cases/<public_id>/references", methods=["GET"], tags=["references"])
@permission_required("cases.view")
@blp.response(200, ReferenceListOut)
def case_references(public_id: str) -> dict[str, Any]:
    """List the references shared from a case, or linked to it, newest first (its page's)."""
    rows = queries.case_references(db.session, load_case(public_id))
    return {"items": [present.reference(r) for r in rows]}


@blp.route("/references/<public_id>/link", methods=["POST"], tags=["references"])
@permission_required("references.share")
@blp.arguments(LinkIn)
@blp.response(200, ReferenceOut, headers=ETAG)
@blp.alt_response(412, description="Stale If-Match: the reference changed in between.")
def link_reference(body: dict[str, Any], public_id: str) -> ResponseReturnValue:
    """Link a received case reference to one of the user's cases; the sender is told which."""
    found = load_reference(public_id)
    check_if_match(present.reference_etag(found), required=False)
    case = queries.find_case(db.session, current_user, body["case_id"])
    if case is None:
        raise services.CaseError("forbidden")  # the same answer for another team's and no case
    services.link_reference(db.session, current_user, found, case)
    return present.reference(found), 200, {"ETag": present.reference_etag(found)}


@blp.route("/references/<public_id>/messages", methods=["GET"], tags=["references"])
@permission_required("references.share")
@blp.response(200, MessageListOut)
def reference_messages(public_id: str) -> dict[str, Any]:
    """Return the messages sent and received about a case reference, oldest first."""
    entries = mla_services.reference_entries(db.session, current_user, load_reference(public_id))
    return {"items": [present.thread_entry(e) for e in entries]}


@blp.route("/references/<public_id>/messages", methods=["POST"], tags=["references"])
@permission_required("messages.send")
@blp.arguments(ReferenceMessageIn)
@blp.response(201, MessageOut)
def post_reference_message(body: dict[str, Any], public_id: str) -> dict[str, Any]:
    """Send a message about a case reference (a consultation before any request)."""
    found = load_reference(public_id)
    message = mla_services.send_message(
        db.session, current_user, body=body["body"], kind=body["kind"], reference=found
    )
    return {
        "at": message.created_at,
        "where": message.direction,
        "kind": message.kind,
        "author": current_user.display_name,
        "body": mla_services.message_body(message),
    }
