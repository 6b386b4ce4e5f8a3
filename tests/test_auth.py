"""Sign-in, second factor, lockout, idle timeout, session tokens, CSRF, password policy."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from exchange.auth import services, signin
from exchange.auth.models import LoginThrottle, UserSession
from exchange.auth.passwords import PasswordPolicyError, check_policy
from exchange.envelopes import DecryptionFailed
from exchange.extensions import db
from tests.conftest import DEFAULT_PASSWORD, csrf_token, login, totp_code


def _post_login(client, email, password, **kwargs):
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
        **kwargs,
    )


def _post_code(client, code):
    token = csrf_token(client, "/login/second-factor")
    return client.post("/login/second-factor", data={"code": code, "csrf_token": token})


SECRET_RE = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')


def _secret_on(page):
    """Return the TOTP key that an enrolment page shows for typing by hand."""
    match = SECRET_RE.search(page)
    assert match, "no TOTP key on the page"
    return match.group(1)


def _age_sessions(user, *, created=timedelta(0), last_seen=timedelta(0)):
    """Move the user's server-side sessions back in time."""
    now = services.utcnow()
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(created_at=now - created, last_seen_at=now - last_seen)
    )
    db.session.commit()


def test_right_password_signs_in(client, make_user):
    user = make_user("prosecutor")
    response = _post_login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 303
    assert client.get("/account").status_code == 200


def test_wrong_password_is_refused(client, make_user):
    user = make_user("prosecutor")
    response = _post_login(client, user.email, "not the password at all")
    assert response.status_code == 401
    assert "Wrong e-mail address or password." in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302  # still anonymous: sent to the login page


def test_unknown_user_gets_the_same_answer(client):
    response = _post_login(client, "nobody@nowhere.test", "whatever password")
    assert response.status_code == 401
    assert "Wrong e-mail address or password." in response.get_data(as_text=True)


def test_lockout_after_repeated_failures(client, make_user, app):
    user = make_user("prosecutor")
    limit = app.config["EXCHANGE"].login_attempts_before_lockout
    for _ in range(limit - 1):
        assert _post_login(client, user.email, "wrong wrong wrong").status_code == 401
    response = _post_login(client, user.email, "wrong wrong wrong")
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)
    # Even the right password is refused while the lock lasts.
    response = _post_login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert db.session.scalar(
        sa.select(sa.func.count()).where(LoginThrottle.locked_until.is_not(None))
    )


def test_totp_required_for_officer(client, make_user):
    officer = make_user("central_authority_officer")
    response = _post_login(client, officer.email, DEFAULT_PASSWORD)
    assert response.headers["Location"].endswith("/login/second-factor")
    # Not signed in until the second factor is given.
    assert client.get("/account").status_code == 302
    token = csrf_token(client, "/login/second-factor")
    response = client.post("/login/second-factor", data={"code": "000000", "csrf_token": token})
    assert response.status_code == 401, response.get_data(as_text=True)
    response = client.post(
        "/login/second-factor", data={"code": totp_code(officer), "csrf_token": token}
    )
    assert response.status_code == 303
    assert client.get("/account").status_code == 200


def test_totp_code_replay_is_refused(app, make_user):
    officer = make_user("central_authority_officer")
    first = app.test_client()
    login(first, officer)
    db.session.refresh(officer)
    used_step = officer.totp_last_step
    assert used_step is not None
    replayed = pyotp.TOTP(officer.totp_secret).at(used_step * 30)
    second = app.test_client()
    _post_login(second, officer.email, DEFAULT_PASSWORD)
    token = csrf_token(second, "/login/second-factor")
    response = second.post("/login/second-factor", data={"code": replayed, "csrf_token": token})
    assert response.status_code == 401
    assert "already used" in response.get_data(as_text=True)
    assert second.get("/account").status_code == 302


def test_recovery_code_works_once(app, make_user):
    officer = make_user("central_authority_officer")
    codes = services.replace_recovery_codes(db.session, officer)
    db.session.commit()
    client = app.test_client()
    _post_login(client, officer.email, DEFAULT_PASSWORD)
    token = csrf_token(client, "/login/second-factor")
    assert (
        client.post(
            "/login/second-factor", data={"code": codes[0], "csrf_token": token}
        ).status_code
        == 303
    )
    other = app.test_client()
    _post_login(other, officer.email, DEFAULT_PASSWORD)
    token = csrf_token(other, "/login/second-factor")
    assert (
        other.post("/login/second-factor", data={"code": codes[0], "csrf_token": token}).status_code
        == 401
    )


