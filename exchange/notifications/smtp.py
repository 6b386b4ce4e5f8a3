"""The SMTP client of the node: one message to one recipient, told apart by how it failed.

``send`` raises ``NotAccepted`` when the server certainly did not take the message (no
connection, a refused sender or recipient, a non-250 answer to DATA: RFC 5321 section 4.2),
which the outbox may retry, and ``Uncertain`` when the connection was lost after the message was
handed over and before the server's answer: it may have been accepted, so it is not retried.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from urllib.parse import unquote, urlsplit

from exchange.settings import SMTP_SCHEMES

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT_SECONDS = 20.0


class NotAccepted(Exception):
    """The SMTP server did not take the message: it may be offered again later."""


class Uncertain(Exception):
    """The connection ended after the message was handed over: it may have been accepted."""


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to hand e-mail over: scheme, host, port, and the account if any."""

    scheme: str
    host: str
    port: int
    username: str = ""
    password_file: str = ""

    def password(self) -> str:
        """Return the account's password, read from its file at each connection (rotations)."""
        if not self.password_file:
            return ""
        return Path(self.password_file).read_text(encoding="utf-8").strip()


def parse_smtp_url(url: str, password_file: str = "") -> SmtpServer:
    """Read ``EXCHANGE_SMTP_URL`` (checked by the settings) into an ``SmtpServer``."""
    parts = urlsplit(url)
    if parts.scheme not in SMTP_SCHEMES or not parts.hostname:
        raise ValueError("not an SMTP URL")
    return SmtpServer(
        scheme=parts.scheme,
        host=parts.hostname,
        port=parts.port or DEFAULT_PORTS[parts.scheme],
        username=unquote(parts.username or ""),
        password_file=password_file,
    )


def _connect(server: SmtpServer) -> smtplib.SMTP:
    """Open the connection, in TLS from the start or upgraded by STARTTLS, and sign in."""
    context = ssl.create_default_context()  # the server's certificate and name are checked
    conn: smtplib.SMTP
    if server.scheme == "smtps":
        conn = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        conn = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
    try:
        conn.ehlo()
        if server.scheme == "smtp+starttls":
            conn.starttls(context=context)
            conn.ehlo()
        if server.username:
            conn.login(server.username, server.password())
    except BaseException:
        conn.close()
        raise
    return conn


def send(server: SmtpServer, message: EmailMessage) -> None:
    """Hand ``message`` to ``server`` for its one recipient; raise ``NotAccepted`` or ``Uncertain``."""
    sender, recipient = str(message["From"]), str(message["To"])
    try:
        conn = _connect(server)
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        raise NotAccepted(f"connection: {exc}"[:200]) from exc
    try:
        try:
            code, answer = conn.mail(_address(sender))
            if code != 250:
                raise NotAccepted(f"MAIL FROM: {code} {answer!r}"[:200])
            code, answer = conn.rcpt(_address(recipient))
            if code not in (250, 251):
                raise NotAccepted(f"RCPT TO: {code} {answer!r}"[:200])
        except (OSError, smtplib.SMTPException) as exc:
            raise NotAccepted(f"envelope: {exc}"[:200]) from exc
        try:
            # CRLF line ends (RFC 5321 section 2.3.8): smtplib sends bytes as they are.
            code, answer = conn.data(message.as_bytes(policy=SMTP_POLICY))
        except smtplib.SMTPDataError as exc:  # DATA itself refused: nothing was handed over
            raise NotAccepted(f"DATA: {exc}"[:200]) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise Uncertain(f"DATA: {exc}"[:200]) from exc
        if code != 250:  # the server answered the message, and not with "taken" (4.2.5)
            raise NotAccepted(f"end of DATA: {code} {answer!r}"[:200])
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()  # the message is taken or not already; a lost QUIT changes nothing


def _address(header: str) -> str:
    """Return the bare address of a From or To header (``Name <a@b>`` -> ``a@b``)."""
    from email.utils import parseaddr

    return parseaddr(header)[1]
