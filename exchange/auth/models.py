"""Accounts: users, roles, sessions, sign-in throttles, recovery codes and enrolment links."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.auth.permissions import ROLES_REQUIRING_TOTP, permissions_for
from exchange.db import new_uuid, utcnow
from exchange.envelopes.stores import decrypt_field, encrypt_field
from exchange.extensions import db

if TYPE_CHECKING:
    from exchange.directory.models import Authority


def new_session_token() -> str:
    """Return a fresh random per-user session token."""
    return secrets.token_urlsafe(24)


class User(db.Model):  # type: ignore[name-defined]
    """A person who signs in; belongs to exactly one authority hosted on this node."""

    __tablename__ = "users"
    # Lets ``session_key`` below be a plain, unmapped attribute of the loaded object.
    __allow_unmapped__ = True

    # The token of the browser session this object was loaded for (Flask-Login's identity); set by
    # the session loader, never stored on the user.
    session_key: str | None = None

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Rotated on every credential change, reset, role change or disablement: every session begun
    # under the old one ends (each ``UserSession`` remembers the token it began under).
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    locale: Mapped[str | None] = mapped_column(String(5))
    # The TOTP seed, encrypted with the node's data key: a stolen database dump must not let
    # anyone compute second-factor codes. Read and written through ``totp_secret``.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(String(255))
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    # Last accepted TOTP time step: a code is accepted once (RFC 6238 section 5.2). Only ever
    # raised by a conditional UPDATE, so two requests with one code cannot both pass.
    totp_last_step: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()

    authority: Mapped[Authority] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    # --- Flask-Login protocol -----------------------------------------------------------------

    @property
    def is_authenticated(self) -> bool:
        """Return True: a loaded user is an authenticated one."""
        return True

    @property
    def is_active(self) -> bool:
        """Tell whether the account may sign in."""
        return self.active

    @property
    def is_anonymous(self) -> bool:
        """Return False: anonymous visitors are Flask-Login's AnonymousUserMixin."""
        return False

    def get_id(self) -> str:
        """Return the identity Flask-Login keeps in the cookie: the server-side session's token."""
        if self.session_key is None:
            raise RuntimeError("no server-side session was opened for this user")
        return self.session_key

    @property
    def totp_secret(self) -> str | None:
        """Return the TOTP seed in clear (decrypted with the node's data key)."""
        if self.totp_secret_encrypted is None:
            return None
        return decrypt_field(self.totp_secret_encrypted, context=self._totp_context())

    @totp_secret.setter
    def totp_secret(self, secret: str | None) -> None:
        """Store a new TOTP seed encrypted, bound to this user (context as associated data)."""
        if secret is None:
            self.totp_secret_encrypted = None
            return
        if self.public_id is None:
            self.public_id = new_uuid()
        self.totp_secret_encrypted = encrypt_field(secret, context=self._totp_context())

    def _totp_context(self) -> str:
        """Return the associated data that binds an encrypted seed to this user."""
        return f"users/{self.public_id}/totp_secret"

    # --- roles and permissions ----------------------------------------------------------------

    @property
    def roles(self) -> frozenset[str]:
        """Return the names of the roles the user holds."""
        return frozenset(row.role for row in self.role_rows)

    @property
    def permissions(self) -> frozenset[str]:
        """Return every permission granted by the user's roles."""
        return permissions_for(self.roles)

    def can(self, permission: str) -> bool:
        """Tell whether the user holds ``permission``."""
        return self.active and permission in self.permissions

    @property
    def totp_required(self) -> bool:
        """Tell whether the user's roles require a second factor."""
        return bool(self.roles & ROLES_REQUIRING_TOTP)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class UserRole(db.Model):  # type: ignore[name-defined]
    """One role held by one user."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(40))

    user: Mapped[User] = relationship(back_populates="role_rows")


class RecoveryCode(db.Model):  # type: ignore[name-defined]
    """A one-time second-factor recovery code: its first group in clear, the whole code argon2id."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Picks the one row to verify, so a sign-in costs one argon2 check, not one per code.
    selector: Mapped[str] = mapped_column(String(8))
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column()


class UserSession(db.Model):  # type: ignore[name-defined]
    """One browser's sign-in, kept on the server; the cookie carries only a random token."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    # SHA-256 of the cookie's 256-bit token: a database reader cannot take over a session.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # ``User.session_token`` when the session began: rotating that ends this session.
    user_token: Mapped[str] = mapped_column(String(64))
    # The client address (after ProxyFix) the session is bound to, and its browser, for the owner.
    client_address: Mapped[str] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None while the password is checked but the second factor is still owed.
    authenticated_at: Mapped[datetime | None] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    # A TOTP seed being enrolled, until confirmed: encrypted, and never in the client's cookie.
    pending_totp_secret_encrypted: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def pending_totp_secret(self) -> str | None:
        """Return the seed being enrolled in this session, in clear."""
        if self.pending_totp_secret_encrypted is None:
            return None
        return decrypt_field(self.pending_totp_secret_encrypted, context=self._seed_context())

    @pending_totp_secret.setter
    def pending_totp_secret(self, secret: str | None) -> None:
        """Keep a seed being enrolled, encrypted and bound to this session."""
        if secret is None:
            self.pending_totp_secret_encrypted = None
            return
        if self.public_id is None:
            self.public_id = new_uuid()
        self.pending_totp_secret_encrypted = encrypt_field(secret, context=self._seed_context())

    def _seed_context(self) -> str:
        """Return the associated data that binds an encrypted pending seed to this session."""
        return f"user_sessions/{self.public_id}/pending_totp_secret"


class LoginThrottle(db.Model):  # type: ignore[name-defined]
    """Failed sign-in attempts (passwords and codes together) counted under one key."""

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    # An HMAC of the scope and its value (an e-mail address, a network address or both), so the
    # table keeps neither the addresses people typed nor where they came from in clear.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column()
    locked_until: Mapped[datetime | None] = mapped_column()


class EnrolmentLink(db.Model):  # type: ignore[name-defined]
    """A one-time link with which a new user sets a password (and, if needed, a second factor)."""

    __tablename__ = "enrolment_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
