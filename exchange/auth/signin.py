"""Signing in and sessions: every sign-in decision in one place, and the sessions it opens.

Every sign-in decision (password, second factor, re-authentication before a credential change) is
taken by ``_attempt`` below, against the same counters: per account from one network address, per
account from anywhere, per network address against any account. Accounts are counted by the e-mail
address typed, whether or not an account has it, so nothing answers differently for unknown
addresses. Services flush and never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value

from exchange.auth import passwords, totp
from exchange.auth.models import (
    LoginThrottle,
    RecoveryCode,
    User,
    UserSession,
)
from exchange.auth.services import find_user, normalise_email, token_digest
from exchange.db import DbSession, utcnow
from exchange.settings import Settings

# How long a password-checked sign-in waits for its second factor.
PENDING_LOGIN = timedelta(minutes=5)
# How long a user's past sessions are kept, for their own list of sessions.
SESSION_HISTORY = timedelta(days=30)


@dataclass(frozen=True)
class LoginPolicy:
    """The limits of sign-in attempts, from the node's settings."""

    attempts_per_account_and_address: int
    attempts_per_account: int
    attempts_per_address: int
    lockout: timedelta
    key: bytes  # keys the HMAC that names each counter

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        """Return the policy configured for this node."""
        return cls(
            attempts_per_account_and_address=settings.login_attempts_before_lockout,
            attempts_per_account=settings.account_attempts_before_lockout,
            attempts_per_address=settings.address_attempts_before_lockout,
            lockout=timedelta(minutes=settings.lockout_minutes),
            key=hashlib.sha256(
                b"exchange login throttle\0" + settings.secret_key.encode()
            ).digest(),
        )


@dataclass(frozen=True)
class Client:
    """Where a request comes from: the client address (after ProxyFix) and its browser."""

    address: str
    user_agent: str = ""


@dataclass(frozen=True)
class LoginResult:
    """What a sign-in step concluded: the user, or why not (bad_credentials, locked, disabled)."""

    user: User | None
    error: str | None = None


def _counters(policy: LoginPolicy, email: str, address: str) -> list[tuple[str, int]]:
    """Return the key and limit of each counter that an attempt on ``email`` from ``address`` uses."""

    def key(scope: str, value: str) -> str:
        return hmac.new(policy.key, f"{scope}\0{value}".encode(), hashlib.sha256).hexdigest()

    email = normalise_email(email)
    return [
        (key("account+address", f"{email}\0{address}"), policy.attempts_per_account_and_address),
        (key("account", email), policy.attempts_per_account),
        (key("address", address), policy.attempts_per_address),
    ]


def account_lock_key(policy: LoginPolicy, email: str) -> str:
    """Return the key of ``email``'s account-wide counter (attempts from anywhere), for listing locks."""
    return _counters(policy, email, "")[1][0]


def _locked(session: DbSession, counters: list[tuple[str, int]], now: datetime) -> bool:
    """Tell whether any of the counters is locked at ``now``."""
    keys = [key for key, _limit in counters]
    return (
        session.scalar(
            select(LoginThrottle.id).where(
                LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now
            )
        )
        is not None
    )


