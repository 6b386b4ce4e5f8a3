"""Signing in to the API: access and refresh tokens, and the account a credential speaks for.

``POST /tokens`` takes the portal's own sign-in decision (``exchange.auth.signin``): the same
counters, lockouts and second factor, so that failures on the API and on the portal add up.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from exchange.api import tokens
from exchange.api.blueprint import TOKEN_ERRORS, api_problem, blp, token_config
from exchange.api.schemas import MeOut, RefreshIn, RevokeIn, TokenIn, TokenOut
from exchange.auth import sessions, signin
from exchange.auth.permissions import permission_required
from exchange.auth.routes import CODE_REFUSED, LOGIN_ERRORS
from exchange.extensions import db, limiter
from exchange.uow import keep_changes_on_error

ENROL_FIRST = _l(
    "Your role requires a second factor: set it up by signing in to the portal once, then retry."
)
CODE_NEEDED = _l("Send the current code of your authenticator app (or a recovery code) as code.")
PROBLEMS = {401: {"description": "Refused credentials (problem details)."}}


def _limit() -> str:
    """Return the node's rate limit of sign-in attempts (the portal's)."""
    return str(current_app.config["EXCHANGE"].login_rate_limit)


def _refuse(error: str | None) -> ResponseReturnValue:
    """Answer a refused sign-in, keeping its failure count."""
    keep_changes_on_error()
    status = 429 if error == "locked" else 401
    return api_problem(status, str(LOGIN_ERRORS.get(error or "", LOGIN_ERRORS["bad_credentials"])))


def _tokens(issued: tokens.Issued) -> dict[str, Any]:
    """Return the body of a token response."""
    return {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "refresh_token": issued.refresh_token,
    }


@blp.route("/tokens", methods=["POST"], tags=["tokens"])
@limiter.limit(_limit)
@blp.arguments(TokenIn)
@blp.response(201, TokenOut)
@blp.alt_response(401, description="Wrong credentials or code.")
@blp.alt_response(429, description="Too many attempts.")
@blp.doc(security=[])
def create_token(body: dict[str, Any]) -> ResponseReturnValue:
    """Sign in with password (and code where the role requires one): an access and a refresh token."""
    policy = signin.LoginPolicy.from_settings(current_app.config["EXCHANGE"])
    client = sessions.client()
    result = signin.attempt_password(db.session, policy, body["email"], body["password"], client)
    user = result.user
    if user is None:
        return _refuse(result.error)
    if user.totp_required and not user.totp_enabled:
        return api_problem(401, str(ENROL_FIRST))
    if user.totp_enabled:
        if not body["code"]:
            return api_problem(401, str(CODE_NEEDED))
        second = signin.attempt_second_factor(db.session, policy, user, body["code"], client)
        if second.user is None:
            if second.error == "locked":
                return _refuse("locked")
            keep_changes_on_error()
            return api_problem(401, str(CODE_REFUSED))
    token = signin.complete_login(db.session, policy, user, client)
    row = signin.find_session(db.session, token)
    assert row is not None  # noqa: S101 - complete_login has just opened it
    return _tokens(tokens.issue(db.session, token_config(), row)), 201


@blp.route("/tokens/refresh", methods=["POST"], tags=["tokens"])
@limiter.limit(_limit)
@blp.arguments(RefreshIn)
@blp.response(201, TokenOut)
@blp.alt_response(401, description="Unknown, spent or expired refresh token.")
@blp.doc(security=[])
def refresh_token(body: dict[str, Any]) -> ResponseReturnValue:
    """Spend a refresh token for a new access token and a new refresh token (rotation)."""
    try:
        issued = tokens.refresh(db.session, token_config(), body["refresh_token"])
    except tokens.TokenRefused as exc:
        keep_changes_on_error()  # a reused token ends its sign-in: that must stay ended
        return api_problem(401, str(TOKEN_ERRORS.get(exc.code, TOKEN_ERRORS["invalid"])))
    return _tokens(issued), 201


@blp.route("/tokens", methods=["DELETE"], tags=["tokens"])
@blp.response(204)
def sign_out() -> None:
    """Sign out: end the sign-in of this access token (its refresh token dies with it), or
    revoke this personal token. Any valid credential may end itself, read-only or not."""
    tokens.sign_out(db.session, g.api_bearer)


@blp.route("/tokens/revoke", methods=["POST"], tags=["tokens"])
@limiter.limit(_limit)
@blp.arguments(RevokeIn)
@blp.response(204)
@blp.alt_response(429, description="Too many attempts.")
@blp.doc(security=[])
def revoke_token(body: dict[str, Any]) -> None:
    """Sign out with a refresh token (RFC 7009): its sign-in ends, with every token it gave.

    The answer is the same whether the token was known or not (RFC 7009 section 2.2), so that
    the route tells nothing about which tokens exist.
    """
    tokens.revoke_refresh(db.session, body["refresh_token"])


@blp.route("/me", methods=["GET"], tags=["tokens"])
@permission_required("portal.use")
@blp.response(200, MeOut)
def me() -> dict[str, Any]:
    """Return the account the credential speaks for, and what it may do."""
    return {
        "id": current_user.public_id,
        "email": current_user.email,
        "name": current_user.display_name,
        "authority": current_user.authority.code,
        "roles": sorted(current_user.roles),
        "permissions": sorted(current_user.permissions),
        "scope": g.api_scope,
    }
