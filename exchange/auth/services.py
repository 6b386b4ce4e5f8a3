"""Account operations: create, roles, second factor set-up, passwords, enrolment links.

Services flush and never commit (the request or the command is the unit of work) and take the
session and the acting user explicitly. Signing in and sessions are in ``exchange.auth.signin``.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import timedelta

from sqlalchemy import func, select

from exchange.auth import passwords, totp
from exchange.auth.models import (
    EnrolmentLink,
    RecoveryCode,
    User,
    UserRole,
    new_session_token,
)
from exchange.auth.permissions import ADMINISTRATOR, ROLES
from exchange.core.emails import InvalidEmail, check_email
from exchange.db import DbSession, utcnow
from exchange.directory.models import Authority
from exchange.policy import accounts as policy

ENROLMENT_LINK_LIFETIME = timedelta(days=3)
MAX_NAME_LENGTH = 120  # the column's length: a longer name is refused, never cut


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
    """Create a user of a hosted authority, with a password or awaiting an enrolment link.

    The address must be one (the forms' check, for the command line too) and the name non-empty,
    of at most ``MAX_NAME_LENGTH`` characters, none of them a control character.
    """
    try:
        email = normalise_email(check_email(email))
    except InvalidEmail as exc:
        raise AccountError("bad_email") from exc
    display_name = display_name.strip()
    if not display_name or len(display_name) > MAX_NAME_LENGTH or _has_control(display_name):
        raise AccountError("bad_name")
    if not authority.hosted:
        raise AccountError("authority_not_hosted")
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError("unknown_role")
    if find_user(session, email) is not None:
        raise AccountError("email_taken")
    user = User(email=email, display_name=display_name, authority=authority)
    user.role_rows = [UserRole(role=role) for role in sorted(roles)]
    if password is not None:
        passwords.check_policy(password, email=email)
        user.password_hash = passwords.hash_password(password)
        user.password_changed_at = utcnow()
    session.add(user)
    session.flush()
    return user


def _has_control(text: str) -> bool:
    """Tell whether ``text`` holds a control or format character (a line break, a bidi override)."""
    return any(unicodedata.category(c) in ("Cc", "Cf") for c in text)


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


def token_digest(token: str) -> str:
    """Hash a session or enrolment token for storage (each carries 256 random bits)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_enrolment_link(
    session: DbSession, user: User, *, reset: bool = False, actor: User | None = None
) -> str:
    """Create a one-time enrolment token for ``user``; with ``reset``, end sessions and the password.

    Nobody resets their own account (``actor``, the signed-in administrator): the link would
    replace their password and second factor without the current ones, which every credential
    change of one's own asks for (OWASP ASVS 4.0 V3.7.1). ``None`` is the operator's command line.
    """
    if reset and actor is not None and actor.id == user.id:
        raise AccountError("own_account")
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
            token_hash=token_digest(token),
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
        select(EnrolmentLink).where(EnrolmentLink.token_hash == token_digest(token))
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