def test_officer_without_totp_must_enrol_before_session_starts(client, make_user):
    officer = make_user("central_authority_officer", totp=False)
    _post_login(client, officer.email, DEFAULT_PASSWORD)
    page = client.get("/login/second-factor").get_data(as_text=True)
    assert "Set up your second factor" in page
    assert 'src="data:image/svg+xml' in page
    secret = _secret_on(page)
    assert _secret_on(client.get("/login/second-factor").get_data(as_text=True)) == secret
    token = csrf_token(client, "/login/second-factor")
    response = client.post(
        "/login/second-factor", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token}
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("<code>") == 10  # shown once, kept nowhere
    assert client.get("/account").status_code == 200
    db.session.refresh(officer)
    assert officer.totp_enabled


@pytest.mark.parametrize("idle_minutes", [30])
def test_idle_session_expires(client, make_user, app, idle_minutes):
    user = make_user("prosecutor")
    login(client, user)
    assert client.get("/account").status_code == 200
    _age_sessions(user, last_seen=timedelta(minutes=idle_minutes, seconds=5))
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "expired" in page
    assert client.get("/account").status_code == 302


def test_password_change_ends_other_sessions(app, make_user):
    user = make_user("prosecutor")
    here, elsewhere = app.test_client(), app.test_client()
    login(here, user)
    login(elsewhere, user)
    new = "a new and long passphrase for kedougou"
    response = here.post(
        "/account/password",
        data={
            "current": DEFAULT_PASSWORD,
            "password": new,
            "confirm": new,
            "csrf_token": csrf_token(here, "/account/password"),
        },
    )
    assert response.status_code == 303
    assert here.get("/account").status_code == 200  # this session continues
    assert elsewhere.get("/account").status_code == 302  # the other one ended


def test_admin_reset_ends_every_session(app, make_user):
    user = make_user("prosecutor")
    client = app.test_client()
    login(client, user)
    services.issue_enrolment_link(db.session, user, reset=True)
    db.session.commit()
    assert client.get("/account").status_code == 302


def test_form_without_csrf_token_is_refused(client, make_user):
    user = make_user("prosecutor")
    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_csrf_token_of_another_session_is_refused(app, make_user):
    user = make_user("prosecutor")
    stranger = app.test_client()
    foreign_token = csrf_token(stranger)
    client = app.test_client()
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": foreign_token},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "too_short"),
        ("password1234", "too_guessable"),
        ("Qwertyuiop!!", "too_guessable"),
        ("aaaaaaaaaaaaaaa", "too_guessable"),
        ("ndiaye.awa-long-enough", "contains_email"),
        ("x" * 300, "too_long"),
    ],
)
def test_password_policy_refuses(password, reason):
    with pytest.raises(PasswordPolicyError) as exc:
        check_policy(password, email="ndiaye.awa@sn.test")
    assert str(exc.value) == reason


def test_password_policy_accepts_a_passphrase():
    check_policy("goldfields border river dawn", email="ndiaye.awa@sn.test")


@pytest.mark.parametrize(
    "weak",
    [
        "P@ssw0rd2026",
        "qwertyuiopas",
        "passwordpassword",
        "abcabcabcabc",
        "Tambacounda1",
        "kedougou-demo-2026",  # the published demo password
    ],
)
def test_finding_22_guessable_passwords_are_refused_by_the_estimator(app, make_user, weak):
    """Passwords that the 133-word list let through are refused through the real form."""
    from exchange.demo import DEMO_PASSWORD

    assert DEMO_PASSWORD == "kedougou-demo-2026"
    user = make_user("prosecutor")
    client = app.test_client()
    login(client, user)
    response = client.post(
        "/account/password",
        data={
            "current": DEFAULT_PASSWORD,
            "password": weak,
            "confirm": weak,
            "csrf_token": csrf_token(client, "/account/password"),
        },
    )
    assert response.status_code == 200
    assert "too easy to guess" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert services.passwords.verify_password(user.password_hash, DEFAULT_PASSWORD)


