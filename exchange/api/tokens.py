"""The API's credentials: access tokens (JWT), refresh tokens and personal tokens.

Access tokens are JWTs (RFC 7519) signed with HS256 under a 256-bit secret kept in the node's key
store (``<keys>/api/access-token.key``). They are issued and checked by this node alone: no other
party verifies them, so a public key would add nothing but a second algorithm to pin, and HMAC
costs microseconds on every request. The algorithm is pinned on both sides: the header must say
HS256 and ``at+jwt`` (RFC 9068), and PyJWT is given that one algorithm, so neither ``none`` nor a
token signed with another algorithm or key is accepted (RFC 8725 section 3.1).

An access token names the server-side session its sign-in opened (``sid``): it dies with that
session, and with the user's session token (a password, second factor or role change, a
disablement). Plain functions over the session; they flush, never commit.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, lazyload

from exchange.api.models import READ, SCOPES, WRITE, PersonalToken, RefreshToken
from exchange.auth import signin
from exchange.auth.models import User, UserSession
from exchange.auth.services import token_digest
from exchange.db import DbSession, new_uuid, utcnow

ALGORITHM = "HS256"
TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type (RFC 9068), not a secret
ACCESS_LIFETIME = timedelta(minutes=10)
PERSONAL_PREFIX = "exk_"
# A personal token's last use is written at most this often (not one write per request).
LAST_USE_GRANULARITY = timedelta(minutes=5)
MAX_PERSONAL_TOKENS = 20
SECRET_FILE = Path("api") / "access-token.key"
_REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti", "sub", "sid"]
# The sign-in named by an access token, with its user and the user's roles: one statement per
# API call (built once; SQLAlchemy caches its compiled form). The user's authority, which few
# operations read, loads when one does.
_SIGN_IN = (
    select(UserSession)
    .where(UserSession.public_id == bindparam("sid"))
    .options(
        joinedload(UserSession.user).options(joinedload(User.role_rows), lazyload(User.authority))
    )
)


class TokenRefused(Exception):
    """A credential was refused; ``code`` says why (expired, invalid, revoked...)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class TokenConfig:
    """What the node signs and checks access tokens with."""

    secret: bytes
    issuer: str
    audience: str
    session_lifetime: timedelta
    session_idle: timedelta


@dataclass(frozen=True)
class Issued:
    """The tokens of a sign-in or a refresh."""

    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class Bearer:
    """Who a credential speaks for, what it may do (``read`` or ``write``), and what it is: the
    sign-in of an access token, or a personal token."""

    user: User
    scope: str
    sign_in: UserSession | None = None
    personal: PersonalToken | None = None


def signing_secret(keys_dir: Path) -> bytes:
    """Return the node's access-token secret, made (owner-only, once) on first use.

    Two workers starting together both try to create the file exclusively; the loser reads it.
    """
    path = keys_dir / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(32))
    secret = path.read_bytes()
    if len(secret) < 32:
        raise RuntimeError(f"{path} holds fewer than 256 bits")
    return secret


def _session_live(row: UserSession, config: TokenConfig, now: datetime) -> bool:
    """Tell whether an API sign-in's session still stands (not ended, same session token)."""
    user = row.user
    return (
        row.ended_at is None
        and row.authenticated_at is not None
        and user.active
        and hmac.compare_digest(row.user_token, user.session_token)
        and now - row.created_at <= config.session_lifetime
    )


def access_token(config: TokenConfig, row: UserSession, now: datetime) -> str:
    """Return a signed access token of the sign-in ``row``."""
    claims = {
        "iss": config.issuer,
        "aud": config.audience,
        "sub": row.user.public_id,
        "sid": row.public_id,
        "iat": int(now.timestamp()),
        "exp": int((now + ACCESS_LIFETIME).timestamp()),
        "jti": new_uuid(),
        "scope": WRITE,
    }
    return jwt.encode(claims, config.secret, algorithm=ALGORITHM, headers={"typ": TOKEN_TYPE})


