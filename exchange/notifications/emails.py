"""The e-mails of notifications, in the recipient's language, saying only that something awaits.

An e-mail crosses servers this node does not control: it never carries a case's title, a
person's name, a request's text or an annex — only the kind of event and a link to sign in and
see it. The text comes from ``labels`` and the node's own settings, nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale, gettext, ngettext

from exchange.auth.models import User
from exchange.core.public_url import links_base
from exchange.notifications.labels import kind_label
from exchange.notifications.models import Notification
from exchange.settings import Settings


def _settings() -> Settings:
    """Return the node's settings."""
    settings: Settings = current_app.config["EXCHANGE"]
    return settings


def locale_of(user: User) -> str:
    """Return the language to write to ``user`` in: theirs, or the node's default."""
    return user.locale if user.locale in ("en", "fr", "pt") else _settings().default_locale


def _link(endpoint: str, **values: str) -> str:
    """Return the absolute address of a page, on the node's public URL."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return links_base(_settings()) + path


def sender_address() -> str:
    """Return the From address: the configured one, or exchange@ the public host."""
    settings = _settings()
    host = urlsplit(links_base(settings)).hostname or "localhost"
    return settings.smtp_from or f"exchange@{host}"


def _envelope(user: User, subject: str, body: str) -> EmailMessage:
    """Return an e-mail to ``user`` with this subject and plain-text body."""
    settings = _settings()
    message = EmailMessage()
    message["From"] = sender_address()
    message["To"] = user.email
    message["Subject"] = f"{settings.node_name}: {subject}"
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender_address().rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    message.set_content(body)
    message["Content-Language"] = locale_of(user)  # after set_content, which drops Content-*
    return message


def _render(template: str, **context: object) -> str:
    """Render a plain-text e-mail template (no request context, no autoescape: text)."""
    return current_app.jinja_env.get_template(template).render(**context)


def single(notification: Notification) -> EmailMessage:
    """Return the e-mail of one notification, in its recipient's language."""
    user = notification.user
    with force_locale(locale_of(user)):
        label = str(kind_label(notification.kind))
        body = _render(
            "notifications/email/each.txt",
            hello=gettext("Hello,"),
            label=label,
            open_line=gettext("To see it, sign in to the Exchange:"),
            link=_link("notifications.open", public_id=notification.public_id),
            footer=_footer(),
        )
        return _envelope(user, label, body)


def digest(user: User, notifications: Sequence[Notification]) -> EmailMessage:
    """Return one e-mail grouping ``notifications`` of ``user`` (a day's, in digest mode)."""
    with force_locale(locale_of(user)):
        count = len(notifications)
        subject = ngettext("%(num)d new item awaits you", "%(num)d new items await you", count)
        items = [
            {
                "label": str(kind_label(n.kind)),
                "link": _link("notifications.open", public_id=n.public_id),
            }
            for n in notifications
        ]
        body = _render(
            "notifications/email/digest.txt",
            hello=gettext("Hello,"),
            intro=gettext("Here is what awaited you on the Exchange since the last digest:"),
            items=items,
            all_line=gettext("All your notifications:"),
            all_link=_link("notifications.index"),
            footer=_footer(),
        )
        return _envelope(user, subject, body)


def _footer() -> str:
    """Return the closing lines: why the e-mail says so little, and where to change it."""
    return "\n".join(
        [
            gettext(
                "For the protection of the persons concerned, this e-mail says nothing of the"
                " case: its contents are only in the Exchange."
            ),
            gettext("To choose how you are told (each event, a daily digest, or none):"),
            _link("notifications.preferences"),
        ]
    )
