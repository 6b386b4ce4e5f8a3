"""User administration: an administrator manages the accounts of their own authority."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from exchange.admin.forms import ROLE_CHOICES, NewUserForm, RolesForm
from exchange.auth import services
from exchange.auth.cli import enrolment_url
from exchange.auth.forms import EmptyForm
from exchange.auth.models import User
from exchange.auth.permissions import permission_required
from exchange.auth.services import MAX_NAME_LENGTH
from exchange.core import navigation, public_url
from exchange.extensions import db
from exchange.policy import accounts as policy

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
navigation.add("admin.users", _l("Users"), "users.manage", order=90)


@bp.context_processor
def inject_public_url_check() -> dict[str, object]:
    """Tell the administration pages whether enrolment links point where they are served."""
    return {"public_url_check": public_url.check(current_app.config["EXCHANGE"], request.host_url)}


ACCOUNT_ERRORS = {
    "email_taken": _l("A user with this e-mail address exists already."),
    "bad_email": _l("Enter a valid e-mail address."),
    "bad_name": _l("Enter a name of at most %(n)d characters, on one line.", n=MAX_NAME_LENGTH),
    "unknown_role": _l("Unknown role."),
    "authority_not_hosted": _l("This authority is not hosted on this node."),
    "own_roles": _l("You cannot change your own roles."),
    "role_not_grantable": _l("You cannot grant or withdraw this role."),
    "last_administrator": _l(
        "This is the last administrator of the authority. Make someone else an administrator first."
    ),
    "forbidden": _l("You cannot change this account."),
    "own_account": _l(
        "You cannot reset your own account. Change your password or second factor on your"
        " account page."
    ),
}


def _role_choices(form: RolesForm) -> None:
    """Offer only the roles the current administrator may grant (node-wide ones need their own)."""
    grantable = policy.grantable_roles(current_user)
    form.roles.choices = [c for c in ROLE_CHOICES if c.value in grantable]


def _with_kept_roles(user: User, chosen: set[str]) -> set[str]:
    """Return the chosen roles plus those of ``user``'s that the form did not offer to change."""
    return chosen | (user.roles - policy.grantable_roles(current_user))


def _user_or_404(public_id: str) -> User:
    """Return a user the current administrator may manage, or answer 404 (not 403: no leak)."""
    user = db.session.scalar(select(User).where(User.public_id == public_id[:36]))
    if user is None or not policy.can_manage_user(current_user, user):
        abort(404)
    return user


@bp.get("/users")
@permission_required("users.manage")
def users() -> ResponseReturnValue:
    """List the users of the administrator's authority."""
    rows = db.session.scalars(policy.users_scope(current_user).order_by(User.email)).all()
    return render_template("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required("users.manage")
def new_user() -> ResponseReturnValue:
    """Create a user of the administrator's authority and show their one-time enrolment link."""
    form = NewUserForm()
    _role_choices(form)
    if form.validate_on_submit():
        try:
            user = services.create_user(
                db.session,
                email=form.email.data or "",
                display_name=form.display_name.data or "",
                authority=current_user.authority,
                roles=set(form.roles.data or []),
            )
        except services.AccountError as exc:
            where = form.display_name if exc.code == "bad_name" else form.email
            where.errors = [str(ACCOUNT_ERRORS.get(exc.code, exc.code))]
        else:
            token = services.issue_enrolment_link(db.session, user)
            return render_template(
                "admin/enrolment_link.html", user=user, link=enrolment_url(token)
            )
    return render_template("admin/new_user.html", form=form)


@bp.route("/users/<public_id>", methods=["GET", "POST"])
@permission_required("users.manage")
def user(public_id: str) -> ResponseReturnValue:
    """Show a user and change their roles (never one's own: that is for another administrator)."""
    found = _user_or_404(public_id)
    form = RolesForm(data={"roles": sorted(found.roles)} if request.method == "GET" else None)
    _role_choices(form)
    if form.validate_on_submit():
        try:
            services.set_roles(
                db.session,
                found,
                _with_kept_roles(found, set(form.roles.data or [])),
                actor=current_user,
            )
        except services.AccountError as exc:
            flash(str(ACCOUNT_ERRORS.get(exc.code, exc.code)), "error")
        else:
            flash(_("The roles were saved."), "success")
        return redirect(url_for("admin.user", public_id=found.public_id), code=303)
    return render_template(
        "admin/user.html",
        user=found,
        form=form,
        action_form=EmptyForm(),
        own_account=found.id == current_user.id,
        kept_roles=sorted(found.roles - policy.grantable_roles(current_user)),
    )


@bp.post("/users/<public_id>/disable")
@permission_required("users.manage")
def disable(public_id: str) -> ResponseReturnValue:
    """Disable a user; their sessions end at once."""
    found = _user_or_404(public_id)
    if EmptyForm().validate_on_submit():
        try:
            services.disable_user(db.session, found, actor=current_user)
        except services.AccountError as exc:
            if exc.code == "own_account":
                flash(_("You cannot disable your own account."), "error")
            else:
                flash(str(ACCOUNT_ERRORS.get(exc.code, exc.code)), "error")
        else:
            flash(_("The account is disabled."), "success")
    return redirect(url_for("admin.user", public_id=found.public_id), code=303)


@bp.post("/users/<public_id>/enable")
@permission_required("users.manage")
def enable(public_id: str) -> ResponseReturnValue:
    """Re-enable a user."""
    found = _user_or_404(public_id)
    if EmptyForm().validate_on_submit():
        services.enable_user(db.session, found)
        flash(_("The account is enabled."), "success")
    return redirect(url_for("admin.user", public_id=found.public_id), code=303)


@bp.post("/users/<public_id>/reset")
@permission_required("users.manage")
def reset(public_id: str) -> ResponseReturnValue:
    """Clear a user's password and second factor, end their sessions, issue a new link."""
    found = _user_or_404(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        token = services.issue_enrolment_link(db.session, found, reset=True, actor=current_user)
    except services.AccountError as exc:
        flash(str(ACCOUNT_ERRORS.get(exc.code, exc.code)), "error")
        return redirect(url_for("admin.user", public_id=found.public_id), code=303)
    return render_template("admin/enrolment_link.html", user=found, link=enrolment_url(token))
