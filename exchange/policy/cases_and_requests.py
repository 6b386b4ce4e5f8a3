"""Access rules of cases, case references, requests and messages: who may see or change them.

Part of the object-level rules (``exchange.policy``). Every query a view runs for a user goes
through a scope here, so that nothing of another authority is ever listed or opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select

from exchange.auth.models import User

if TYPE_CHECKING:
    from exchange.cases.models import Case, CaseReference
    from exchange.mla.models import MlaRequest


# --- cases ---------------------------------------------------------------------------------
# A case is visible to its team (the prosecutors and investigators assigned to it) and to its
# creator, within the case's authority, to holders of ``cases.view``. Nobody else: not the
# authority's other prosecutors, not central authority officers (they see requests, not files).


def _case_team_ids(actor: User) -> Any:
    """Return a subquery of the ids of the cases ``actor`` is on the team of, or created."""
    from exchange.cases.models import Case, CaseMember

    member = select(CaseMember.case_id).where(CaseMember.user_id == actor.id)
    return (
        select(Case.id)
        .where(Case.authority_id == actor.authority_id)
        .where(or_(Case.created_by_id == actor.id, Case.id.in_(member)))
    )


def cases_scope(actor: User) -> Select[Any]:
    """Return the cases ``actor`` may list."""
    from exchange.cases.models import Case

    if not actor.can("cases.view"):
        return select(Case).where(false())
    return select(Case).where(Case.id.in_(_case_team_ids(actor)))


def is_on_case_team(actor: User, case: Case) -> bool:
    """Tell whether ``actor`` is on ``case``'s team or created it (same authority only)."""
    if case.authority_id != actor.authority_id:
        return False
    return case.created_by_id == actor.id or any(m.user_id == actor.id for m in case.members)


def can_view_case(actor: User, case: Case) -> bool:
    """Tell whether ``actor`` may open ``case``."""
    return actor.can("cases.view") and is_on_case_team(actor, case)


def can_manage_case(actor: User, case: Case) -> bool:
    """Tell whether ``actor`` may change ``case`` (its details and team)."""
    return actor.can("cases.manage") and is_on_case_team(actor, case)


# --- requests --------------------------------------------------------------------------------
# Outgoing requests: visible to the case team, to their author, and to central authority officers
# (``requests.view_all``) of the requesting authority or of the central authority that reviews
# and transmits them. Incoming requests: visible to central authority officers of the addressed
# authority, and to the executing authority's officers and the officer they are assigned to.
# Outside scope, views answer 404, never 403, so that nothing leaks.


# Above this many cases, a user's case branch is one IN (subquery) instead of one branch per case.
MAX_CASE_BRANCHES = 50


def team_case_ids(session: Any, actor: User) -> list[int]:
    """Return the ids of the cases ``actor`` is on the team of (or created)."""
    if not actor.can("cases.view"):
        return []
    return list(session.scalars(_case_team_ids(actor)))


def outgoing_branches(actor: User, case_ids: list[int] | None = None) -> list[ColumnElement[bool]]:
    """Return the conditions whose union is the set of outgoing requests ``actor`` may see.

    Each branch is an equality that one index serves in (created_at, id) order, so that the
    dashboard can read each branch's first page from its index and merge them (no scan).
    ``case_ids``: the actor's team cases if already known; otherwise a subquery is used.
    """
    from exchange.mla.models import OUTGOING, MlaRequest

    if not actor.can("requests.view"):
        return []
    side = MlaRequest.side == OUTGOING
    branches = [and_(side, MlaRequest.created_by_id == actor.id)]
    if actor.can("cases.view"):
        if case_ids is None or len(case_ids) > MAX_CASE_BRANCHES:
            branches.append(and_(side, MlaRequest.case_id.in_(_case_team_ids(actor))))
        else:
            branches += [and_(side, MlaRequest.case_id == case_id) for case_id in case_ids]
    if actor.can("requests.view_all"):
        submitted = MlaRequest.state.notin_(NOT_YET_SUBMITTED)
        branches.append(and_(side, MlaRequest.authority_id == actor.authority_id, submitted))
        branches.append(
            and_(side, MlaRequest.reviewing_authority_id == actor.authority_id, submitted)
        )
    return branches


