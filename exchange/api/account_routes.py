"""Pages of the API for people: its documentation, and one's personal tokens for scripts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.validators import DataRequired, Length

from exchange.api import tokens
from exchange.api.models import READ, WRITE
from exchange.auth.forms import EmptyForm
from exchange.extensions import db
from exchange.mla.forms import as_choices

bp = Blueprint("api_pages", __name__, template_folder="templates")

TOKEN_PROBLEMS = {
    "bad_name": _l("Give the token a name of at most 80 characters."),
    "bad_scope": _l("Choose what the token may do."),
    "too_many": _l("You have too many tokens: revoke one you no longer use."),
}


class PersonalTokenForm(FlaskForm):
    """A new personal token: its name and what it may do."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    scope = RadioField(
        _l("It may"),
        choices=as_choices([(READ, _l("Read only")), (WRITE, _l("Read and write"))]),
        default=READ,
    )


@bp.get("/api/v1/docs")
def docs() -> ResponseReturnValue:
    """Show the API's operations from its OpenAPI document (no script, no external asset)."""
    spec: dict[str, Any] = current_app.extensions["exchange_api"].spec.to_dict()
    operations = [
        {"method": method.upper(), "path": path, **operation}
        for path, item in sorted(spec.get("paths", {}).items())
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    return render_template("api/docs.html", spec=spec, operations=operations)


@bp.route("/account/api-tokens", methods=["GET", "POST"])
def personal_tokens() -> ResponseReturnValue:
    """List the user's personal tokens; make one (its value is shown this once)."""
    form = PersonalTokenForm()
    shown = None
    status = 200
    if form.validate_on_submit():
        try:
            _row, shown = tokens.create_personal_token(
                db.session, current_user, name=form.name.data or "", scope=form.scope.data or ""
            )
        except tokens.TokenRefused as exc:
            flash(str(TOKEN_PROBLEMS.get(exc.code, TOKEN_PROBLEMS["bad_scope"])), "error")
            status = 400
    elif form.is_submitted():
        status = 400
    return render_template(
        "api/tokens.html",
        form=form,
        revoke_form=EmptyForm(),
        rows=tokens.live_personal_tokens(db.session, current_user),
        shown=shown,
    ), status


@bp.post("/account/api-tokens/<public_id>/revoke")
def revoke_personal_token(public_id: str) -> ResponseReturnValue:
    """Revoke one of the user's personal tokens: it is refused from now on."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not tokens.revoke_personal_token(db.session, current_user, public_id):
        abort(404)
    flash(_("The token is revoked."), "success")
    return redirect(url_for("api_pages.personal_tokens"), code=303)
