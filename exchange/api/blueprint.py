"""The API's URL map and what every operation shares: bearer authentication (never a cookie),
the read/write scope of personal tokens, and problem details (RFC 9457) for every error.

Authentication runs as a URL value preprocessor, before the application's access gate: it sets
the request's user from the ``Authorization: Bearer`` header alone, so that a browser's session
cookie never authenticates an API call (and CSRF, a cookie attack, does not apply). The gate
(``exchange.security``) then refuses, as for pages, every operation without its permission.
"""

from __future__ import annotations

import http
from typing import Any

from flask import Response, abort, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from exchange.api import tokens
from exchange.api.models import READ
from exchange.api.schemas import ProblemOut
from exchange.errors import MESSAGES, TITLES, problem
from exchange.exceptions import Refused
from exchange.extensions import db
from exchange.mla.labels import error_message

PREFIX = "/api/v1"
PROBLEM_TYPE = "application/problem+json"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Changes that any credential may make, read-only or not: ending itself.
SCOPE_FREE = frozenset({"api.sign_out"})

API_MESSAGES = {
    401: _l("Send a valid bearer token: sign in with POST /api/v1/tokens or use a personal token."),
    412: _l("This draft changed since you read it: read it again and send its new ETag."),
    422: _l("Some of what you sent is not valid: see the errors."),
    428: _l("Send the ETag of the version you edit in an If-Match header."),
}
API_TITLES = {
    412: _l("Changed in the meantime"),
    422: _l("Not valid"),
    428: _l("Version required"),
}
TOKEN_ERRORS = {
    "expired": _l("This token has expired. Refresh it, or sign in again."),
    "invalid": _l("This token is not valid here."),
    "revoked": _l("This token was revoked, or its account changed. Sign in again."),
    "reused": _l("This refresh token was already used: the sign-in is ended. Sign in again."),
    "read_only": _l("This token may only read."),
}


class ExchangeApi(Api):
    """flask-smorest's Api without its application-wide error handler (pages keep theirs), its
    error responses documented as what they are: problem details."""

    ERROR_SCHEMA = ProblemOut

    def _register_error_handlers(self) -> None:
        """Leave errors to the API blueprint's handler and the application's own."""

    def _register_responses(self) -> None:
        """Document every error response as ``application/problem+json`` problem details."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Problem details.", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


blp = Blueprint(
    "api",
    __name__,
    url_prefix=PREFIX,
    description="The Exchange's REST API: the portal's services and checks, for machines.",
)


def token_config() -> tokens.TokenConfig:
    """Return the node's access-token configuration (the secret read once per process)."""
    config: tokens.TokenConfig | None = current_app.extensions.get("exchange_api_tokens")
    if config is None:
        settings = current_app.config["EXCHANGE"]
        node = settings.node_url.rstrip("/")
        config = tokens.TokenConfig(
            secret=tokens.signing_secret(settings.keys_dir),
            issuer=node,
            audience=node + PREFIX,
            session_lifetime=settings.session_lifetime,
            session_idle=settings.session_idle,
        )
        current_app.extensions["exchange_api_tokens"] = config
    return config


@blp.url_value_preprocessor
def authenticate(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Set the request's user from its bearer credential, ignoring any cookie."""
    g.api_scope = None
    user: Any = AnonymousUserMixin()
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        try:
            bearer = tokens.authenticate(db.session, token_config(), credential.strip())
        except tokens.TokenRefused as exc:
            g.api_token_error = exc.code
        else:
            user = bearer.user
            g.api_scope = bearer.scope
            g.api_bearer = bearer
    g._login_user = user  # Flask-Login's current_user, for the gate and the services


@blp.before_request
def enforce_scope() -> ResponseReturnValue | None:
    """Refuse a change made with a read-only personal token (save revoking itself)."""
    if (
        g.get("api_scope") == READ
        and request.method not in SAFE_METHODS
        and request.endpoint not in SCOPE_FREE
    ):
        return api_problem(403, str(TOKEN_ERRORS["read_only"]))
    return None


@blp.after_request
def challenge(response: Response) -> Response:
    """Name the bearer scheme on a 401 (RFC 6750 section 3)."""
    if response.status_code == 401:
        error = g.get("api_token_error")
        response.headers["WWW-Authenticate"] = (
            'Bearer realm="exchange", error="invalid_token"' if error else 'Bearer realm="exchange"'
        )
    return response


def check_if_match(current: str, *, required: bool) -> None:
    """Refuse a change made from another version than ``current`` (RFC 9110 section 13.1.1):
    412 on a stale If-Match, 428 without one where it is ``required``."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        if required:
            abort(428)
        return
    sent = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    if "*" not in sent and current not in sent:
        abort(412)


def api_problem(code: int, detail: str, **extra: Any) -> ResponseReturnValue:
    """Return problem details (RFC 9457) titled in the user's language, ``detail`` as given."""
    title = API_TITLES.get(code) or TITLES.get(code) or TITLES[500]
    return problem(code, detail, title=str(title), **extra)


def detail_for(code: int) -> str:
    """Return the translated explanation of an HTTP status for an API client."""
    if code == 401 and g.get("api_token_error") in TOKEN_ERRORS:
        return str(TOKEN_ERRORS[g.api_token_error])
    text = API_MESSAGES.get(code) or MESSAGES.get(code) or MESSAGES[500]
    return str(text)


@blp.errorhandler(HTTPException)
def http_problem(exc: HTTPException) -> ResponseReturnValue:
    """Answer any HTTP error of the API as problem details."""
    code = exc.code or 500
    extra: dict[str, Any] = {}
    data = getattr(exc, "data", None)
    if isinstance(data, dict) and data.get("messages"):
        extra["errors"] = data["messages"]
    return api_problem(code, detail_for(code), **extra)


def refused(exc: Refused) -> ResponseReturnValue:
    """Explain a refusal of a service (its changes are already discarded): 403 or 422."""
    from exchange.cases.routes import CASE_ERRORS
    from exchange.cases.services import CaseError
    from exchange.documents.dispatch import DeskError
    from exchange.documents.labels import desk_message

    if isinstance(exc, CaseError):
        text = str(CASE_ERRORS.get(exc.code, CASE_ERRORS["forbidden"]))
    elif isinstance(exc, DeskError):
        text = desk_message(exc.code)
    else:
        text = error_message(exc.code)
    status = 403 if exc.code == "forbidden" else 422
    extra: dict[str, Any] = {"error": exc.code}
    if exc.detail:
        extra["items"] = exc.detail.split(", ")  # what is missing, or which fields
    return api_problem(status, text, **extra)


def lost_race() -> ResponseReturnValue:
    """Answer a change that lost a race: 409, nothing of it kept."""
    return api_problem(409, error_message("changed"))