def test_enrolment_link_sets_password_once(app, make_user):
    user = make_user("prosecutor")
    user.password_hash = None
    token = services.issue_enrolment_link(db.session, user)
    db.session.commit()
    client = app.test_client()
    new = "falémé river at dawn 2026"
    form = {"password": new, "confirm": new, "csrf_token": csrf_token(client, f"/enrol/{token}")}
    assert client.post(f"/enrol/{token}", data=form).status_code == 303
    assert client.post(f"/enrol/{token}", data=form).status_code == 404
    login(client, user, password=new)
    assert client.get("/account").status_code == 200


def test_disabled_user_cannot_sign_in(client, make_user):
    user = make_user("prosecutor")
    services.disable_user(db.session, user)
    db.session.commit()
    response = _post_login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 401
    assert "disabled" in response.get_data(as_text=True)


def test_session_cookie_is_strict(client, make_user):
    user = make_user("prosecutor")
    response = _post_login(client, user.email, DEFAULT_PASSWORD)
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


def test_totp_seed_is_encrypted_at_rest(app, make_user):
    """The database holds no TOTP seed in clear: a stolen dump gives no second-factor codes."""
    import sqlalchemy as sa

    officer = make_user("central_authority_officer")
    secret = officer.totp_secret
    assert secret and len(secret) == 32
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM users")).all()
    assert rows and all(secret not in " ".join(map(str, row)) for row in rows)
    stored = db.session.scalar(
        sa.select(sa.text("totp_secret_encrypted"))
        .select_from(sa.text("users"))
        .where(sa.text("id = :id")),
        {"id": officer.id},
    )
    # Bound to its user: the ciphertext copied onto another account does not decrypt.
    other = make_user("central_authority_officer")
    other.totp_secret_encrypted = stored
    with pytest.raises(DecryptionFailed):
        _ = other.totp_secret