def _new_refresh(session: DbSession, config: TokenConfig, row: UserSession, now: datetime) -> str:
    """Store a fresh refresh token of ``row`` (hashed) and return it."""
    token = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            token_hash=token_digest(token),
            user_session=row,
            created_at=now,
            expires_at=row.created_at + config.session_lifetime,
        )
    )
    session.flush()
    return token


def issue(
    session: DbSession, config: TokenConfig, row: UserSession, now: datetime | None = None
) -> Issued:
    """Return an access and a refresh token for the sign-in ``row`` (just opened)."""
    now = now or utcnow()
    return Issued(
        access_token=access_token(config, row, now),
        refresh_token=_new_refresh(session, config, row, now),
        expires_in=int(ACCESS_LIFETIME.total_seconds()),
    )


def refresh(
    session: DbSession, config: TokenConfig, token: str, now: datetime | None = None
) -> Issued:
    """Spend a refresh token for a new pair; a token spent twice ends its whole sign-in.

    A second use means that a copy of the token is in other hands (RFC 9700 section 4.14.2): the
    session ends, and with it every access and refresh token of the sign-in.
    """
    now = now or utcnow()
    if not token or len(token) > 100:
        raise TokenRefused("invalid")
    found = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == token_digest(token))
    )
    if found is None:
        raise TokenRefused("invalid")
    row = found.user_session
    if found.used_at is not None:
        signin.end_session(session, row)
        raise TokenRefused("reused")
    # The portal's idle timeout holds for an API sign-in too: refreshed (every few minutes by a
    # working client), it stays listed among the user's sessions, where it can be ended.
    if (
        found.expires_at <= now
        or not _session_live(row, config, now)
        or now - row.last_seen_at > config.session_idle
    ):
        raise TokenRefused("expired")
    found.used_at = now
    row.last_seen_at = now
    return Issued(
        access_token=access_token(config, row, now),
        refresh_token=_new_refresh(session, config, row, now),
        expires_in=int(ACCESS_LIFETIME.total_seconds()),
    )


@lru_cache(maxsize=1024)
def _signed_claims(config: TokenConfig, token: str) -> dict[str, Any]:
    """Check an access token's header, signature, issuer, audience and required claims.

    The answer depends on nothing but the token and the node's key, so it is remembered per
    process (a client sends the same token for minutes); the time is checked on every call by
    ``_decode``. A refused token raises, and a raise is never remembered.
    """
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM or header.get("typ") != TOKEN_TYPE:
            raise TokenRefused("invalid")
        claims: dict[str, Any] = jwt.decode(
            token,
            config.secret,
            algorithms=[ALGORITHM],
            audience=config.audience,
            issuer=config.issuer,
            options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
        )
    except jwt.InvalidTokenError as exc:
        raise TokenRefused("invalid") from exc
    if not isinstance(claims["exp"], int) or not isinstance(claims["iat"], int):
        raise TokenRefused("invalid")
    return claims


def _decode(config: TokenConfig, token: str, now: datetime | None = None) -> dict[str, Any]:
    """Check an access token (``_signed_claims``) and that it is valid at ``now``; return its
    claims. As PyJWT would: expired from ``exp`` on, refused if issued in the future."""
    claims = _signed_claims(config, token)
    moment = (now or utcnow()).timestamp()
    if moment >= claims["exp"]:
        raise TokenRefused("expired")
    if claims["iat"] > moment:
        raise TokenRefused("invalid")
    return claims


