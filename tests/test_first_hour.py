"""Issue 15, defects met in the first hour: the demo's printed commands, the last administrator,
e-mail addresses of users and directory entries (the browser tests are in tests/browser)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mla import conftest as mla_fixtures

REPO = Path(__file__).resolve().parents[1]
VENV = Path(sys.executable).parent.parent
TRACEBACK = "Traceback (most recent call last)"
# The request area's fixtures, for drafts to Guinea and Mali.
make_case = mla_fixtures.make_case
make_request = mla_fixtures.make_request


# --- defect 2: every command the README prints for the demo works as printed --------------------


def readme_demo_commands() -> list[str]:
    """Return the shell commands of the README's marked demo block, one per line."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    marker = text.index("<!-- demo-commands:")
    block = re.search(r"```sh\n(.*?)```", text[marker:], re.DOTALL)
    assert block, "the demo-commands marker is followed by no ```sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def makefile_demo() -> str:
    """Return the command of the Makefile's ``demo`` recipe that sets the nodes up and runs them."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe
    (command,) = [
        line.strip() for line in recipe.group(1).splitlines() if "exchange.demo_nodes" in line
    ]
    return command


def run(command: str, clone: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``command`` through bash in the clone, as a newcomer would type it."""
    return subprocess.run(
        ["bash", "-c", command],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def demo_clone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], str]:
    """Set a fresh demo up as ``make demo`` does, short of starting the nodes.

    The clone holds the Makefile and the virtual environment (a link); the code under test comes
    first on PYTHONPATH. No EXCHANGE_ variable of the test run leaks into the demo's commands.
    """
    clone = tmp_path_factory.mktemp("clone")
    shutil.copy(REPO / "Makefile", clone / "Makefile")
    (clone / ".venv").symlink_to(VENV)
    assert (clone / ".venv" / "bin" / "exchange").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    # The recipe sets both nodes up and starts them; --setup-only stops after the set-up.
    command = makefile_demo().replace("$(BIN)", ".venv/bin").replace("$(CURDIR)", str(clone))
    done = run(f"{command} --setup-only", clone, env)
    assert done.returncode == 0, done.stderr
    return clone, env, done.stdout


