"""Flask-Login wiring: the cookie names a server-side session, which alone says who is signed in.

The signed (not encrypted) Flask cookie carries only a random session token and harmless state (the
language, the CSRF token, where to go after sign-in). Everything that decides a session lives in the
``user_sessions`` table: whether it was ended (sign-out, credential change), the client address it
is bound to, when it began (absolute lifetime) and when it was last used (idle timeout).
"""

from __future__ import annotations

from flask import Flask, Request, current_app, flash, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user

from exchange.auth import signin
from exchange.auth.models import User, UserSession
from exchange.db import utcnow
from exchange.extensions import db
from exchange.settings import Settings

# The cookie key of a sign-in that passed the password step and owes its second factor.
PENDING_KEY = "pending_login"
# The API's operations: authenticated by a bearer credential only, never by the cookie.
API_PREFIX = "/api/v1/"
# Pages under that prefix, which a browser opens with its cookie.
API_PAGES = frozenset({"/api/v1/docs"})


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, except on the API's bearer calls, which get no cookie session.

    A bearer call is authenticated by its ``Authorization`` header alone
    (``exchange.api.blueprint``); a cookie it carries is neither read nor rewritten (Flask's null
    session: reads find nothing, a write fails loudly).
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Return no session for a bearer call of the API, else the cookie's."""
        if (
            request.path.startswith(API_PREFIX)
            and request.path not in API_PAGES
            and request.headers.get("Authorization", "")[:7].lower() == "bearer "
        ):
            return None  # Flask then uses its null session, and never saves it
        return super().open_session(app, request)


def client() -> signin.Client:
    """Return this request's client: its address (as ProxyFix established it) and browser."""
    return signin.Client(
        address=request.remote_addr or "", user_agent=request.user_agent.string or ""
    )


def _settings() -> Settings:
    """Return the node's settings."""
    settings: Settings = current_app.config["EXCHANGE"]
    return settings


def load_user(token: str) -> User | None:
    """Return the user of the live server-side session named by the cookie, else None."""
    row = signin.find_session(db.session, token)
    if row is None or row.authenticated_at is None:
        return None
    settings = _settings()
    problem = signin.session_problem(
        row,
        address=client().address,
        idle=settings.session_idle,
        lifetime=settings.session_lifetime,
    )
    if problem is not None:
        signin.end_session(db.session, row)
        g.session_ended = problem
        return None
    row.last_seen_at = utcnow()
    g.user_session = row
    user = row.user
    user.session_key = token
    return user


def current_session() -> UserSession | None:
    """Return the server-side session of the signed-in user of this request."""
    if not current_user.is_authenticated:
        return None
    row: UserSession | None = g.get("user_session")
    return row


def pending_session() -> UserSession | None:
    """Return the session that passed the password step and owes a second factor, if still valid."""
    token = session.get(PENDING_KEY)
    row = signin.find_session(db.session, token) if isinstance(token, str) else None
    if row is None or row.authenticated_at is not None:
        return None
    problem = signin.session_problem(
        row,
        address=client().address,
        idle=_settings().session_idle,
        lifetime=_settings().session_lifetime,
    )
    if problem is not None:
        signin.end_session(db.session, row)
        session.pop(PENDING_KEY, None)
        return None
    return row


def fresh_cookie() -> None:
    """Empty the cookie at a change of privilege (no fixation), keeping only the chosen language."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def sign_in(user: User, token: str) -> None:
    """Bind this browser to the server-side session ``token`` of ``user``."""
    fresh_cookie()
    user.session_key = token
    login_user(user)
    g.user_session = signin.find_session(db.session, token)


ENDED_MESSAGES = {
    "idle": _l("Your session expired after a period of inactivity. Please sign in again."),
    "lifetime": _l("Your session reached its maximum length. Please sign in again."),
}


def _notice_ended_session() -> ResponseReturnValue | None:
    """Empty the cookie of a session the server ended, and say why; the gate then asks for sign-in.

    Not on the API, which never reads the cookie: there a browser's signed-in user is anonymous
    by design, and a call without a token must not sign the browser out of the portal.
    """
    if request.endpoint == "static" or request.blueprint == "api" or "_user_id" not in session:
        return None
    if current_user.is_authenticated:
        return None
    reason = g.pop("session_ended", None)
    fresh_cookie()
    message = ENDED_MESSAGES.get(reason or "")
    flash(str(message) if message else _("Please sign in again."), "info")
    return None


def init_app(app: Flask, login_manager: LoginManager) -> None:
    """Configure Flask-Login: our server-side session loader, our login page."""
    app.session_interface = CookieSessionInterface()
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    # Off: Flask-Login's "strong" mode hashes the client-supplied X-Forwarded-For header. Sessions
    # are bound instead to request.remote_addr, which ProxyFix sets from trusted proxies only.
    login_manager.session_protection = None
    app.before_request(_notice_ended_session)