def authenticate(
    session: DbSession, config: TokenConfig, credential: str, now: datetime | None = None
) -> Bearer:
    """Return who a bearer credential (an access token or a personal token) speaks for."""
    now = now or utcnow()
    if not credential or len(credential) > 4096:
        raise TokenRefused("invalid")
    if credential.startswith(PERSONAL_PREFIX):
        return _personal(session, credential, now)
    claims = _decode(config, credential, now)
    row = session.execute(_SIGN_IN, {"sid": str(claims["sid"])}).unique().scalar_one_or_none()
    if row is None or row.user.public_id != claims["sub"] or not _session_live(row, config, now):
        raise TokenRefused("revoked")
    return Bearer(row.user, WRITE, sign_in=row)


def _personal(session: DbSession, credential: str, now: datetime) -> Bearer:
    """Return who a personal token speaks for; refuse a revoked or outdated one."""
    found = session.scalar(
        select(PersonalToken).where(PersonalToken.token_hash == token_digest(credential))
    )
    if found is None:
        raise TokenRefused("invalid")
    user = found.user
    if (
        found.revoked_at is not None
        or not user.active
        or not hmac.compare_digest(found.user_token, user.session_token)
    ):
        raise TokenRefused("revoked")
    if found.last_used_at is None or now - found.last_used_at > LAST_USE_GRANULARITY:
        found.last_used_at = now
    return Bearer(user, found.scope, personal=found)


def sign_out(session: DbSession, bearer: Bearer) -> None:
    """End what a bearer credential stands for: the sign-in of an access token (and with it every
    access and refresh token it gave), or the personal token itself."""
    if bearer.sign_in is not None:
        signin.end_session(session, bearer.sign_in)
    if bearer.personal is not None:
        bearer.personal.revoked_at = bearer.personal.revoked_at or utcnow()
        session.flush()


def revoke_refresh(session: DbSession, token: str) -> bool:
    """End the sign-in of a refresh token, spent or not (RFC 7009 section 2.1: revoking a refresh
    token ends the grant, its access tokens with it); tell whether the token was known."""
    if not token or len(token) > 100:
        return False
    found = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == token_digest(token))
    )
    if found is None:
        return False
    signin.end_session(session, found.user_session)
    return True


def live_personal_tokens(session: DbSession, user: User) -> list[PersonalToken]:
    """Return the user's personal tokens that still work, newest first."""
    rows = session.scalars(
        select(PersonalToken)
        .where(PersonalToken.user_id == user.id, PersonalToken.revoked_at.is_(None))
        .order_by(PersonalToken.created_at.desc(), PersonalToken.id.desc())
    )
    return [r for r in rows if hmac.compare_digest(r.user_token, user.session_token)]


def create_personal_token(
    session: DbSession, user: User, *, name: str, scope: str
) -> tuple[PersonalToken, str]:
    """Make a personal token of ``user``; return it and its value (shown once, stored hashed)."""
    name = name.strip()
    if not name or len(name) > 80:
        raise TokenRefused("bad_name")
    if scope not in SCOPES:
        raise TokenRefused("bad_scope")
    if scope == WRITE and not user.can("portal.use"):
        raise TokenRefused("bad_scope")
    if len(live_personal_tokens(session, user)) >= MAX_PERSONAL_TOKENS:
        raise TokenRefused("too_many")
    value = PERSONAL_PREFIX + secrets.token_urlsafe(32)
    row = PersonalToken(
        user_id=user.id,
        name=name,
        scope=scope,
        token_hash=token_digest(value),
        prefix=value[: len(PERSONAL_PREFIX) + 6],
        user_token=user.session_token,
    )
    session.add(row)
    session.flush()
    return row, value


def revoke_personal_token(session: DbSession, user: User, public_id: str) -> bool:
    """Revoke one of the user's own personal tokens; tell whether there was one."""
    found = session.scalar(
        select(PersonalToken).where(
            PersonalToken.public_id == public_id,
            PersonalToken.user_id == user.id,
            PersonalToken.revoked_at.is_(None),
        )
    )
    if found is None:
        return False
    found.revoked_at = utcnow()
    session.flush()
    return True


__all__ = ["READ", "WRITE", "Bearer", "Issued", "TokenConfig", "TokenRefused"]
