"""Notification pages: the list (read and unread), opening one, marking read, the e-mail
preference. Thin: parse, authorise (a person's own notifications only), call a service, respond.

Registering the blueprint also turns on the recording of notifications (``events``) and adds
the background passes of overdue deadlines and e-mails to the worker.
"""

from __future__ import annotations

from typing import cast

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from exchange import policy
from exchange.auth.forms import EmptyForm
from exchange.auth.permissions import permission_required
from exchange.core import background, navigation
from exchange.extensions import db
from exchange.notifications import events, outbox, queries, services
from exchange.notifications.forms import PreferenceForm
from exchange.notifications.labels import MODE_LABELS, kind_label

bp = Blueprint("notifications", __name__, url_prefix="/notifications", template_folder="templates")
events.listen()


@bp.record_once
def _register_passes(state: BlueprintSetupState) -> None:
    """Have the worker notice passed deadlines, then send the e-mails that are due."""
    app = cast(Flask, state.app)
    background.register(app, "overdue", services.notice_overdue)
    background.register(app, "mail", outbox.send_due)


def _unread() -> int:
    """Return the unread count of the navigation (one query)."""
    return queries.unread_count(db.session, current_user)


navigation.add(
    "notifications.index",
    _l("Notifications"),
    "portal.use",
    order=5,
    count=_unread,
    count_label=_l("unread"),
)


@bp.get("/")
@permission_required("portal.use")
def index() -> ResponseReturnValue:
    """List the user's notifications, newest first, unread ones marked."""
    page = request.args.get("page", 1, type=int) or 1
    unread_only = request.args.get("show") == "unread"
    rows, more = queries.notifications_of(
        db.session, current_user, page=page, unread_only=unread_only
    )
    items = [
        {
            "public_id": n.public_id,
            "label": kind_label(n.kind),
            "at": n.created_at,
            "unread": n.read_at is None,
            # The request's reference, only while the person may still open the request.
            "reference": (
                n.request.reference or n.request.foreign_reference
                if n.request is not None and policy.can_view_request(current_user, n.request)
                else ""
            ),
        }
        for n in rows
    ]
    return render_template(
        "notifications/index.html",
        items=items,
        page=page,
        more=more,
        unread_only=unread_only,
        form=EmptyForm(),
    )


@bp.get("/<public_id>")
@permission_required("portal.use")
def open(public_id: str) -> ResponseReturnValue:
    """Mark a notification read and go to what it is about (its request), one click away."""
    notification = queries.notification_of(db.session, current_user, public_id)
    if notification is None:
        abort(404)
    services.mark_read(db.session, current_user, notification)
    target = notification.request
    if target is None or not policy.can_view_request(current_user, target):
        flash(_("What this notification was about is no longer yours to open."), "info")
        return redirect(url_for("notifications.index"), code=303)
    return redirect(url_for("mla.view", public_id=target.public_id), code=303)


@bp.post("/<public_id>/read")
@permission_required("portal.use")
def mark_read(public_id: str) -> ResponseReturnValue:
    """Mark one notification read, staying on the list."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    notification = queries.notification_of(db.session, current_user, public_id)
    if notification is None:
        abort(404)
    services.mark_read(db.session, current_user, notification)
    return redirect(url_for("notifications.index"), code=303)


@bp.post("/read-all")
@permission_required("portal.use")
def mark_all_read() -> ResponseReturnValue:
    """Mark every notification of the user read."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    count = services.mark_all_read(db.session, current_user)
    flash(_("%(num)d notifications marked read.", num=count), "success")
    return redirect(url_for("notifications.index"), code=303)


@bp.route("/preferences", methods=["GET", "POST"])
@permission_required("portal.use")
def preferences() -> ResponseReturnValue:
    """Show and change how the user is told by e-mail (a section of their account)."""
    current = services.preferences_of(db.session, [current_user.id])[current_user.id]
    form = PreferenceForm(data={"mode": current} if request.method == "GET" else None)
    if form.validate_on_submit():
        services.set_preference(db.session, current_user, str(form.mode.data))
        flash(_("Your e-mail preference is saved."), "success")
        return redirect(url_for("notifications.preferences"), code=303)
    return render_template(
        "notifications/preferences.html", form=form, current=MODE_LABELS[current]
    )
