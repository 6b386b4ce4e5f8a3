"""The desk: the start page of a signed-in user, its badge in the navigation, the dispatch slip.

Plain server-rendered HTML: every item is a link to the page where its move is made.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from exchange.auth import sessions, signin
from exchange.auth.permissions import ROLE_LABELS
from exchange.core import navigation
from exchange.core.routes import set_start_page
from exchange.db import utcnow
from exchange.desk import queries
from exchange.extensions import db
from exchange.mla.blueprint import locale, type_label
from exchange.mla.labels import ACTION_LABELS, STATE_LABELS

bp = Blueprint("desk", __name__, url_prefix="/desk", template_folder="templates")

SECTION_LABELS = {
    "drafts": _l("Your drafts"),
    "awaiting_answer": _l("Awaiting your answer"),
    "responses": _l("Responses received since your last visit"),
    "overdue_and_urgent": _l("Overdue and urgent"),
    "review_queue": _l("To review (oldest first)"),
    "to_register": _l("Incoming requests to register and assign"),
    "deadlines_this_week": _l("Deadlines this week"),
    "team_cases": _l("Your cases"),
    "case_moves": _l("New moves on your cases since your last visit"),
    "awaiting_paper_transmission": _l("Awaiting paper transmission"),
    "pending_enrolments": _l("Pending enrolments"),
    "locked_accounts": _l("Locked accounts"),
}
EMPTY_LABELS = {
    "drafts": _l("No draft."),
    "awaiting_answer": _l("No request awaits your answer."),
    "responses": _l("No response since your last visit."),
    "overdue_and_urgent": _l("Nothing overdue or urgent."),
    "review_queue": _l("Nothing to review."),
    "to_register": _l("No incoming request to register or assign."),
    "deadlines_this_week": _l("No deadline this week."),
    "team_cases": _l("You are on no case's team."),
    "case_moves": _l("No new move on your cases."),
    "awaiting_paper_transmission": _l("No request awaits paper transmission."),
    "pending_enrolments": _l("No enrolment pending."),
    "locked_accounts": _l("No account is locked."),
}


def _badge() -> int:
    """Return the number of items awaiting the user on their desk (0 when nothing waits)."""
    if "desk_badge" not in g:
        g.desk_badge = queries.badge_count(db.session, _context())
    count: int = g.desk_badge
    return count


navigation.add(
    "core.index", _l("Desk"), "portal.use", order=1, count=_badge, count_label=_l("waiting")
)


@bp.record_once
def _offer_start_page(state: BlueprintSetupState) -> None:
    """Make the desk the start page of the application the blueprint is registered on."""
    set_start_page(state.app, desk)


def _context() -> queries.DeskContext:
    """Return the desk's context for this request (the previous visit is read once)."""
    if "desk_context" not in g:
        policy_ = signin.LoginPolicy.from_settings(current_app.config["EXCHANGE"])
        g.desk_context = queries.DeskContext(
            actor=current_user,
            now=utcnow(),
            since=queries.previous_visit(db.session, current_user, sessions.current_session()),
            lock_key=lambda email: signin.account_lock_key(policy_, email),
        )
    context: queries.DeskContext = g.desk_context
    return context


def desk() -> ResponseReturnValue:
    """Show the desk: for each of the user's roles, what awaits them, each item one click away."""
    context = _context()
    sections = queries.desk_sections(db.session, context)
    return render_template(
        "desk/index.html",
        user=current_user,
        sections=sections,
        roles=[role for role in queries.ROLE_ORDER if role in current_user.roles],
        section_labels=SECTION_LABELS,
        empty_labels=EMPTY_LABELS,
        role_labels=ROLE_LABELS,
        state_labels=STATE_LABELS,
        action_labels=ACTION_LABELS,
        type_label=type_label,
        since=context.since,
        now=context.now,
        limit=queries.LIMIT,
        locale=locale(),
    )