def incoming_branches(actor: User) -> list[ColumnElement[bool]]:
    """Return the conditions whose union is the set of incoming requests ``actor`` may see."""
    from exchange.mla.models import INCOMING, MlaRequest

    if not actor.can("requests.view"):
        return []
    side = MlaRequest.side == INCOMING
    branches = [and_(side, MlaRequest.assigned_officer_id == actor.id)]
    if actor.can("requests.view_all"):
        branches.append(and_(side, MlaRequest.authority_id == actor.authority_id))
        branches.append(and_(side, MlaRequest.assigned_authority_id == actor.authority_id))
    return branches


def outgoing_condition(actor: User) -> ColumnElement[bool]:
    """Return the SQL condition selecting the outgoing requests ``actor`` may see."""
    branches = outgoing_branches(actor)
    return or_(*branches) if branches else false()


def incoming_condition(actor: User) -> ColumnElement[bool]:
    """Return the SQL condition selecting the incoming requests ``actor`` may see."""
    branches = incoming_branches(actor)
    return or_(*branches) if branches else false()


def request_team_condition(actor: User) -> ColumnElement[bool]:
    """Return the SQL form of ``is_request_team``: the outgoing requests of ``actor``'s team.

    Those they wrote or that belong to a case they are on; a subset of ``outgoing_condition``
    (the reviewing officers' branches are left out), for the lists of one's own work.
    """
    from exchange.mla.models import OUTGOING, MlaRequest

    if not actor.can("requests.view") or not actor.can("cases.view"):
        return false()
    return and_(
        MlaRequest.side == OUTGOING,
        or_(
            MlaRequest.created_by_id == actor.id,
            MlaRequest.case_id.in_(_case_team_ids(actor)),
        ),
    )


# A draft is its case team's until they submit it: the central authority sees a request from its
# first submission on, not while it is being written (security review, finding 12).
NOT_YET_SUBMITTED = ("", "draft")


def _is_reviewer(actor: User, request: MlaRequest) -> bool:
    """Tell whether ``actor`` is a central authority officer in charge of a submitted request."""
    return (
        actor.can("requests.view_all")
        and actor.authority_id in (request.authority_id, request.reviewing_authority_id)
        and request.state not in NOT_YET_SUBMITTED
    )


def _is_executor(actor: User, request: MlaRequest) -> bool:
    """Tell whether ``actor`` handles an incoming request (addressed, or assigned to them)."""
    if request.assigned_officer_id == actor.id:
        return True
    return actor.can("requests.view_all") and actor.authority_id in (
        request.authority_id,
        request.assigned_authority_id,
    )


def is_request_team(actor: User, request: MlaRequest) -> bool:
    """Tell whether ``actor`` is on the team of an outgoing request (its case team or author)."""
    if request.created_by_id == actor.id:
        return True
    return request.case is not None and is_on_case_team(actor, request.case)


def can_view_request(actor: User, request: MlaRequest) -> bool:
    """Tell whether ``actor`` may open ``request`` (the same rule as the SQL conditions)."""
    from exchange.mla.models import OUTGOING

    if not actor.can("requests.view"):
        return False
    if request.side == OUTGOING:
        return (actor.can("cases.view") and is_request_team(actor, request)) or _is_reviewer(
            actor, request
        )
    return _is_executor(actor, request)


def can_see_identities(actor: User, request: MlaRequest) -> bool:
    """Tell whether ``actor`` may read the identities of the persons concerned.

    Only the case team on the requesting side; on the requested side, those who execute the
    request (it cannot be executed without them). Palermo Protocol art. 6(1).
    """
    from exchange.mla.models import OUTGOING

    if not can_view_request(actor, request):
        return False
    if request.side == OUTGOING:
        return actor.can("cases.view") and is_request_team(actor, request)
    return _is_executor(actor, request)


