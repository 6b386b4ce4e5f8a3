"""The node's public URL (issue 12): enrolment links are built on ``EXCHANGE_PUBLIC_URL`` and
never on the address a request arrived at; the administration pages, the app factory's log and
``exchange run`` warn when links would point elsewhere than the address in use."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from exchange import create_app
from exchange.core.public_url import check, origin, startup_message
from exchange.settings import Settings, SettingsError
from tests.conftest import IsolatedClient, _settings, csrf_token, login

PUBLIC = "https://exchange.justice.sn"
REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "url",
    [
        "exchange.justice.sn",
        "ftp://exchange.justice.sn",
        "https://",
        "https://x.sn/?a=1",
        "https://x.sn/#top",
        "https://x.sn:99999",
        "https://exchange justice.sn",
    ],
)
def test_a_malformed_public_url_stops_the_node(url: str) -> None:
    with pytest.raises(SettingsError, match="EXCHANGE_PUBLIC_URL"):
        Settings.from_env({"EXCHANGE_PUBLIC_URL": url, "EXCHANGE_ENV": "test"})


def test_the_check_compares_scheme_host_and_port() -> None:
    settings = Settings(public_url=PUBLIC)
    assert check(settings, "https://exchange.justice.sn/").ok
    assert check(settings, "https://EXCHANGE.justice.sn:443/").ok
    assert check(settings, "http://exchange.justice.sn/").elsewhere
    assert check(settings, "https://exchange.justice.sn:8443/").elsewhere
    assert check(settings, "https://10.0.0.5/").elsewhere
    unset = check(Settings(), "http://127.0.0.1:5000/")
    assert unset.unset and not unset.elsewhere and not unset.ok
    assert unset.links_to == "http://127.0.0.1:5000"
    assert origin("not a url") is None and origin("http://[::1]:8080/") == ("http", "::1", 8080)


def test_the_start_up_message_says_what_the_links_will_be() -> None:
    unset = startup_message(Settings())
    assert unset is not None and "EXCHANGE_PUBLIC_URL is not set" in unset
    assert "http://127.0.0.1:5000" in unset
    assert "not http://0.0.0.0:8080" in str(startup_message(Settings(), "http://0.0.0.0:8080"))
    assert startup_message(Settings(public_url=PUBLIC)) is None
    assert startup_message(Settings(public_url=PUBLIC), f"{PUBLIC}:443") is None
    behind_proxy = startup_message(Settings(public_url=PUBLIC), "http://127.0.0.1:8000")
    assert behind_proxy is not None and "proxy" in behind_proxy


def test_the_app_factory_logs_an_unset_public_url(tmp_path, database_url, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="exchange"):
        create_app(_settings(database_url, tmp_path / "a"))
    assert any("EXCHANGE_PUBLIC_URL is not set" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="exchange"):
        create_app(_settings(database_url, tmp_path / "b", public_url=PUBLIC))
    assert not any("EXCHANGE_PUBLIC_URL" in r.getMessage() for r in caplog.records)


class ClientAt(IsolatedClient):
    """A test client whose requests arrive at ``base`` (its scheme and Host header)."""

    base = "http://localhost"

    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Send the request to ``base`` unless the call names another."""
        kwargs.setdefault("base_url", self.base)
        return super().open(*args, **kwargs)


def _at(client: ClientAt, base: str) -> ClientAt:
    """Send ``client``'s next requests to ``base``, with the session it holds."""
    held = client.get_cookie("exchange_session", domain=client.base.partition("://")[2])
    client.base = base
    if held is not None:
        client.set_cookie("exchange_session", held.value, domain=base.partition("://")[2])
    return client


def _new_user_link(client: Any) -> str:
    """Add a user through the administration page; return the enrolment link it shows."""
    token = csrf_token(client, "/admin/users/new")
    page = client.post(
        "/admin/users/new",
        data={
            "email": "awa.ndiaye@justice.sn",
            "display_name": "Awa Ndiaye",
            "roles": "prosecutor",
            "csrf_token": token,
        },
    ).get_data(as_text=True)
    match = re.search(r'<code class="secret">([^<]+)</code>', page)
    assert match, page[:3000]
    return match.group(1)


