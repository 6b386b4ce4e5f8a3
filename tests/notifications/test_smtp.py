"""EXCHANGE_SMTP_URL and the SMTP client: the forms accepted, no password in the URL, the account's
password read from its file and checked by a real server."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from exchange.notifications import smtp
from exchange.settings import Settings, SettingsError
from tests.notifications.conftest import Collector, free_port


@pytest.mark.parametrize(
    ("url", "scheme", "port", "user"),
    [
        ("smtp://relay.justice.sn", "smtp", 25, ""),
        (
            "smtp+starttls://exchange%40justice.sn@mail.justice.sn:587",
            "smtp+starttls",
            587,
            "exchange@justice.sn",
        ),
        ("smtps://exchange@mail.justice.sn", "smtps", 465, "exchange"),
    ],
)
def test_the_three_forms_of_the_url(url, scheme, port, user, tmp_path):
    settings = Settings(env="test", instance_path=tmp_path, smtp_url=url).checked()
    server = smtp.parse_smtp_url(settings.smtp_url, "/run/secrets/smtp")
    assert (server.scheme, server.port, server.username) == (scheme, port, user)
    assert server.password_file == "/run/secrets/smtp"


@pytest.mark.parametrize(
    "url",
    [
        "smtp://user:secret@mail.justice.sn",  # a password belongs in EXCHANGE_SMTP_PASSWORD_FILE
        "http://mail.justice.sn",
        "smtp://",
        "smtp://mail.justice.sn:99999",
        "smtps://mail.justice.sn/path?x=1",
    ],
)
def test_refused_urls(url, tmp_path):
    with pytest.raises(SettingsError, match="EXCHANGE_SMTP_URL"):
        Settings(env="test", instance_path=tmp_path, smtp_url=url).checked()


# The test's server asks for AUTH on loopback without TLS, which aiosmtpd rightly warns about.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_password_comes_from_its_file_and_a_wrong_one_is_not_accepted(tmp_path: Path):
    seen: list[tuple[str, str]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        assert isinstance(auth_data, LoginPassword)
        seen.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"s3cret from a file")

    collector = Collector()
    port = free_port()
    controller = Controller(
        collector,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,  # loopback only, in a test: production uses STARTTLS or TLS
    )
    controller.start()
    try:
        secret = tmp_path / "smtp-password"
        secret.write_text("s3cret from a file\n", encoding="utf-8")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "exchange@x.sn", "a@x.sn", "hi"
        message.set_content("Something awaits you.")
        server = smtp.parse_smtp_url(f"smtp://exchange@127.0.0.1:{port}", str(secret))
        smtp.send(server, message)
        assert len(collector.messages) == 1
        secret.write_text("wrong", encoding="utf-8")
        with pytest.raises(smtp.NotAccepted):
            smtp.send(server, message)
        assert len(collector.messages) == 1
        assert seen == [("exchange", "s3cret from a file"), ("exchange", "wrong")]
    finally:
        controller.stop()
