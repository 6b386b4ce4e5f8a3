"""The ``exchange`` command line: accounts and authorities without the portal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from exchange.auth.services import find_user
from exchange.directory.queries import authority_by_code
from exchange.extensions import db
from tests.conftest import login


def test_console_script_lists_the_commands(tmp_path):
    exe = Path(sys.executable).with_name("exchange")
    result = subprocess.run(
        [str(exe), "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={"EXCHANGE_INSTANCE_PATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    for command in ("db", "authority", "user", "directory", "demo", "run", "routes", "shell"):
        assert f"  {command} " in result.stdout, command


def test_authority_add_and_list(runner):
    result = runner.invoke(
        args=[
            "authority",
            "add",
            "sn-tgi-kedougou",
            "--name",
            "Parquet de Kédougou",
            "--kind",
            "prosecution_office",
            "--state",
            "SN",
            "--hosted",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "SN-TGI-KEDOUGOU added (hosted here)" in result.output
    authority = authority_by_code(db.session, "SN-TGI-KEDOUGOU")
    assert authority is not None and authority.hosted
    again = runner.invoke(
        args=[
            "authority",
            "add",
            "SN-TGI-KEDOUGOU",
            "--name",
            "x",
            "--kind",
            "court",
            "--state",
            "SN",
        ]
    )
    assert again.exit_code != 0 and "already exists" in again.output
    unknown = runner.invoke(
        args=["authority", "add", "XX-CA", "--name", "x", "--kind", "court", "--state", "XX"]
    )
    assert unknown.exit_code != 0 and "no state 'XX'" in unknown.output
    listing = runner.invoke(args=["authority", "list", "--state", "sn"])
    assert "* SN-TGI-KEDOUGOU" in listing.output


def test_user_add_with_password_from_stdin(runner, app):
    result = runner.invoke(
        args=[
            "user",
            "add",
            "Awa.Ndiaye@justice.sn",
            "--name",
            "Awa Ndiaye",
            "--authority",
            "SN-TGI-TAMBA",
            "--role",
            "prosecutor",
            "--password-stdin",
        ],
        input="river of gold at kedougou\n",
    )
    assert result.exit_code == 0, result.output
    user = find_user(db.session, "awa.ndiaye@justice.sn")
    assert user is not None and user.roles == {"prosecutor"}
    login(app.test_client(), user, password="river of gold at kedougou")


def test_user_add_refuses_weak_password_and_foreign_authority(runner):
    weak = runner.invoke(
        args=[
            "user",
            "add",
            "a@justice.sn",
            "--name",
            "A",
            "--authority",
            "SN-CA",
            "--role",
            "prosecutor",
            "--password-stdin",
        ],
        input="password1234\n",
    )
    assert weak.exit_code != 0 and "too common" in weak.output
    foreign = runner.invoke(
        args=[
            "user",
            "add",
            "b@justice.gh",
            "--name",
            "B",
            "--authority",
            "GH-CA",
            "--role",
            "prosecutor",
        ]
    )
    assert foreign.exit_code != 0 and "hosted on this node" in foreign.output


def test_user_add_prints_enrolment_link(runner, app):
    result = runner.invoke(
        args=[
            "user",
            "add",
            "officer@justice.sn",
            "--name",
            "Fatou Sarr",
            "--authority",
            "SN-CA",
            "--role",
            "central_authority_officer",
        ]
    )
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1].split()[-1]
    assert "/enrol/" in link
    path = "/enrol/" + link.rsplit("/enrol/", 1)[1]
    assert app.test_client().get(path).status_code == 200


def test_user_roles_and_disable(runner, make_user, app):
    user = make_user("prosecutor")
    client = app.test_client()
    login(client, user)
    result = runner.invoke(args=["user", "roles", user.email, "--add", "investigator"])
    assert result.exit_code == 0 and "investigator, prosecutor" in result.output
    result = runner.invoke(args=["user", "disable", user.email])
    assert result.exit_code == 0
    assert client.get("/account").status_code == 302  # the open session ended
    missing = runner.invoke(args=["user", "disable", "ghost@justice.sn"])
    assert missing.exit_code != 0 and "no user" in missing.output


def test_demo_commands_refuse_without_demo_mode(runner):
    result = runner.invoke(args=["demo", "setup"])
    assert result.exit_code != 0 and "EXCHANGE_DEMO=1" in result.output
