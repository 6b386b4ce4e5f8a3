"""Start page, language choice and health check."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
)
from flask.sansio.app import App
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import literal, select

from exchange.core import navigation
from exchange.core.inputs import refuse_nul_characters
from exchange.extensions import db
from exchange.i18n import LOCALES

bp = Blueprint("core", __name__, template_folder="templates")
bp.before_app_request(refuse_nul_characters)  # every blueprint's paths and parameters


@bp.app_context_processor
def inject_navigation() -> dict[str, object]:
    """Give every template the navigation builder."""
    return {"nav_items": navigation.nav_items}


def safe_next(target: str | None, default: str = "/") -> str:
    """Return ``target`` if it is a path on this site, else ``default`` (no open redirect)."""
    if not target or len(target) > 2000:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


# The key under ``app.extensions`` of the view that an area offers as the start page.
START_PAGE = "exchange.start_page"


def set_start_page(app: App, view: Callable[[], ResponseReturnValue]) -> None:
    """Make ``view`` the start page of signed-in users (the desk area offers one)."""
    app.extensions[START_PAGE] = view


@bp.get("/")
def index() -> ResponseReturnValue:
    """Show the start page: the area's that offers one (the desk), else who the user is."""
    start_page = current_app.extensions.get(START_PAGE)
    if start_page is not None and current_user.is_authenticated:
        view: Callable[[], ResponseReturnValue] = start_page
        return view()
    return render_template("core/index.html", user=current_user)


@bp.post("/language")
def set_language() -> ResponseReturnValue:
    """Remember the chosen interface language (for the user's account if signed in)."""
    locale = request.form.get("locale", "")
    if locale not in LOCALES:
        flash(_("Unknown language. Choose English, French or Portuguese."), "error")
        return redirect(safe_next(request.form.get("next")), code=303)
    session["locale"] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
        db.session.flush()
    return redirect(safe_next(request.form.get("next")), code=303)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Answer whether the node and its database are up (for load balancers and `make demo`)."""
    try:
        db.session.execute(select(literal(1)))  # a SELECT: nothing to commit after it
    except Exception:
        abort(503)
    return {"status": "ok"}
