"""The node's settings: one typed, frozen object read from ``EXCHANGE_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit


class SettingsError(RuntimeError):
    """Raised when the settings would let the node start in an unsafe or broken state."""


def _bool(value: str) -> bool:
    """Read an environment flag: 1/true/yes/on are true, anything else false."""
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of a node; each field is read from ``EXCHANGE_<FIELD NAME IN CAPITALS>``."""

    env: str = "development"  # development | production | test
    instance_path: Path = Path("instance")
    database_url: str = ""
    secret_key: str = ""
    keys_dir: Path = Path("keys")
    key_passphrase: str = ""
    key_passphrase_file: str = ""
    # PBKDF2-HMAC-SHA256 rounds protecting each private key file written (OWASP's figure; finding
    # 13). Lower only for test suites, which write hundreds of key files.
    key_kdf_rounds: int = 600_000
    redis_url: str = ""
    node_url: str = "http://127.0.0.1:5000"
    # The address people's browsers reach the portal at (https://exchange.justice.sn): the
    # enrolment links administrators hand out are built on it. Unset, on node_url, and the
    # administration pages and the start-up output warn (exchange/core/public_url.py).
    public_url: str = ""
    node_name: str = "Exchange node"
    default_locale: str = "en"
    session_idle_minutes: int = 30
    # However active, a session ends this long after sign-in (OWASP ASVS 3.3.2): a stolen cookie
    # cannot be kept alive for ever by using it.
    session_lifetime_hours: int = 12
    # Failed passwords and second-factor codes, counted together, before sign-in is paused: for one
    # account from one network address; for one account from anywhere (distributed guessing); for
    # one network address against any account (password spraying).
    login_attempts_before_lockout: int = 5
    account_attempts_before_lockout: int = 20
    address_attempts_before_lockout: int = 50
    lockout_minutes: int = 15
    login_rate_limit: str = "10 per minute"
    # The largest request body other than an annex upload, and the largest annex carried to a peer
    # node inside an envelope (the inbox reads an envelope whole: see exchange/federation/routes.py).
    max_upload_mb: int = 25
    # The largest annex (evidence: phone extractions, interview videos, bank records) the portal and
    # the API take: streamed to encrypted storage as it arrives, never whole in memory.
    max_annex_mb: int = 2048
    demo: bool = False
    # How many reverse proxies (nginx, a national gateway) stand in front of the node, each adding
    # itself to X-Forwarded-For. Only that many entries, counted from the right, are believed: the
    # client address that rate limits, lockouts and session binding use comes from the last proxy's
    # entry, and a client's own X-Forwarded-For entries are ignored. 0: no proxy, headers ignored.
    trusted_proxies: int = 0
    # Delivery to peer nodes (exchange worker): the first retry after this many seconds, doubling
    # (with jitter) up to an hour; a message not delivered after this many hours is parked as
    # undeliverable for an administrator to look at.
    delivery_retry_seconds: int = 10
    delivery_give_up_hours: int = 72
    # How long a worker keeps a message it has taken (sealing, posting): another worker takes it
    # up only after this, so a worker killed in the middle of a delivery delays it by this much.
    # Longer than the POST timeout (15 s), so that a slow peer's answer is not raced.
    delivery_lease_seconds: int = 120
    # How long the inbox keeps an envelope held for the message it follows (never arrived): a
    # sender asking again after this is refused (rejected:predecessor-missing) and it is dropped.
    held_expiry_hours: int = 72
    # Envelopes a peer address may post to the inbox (Flask-Limiter syntax).
    inbox_rate_limit: str = "600 per minute"
    # Official documents one user may have rendered over the API (each a PDF made on the spot,
    # about a second of a worker): Flask-Limiter syntax.
    document_rate_limit: str = "20 per minute"
    # The SMTP server notifications are e-mailed through (exchange/notifications/smtp.py):
    # smtp://host:25 (plain, for a relay on the same host), smtp+starttls://user@host:587
    # (STARTTLS, RFC 3207) or smtps://user@host:465 (TLS from the first byte, RFC 8314). The
    # password is never in the URL: it is read from smtp_password_file at each connection.
    # Unset, no e-mail is sent; notifications are still listed in the portal.
    smtp_url: str = ""
    smtp_password_file: str = ""
    # The From address of the e-mails; by default exchange@ the host of the public URL.
    smtp_from: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        """Tell whether the node runs in production mode (secrets required, secure cookies)."""
        return self.env == "production"

    @property
    def session_idle(self) -> timedelta:
        """Return the idle time after which a session ends."""
        return timedelta(minutes=self.session_idle_minutes)

    @property
    def session_lifetime(self) -> timedelta:
        """Return the time after sign-in at which a session ends, however active."""
        return timedelta(hours=self.session_lifetime_hours)

    @property
    def passphrase(self) -> str:
        """Return the key passphrase, from the variable or from the file it names."""
        if self.key_passphrase:
            return self.key_passphrase
        if self.key_passphrase_file:
            return Path(self.key_passphrase_file).read_text(encoding="utf-8").strip()
        return ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build the settings from the environment, then apply ``overrides``, then check them."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = environ.get(f"EXCHANGE_{f.name.upper()}")
            if raw is None:
                continue
            if f.type in ("bool",):
                values[f.name] = _bool(raw)
            elif f.type in ("int",):
                try:
                    values[f.name] = int(raw)
                except ValueError as exc:
                    raise SettingsError(
                        f"EXCHANGE_{f.name.upper()} must be a whole number"
                    ) from exc
            elif f.type in ("Path",):
                values[f.name] = Path(raw)
            else:
                values[f.name] = raw
        settings = cls(**values)
        if overrides:
            settings = replace(settings, **overrides)
        return settings.checked()

    def checked(self) -> Settings:
        """Fill safe development defaults, or refuse to run in production without secrets."""
        if self.env not in {"development", "production", "test"}:
            raise SettingsError("EXCHANGE_ENV must be development, production or test")
        if self.default_locale not in ("en", "fr", "pt"):
            raise SettingsError("EXCHANGE_DEFAULT_LOCALE must be en, fr or pt")
        if self.key_kdf_rounds < 1000:  # RFC 8018 §4.2's minimum
            raise SettingsError("EXCHANGE_KEY_KDF_ROUNDS must be at least 1000")
        if self.production and self.key_kdf_rounds < 600_000:
            raise SettingsError("EXCHANGE_KEY_KDF_ROUNDS must be at least 600000 in production")
        if self.public_url and not _absolute_http_url(self.public_url):
            raise SettingsError(
                "EXCHANGE_PUBLIC_URL must be an absolute http(s) address, such as"
                " https://exchange.justice.sn (no query, no fragment)"
            )
        if self.smtp_url and not _smtp_url(self.smtp_url):
            raise SettingsError(
                "EXCHANGE_SMTP_URL must be smtp://host:port, smtp+starttls://user@host:port or"
                " smtps://user@host:port, without a password (EXCHANGE_SMTP_PASSWORD_FILE)"
            )
        if not 0 <= self.trusted_proxies <= 10:
            raise SettingsError("EXCHANGE_TRUSTED_PROXIES must be a count of proxies, 0 to 10")
        for name in (
            "session_idle_minutes",
            "session_lifetime_hours",
            "login_attempts_before_lockout",
            "account_attempts_before_lockout",
            "address_attempts_before_lockout",
            "lockout_minutes",
            "delivery_retry_seconds",
            "delivery_give_up_hours",
            "delivery_lease_seconds",
            "held_expiry_hours",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"EXCHANGE_{name.upper()} must be at least 1")
        if self.session_lifetime_hours > 24 * 30:
            raise SettingsError("EXCHANGE_SESSION_LIFETIME_HOURS must be at most 720 (30 days)")
        if self.production:
            missing = [
                name
                for name, value in (
                    ("EXCHANGE_SECRET_KEY", self.secret_key),
                    ("EXCHANGE_DATABASE_URL", self.database_url),
                    ("EXCHANGE_KEY_PASSPHRASE or EXCHANGE_KEY_PASSPHRASE_FILE", self.passphrase),
                )
                if not value
            ]
            if missing:
                raise SettingsError("production mode needs " + ", ".join(missing))
            if len(self.secret_key) < 32:
                raise SettingsError("EXCHANGE_SECRET_KEY must be at least 32 characters")
            if self.demo:
                raise SettingsError("EXCHANGE_DEMO cannot be set in production")
            return self
        instance = self.instance_path.resolve()
        secret_key = self.secret_key or _development_secret(instance)
        database_url = self.database_url or f"sqlite:///{instance / 'exchange.sqlite'}"
        passphrase = self.key_passphrase or (
            "" if self.key_passphrase_file else "development passphrase, not for production"
        )
        return replace(
            self,
            instance_path=instance,
            secret_key=secret_key,
            database_url=database_url,
            key_passphrase=passphrase,
        )


def _server_url(url: str, schemes: tuple[str, ...]) -> SplitResult | None:
    """Return the parts of ``url`` if it names a host by one of ``schemes``, with a well-formed
    port, no query, no fragment and no white space; else None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if (
        parts.scheme not in schemes
        or not parts.hostname
        or parts.query
        or parts.fragment
        or any(c.isspace() for c in url)
    ):
        return None
    return parts


def _absolute_http_url(url: str) -> bool:
    """Tell whether ``url`` is an http(s) address with a host and no query or fragment."""
    return _server_url(url, ("http", "https")) is not None


SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps")


def _smtp_url(url: str) -> bool:
    """Tell whether ``url`` names an SMTP server as EXCHANGE_SMTP_URL must (no password in it)."""
    parts = _server_url(url, SMTP_SCHEMES)
    return parts is not None and parts.password is None and parts.path in ("", "/")


def _development_secret(instance: Path) -> str:
    """Return a random secret kept in the instance folder so development sessions survive restarts."""
    instance.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = instance / "secret_key"
    if not path.exists():
        # Created owner-only from the start: written first and narrowed after, the secret was
        # readable by every local user for a moment (review finding 15).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()