def can_review_disclosure(actor: User, request: MlaRequest) -> bool:
    """Tell whether ``actor`` reviews what an outgoing request discloses of its persons.

    The officers of the central authority that approves and transmits it (four-eyes, UNTOC
    18(13)), once it is submitted: they see the persons exactly as the request will carry them
    abroad, never the case's other persons nor the details the request does not disclose.
    """
    from exchange.mla.models import OUTGOING

    return (
        request.side == OUTGOING
        and actor.can("requests.approve")
        and _is_reviewer(actor, request)
        and actor.authority_id == request.reviewing_authority_id
    )


def can_see_person(actor: User, request: MlaRequest, person: Any) -> bool:
    """Tell whether ``actor`` may read the identity of one person of ``request``.

    On the requested side, the identity of a victim or a minor is for the officer the request
    is assigned to and the officer who registered it, not for every officer of the authority
    (Palermo Protocol art. 6(1)); the identities of others are for all who execute it.
    """
    from exchange.mla.models import INCOMING

    if not can_see_identities(actor, request):
        return False
    if request.side == INCOMING and (person.is_victim or person.is_minor):
        return request.assigned_officer_id == actor.id or any(
            e.action == "register" and e.actor_id == actor.id for e in request.events
        )
    return True


def can_keep_notes(actor: User, request: MlaRequest) -> bool:
    """Tell whether ``actor`` may read and write the internal notes of ``request``.

    The team that holds this side's copy, as for identities: on the requesting side the case
    team (not the reviewing central authority); on the requested side those who execute it.
    """
    return can_see_identities(actor, request)


def can_edit_draft(actor: User, request: MlaRequest) -> bool:
    """Tell whether ``actor`` may change a draft: its case team, with ``requests.draft``."""
    from exchange.mla.models import OUTGOING
    from exchange.mla.states import EDITABLE_STATES

    return (
        request.side == OUTGOING
        and request.state in EDITABLE_STATES
        and actor.can("requests.draft")
        and is_request_team(actor, request)
    )


def can_act_on_request(actor: User, request: MlaRequest, permission: str) -> bool:
    """Tell whether ``actor`` may make a move needing ``permission`` on this very request."""
    from exchange.mla.models import INCOMING, OUTGOING

    if not actor.can(permission) or not can_view_request(actor, request):
        return False
    if permission == "requests.draft":
        return request.side == OUTGOING and is_request_team(actor, request)
    if permission == "requests.approve":
        # Only the reviewing central authority approves: never the requesting office itself,
        # whatever roles its people hold (four-eyes between authorities, UNTOC 18(13)).
        return (
            request.side == OUTGOING
            and _is_reviewer(actor, request)
            and actor.authority_id == request.reviewing_authority_id
        )
    if permission == "requests.register":
        return request.side == INCOMING and actor.authority_id == request.authority_id
    if permission == "requests.execute":
        return request.side == INCOMING and _is_executor(actor, request)
    return False


# --- case references and messages -------------------------------------------------------------


def references_condition(actor: User) -> ColumnElement[bool]:
    """Return the SQL condition selecting the case references ``actor`` may see."""
    from exchange.cases.models import CaseReference

    if not actor.can("references.share"):
        return false()
    own = [
        and_(
            CaseReference.direction == "incoming", CaseReference.authority_id == actor.authority_id
        ),
        and_(CaseReference.direction == "outgoing", CaseReference.created_by_id == actor.id),
    ]
    if actor.can("cases.view"):
        own.append(CaseReference.case_id.in_(_case_team_ids(actor)))
    if actor.can("requests.view_all"):
        own.append(CaseReference.authority_id == actor.authority_id)
    return or_(*own)


def can_view_reference(actor: User, reference: CaseReference) -> bool:
    """Tell whether ``actor`` may open a case reference (shared or received)."""
    if not actor.can("references.share") or reference.authority_id != actor.authority_id:
        return False
    if reference.direction == "incoming" or actor.can("requests.view_all"):
        return True
    if reference.created_by_id == actor.id:
        return True
    return reference.case is not None and can_view_case(actor, reference.case)


def can_share_case(actor: User, case: Case) -> bool:
    """Tell whether ``actor`` may share a reference of ``case`` abroad."""
    return actor.can("references.share") and can_view_case(actor, case)