def test_prosecutor_opts_in_to_totp_from_the_account_page(app, make_user):
    user = make_user("prosecutor")
    client = app.test_client()
    login(client, user)
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    secret = _secret_on(page)  # the key is shown for typing by hand
    token = csrf_token(client, "/account")
    wrong = client.post(
        "/account/second-factor",
        data={"code": "000000", "current": DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert "This code does not match" in wrong.get_data(as_text=True)
    assert _secret_on(wrong.get_data(as_text=True)) == secret  # a failed POST keeps the seed
    response = client.post(
        "/account/second-factor",
        data={"code": pyotp.TOTP(secret).now(), "current": DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("<code>") == 10
    db.session.refresh(user)
    assert user.totp_enabled and user.totp_secret == secret
    # From now on this user signs in with the second factor too.
    other = app.test_client()
    response = other.post(
        "/login",
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": csrf_token(other)},
    )
    assert response.headers["Location"].endswith("/login/second-factor")


# --- Findings of the security review (shared/reference/security-review.md) -----------------------


def test_finding_01_password_step_does_not_reset_second_factor_failures(app, make_user):
    officer = make_user("central_authority_officer")
    limit = app.config["EXCHANGE"].login_attempts_before_lockout
    client = app.test_client()
    assert _post_login(client, officer.email, DEFAULT_PASSWORD).status_code == 303
    for _ in range(limit - 1):
        assert _post_code(client, "000000").status_code == 401
    # The right password again does not wipe the wrong codes: they count with it, together.
    assert _post_login(client, officer.email, DEFAULT_PASSWORD).status_code == 303
    response = _post_code(client, "000000")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert _post_login(client, officer.email, DEFAULT_PASSWORD).status_code == 429


def test_finding_01_sign_ins_pending_before_a_lock_cannot_finish_during_it(app, make_user):
    officer = make_user("central_authority_officer")
    limit = app.config["EXCHANGE"].login_attempts_before_lockout
    guesser, waiting = app.test_client(), app.test_client()
    assert _post_login(guesser, officer.email, DEFAULT_PASSWORD).status_code == 303
    assert _post_login(waiting, officer.email, DEFAULT_PASSWORD).status_code == 303
    token = csrf_token(waiting, "/login/second-factor")
    for _ in range(limit):
        _post_code(guesser, "000000")
    # The other pending sign-in can guess no more, and even a valid code is refused while locked.
    response = waiting.post(
        "/login/second-factor", data={"code": totp_code(officer), "csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert waiting.get("/account").status_code == 302
    db.session.refresh(officer)
    assert officer.totp_last_step is None  # the code was not even spent


def _cookie(client):
    return client.get_cookie("exchange_session").value


def test_finding_03_sign_out_ends_every_copy_of_the_session(app, make_user):
    user = make_user("prosecutor")
    client, thief = app.test_client(), app.test_client()
    login(client, user)
    thief.set_cookie("exchange_session", _cookie(client))
    assert thief.get("/account").status_code == 200
    token = csrf_token(client, "/account")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/account").status_code == 302
    assert thief.get("/account").status_code == 302  # the copy died with the session


def test_finding_03_forwarded_for_does_not_carry_a_session_to_another_address(app, make_user):
    user = make_user("prosecutor")
    client, thief = app.test_client(), app.test_client()
    login(client, user)
    thief.set_cookie("exchange_session", _cookie(client))
    response = thief.get(
        "/account",
        headers={"X-Forwarded-For": "127.0.0.1"},  # the victim's address, claimed
        environ_base={"REMOTE_ADDR": "127.0.9.9"},
    )
    assert response.status_code == 302


def test_finding_03_session_ends_at_its_absolute_lifetime_however_active(app, make_user):
    user = make_user("prosecutor")
    client = app.test_client()
    login(client, user)
    lifetime = app.config["EXCHANGE"].session_lifetime
    _age_sessions(user, created=lifetime + timedelta(minutes=1))  # used a moment ago
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "maximum length" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get("/account").status_code == 302


def _recovery_code_hashes(user):
    from exchange.auth.models import RecoveryCode

    return set(
        db.session.scalars(sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id))
    )


def test_finding_04_replacing_the_second_factor_needs_password_and_current_code(app, make_user):
    officer = make_user("central_authority_officer")
    recovery = services.replace_recovery_codes(db.session, officer)
    db.session.commit()
    client, elsewhere = app.test_client(), app.test_client()
    login(client, officer)
    login(elsewhere, officer)
    db.session.refresh(officer)
    old_secret = officer.totp_secret
    new_secret = _secret_on(client.get("/account/second-factor").get_data(as_text=True))
    token = csrf_token(client, "/account")
    new_code = pyotp.TOTP(new_secret).now()
    # The session alone is not enough: no password, then a wrong one, then no current code.
    attempts = [
        {"code": new_code},
        {"code": new_code, "current": "not my password at all", "current_code": recovery[0]},
        {"code": new_code, "current": DEFAULT_PASSWORD},
    ]
    for data in attempts:
        response = client.post("/account/second-factor", data={**data, "csrf_token": token})
        assert response.get_data(as_text=True).count("<code>") == 0
        db.session.refresh(officer)
        assert officer.totp_secret == old_secret
    db.session.refresh(officer)
    response = client.post(
        "/account/second-factor",
        data={
            "code": new_code,
            "current": DEFAULT_PASSWORD,
            "current_code": recovery[0],  # the old app's code, or as here a recovery code
            "csrf_token": token,
        },
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("<code>") == 10
    db.session.refresh(officer)
    assert officer.totp_secret == new_secret
    assert client.get("/account").status_code == 200  # this session goes on, with a new token
    assert elsewhere.get("/account").status_code == 302  # every other session ended


def test_finding_04_new_recovery_codes_need_reauthentication_and_end_other_sessions(app, make_user):
    officer = make_user("central_authority_officer")
    recovery = services.replace_recovery_codes(db.session, officer)
    db.session.commit()
    before = _recovery_code_hashes(officer)
    client = app.test_client()
    login(client, officer)
    token = csrf_token(client, "/account")
    response = client.post("/account/recovery-codes", data={"csrf_token": token})
    assert response.get_data(as_text=True).count("<code>") == 0
    assert _recovery_code_hashes(officer) == before
    elsewhere = app.test_client()
    login(elsewhere, officer)
    old_cookie = _cookie(client)
    db.session.refresh(officer)
    response = client.post(
        "/account/recovery-codes",
        data={"current": DEFAULT_PASSWORD, "current_code": recovery[0], "csrf_token": token},
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("<code>") == 10
    assert _recovery_code_hashes(officer).isdisjoint(before)
    assert elsewhere.get("/account").status_code == 302
    assert client.get("/account").status_code == 200
    stale = app.test_client()
    stale.set_cookie("exchange_session", old_cookie)
    assert stale.get("/account").status_code == 302  # this browser's previous token is spent


def _cookie_contents(app, client):
    """Return the decoded (signed, not encrypted) session cookie as text."""
    import json

    serializer = app.session_interface.get_signing_serializer(app)
    return json.dumps(serializer.loads(_cookie(client)))


def test_finding_05_no_seed_or_recovery_code_travels_in_the_cookie(app, make_user):
    officer = make_user("central_authority_officer", totp=False)
    client = app.test_client()
    _post_login(client, officer.email, DEFAULT_PASSWORD)
    secret = _secret_on(client.get("/login/second-factor").get_data(as_text=True))
    assert secret not in _cookie_contents(app, client)
    response = _post_code(client, pyotp.TOTP(secret).now())
    codes = re.findall(r"<code>([^<]+)</code>", response.get_data(as_text=True))
    assert len(codes) == 10
    contents = _cookie_contents(app, client)
    assert secret not in contents and not any(code in contents for code in codes)
    # Replacing it from the account page keeps the new seed on the server too.
    new_secret = _secret_on(client.get("/account/second-factor").get_data(as_text=True))
    assert new_secret != secret and new_secret not in _cookie_contents(app, client)


def test_finding_06_unknown_addresses_answer_and_lock_like_real_ones(app, make_user):
    user = make_user("prosecutor")
    limit = app.config["EXCHANGE"].login_attempts_before_lockout
    answers = {}
    for email, address in ((user.email, "192.0.2.1"), ("nobody-here@sn.test", "192.0.2.2")):
        client = app.test_client()
        responses = [
            _post_login(client, email, "wrong wrong wrong", environ_base={"REMOTE_ADDR": address})
            for _ in range(limit + 1)
        ]
        answers[email] = [
            (
                r.status_code,
                re.findall(r'class="flash [^"]*"[^>]*>([^<]*)<', r.get_data(as_text=True)),
            )
            for r in responses
        ]
    assert answers[user.email] == answers["nobody-here@sn.test"]
    assert [status for status, _ in answers[user.email]] == [401] * (limit - 1) + [429, 429]


def test_finding_06_a_stranger_cannot_lock_the_owner_out(app, make_user):
    user = make_user("prosecutor")
    limit = app.config["EXCHANGE"].login_attempts_before_lockout
    stranger, owner = app.test_client(), app.test_client()
    elsewhere = {"REMOTE_ADDR": "203.0.113.5"}
    for _ in range(limit):
        _post_login(stranger, user.email, "wrong wrong wrong", environ_base=elsewhere)
    assert (
        _post_login(stranger, user.email, DEFAULT_PASSWORD, environ_base=elsewhere).status_code
        == 429
    )
    assert _post_login(owner, user.email, DEFAULT_PASSWORD).status_code == 303


def _race(clients, code):
    """Post ``code`` as the second factor from every client at the same moment; return statuses."""
    import threading

    tokens = [csrf_token(c, "/login/second-factor") for c in clients]
    start = threading.Barrier(len(clients))
    statuses = [0] * len(clients)

    def post(i):
        start.wait()
        response = clients[i].post(
            "/login/second-factor", data={"code": code, "csrf_token": tokens[i]}
        )
        statuses[i] = response.status_code

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


@pytest.mark.parametrize("kind", ["totp", "recovery"])
def test_finding_11_one_time_code_signs_in_once_under_concurrency(app, make_user, kind):
    officer = make_user("central_authority_officer")
    recovery = services.replace_recovery_codes(db.session, officer)
    db.session.commit()
    clients = [app.test_client() for _ in range(6)]
    for client in clients:
        assert _post_login(client, officer.email, DEFAULT_PASSWORD).status_code == 303
    code = totp_code(officer) if kind == "totp" else recovery[0]
    statuses = _race(clients, code)
    assert statuses.count(303) == 1, statuses
    assert sum(c.get("/account").status_code == 200 for c in clients) == 1


def test_finding_11_a_stale_read_cannot_spend_a_code_twice(app, make_user):
    """Two transactions that both read the user before either wrote: the database decides."""
    from sqlalchemy.orm import Session

    from exchange.auth.models import User

    officer = make_user("central_authority_officer")
    recovery = services.replace_recovery_codes(db.session, officer)
    db.session.commit()
    code = totp_code(officer)
    with Session(db.engine) as first, Session(db.engine) as second:
        mine, theirs = first.get(User, officer.id), second.get(User, officer.id)
        assert mine.totp_last_step is None and theirs.totp_last_step is None
        assert signin.verify_second_factor(first, mine, code)
        assert signin.verify_second_factor(first, mine, recovery[1])
        first.commit()
        assert not signin.verify_second_factor(second, theirs, code)
        assert not signin.verify_second_factor(second, theirs, recovery[1])
        second.commit()


def test_finding_14_recovery_codes_are_stored_salted_and_slow_hashed(app, make_user):
    import hashlib

    from exchange.auth.models import RecoveryCode

    officer = make_user("central_authority_officer", totp=False)
    client = app.test_client()
    _post_login(client, officer.email, DEFAULT_PASSWORD)
    secret = _secret_on(client.get("/login/second-factor").get_data(as_text=True))
    response = _post_code(client, pyotp.TOTP(secret).now())
    codes = re.findall(r"<code>([^<]+)</code>", response.get_data(as_text=True))
    assert len(codes) == 10
    rows = db.session.scalars(
        sa.select(RecoveryCode).where(RecoveryCode.user_id == officer.id)
    ).all()
    stored = {row.code_hash for row in rows}
    for code in codes:
        for form in (code, code.replace("-", "")):
            assert hashlib.sha256(form.encode()).hexdigest() not in stored
    assert all(h.startswith("$argon2id$") for h in stored)
    salts = {h.split("$")[4] for h in stored}
    assert len(salts) == len(stored)  # a salt of its own for each code
    assert all(len(code.replace("-", "")) * 5 >= 80 for code in codes)  # 80 random bits each
    # And a code still signs in, typed in capitals and without its dashes.
    other = app.test_client()
    _post_login(other, officer.email, DEFAULT_PASSWORD)
    assert _post_code(other, codes[3].replace("-", "").upper()).status_code == 303


def test_sessions_page_lists_and_ends_ones_own_sessions(app, make_user):
    user = make_user("prosecutor")
    stranger_user = make_user("prosecutor")
    here, laptop, stranger = app.test_client(), app.test_client(), app.test_client()
    login(here, user)
    login(laptop, user)
    login(stranger, stranger_user)
    page = here.get("/account/sessions").get_data(as_text=True)
    ends = re.findall(r'action="(/account/sessions/[0-9a-f-]+/end)"', page)
    assert len(ends) == 2 and "Sign out here" in page
    token = csrf_token(here, "/account")
    # Somebody else's session cannot be ended through one's own page.
    theirs = db.session.scalar(
        sa.select(UserSession.public_id).where(UserSession.user_id == stranger_user.id)
    )
    assert (
        here.post(f"/account/sessions/{theirs}/end", data={"csrf_token": token}).status_code == 404
    )
    assert stranger.get("/account").status_code == 200
    this_one = re.search(
        r'action="(/account/sessions/[0-9a-f-]+/end)"[^<]*<input[^>]*>\s*<button[^>]*>Sign out here',
        page,
    )
    assert this_one
    other = next(url for url in ends if url != this_one.group(1))
    assert here.post(other, data={"csrf_token": token}).status_code == 303
    assert laptop.get("/account").status_code == 302
    assert here.get("/account").status_code == 200
    assert here.post(this_one.group(1), data={"csrf_token": token}).status_code == 303
    assert here.get("/account").status_code == 302


def test_finding_06_a_locked_account_answers_in_the_time_of_any_other(app, make_user):
    """The password is still checked (argon2) while locked, so timing does not tell a lock apart."""
    import statistics
    import time as clock

    user = make_user("prosecutor")
    limit = app.config["EXCHANGE"].login_attempts_before_lockout
    locked_from, other = {"REMOTE_ADDR": "192.0.2.10"}, {"REMOTE_ADDR": "192.0.2.11"}
    client = app.test_client()
    for _ in range(limit):
        _post_login(client, user.email, "wrong wrong wrong", environ_base=locked_from)

    def median_time(environ, expected):
        times = []
        for _ in range(3):
            token = csrf_token(client)
            started = clock.perf_counter()
            response = client.post(
                "/login",
                data={"email": user.email, "password": "wrong again", "csrf_token": token},
                environ_base=environ,
            )
            times.append(clock.perf_counter() - started)
            assert response.status_code == expected
        return statistics.median(times)

    locked, wrong = median_time(locked_from, 429), median_time(other, 401)
    # Argon2 dominates both; the old code answered a lock in a tenth of the time.
    assert locked > wrong / 2, (locked, wrong)