@pytest.mark.parametrize("command", readme_demo_commands())
def test_defect_02_readme_demo_commands_work_as_printed(demo_clone, command):
    clone, env, _ = demo_clone
    done = run(command, clone, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert TRACEBACK not in done.stdout + done.stderr
    assert re.fullmatch(r"\d{6}\n", done.stdout), done.stdout
    assert not (clone / "keys").exists(), "a stray key store in the clone"


def test_defect_02_command_printed_by_demo_setup_works(demo_clone):
    clone, env, output = demo_clone
    printed = [line.strip() for line in output.splitlines() if "demo code EMAIL" in line]
    assert len(printed) == 2  # one per node
    for line, email in zip(printed, ("admin@sn.demo", "admin@ng.demo"), strict=True):
        done = run(line.replace("EMAIL", email), clone, env)
        assert done.returncode == 0 and re.fullmatch(r"\d{6}\n", done.stdout), done.stderr
    assert not (clone / "keys").exists()


@pytest.mark.parametrize("email", ["officer@sn.demo", "officer@ng.demo", "naptip@ng.demo"])
def test_demo_code_finds_the_node_of_each_printed_user(demo_clone, email):
    clone, env, output = demo_clone
    assert email in output
    done = run(f"make demo-code EMAIL={email}", clone, env)
    assert done.returncode == 0 and re.fullmatch(r"\d{6}\n", done.stdout), done.stderr


@pytest.mark.parametrize(
    ("command", "says"),
    [
        # The README's former command: the demo's instance, but not its key store.
        (
            "EXCHANGE_DEMO=1 EXCHANGE_INSTANCE_PATH=$PWD/instance/dakar .venv/bin/exchange demo "
            "code officer@sn.demo",
            "make demo-code EMAIL=officer@sn.demo",
        ),
        # The one-node demo's folder: no node there any more.
        (
            "EXCHANGE_DEMO=1 EXCHANGE_INSTANCE_PATH=$PWD/instance EXCHANGE_KEYS_DIR=$PWD/instance/keys"
            " .venv/bin/exchange demo code officer@sn.demo",
            "no demo node",
        ),
        # A user of the other node.
        (
            "EXCHANGE_DEMO=1 EXCHANGE_INSTANCE_PATH=$PWD/instance/abuja "
            "EXCHANGE_KEYS_DIR=$PWD/instance/abuja/keys .venv/bin/exchange demo code officer@sn.demo",
            "no demo user 'officer@sn.demo'",
        ),
        (
            "EXCHANGE_DEMO=1 EXCHANGE_INSTANCE_PATH=$PWD/elsewhere .venv/bin/exchange demo code "
            "officer@sn.demo",
            "no demo node",
        ),
        ("make demo-code", "make demo-code EMAIL="),
        ("make demo-code EMAIL=nobody@sn.demo", "no demo user 'nobody@sn.demo'"),
    ],
)
def test_defect_02_wrong_demo_commands_say_why_and_create_no_keys(demo_clone, command, says):
    clone, env, _ = demo_clone
    done = run(command, clone, env)
    assert done.returncode != 0
    assert TRACEBACK not in done.stdout + done.stderr
    assert "error:" in done.stderr.lower() and says in done.stderr, done.stderr
    assert not (clone / "keys").exists(), "a read command created a key store"


# --- defect 7: one rule for the languages a state accepts ---------------------------------------


def test_defect_07_one_rule_for_the_directory_and_the_draft(app):
    from exchange.directory.languages import accepted_languages
    from exchange.extensions import db
    from exchange.mla import services as mla

    to_guinea = accepted_languages(db.session, "SN", "GN")
    assert to_guinea.own == ("fr",) and to_guinea.community == ("en", "pt")
    assert mla.suggest(db.session, "SN", "GN", "taking_evidence").languages == ["fr", "en", "pt"]
    # A draft that does not rest on A/P.1/7/92: UNTOC 18(14) alone, Guinea's own language.
    untoc_only = accepted_languages(db.session, "SN", "GN", legal_basis=["UNTOC-18"])
    assert untoc_only.languages == ["fr"] and not untoc_only.accepts("pt")
    # Mali left ECOWAS: the Convention is not in force with it, French alone.
    assert accepted_languages(db.session, "SN", "ML").languages == ["fr"]
    assert mla.suggest(db.session, "SN", "ML", "taking_evidence").languages == ["fr"]
    assert accepted_languages(db.session, "SN", "XX").languages == []


def test_defect_07_checklist_follows_the_drafts_legal_basis(app, make_user, make_request):
    from exchange.extensions import db
    from exchange.mla import services as mla

    prosecutor = make_user("prosecutor")
    draft = make_request(prosecutor, to="GN-CA")
    draft.language = "pt"
    db.session.flush()
    language = {i.key: i for i in mla.checklist(db.session, draft)}["language"]
    assert language.ok and "ECOWAS-A/P.1/7/92" in draft.legal_basis
    draft.legal_basis = "UNTOC-18,PALERMO-PROTOCOL"
    db.session.flush()
    assert not {i.key: i for i in mla.checklist(db.session, draft)}["language"].ok


# --- defect 8: e-mail addresses checked as the user forms check them; names bounded --------------


def _user_add(runner, email: str, name: str = "Awa Ndiaye"):  # type: ignore[no-untyped-def]
    args = ["user", "add", email, "--name", name, "--authority", "SN-TGI-TAMBA"]
    return runner.invoke(args=[*args, "--role", "prosecutor"])


@pytest.mark.parametrize(
    ("email", "name", "says"),
    [
        ("", "Awa Ndiaye", "not a valid e-mail address"),
        ("not an email", "Awa Ndiaye", "not a valid e-mail address"),
        ("<script>@x", "Awa Ndiaye", "not a valid e-mail address"),
        ("awa@" + "x" * 250 + ".sn", "Awa Ndiaye", "not a valid e-mail address"),
        ("awa@justice.sn", "A" * 100_000, "1 to 120 characters"),
        ("awa@justice.sn", "   ", "1 to 120 characters"),
        ("awa@justice.sn", "Awa\nNdiaye", "no line break"),
    ],
)
def test_defect_08_user_add_refuses_what_the_form_refuses(runner, email, name, says):
    from exchange.auth.models import User
    from exchange.extensions import db

    result = _user_add(runner, email, name)
    assert result.exit_code != 0 and says in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert db.session.query(User).count() == 0


def test_defect_08_user_add_keeps_a_good_address_and_name(runner):
    from exchange.auth.services import find_user
    from exchange.extensions import db

    result = _user_add(runner, " Awa.Ndiaye@Justice.sn ", "A" * 120)
    assert result.exit_code == 0, result.output
    user = find_user(db.session, "awa.ndiaye@justice.sn")
    assert user is not None and user.display_name == "A" * 120


def test_defect_08_accounts_service_checks_the_address(app):
    from exchange.auth import services as accounts
    from exchange.directory.queries import authority_by_code
    from exchange.extensions import db

    office = authority_by_code(db.session, "SN-TGI-TAMBA")
    for email, code in (("awa@justice", "bad_email"), ("awa@local.local", "bad_email")):
        with pytest.raises(accounts.AccountError, match=code):
            accounts.create_user(
                db.session, email=email, display_name="Awa", authority=office, roles={"prosecutor"}
            )


@pytest.mark.parametrize("email", ["not an email", "dacg@justice", "<script>@x", "a@b@justice.sn"])
def test_defect_08_directory_service_refuses_a_wrong_address(app, email):
    from exchange.directory import queries, services
    from exchange.extensions import db

    entry = queries.authority_by_code(db.session, "SN-CA")
    with pytest.raises(services.DirectoryError, match="bad_email"):
        services.update_authority(db.session, entry, actor=None, email=email)
    with pytest.raises(services.DirectoryError, match="bad_email"):
        services.add_authority(
            db.session,
            code="ML-PG-BAMAKO",
            name="Parquet général de Bamako",
            kind="prosecution_office",
            jurisdiction_code="ML",
            hosted=False,
            email=email,
        )
    db.session.rollback()
    assert queries.authority_by_code(db.session, "ML-PG-BAMAKO") is None
    assert queries.authority_by_code(db.session, "SN-CA").email == ""


def test_defect_08_directory_keeps_a_good_address_or_none(app):
    from exchange.directory import queries, services
    from exchange.extensions import db

    entry = queries.authority_by_code(db.session, "SN-CA")
    services.update_authority(db.session, entry, actor=None, email=" dacg@justice.sn ")
    assert entry.email == "dacg@justice.sn"
    services.update_authority(db.session, entry, actor=None, email="")
    assert entry.email == ""


def test_defect_08_authority_add_refuses_a_wrong_address(runner):
    from exchange.directory.queries import authority_by_code
    from exchange.extensions import db

    args = ["authority", "add", "SN-TGI-KEDOUGOU", "--name", "Parquet de Kédougou"]
    args += ["--kind", "prosecution_office", "--state", "SN", "--email", "parquet at kedougou"]
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and "not a valid e-mail address" in result.output
    assert authority_by_code(db.session, "SN-TGI-KEDOUGOU") is None


def test_defect_08_directory_form_refuses_a_wrong_address(app, make_user):
    from exchange.directory.queries import authority_by_code
    from exchange.extensions import db
    from tests.conftest import csrf_token, login

    admin = make_user("administrator", authority="SN-CA")
    client = app.test_client()
    login(client, admin)
    token = csrf_token(client, "/directory/authorities/SN-CA/edit")
    response = client.post(
        "/directory/authorities/SN-CA/edit",
        data={"name": "DACG", "email": "dacg at justice.sn", "csrf_token": token},
    )
    assert response.status_code == 200
    assert "Enter a valid e-mail address." in response.get_data(as_text=True)
    db.session.expire_all()
    assert authority_by_code(db.session, "SN-CA").email == ""


# --- defect 5: an authority keeps its last active administrator --------------------------------


def test_defect_05_last_administrator_keeps_role_and_account_in_the_service(app, make_user):
    from exchange.auth import services as accounts
    from exchange.extensions import db

    admin = make_user("administrator", authority="SN-CA")
    # The operator, then herself.
    for actor, roles_code, disable_code in (
        (None, "last_administrator", "last_administrator"),
        (admin, "own_roles", "own_account"),
    ):
        with pytest.raises(accounts.AccountError, match=roles_code):
            accounts.set_roles(db.session, admin, {"prosecutor"}, actor=actor)
        with pytest.raises(accounts.AccountError, match=disable_code):
            accounts.disable_user(db.session, admin, actor=actor)
    with pytest.raises(accounts.AccountError, match="own_account"):
        accounts.issue_enrolment_link(db.session, admin, reset=True, actor=admin)
    db.session.expire_all()
    assert admin.roles == {"administrator"} and admin.active and admin.password_hash
    # A second, active administrator may take the role from the first; then she is the last.
    second = make_user("administrator", authority="SN-CA")
    accounts.set_roles(db.session, admin, {"liaison_officer"}, actor=second)
    with pytest.raises(accounts.AccountError, match="last_administrator"):
        accounts.disable_user(db.session, second)
    # A disabled administrator does not count.
    accounts.set_roles(db.session, admin, {"administrator"}, actor=second)
    accounts.disable_user(db.session, admin, actor=second)
    with pytest.raises(accounts.AccountError, match="last_administrator"):
        accounts.set_roles(db.session, second, {"prosecutor"})


@pytest.mark.parametrize(
    "args",
    [
        ["roles", "{email}", "--remove", "administrator"],
        ["roles", "{email}", "--set", "prosecutor"],
        ["disable", "{email}"],
    ],
)
def test_defect_05_last_administrator_on_the_command_line(runner, make_user, args):
    from exchange.extensions import db

    admin = make_user("administrator", authority="SN-CA")
    result = runner.invoke(args=["user", *(a.format(email=admin.email) for a in args)])
    assert result.exit_code != 0
    assert "Error: this is the last active administrator of the authority" in result.output
    db.session.expire_all()
    assert admin.roles == {"administrator"} and admin.active


@pytest.mark.parametrize(("locale", "says"), [("fr", "Vous ne pouvez pas"), ("pt", "Não pode")])
def test_defect_05_own_account_refusals_are_translated(app, make_user, locale, says):
    from exchange.extensions import db
    from tests.conftest import csrf_token, login

    admin = make_user("administrator", authority="SN-CA")
    admin.locale = locale
    db.session.commit()
    client = app.test_client()
    login(client, admin)
    token = csrf_token(client, "/admin/users")
    for path, data in (("", {"roles": ["prosecutor"]}), ("/disable", {}), ("/reset", {})):
        page = client.post(
            f"/admin/users/{admin.public_id}{path}",
            data={**data, "csrf_token": token},
            follow_redirects=True,
        ).get_data(as_text=True)
        assert says in page, path
