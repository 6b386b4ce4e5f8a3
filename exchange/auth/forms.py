"""Forms of the sign-in and account pages (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from exchange.auth.passwords import MAX_LENGTH, MIN_LENGTH


class LoginForm(FlaskForm):
    """E-mail address and password."""

    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=MAX_LENGTH)],
    )


class SecondFactorForm(FlaskForm):
    """A six-digit code from the authenticator app, or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Enter the code.")), Length(max=32)],
    )


class NewPasswordForm(FlaskForm):
    """A new password typed twice."""

    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Enter a password.")),
            Length(
                min=MIN_LENGTH,
                max=MAX_LENGTH,
                message=_l("Use between %(min)d and %(max)d characters."),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[EqualTo("password", message=_l("The two passwords differ."))],
    )


class StepUpForm(FlaskForm):
    """The current password and, for a user who has one, a current second-factor code."""

    # Asked again before any credential change, so that a session alone (a stolen or forgotten
    # cookie) cannot replace the credentials: OWASP ASVS 4.0 V3.7.1; NIST SP 800-63B section
    # 6.1.2.1 (bind a new authenticator only after authenticating at the level it will serve).

    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=MAX_LENGTH)],
    )
    current_code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[Optional(), Length(max=32)],
    )


class ChangePasswordForm(NewPasswordForm, StepUpForm):
    """The current credentials, then a new password typed twice."""


class ReplaceSecondFactorForm(StepUpForm):
    """The current credentials, then a code from the new authenticator app."""

    code = StringField(
        _l("Code from the new app"),
        validators=[DataRequired(_l("Enter the code.")), Length(max=32)],
    )


class EmptyForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change something."""


def password_policy_message(code: str) -> str:
    """Return the translated explanation of a refused password."""
    messages = {
        "too_short": _l("The password must have at least %(n)d characters.", n=MIN_LENGTH),
        "too_long": _l("The password must have at most %(n)d characters.", n=MAX_LENGTH),
        "too_guessable": _l(
            "This password is too easy to guess: it is, or is close to, a common password, a word,"
            " a name or a keyboard pattern. A few unrelated words make a good password."
        ),
        "contains_email": _l("The password must not contain your e-mail address."),
    }
    return str(messages.get(code, messages["too_guessable"]))


__all__ = [
    "ChangePasswordForm",
    "EmptyForm",
    "LoginForm",
    "NewPasswordForm",
    "ReplaceSecondFactorForm",
    "SecondFactorForm",
    "StepUpForm",
    "password_policy_message",
]