def test_unset_the_administration_pages_warn_and_links_fall_back(app: Flask, make_user) -> None:
    admin = make_user("administrator", "SN-CA")
    client = app.test_client()
    login(client, admin)
    for path in ("/admin/users", "/admin/users/new", f"/admin/users/{admin.public_id}"):
        page = client.get(path).get_data(as_text=True)
        assert 'id="public-url-warning"' in page and "EXCHANGE_PUBLIC_URL" in page, path
        assert "http://127.0.0.1:5000" in page
    # The enrolment link page says it too, beside the link it cannot trust.
    link = _new_user_link(client)
    assert link.startswith("http://127.0.0.1:5000/enrol/")
    # Pages that hand out no link say nothing of it.
    assert 'id="public-url-warning"' not in client.get("/requests/").get_data(as_text=True)


@pytest.mark.parametrize("settings_overrides", [{"public_url": PUBLIC}])
def test_set_links_are_built_on_it_and_a_forged_host_changes_nothing(
    app: Flask, make_user, runner
) -> None:
    admin = make_user("administrator", "SN-CA")
    app.test_client_class = ClientAt
    client = _at(app.test_client(), PUBLIC)
    login(client, admin)
    assert 'id="public-url-warning"' not in client.get("/admin/users").get_data(as_text=True)
    assert _new_user_link(client).startswith(f"{PUBLIC}/enrol/")
    # The same node reached at another address (an internal name, a forged Host header): the
    # page warns, and the link still carries the public URL, not the address of the request.
    _at(client, "http://evil.example")
    page = client.get("/admin/users").get_data(as_text=True)
    assert 'id="public-url-warning"' in page and "http://evil.example" in page
    token = csrf_token(client, f"/admin/users/{admin.public_id}")
    other = make_user("prosecutor", "SN-CA")
    reset = client.post(f"/admin/users/{other.public_id}/reset", data={"csrf_token": token})
    assert f"{PUBLIC}/enrol/" in reset.get_data(as_text=True)
    assert "evil.example/enrol" not in reset.get_data(as_text=True)
    # The command line hands out links on the same address.
    added = runner.invoke(
        args=[
            "user",
            "add",
            "fatou.sarr@justice.sn",
            "--name",
            "Fatou Sarr",
            "--authority",
            "SN-CA",
            "--role",
            "central_authority_officer",
        ]
    )
    assert added.exit_code == 0 and f"{PUBLIC}/enrol/" in added.output, added.output


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("fr", "L'adresse publique du nœud n'est pas définie"),
        ("pt", "O endereço público do nó não está definido"),
    ],
)
def test_the_warning_is_in_the_readers_language(app: Flask, make_user, lang: str, says: str):
    admin = make_user("administrator", "SN-CA")
    client = app.test_client()
    login(client, admin)
    token = csrf_token(client, "/")
    client.post("/language", data={"locale": lang, "next": "/", "csrf_token": token})
    page = client.get("/admin/users").get_data(as_text=True)
    assert says in page.replace("&#39;", "'")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_output(tmp_path: Path, extra_env: dict[str, str]) -> str:
    """Start ``exchange run`` on a free port; return what it printed before serving."""
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "EXCHANGE_INSTANCE_PATH": str(tmp_path / f"instance-{port}"),
        "EXCHANGE_KEYS_DIR": str(tmp_path / f"keys-{port}"),
        **extra_env,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from exchange.cli import main; main()",
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines = []
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Running on" in line:
                break
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=10)
    output = "".join(lines)
    assert "Running on" in output, output
    return output


def test_exchange_run_says_where_enrolment_links_point(tmp_path: Path) -> None:
    unset = _run_output(tmp_path, {})
    assert (
        "EXCHANGE_PUBLIC_URL is not set: enrolment links will point to http://127.0.0.1:5000"
        in unset
    )
    assert re.search(r"not http://127\.0\.0\.1:\d+", unset)  # this server's own port
