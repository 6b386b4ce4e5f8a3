"""Flask-Login wiring: a session names the user and their current session token."""

from __future__ import annotations

import hmac

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from sqlalchemy import select

from exchange.auth.models import User
from exchange.extensions import db


def load_user(identity: str) -> User | None:
    """Return the user whose public id and session token match the session, else None."""
    public_id, _, token = identity.partition(":")
    if not public_id or not token:
        return None
    user = db.session.scalar(select(User).where(User.public_id == public_id))
    if user is None or not user.active or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def init_app(app: Flask, login_manager: LoginManager) -> None:
    """Configure Flask-Login: strong session protection, our loader, our login page."""
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
