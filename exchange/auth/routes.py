"""Sign-in with password and second factor, sign-out, the user's own account, enrolment links."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
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
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm

from exchange.auth import queries, services, sessions, signin, totp
from exchange.auth.forms import (
    ChangePasswordForm,
    EmptyForm,
    LoginForm,
    NewPasswordForm,
    ReplaceSecondFactorForm,
    SecondFactorForm,
    StepUpForm,
    password_policy_message,
)
from exchange.auth.models import User, UserSession
from exchange.auth.passwords import MIN_LENGTH, PasswordPolicyError
from exchange.auth.permissions import ROLE_LABELS
from exchange.auth.services import ENROLMENT_LINK_LIFETIME
from exchange.core.routes import safe_next
from exchange.extensions import db, limiter
from exchange.settings import Settings
from exchange.uow import keep_changes_on_error

bp = Blueprint("auth", __name__, template_folder="templates")

LOGIN_ERRORS = {
    "bad_credentials": _l("Wrong e-mail address or password."),
    "locked": _l("Too many failed attempts: signing in is paused for a while. Try again later."),
    "disabled": _l("This account is disabled. Ask your administrator."),
}
MISMATCH = _l("This code does not match. Check the clock of your phone and try again.")
CODE_REFUSED = _l(
    "This code is not valid, or was already used. Enter the next code from your app, "
    "or an unused recovery code."
)


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


def _policy() -> signin.LoginPolicy:
    """Return the node's limits of sign-in attempts."""
    return signin.LoginPolicy.from_settings(_settings())


def _complete_login(user: User, pending: UserSession | None = None) -> None:
    """Start the session of a fully authenticated user, in a fresh cookie."""
    token = signin.complete_login(db.session, _policy(), user, sessions.client(), pending=pending)
    locale = session.get("locale")
    sessions.sign_in(user, token)
    if locale and not user.locale:
        user.locale = locale


def _go_on(target: str | None) -> ResponseReturnValue:
    """Redirect to where the user was heading before signing in."""
    return redirect(safe_next(target or request.args.get("next"), url_for("core.index")), code=303)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    """Check the e-mail address and password, then ask for the second factor where needed."""
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    if form.validate_on_submit():
        result = signin.attempt_password(
            db.session,
            _policy(),
            form.email.data or "",
            form.password.data or "",
            sessions.client(),
        )
        user = result.user
        if user is None:
            keep_changes_on_error()  # the failure count must survive the error answer
            flash(str(LOGIN_ERRORS[result.error or "bad_credentials"]), "error")
            status = 429 if result.error == "locked" else 401
            return render_template("auth/login.html", form=form), status
        if user.totp_enabled or user.totp_required:
            earlier = sessions.pending_session()
            if earlier is not None:
                signin.end_session(db.session, earlier)
            _row, token = signin.open_session(
                db.session, user, sessions.client(), authenticated=False
            )
            sessions.fresh_cookie()
            session[sessions.PENDING_KEY] = token
            session["pending_next"] = safe_next(request.args.get("next"), "")
            return redirect(url_for("auth.login_second_factor"), code=303)
        _complete_login(user)
        return _go_on(None)
    return render_template("auth/login.html", form=form)


def _refuse_locked(pending: UserSession) -> ResponseReturnValue:
    """End a pending sign-in whose account is locked, and send the person back to the start."""
    signin.end_session(db.session, pending)
    session.pop(sessions.PENDING_KEY, None)
    flash(str(LOGIN_ERRORS["locked"]), "error")
    return redirect(url_for("auth.login"))


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login_second_factor() -> ResponseReturnValue:
    """Ask for the TOTP code (or a recovery code); enrol first if the role requires it."""
    pending = sessions.pending_session()
    if pending is None:
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    user = pending.user
    # A lock applies to sign-ins already past the password step too.
    if signin.sign_in_locked(db.session, _policy(), user, sessions.client()):
        return _refuse_locked(pending)
    form = SecondFactorForm()
    if not user.totp_enabled:
        return _enrol_during_login(pending, form)
    if form.validate_on_submit():
        result = signin.attempt_second_factor(
            db.session, _policy(), user, form.code.data or "", sessions.client()
        )
        if result.user is not None:
            target = session.get("pending_next")
            _complete_login(user, pending)
            return _go_on(target)
        if result.error == "locked":
            return _refuse_locked(pending)
        keep_changes_on_error()
        flash(str(CODE_REFUSED), "error")
        return render_template("auth/second_factor.html", form=form), 401
    return render_template("auth/second_factor.html", form=form)


def _enrolment_secret(row: UserSession, *, fresh: bool) -> str:
    """Return the TOTP seed being enrolled, kept encrypted on the server-side session row."""
    secret = row.pending_totp_secret
    if fresh or secret is None:
        secret = totp.new_secret()
        row.pending_totp_secret = secret
    return secret


def _confirm_enrolment(user: User, secret: str, code: str) -> list[str] | None:
    """Turn TOTP on if ``code`` matches ``secret``; return the new recovery codes."""
    try:
        return services.confirm_totp(db.session, user, secret, code)
    except services.AccountError:
        flash(str(MISMATCH), "error")
        return None


def _enrolment_page(user: User, form: FlaskForm, secret: str, *, during_login: bool) -> str:
    """Render the QR code and key of ``secret`` with the confirmation form."""
    uri = totp.provisioning_uri(secret, user.email)
    return render_template(
        "auth/totp_enrol.html",
        form=form,
        secret=secret,
        qr=totp.qr_svg(uri),
        during_login=during_login,
    )


