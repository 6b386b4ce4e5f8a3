"""Cases, their teams and their case references, through the cases area's services."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from exchange import policy
from exchange.api import present
from exchange.api.blueprint import blp
from exchange.api.request_schemas import RequestPageOut
from exchange.api.schemas import (
    CaseEditIn,
    CaseIn,
    CaseListOut,
    CaseOut,
    MemberIn,
    MemberOut,
    ReferenceListOut,
    ReferenceOut,
    ShareIn,
    TeamOut,
)
from exchange.auth.models import User
from exchange.auth.permissions import permission_required
from exchange.cases import queries, services
from exchange.cases.models import Case
from exchange.directory import queries as directory
from exchange.extensions import db
from exchange.mla import queries as mla_queries


def load_case(public_id: str) -> Case:
    """Return a case the user may see, or answer 404 (never 403: nothing leaks)."""
    found = queries.find_case(db.session, current_user, public_id)
    if found is None:
        abort(404)
    return found


@blp.route("/cases", methods=["GET"], tags=["cases"])
@permission_required("cases.view")
@blp.response(200, CaseListOut)
def list_cases() -> dict[str, Any]:
    """List the cases the user is on the team of."""
    return {"items": [present.case(c) for c in queries.visible_cases(db.session, current_user)]}


@blp.route("/cases", methods=["POST"], tags=["cases"])
@permission_required("cases.manage")
@blp.arguments(CaseIn)
@blp.response(201, CaseOut)
def create_case(body: dict[str, Any]) -> dict[str, Any]:
    """Open a case of the user's authority; its creator joins its team."""
    case = services.create_case(
        db.session,
        current_user,
        number=body["number"],
        title=body["title"],
        offences="\n".join(body["offences"]),
        stage=body["stage"],
        border_localities="\n".join(body["border_localities"]),
    )
    return present.case(case)


@blp.route("/cases/<public_id>", methods=["GET"], tags=["cases"])
@permission_required("cases.view")
@blp.response(200, CaseOut)
def get_case(public_id: str) -> dict[str, Any]:
    """Return a case."""
    return present.case(load_case(public_id))


@blp.route("/cases/<public_id>", methods=["PATCH"], tags=["cases"])
@permission_required("cases.manage")
@blp.arguments(CaseEditIn)
@blp.response(200, CaseOut)
def edit_case(body: dict[str, Any], public_id: str) -> dict[str, Any]:
    """Change a case's title, offences, stage or border localities."""
    case = load_case(public_id)
    services.update_case(
        db.session,
        current_user,
        case,
        title=body.get("title", case.title),
        offences="\n".join(body.get("offences", case.offence_list)),
        stage=body.get("stage", case.stage),
        border_localities="\n".join(body.get("border_localities", case.locality_list)),
    )
    return present.case(case)


@blp.route("/cases/<public_id>/team", methods=["GET"], tags=["cases"])
@permission_required("cases.view")
@blp.response(200, TeamOut)
def get_team(public_id: str) -> dict[str, Any]:
    """Return a case's team."""
    return {"items": [present.member(m) for m in load_case(public_id).members]}


@blp.route("/cases/<public_id>/team", methods=["POST"], tags=["cases"])
@permission_required("cases.manage")
@blp.arguments(MemberIn)
@blp.response(201, MemberOut)
def add_member(body: dict[str, Any], public_id: str) -> dict[str, Any]:
    """Put a prosecutor or investigator of the case's authority on its team."""
    case = load_case(public_id)
    user = db.session.scalar(select(User).where(User.public_id == body["user_id"]))
    if user is None:
        raise services.CaseError("other_authority")
    return present.member(services.add_member(db.session, current_user, case, user))


@blp.route("/cases/<public_id>/team/<user_id>", methods=["DELETE"], tags=["cases"])
@permission_required("cases.manage")
@blp.response(204)
def remove_member(public_id: str, user_id: str) -> None:
    """Take someone off a case team (its creator stays)."""
    case = load_case(public_id)
    member = next((m for m in case.members if m.user.public_id == user_id), None)
    if member is None:
        abort(404)
    services.remove_member(db.session, current_user, case, member.user_id)


@blp.route("/cases/<public_id>/requests", methods=["GET"], tags=["cases"])
@permission_required("cases.view")
@blp.response(200, RequestPageOut)
def case_requests(public_id: str) -> dict[str, Any]:
    """List the requests of a case, newest first."""
    rows = mla_queries.case_requests(db.session, current_user, load_case(public_id))
    return {"items": [present.summary(r) for r in rows], "next_cursor": None}


@blp.route("/cases/<public_id>/references", methods=["POST"], tags=["references"])
@permission_required("references.share")
@blp.arguments(ShareIn)
@blp.response(201, ReferenceOut)
def share_reference(body: dict[str, Any], public_id: str) -> dict[str, Any]:
    """Share a reference of a case with a foreign authority, disclosing only what is chosen."""
    case = load_case(public_id)
    if not policy.can_share_case(current_user, case):
        abort(404)
    counterpart = directory.authority_by_code(db.session, body["counterpart"])
    if counterpart is None:
        raise services.CaseError("same_state")
    reference = services.share_reference(
        db.session,
        current_user,
        case,
        counterpart=counterpart,
        disclose=set(body["disclose"]),
        contact_point=body["contact_point"],
        offence_categories=body["offence_categories"],
    )
    return present.reference(reference)


@blp.route("/references", methods=["GET"], tags=["references"])
@permission_required("references.share")
@blp.response(200, ReferenceListOut)
def list_references() -> dict[str, Any]:
    """List the case references the user may see, shared and received."""
    rows = queries.visible_references(db.session, current_user)
    return {"items": [present.reference(r) for r in rows]}


@blp.route("/references/<public_id>", methods=["GET"], tags=["references"])
@permission_required("references.share")
@blp.response(200, ReferenceOut, headers={"ETag": {"schema": {"type": "string"}}})
def get_reference(public_id: str) -> ResponseReturnValue:
    """Return a case reference, with its ETag (for linking it)."""
    found = queries.find_reference(db.session, current_user, public_id)
    if found is None:
        abort(404)
    return present.reference(found), 200, {"ETag": present.reference_etag(found)}
