"""The access gate and the security headers that every response passes through.

Session lifetimes (idle and absolute), sign-out and address binding are decided on the server, with
each request's session, in ``exchange.auth.sessions``.

Deny by default: an endpoint is reachable without login only if it is in ``PUBLIC_ENDPOINTS``; every
other endpoint needs a logged-in user holding the permission that its view declares with
``permission_required``. A view that declares none is refused to everyone.
"""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from exchange.auth.permissions import PERMISSION_ATTRIBUTE

# The one allow-list of endpoints reachable without a login.
PUBLIC_ENDPOINTS: frozenset[str] = frozenset(
    {
        "static",
        "core.healthz",
        "core.set_language",
        "auth.login",
        "auth.login_second_factor",
        "auth.enrol",
        "auth.logout",
        # Machine to machine: a peer node has no session; an envelope carries its own signature.
        "federation.node",
        "federation.inbox",
        # The API: signing in for tokens, and its description. Every other operation needs a
        # bearer token (exchange.api.blueprint), never a cookie.
        "api.create_token",
        "api.refresh_token",
        "api.revoke_token",
        "api-docs.openapi_json",
        "api_pages.docs",
        # Anyone holding a bundle may check it: the page shows only what the file itself says.
        "verify.verify",
    }
)

# Endpoints reachable while logged in whatever the permissions (the user's own account).
ACCOUNT_ENDPOINTS: frozenset[str] = frozenset(
    {
        "core.index",
        "auth.account",
        "auth.change_password",
        "auth.totp_enrol",
        "auth.recovery_codes",
        "auth.sessions_list",
        "auth.end_session",
        "auth.set_locale",
        "api.sign_out",
        "api_pages.personal_tokens",
        "api_pages.revoke_personal_token",
    }
)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)


def init_app(app: Flask) -> None:
    """Install the gate and the response headers on ``app``."""
    app.before_request(_gate)
    app.after_request(_security_headers)


def _gate() -> ResponseReturnValue | None:
    """Let a request through only to a public endpoint or with the permission its view needs."""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: the 404 / 405 handlers answer
        return None
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        if request.blueprint == "api":
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if endpoint in ACCOUNT_ENDPOINTS:
        return None
    view = current_app.view_functions.get(endpoint)
    permission = getattr(view, PERMISSION_ATTRIBUTE, None)
    if permission is None or not current_user.can(permission):
        abort(403)
    return None


# The headers every response carries unless its view set its own (name, value).
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
NO_STORE = ("Cache-Control", "no-store")


def _security_headers(response: Response) -> Response:
    """Add the CSP and the other security headers to every response (those its view did not set:
    the names present are read once, not searched for header by header)."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    wanted = list(SECURITY_HEADERS)
    if current_app.config["EXCHANGE"].production:
        wanted.append(HSTS)
    if request.endpoint != "static":
        wanted.append(NO_STORE)
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value)
    return response
