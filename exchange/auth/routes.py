"""Sign-in with password and second factor, sign-out, the user's own account, enrolment links."""

from __future__ import annotations

import time
from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from exchange.auth import services, totp
from exchange.auth.forms import (
    ChangePasswordForm,
    EmptyForm,
    LoginForm,
    NewPasswordForm,
    SecondFactorForm,
    password_policy_message,
)
from exchange.auth.models import User
from exchange.auth.passwords import MIN_LENGTH, PasswordPolicyError
from exchange.auth.permissions import ROLE_LABELS
from exchange.auth.services import ENROLMENT_LINK_LIFETIME
from exchange.core.routes import safe_next
from exchange.extensions import db, limiter
from exchange.settings import Settings
from exchange.uow import keep_changes_on_error

bp = Blueprint("auth", __name__, template_folder="templates")

# How long a password-checked login waits for its second factor.
PENDING_LOGIN_SECONDS = 300

LOGIN_ERRORS = {
    "bad_credentials": _l("Wrong e-mail address or password."),
    "locked": _l("Too many failed attempts: this account is locked for a while. Try again later."),
    "disabled": _l("This account is disabled. Ask your administrator."),
}


def _login_limit() -> str:
    """Return the configured rate limit of the sign-in forms."""
    return str(current_app.config["EXCHANGE"].login_rate_limit)


@bp.app_context_processor
def inject_roles() -> dict[str, object]:
    """Give templates the translated role names."""
    return {
        "role_labels": ROLE_LABELS,
        "min_length": MIN_LENGTH,
        "link_days": ENROLMENT_LINK_LIFETIME.days,
    }


def _settings() -> Settings:
    """Return the node's settings."""
    settings: Settings = current_app.config["EXCHANGE"]
    return settings


def _pending_user() -> User | None:
    """Return the user who passed the password step and now owes a second factor."""
    pending = session.get("pending_login")
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_LOGIN_SECONDS:
        session.pop("pending_login", None)
        return None
    user = db.session.scalar(select(User).where(User.public_id == pending.get("user")))
    if user is None or not user.active or user.session_token != pending.get("token"):
        return None
    return user


def _complete_login(user: User) -> ResponseReturnValue:
    """Start the session of a fully authenticated user and go where they were heading."""
    target = safe_next(
        session.get("pending_next") or request.args.get("next"), url_for("core.index")
    )
    locale = session.get("locale")
    session.clear()  # a fresh session at the change of privilege (no fixation)
    login_user(user)
    session["last_seen"] = int(time.time())
    if locale and not user.locale:
        user.locale = locale
    services.record_login(db.session, user)
    return redirect(target, code=303)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    """Check the e-mail address and password, then ask for the second factor where needed."""
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    if form.validate_on_submit():
        settings = _settings()
        result = services.authenticate(
            db.session,
            form.email.data or "",
            form.password.data or "",
            max_failures=settings.login_attempts_before_lockout,
            lockout=timedelta(minutes=settings.lockout_minutes),
        )
        user = result.user
        if user is None:
            keep_changes_on_error()  # the failure count must survive the error answer
            flash(str(LOGIN_ERRORS[result.error or "bad_credentials"]), "error")
            return render_template(
                "auth/login.html", form=form
            ), 401 if result.error != "locked" else 429
        if user.totp_enabled or user.totp_required:
            locale = session.get("locale")
            session.clear()
            if locale:
                session["locale"] = locale
            session["pending_login"] = {
                "user": user.public_id,
                "token": user.session_token,
                "at": time.time(),
            }
            session["pending_next"] = safe_next(request.args.get("next"), "")
            return redirect(url_for("auth.login_second_factor"), code=303)
        return _complete_login(user)
    return render_template("auth/login.html", form=form)


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login_second_factor() -> ResponseReturnValue:
    """Ask for the TOTP code (or a recovery code); enrol first if the role requires it."""
    user = _pending_user()
    if user is None:
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if not user.totp_enabled:
        return _enrol_during_login(user, form)
    if form.validate_on_submit():
        if services.verify_second_factor(db.session, user, form.code.data or ""):
            return _complete_login(user)
        settings = _settings()
        locked = services.record_failure(
            db.session,
            user,
            max_failures=settings.login_attempts_before_lockout,
            lockout=timedelta(minutes=settings.lockout_minutes),
        )
        if locked:
            session.pop("pending_login", None)
            flash(str(LOGIN_ERRORS["locked"]), "error")
            return redirect(url_for("auth.login"))
        keep_changes_on_error()
        flash(
            _(
                "This code is not valid, or was already used. Enter the next code from your app, "
                "or an unused recovery code."
            ),
            "error",
        )
        return render_template("auth/second_factor.html", form=form), 401
    return render_template("auth/second_factor.html", form=form)


