"""Account operations: create, sign in, sessions, second factor, passwords, roles, enrolment links.

Services flush and never commit (the request or the command is the unit of work) and take the
session and the acting user explicitly.

Every sign-in decision (password, second factor, re-authentication before a credential change) is
taken by ``_attempt`` below, against the same counters: per account from one network address, per
account from anywhere, per network address against any account. Accounts are counted by the e-mail
address typed, whether or not an account has it, so nothing answers differently for unknown
addresses.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value

from exchange.auth import passwords, totp
from exchange.auth.models import (
    EnrolmentLink,
    LoginThrottle,
    RecoveryCode,
    User,
    UserRole,
    UserSession,
    new_session_token,
)
from exchange.auth.permissions import ADMINISTRATOR, ROLES
from exchange.db import DbSession, utcnow
from exchange.directory.models import Authority
from exchange.policy import accounts as policy
from exchange.settings import Settings

# How long a password-checked sign-in waits for its second factor.
PENDING_LOGIN = timedelta(minutes=5)
# How long a user's past sessions are kept, for their own list of sessions.
SESSION_HISTORY = timedelta(days=30)

ENROLMENT_LINK_LIFETIME = timedelta(days=3)


class AccountError(Exception):
    """An account operation was refused; ``code`` names why, for a translated message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def normalise_email(email: str) -> str:
    """Return the canonical form of an e-mail address used as a login."""
    return email.strip().lower()


def find_user(session: DbSession, email: str) -> User | None:
    """Return the user with this e-mail address, if any."""
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    session: DbSession,
    *,
    email: str,
    display_name: str,
    authority: Authority,
    roles: set[str] | frozenset[str],
    password: str | None = None,
) -> User:
    """Create a user of a hosted authority, with a password or awaiting an enrolment link."""
    email = normalise_email(email)
    if not authority.hosted:
        raise AccountError("authority_not_hosted")
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError("unknown_role")
    if find_user(session, email) is not None:
        raise AccountError("email_taken")
    user = User(email=email, display_name=display_name.strip(), authority=authority)
    user.role_rows = [UserRole(role=role) for role in sorted(roles)]
    if password is not None:
        passwords.check_policy(password, email=email)
        user.password_hash = passwords.hash_password(password)
        user.password_changed_at = utcnow()
    session.add(user)
    session.flush()
    return user


def _is_last_administrator(session: DbSession, user: User) -> bool:
    """Tell whether ``user`` is the only active administrator of their authority."""
    if not user.active or ADMINISTRATOR not in user.roles:
        return False
    # Lock the authority's row (PostgreSQL) so that two administrators removing each other at
    # once are taken one after the other, and the second sees the first's change.
    session.execute(select(Authority.id).where(Authority.id == user.authority_id).with_for_update())
    others = session.scalar(
        select(func.count(User.id))
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            User.authority_id == user.authority_id,
            User.id != user.id,
            User.active.is_(True),
            UserRole.role == ADMINISTRATOR,
        )
    )
    return not others


def set_roles(
    session: DbSession, user: User, roles: set[str] | frozenset[str], *, actor: User | None = None
) -> None:
    """Replace the user's roles; the new permissions apply from the next request.

    ``actor`` is the signed-in administrator: nobody changes their own roles or grants or
    withdraws a role beyond their reach. ``None`` is the operator's command line, the node's root,
    which may. Nobody, not even the operator, takes the role from an authority's last active
    administrator: the authority would be left with nobody to manage its accounts.
    """
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError("unknown_role")
    if actor is not None:
        if not policy.can_manage_user(actor, user):
            raise AccountError("forbidden")
        if actor.id == user.id:
            raise AccountError("own_roles")
        if (set(roles) ^ user.roles) - policy.grantable_roles(actor):
            raise AccountError("role_not_grantable")
    if ADMINISTRATOR not in roles and _is_last_administrator(session, user):
        raise AccountError("last_administrator")
    current = {row.role: row for row in user.role_rows}
    for role, row in current.items():
        if role not in roles:
            user.role_rows.remove(row)
    for role in sorted(set(roles) - set(current)):
        user.role_rows.append(UserRole(role=role))
    # A new second-factor duty is enforced at the next login; end sessions so it comes soon.
    user.session_token = new_session_token()
    session.flush()