def _codes_page(codes: list[str]) -> str:
    """Show freshly issued recovery codes, once: they are kept nowhere in clear, not even the cookie."""
    return render_template("auth/recovery_codes.html", codes=codes, form=None)


def _enrol_during_login(pending: UserSession, form: SecondFactorForm) -> ResponseReturnValue:
    """Make a user whose role requires a second factor set one up before the session starts."""
    user = pending.user
    secret = _enrolment_secret(pending, fresh=False)
    codes = None
    if form.validate_on_submit():
        codes = _confirm_enrolment(user, secret, form.code.data or "")
    if codes is None:
        return _enrolment_page(user, form, secret, during_login=True)
    _complete_login(user, pending)
    return _codes_page(codes)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session on the server, so that any copy of the cookie stops working too."""
    row = sessions.current_session()
    if row is not None:
        signin.end_session(db.session, row)
    logout_user()
    sessions.fresh_cookie()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.get("/account")
def account() -> ResponseReturnValue:
    """Show the user's own account: language, password, second factor."""
    return render_template("auth/account.html", form=EmptyForm())


def _step_up(form: StepUpForm) -> bool:
    """Re-check the current password (and code) before a credential change; False if refused."""
    user: User = current_user._get_current_object()
    if user.totp_enabled and not (form.current_code.data or "").strip():
        form.current_code.errors = [_("Enter the code from your authenticator app.")]
        return False
    result = signin.attempt_step_up(
        db.session,
        _policy(),
        user,
        form.current.data or "",
        form.current_code.data or "",
        sessions.client(),
    )
    if result.user is not None:
        return True
    keep_changes_on_error()  # the failure counts even though the answer is an error
    if result.error == "locked":
        row = sessions.current_session()
        if row is not None:
            signin.end_session(db.session, row)  # a lock ends the session that caused it
    form.current.errors = [_("The current password or code is wrong.")]
    return False


def _keep_signed_in(user: User) -> None:
    """After a credential change ended every session, open a new one for this browser."""
    sessions.sign_in(user, signin.reopen_session(db.session, user, sessions.client()))


@bp.route("/account/password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def change_password() -> ResponseReturnValue:
    """Change one's own password after re-authenticating; every session ends but this one, renewed."""
    form = ChangePasswordForm()
    user: User = current_user._get_current_object()
    if form.validate_on_submit():
        if not _step_up(form):
            return render_template("auth/change_password.html", form=form), 401
        try:
            services.set_password(db.session, user, form.password.data or "")
        except PasswordPolicyError as exc:
            form.password.errors = [password_policy_message(str(exc))]
        else:
            _keep_signed_in(user)
            flash(_("Your password was changed. Other sessions were signed out."), "success")
            return redirect(url_for("auth.account"), code=303)
    return render_template("auth/change_password.html", form=form)


@bp.route("/account/second-factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def totp_enrol() -> ResponseReturnValue:
    """Set up (or replace) the authenticator app, after re-authenticating."""
    form = ReplaceSecondFactorForm()
    user: User = current_user._get_current_object()
    row = sessions.current_session()
    if row is None:  # pragma: no cover - the gate lets only signed-in users here
        return redirect(url_for("auth.login"))
    secret = _enrolment_secret(row, fresh=request.method == "GET")
    if form.validate_on_submit():
        # The new app's code first: a typing slip there must not spend the current code.
        if totp.matching_step(secret, form.code.data or "") is None:
            flash(str(MISMATCH), "error")
            return _enrolment_page(user, form, secret, during_login=False)
        if not _step_up(form):
            return _enrolment_page(user, form, secret, during_login=False), 401
        codes = _confirm_enrolment(user, secret, form.code.data or "")
        if codes is not None:
            _keep_signed_in(user)
            flash(_("Your second factor is set up. Other sessions were signed out."), "success")
            return _codes_page(codes)
    return _enrolment_page(user, form, secret, during_login=False)


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def recovery_codes() -> ResponseReturnValue:
    """Issue a new set of recovery codes, after re-authenticating, and show them once."""
    user: User = current_user._get_current_object()
    if not user.totp_enabled:
        return redirect(url_for("auth.totp_enrol"))
    form = StepUpForm()
    if form.validate_on_submit():
        if not _step_up(form):
            return render_template("auth/recovery_codes.html", codes=None, form=form), 401
        codes = services.replace_recovery_codes(db.session, user)
        _keep_signed_in(user)
        return _codes_page(codes)
    return render_template("auth/recovery_codes.html", codes=None, form=form)


@bp.get("/account/sessions")
def sessions_list() -> ResponseReturnValue:
    """List the user's own signed-in sessions, so that one left open elsewhere can be ended."""
    settings = _settings()
    return render_template(
        "auth/sessions.html",
        rows=queries.live_sessions(
            db.session,
            current_user,
            idle=settings.session_idle,
            lifetime=settings.session_lifetime,
        ),
        this=sessions.current_session(),
        form=EmptyForm(),
    )


@bp.post("/account/sessions/<public_id>/end")
def end_session(public_id: str) -> ResponseReturnValue:
    """End one of the user's own sessions (another browser's, or this one)."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    row = queries.own_session(db.session, current_user, public_id)
    if row is None:
        abort(404)
    this = sessions.current_session()
    signin.end_session(db.session, row)
    if this is not None and row.id == this.id:
        return logout()
    flash(_("The session was ended."), "success")
    return redirect(url_for("auth.sessions_list"), code=303)


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