def _count_failure(
    session: DbSession, policy: LoginPolicy, counters: list[tuple[str, int]], now: datetime
) -> bool:
    """Count one failure on every counter, in SQL so concurrent failures all count; tell if locked."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    forgotten = now - policy.lockout  # failures older than a lockout are forgiven
    # Counters that are forgiven and unlocked say nothing any more: the table stays small.
    session.execute(
        delete(LoginThrottle)
        .where(
            LoginThrottle.last_failure_at < forgotten,
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
        )
        .execution_options(synchronize_session=False)
    )
    locked = False
    for key, limit in counters:
        session.execute(
            insert(LoginThrottle)
            .values(key=key, failures=0)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key)
            .values(
                failures=case(
                    (
                        or_(
                            LoginThrottle.last_failure_at.is_(None),
                            LoginThrottle.last_failure_at < forgotten,
                        ),
                        1,
                    ),
                    else_=LoginThrottle.failures + 1,
                ),
                last_failure_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        result = session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key, LoginThrottle.failures >= limit)
            .values(failures=0, locked_until=now + policy.lockout)
            .execution_options(synchronize_session=False)
        )
        locked = locked or _rowcount(result) > 0
    return locked or _locked(session, counters, now)


def _rowcount(result: Any) -> int:
    """Return how many rows an UPDATE changed."""
    return int(cast(CursorResult[Any], result).rowcount)


def _attempt(
    session: DbSession,
    policy: LoginPolicy,
    email: str,
    client: Client,
    check: Callable[[], User | None],
    now: datetime | None,
    *,
    check_spends: bool,
) -> LoginResult:
    """Decide one sign-in step: refuse while locked, else run ``check`` and count a failure."""
    # A check that spends nothing (a password's) runs even while locked, so that a locked account
    # answers in the time of any other; one that would spend a one-time code does not run.
    now = now or utcnow()
    counters = _counters(policy, email, client.address)
    user = None if check_spends else check()
    if _locked(session, counters, now):
        return LoginResult(None, "locked")
    if check_spends:
        user = check()
    if user is None:
        locked = _count_failure(session, policy, counters, now)
        return LoginResult(None, "locked" if locked else "bad_credentials")
    return LoginResult(user)


def attempt_password(
    session: DbSession,
    policy: LoginPolicy,
    email: str,
    password: str,
    client: Client,
    *,
    now: datetime | None = None,
) -> LoginResult:
    """Check an e-mail address and password; a success resets no counter (the second factor may follow)."""
    user = find_user(session, email)

    def check() -> User | None:
        hash_ = user.password_hash if user is not None else None
        return user if passwords.verify_password(hash_, password) and user is not None else None

    result = _attempt(session, policy, email, client, check, now, check_spends=False)
    if result.user is None:
        return result
    if not result.user.active:
        return LoginResult(None, "disabled")
    if result.user.password_hash and passwords.needs_rehash(result.user.password_hash):
        result.user.password_hash = passwords.hash_password(password)
    session.flush()
    return result


def attempt_second_factor(
    session: DbSession,
    policy: LoginPolicy,
    user: User,
    code: str,
    client: Client,
    *,
    now: datetime | None = None,
) -> LoginResult:
    """Check a TOTP or recovery code for a user who passed the password step."""
    return _attempt(
        session,
        policy,
        user.email,
        client,
        lambda: user if user.active and verify_second_factor(session, user, code) else None,
        now,
        check_spends=True,
    )


def attempt_step_up(
    session: DbSession,
    policy: LoginPolicy,
    user: User,
    password: str,
    code: str,
    client: Client,
    *,
    now: datetime | None = None,
) -> LoginResult:
    """Re-check the password, and the current code if the user has one, before a credential change."""

    def check() -> User | None:
        if not passwords.verify_password(user.password_hash, password):
            return None
        if user.totp_enabled and not verify_second_factor(session, user, code):
            return None
        return user

    return _attempt(session, policy, user.email, client, check, now, check_spends=True)


def sign_in_locked(
    session: DbSession,
    policy: LoginPolicy,
    user: User,
    client: Client,
    *,
    now: datetime | None = None,
) -> bool:
    """Tell whether sign-in steps for ``user`` from ``client`` are paused now."""
    return _locked(session, _counters(policy, user.email, client.address), now or utcnow())


def _forgive(session: DbSession, policy: LoginPolicy, user: User, client: Client) -> None:
    """Clear the account's counters after a complete sign-in (never the address's, which spans accounts)."""
    keys = [key for key, _limit in _counters(policy, user.email, client.address)[:2]]
    session.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.key.in_(keys))
        .execution_options(synchronize_session=False)
    )


def open_session(
    session: DbSession, user: User, client: Client, *, authenticated: bool
) -> tuple[UserSession, str]:
    """Start a server-side session for ``user``; return it and the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    # No session outlives SESSION_HISTORY (the settings cap the lifetime below it): older rows,
    # ended or not, only remain as the user's recent history.
    session.execute(
        delete(UserSession)
        .where(UserSession.user_id == user.id, UserSession.created_at < now - SESSION_HISTORY)
        .execution_options(synchronize_session=False)
    )
    row = UserSession(
        token_hash=token_digest(token),
        user=user,
        user_token=user.session_token,
        client_address=client.address[:45],
        user_agent=client.user_agent[:255],
        created_at=now,
        last_seen_at=now,
        authenticated_at=now if authenticated else None,
    )
    session.add(row)
    session.flush()
    user.session_key = token
    return row, token