def disable_user(session: DbSession, user: User, *, actor: User | None = None) -> None:
    """Disable an account and end all its sessions.

    Nobody disables their own account; nobody, not even the operator (``actor=None``), disables
    an authority's last active administrator.
    """
    if actor is not None and actor.id == user.id:
        raise AccountError("own_account")
    if _is_last_administrator(session, user):
        raise AccountError("last_administrator")
    user.active = False
    user.session_token = new_session_token()
    session.flush()


def enable_user(session: DbSession, user: User) -> None:
    """Re-enable a disabled account."""
    user.active = True
    session.flush()


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


def _token_digest(token: str) -> str:
    """Hash a session or enrolment token for storage (each carries 256 random bits)."""
    return hashlib.sha256(token.encode()).hexdigest()


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
        token_hash=_token_digest(token),
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
            UserSession.token_hash == _token_digest(token), UserSession.ended_at.is_(None)
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


def confirm_totp(
    session: DbSession, user: User, secret: str, code: str, *, at: float | None = None
) -> list[str]:
    """Turn on TOTP once the user proves the app shows the right code; return recovery codes."""
    step = totp.matching_step(secret, code, at=at)
    if step is None:
        raise AccountError("bad_code")
    user.totp_secret = secret
    user.totp_enabled = True
    user.totp_last_step = step
    return replace_recovery_codes(session, user)  # which also ends every session


def replace_recovery_codes(session: DbSession, user: User) -> list[str]:
    """Issue new recovery codes, invalidating the old ones and every session; return them once."""
    user.session_token = new_session_token()  # a credential change; the caller reopens its own
    for row in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(row)
    codes = totp.new_recovery_codes()
    for code in codes:
        normalised = totp.normalise_recovery_code(code)
        assert normalised is not None  # noqa: S101 - made in that alphabet just above
        session.add(
            RecoveryCode(
                user_id=user.id,
                selector=totp.recovery_selector(normalised),
                code_hash=totp.hash_recovery_code(normalised),
            )
        )
    session.flush()
    return codes


def set_password(session: DbSession, user: User, new: str) -> None:
    """Set a new password that passes the policy, and rotate the session token."""
    passwords.check_policy(new, email=user.email, context=[user.display_name])
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = utcnow()
    user.session_token = new_session_token()
    session.flush()


def issue_enrolment_link(session: DbSession, user: User, *, reset: bool = False) -> str:
    """Create a one-time enrolment token for ``user``; with ``reset``, end sessions and the password."""
    if reset:
        user.password_hash = None
        user.session_token = new_session_token()
        user.totp_enabled = False
        user.totp_secret = None
        user.totp_last_step = None
    for link in session.scalars(
        select(EnrolmentLink).where(
            EnrolmentLink.user_id == user.id, EnrolmentLink.used_at.is_(None)
        )
    ):
        link.used_at = utcnow()  # only the newest link works
    token = secrets.token_urlsafe(32)
    session.add(
        EnrolmentLink(
            user_id=user.id,
            token_hash=_token_digest(token),
            expires_at=utcnow() + ENROLMENT_LINK_LIFETIME,
        )
    )
    session.flush()
    return token


def find_enrolment_link(session: DbSession, token: str) -> EnrolmentLink | None:
    """Return the valid (unused, unexpired) enrolment link for ``token``, if any."""
    if len(token) > 100:
        return None
    link = session.scalar(
        select(EnrolmentLink).where(EnrolmentLink.token_hash == _token_digest(token))
    )
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    if not link.user.active:
        return None
    return link


def redeem_enrolment_link(session: DbSession, link: EnrolmentLink, password: str) -> User:
    """Set the user's first password through an enrolment link, which is then spent."""
    set_password(session, link.user, password)
    link.used_at = utcnow()
    session.flush()
    return link.user