def _enrolment_secret(key: str, *, fresh: bool) -> str:
    """Return the TOTP seed being enrolled, kept in the session under ``key`` until confirmed."""
    secret = session.get(key)
    if fresh or not isinstance(secret, str):
        secret = totp.new_secret()
        session[key] = secret
    return secret


def _confirm_enrolment(user: User, secret: str, form: SecondFactorForm) -> list[str] | None:
    """Turn TOTP on if the submitted code matches ``secret``; return the new recovery codes."""
    if not form.validate_on_submit():
        return None
    try:
        return services.confirm_totp(db.session, user, secret, form.code.data or "")
    except services.AccountError:
        flash(_("This code does not match. Check the clock of your phone and try again."), "error")
        return None


def _enrolment_page(user: User, form: SecondFactorForm, secret: str, *, during_login: bool) -> str:
    """Render the QR code and key of ``secret`` with the confirmation form."""
    uri = totp.provisioning_uri(secret, user.email)
    return render_template(
        "auth/totp_enrol.html",
        form=form,
        secret=secret,
        qr=totp.qr_svg(uri),
        during_login=during_login,
    )


def _enrol_during_login(user: User, form: SecondFactorForm) -> ResponseReturnValue:
    """Make a user whose role requires a second factor set one up before the session starts."""
    secret = _enrolment_secret("pending_totp_secret", fresh=False)
    codes = _confirm_enrolment(user, secret, form)
    if codes is None:
        return _enrolment_page(user, form, secret, during_login=True)
    session.pop("pending_totp_secret", None)
    _complete_login(user)
    session["fresh_recovery_codes"] = codes
    return redirect(url_for("auth.recovery_codes"), code=303)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session."""
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.get("/account")
def account() -> ResponseReturnValue:
    """Show the user's own account: language, password, second factor."""
    return render_template("auth/account.html", form=EmptyForm())


@bp.route("/account/password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def change_password() -> ResponseReturnValue:
    """Change one's own password; every other session ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                db.session, current_user, form.current.data or "", form.password.data or ""
            )
        except services.AccountError:
            form.current.errors = [_("The current password is wrong.")]
        except PasswordPolicyError as exc:
            form.password.errors = [password_policy_message(str(exc))]
        else:
            login_user(current_user._get_current_object())  # keep this session, new token
            flash(_("Your password was changed. Other sessions were signed out."), "success")
            return redirect(url_for("auth.account"), code=303)
    return render_template("auth/change_password.html", form=form)


@bp.route("/account/second-factor", methods=["GET", "POST"])
def totp_enrol() -> ResponseReturnValue:
    """Set up (or replace) the authenticator app from the account page."""
    form = SecondFactorForm()
    user = current_user._get_current_object()
    secret = _enrolment_secret("enrol_totp_secret", fresh=request.method == "GET")
    codes = _confirm_enrolment(user, secret, form)
    if codes is None:
        return _enrolment_page(user, form, secret, during_login=False)
    session.pop("enrol_totp_secret", None)
    session["fresh_recovery_codes"] = codes
    flash(_("Your second factor is set up."), "success")
    return redirect(url_for("auth.recovery_codes"), code=303)


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
def recovery_codes() -> ResponseReturnValue:
    """Show freshly issued recovery codes once, or issue a new set."""
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        if not current_user.totp_enabled:
            return redirect(url_for("auth.totp_enrol"))
        session["fresh_recovery_codes"] = services.replace_recovery_codes(db.session, current_user)
        return redirect(url_for("auth.recovery_codes"), code=303)
    codes = session.pop("fresh_recovery_codes", None)
    return render_template("auth/recovery_codes.html", codes=codes, form=form)


@bp.route("/enrol/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def enrol(token: str) -> ResponseReturnValue:
    """Let a new (or reset) user choose a password through a one-time link."""
    link = services.find_enrolment_link(db.session, token)
    if link is None:
        return render_template("auth/enrol_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            services.redeem_enrolment_link(db.session, link, form.password.data or "")
        except PasswordPolicyError as exc:
            form.password.errors = [password_policy_message(str(exc))]
        else:
            flash(_("Your password is set. Please sign in."), "success")
            return redirect(url_for("auth.login"), code=303)
    return render_template("auth/enrol.html", form=form, user=link.user)
