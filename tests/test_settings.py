"""The settings refuse to start a production node without its secrets."""

from __future__ import annotations

import dataclasses

import pytest

from exchange.settings import Settings, SettingsError


def test_production_refuses_without_secrets():
    with pytest.raises(SettingsError) as exc:
        Settings.from_env({"EXCHANGE_ENV": "production"})
    message = str(exc.value)
    assert "EXCHANGE_SECRET_KEY" in message and "EXCHANGE_DATABASE_URL" in message
    assert "EXCHANGE_KEY_PASSPHRASE" in message


def test_production_refuses_a_short_secret_and_demo_mode():
    base = {
        "EXCHANGE_ENV": "production",
        "EXCHANGE_DATABASE_URL": "postgresql+psycopg://exchange@db/exchange",
        "EXCHANGE_KEY_PASSPHRASE": "a long passphrase from the vault",
    }
    with pytest.raises(SettingsError, match="at least 32"):
        Settings.from_env({**base, "EXCHANGE_SECRET_KEY": "short"})
    with pytest.raises(SettingsError, match="EXCHANGE_DEMO"):
        Settings.from_env({**base, "EXCHANGE_SECRET_KEY": "s" * 40, "EXCHANGE_DEMO": "1"})
    settings = Settings.from_env({**base, "EXCHANGE_SECRET_KEY": "s" * 40})
    assert settings.production and settings.database_url.startswith("postgresql")


def test_settings_are_frozen_and_typed(tmp_path):
    settings = Settings.from_env(
        {
            "EXCHANGE_INSTANCE_PATH": str(tmp_path),
            "EXCHANGE_SESSION_IDLE_MINUTES": "5",
            "EXCHANGE_DEMO": "yes",
        }
    )
    assert settings.session_idle_minutes == 5 and settings.demo is True
    assert settings.database_url == f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.demo = False  # type: ignore[misc]
    with pytest.raises(SettingsError, match="whole number"):
        Settings.from_env(
            {"EXCHANGE_INSTANCE_PATH": str(tmp_path), "EXCHANGE_SESSION_IDLE_MINUTES": "ten"}
        )


def test_production_cookies_are_secure(tmp_path):
    from exchange import _flask_config

    settings = Settings(
        env="production",
        database_url="sqlite:///" + str(tmp_path / "x.sqlite"),
        secret_key="s" * 40,
        key_passphrase="p",
        instance_path=tmp_path,
    ).checked()
    config = _flask_config(settings)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert config["SESSION_COOKIE_SAMESITE"] == "Strict"


def test_finding_10_trusted_proxies_is_read_and_checked(tmp_path):
    base = {"EXCHANGE_INSTANCE_PATH": str(tmp_path)}
    assert Settings.from_env({**base, "EXCHANGE_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        Settings.from_env({**base, "EXCHANGE_TRUSTED_PROXIES": "-1"})


def test_session_lifetime_is_bounded(tmp_path):
    base = {"EXCHANGE_INSTANCE_PATH": str(tmp_path)}
    assert Settings.from_env(base).session_lifetime.total_seconds() == 12 * 3600
    with pytest.raises(SettingsError, match="SESSION_LIFETIME_HOURS"):
        Settings.from_env({**base, "EXCHANGE_SESSION_LIFETIME_HOURS": "0"})
    with pytest.raises(SettingsError, match="SESSION_LIFETIME_HOURS"):
        Settings.from_env({**base, "EXCHANGE_SESSION_LIFETIME_HOURS": "10000"})