def complete_login(
    session: DbSession,
    policy: LoginPolicy,
    user: User,
    client: Client,
    *,
    pending: UserSession | None = None,
) -> str:
    """Finish a sign-in: forgive the account's failures, replace any pending session; return the token."""
    if pending is not None:
        end_session(session, pending)
    _forgive(session, policy, user, client)
    user.last_login_at = utcnow()
    _row, token = open_session(session, user, client, authenticated=True)
    return token


def find_session(session: DbSession, token: str) -> UserSession | None:
    """Return the live (not ended) server-side session of ``token``, if any."""
    if not token or len(token) > 100:
        return None
    return session.scalar(
        select(UserSession).where(
            UserSession.token_hash == token_digest(token), UserSession.ended_at.is_(None)
        )
    )


def session_problem(
    row: UserSession,
    *,
    address: str,
    idle: timedelta,
    lifetime: timedelta,
    now: datetime | None = None,
) -> str | None:
    """Say why a session may no longer be used (revoked, address, idle, lifetime), or None."""
    now = now or utcnow()
    user = row.user
    if row.ended_at is not None or not user.active:
        return "revoked"
    if not hmac.compare_digest(row.user_token, user.session_token):
        return "revoked"
    if row.client_address != address[:45]:
        return "address"
    if row.authenticated_at is None:
        return "revoked" if now - row.created_at > PENDING_LOGIN else None
    if now - row.created_at > lifetime:
        return "lifetime"
    if now - row.last_seen_at > idle:
        return "idle"
    return None


def end_session(session: DbSession, row: UserSession) -> None:
    """End one session: its token is refused from now on, wherever a copy of the cookie is."""
    row.ended_at = row.ended_at or utcnow()
    row.pending_totp_secret = None
    session.flush()


def reopen_session(session: DbSession, user: User, client: Client) -> str:
    """After a credential change, end every session of ``user`` and open a new one for ``client``."""
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), pending_totp_secret_encrypted=None)
        .execution_options(synchronize_session="fetch")
    )
    _row, token = open_session(session, user, client, authenticated=True)
    return token


def verify_second_factor(
    session: DbSession, user: User, code: str, *, at: float | None = None
) -> bool:
    """Accept a TOTP code once (a replayed code is refused) or an unused recovery code."""
    if not user.totp_enabled or not user.totp_secret:
        return False
    step = totp.matching_step(user.totp_secret, code, at=at)
    if step is not None:
        # One conditional UPDATE decides, so of two requests with the same code only one wins,
        # whatever each read before (RFC 6238 section 5.2: a code is accepted once).
        result = session.execute(
            update(User)
            .where(
                User.id == user.id,
                or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            return False  # replay: this code, or a later one, was already used
        set_committed_value(user, "totp_last_step", step)
        return True
    return use_recovery_code(session, user, code)


def use_recovery_code(session: DbSession, user: User, code: str) -> bool:
    """Spend one unused recovery code of the user's, once even under concurrency."""
    normalised = totp.normalise_recovery_code(code)
    if normalised is None:
        return False
    row = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.selector == totp.recovery_selector(normalised),
            RecoveryCode.used_at.is_(None),
        )
    )
    if not totp.verify_recovery_code(row.code_hash if row else None, normalised) or row is None:
        return False
    result = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1
