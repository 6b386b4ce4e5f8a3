"""``exchange demo``: a node with demo authorities and users, for a first look."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import inspect

from exchange.auth import passwords, totp
from exchange.auth import services as accounts
from exchange.auth.models import User
from exchange.db import DbSession
from exchange.directory import services as directory
from exchange.directory.queries import authority_by_code
from exchange.envelopes import EnvelopeError, local_trust
from exchange.envelopes.stores import node_envelopes
from exchange.uow import unit_of_work

demo_cli = AppGroup("demo", help="Set up and inspect a demonstration node (never in production).")

DEMO_PASSWORD = "kedougou-demo-2026"  # noqa: S105 - printed to the newcomer on purpose

# Demo people of the Senegalese node: one per role. Officers and administrators need TOTP.
DEMO_USERS = (
    ("prosecutor@sn.demo", "Awa Ndiaye", "SN-TGI-TAMBA", ("prosecutor",)),
    ("investigator@sn.demo", "Moussa Diallo", "SN-TGI-TAMBA", ("investigator",)),
    ("officer@sn.demo", "Fatou Sarr", "SN-CA", ("central_authority_officer",)),
    ("liaison@sn.demo", "Ibrahima Fall", "SN-CA", ("liaison_officer",)),
    # Also the node administrator, so that the demo shows the whole directory being kept.
    ("admin@sn.demo", "Aminata Ba", "SN-CA", ("administrator", "node_admin")),
)


def _require_demo() -> None:
    """Refuse to run demo commands on a node that is not in demo mode."""
    if not current_app.config["EXCHANGE"].demo:
        raise click.ClickException("demo commands need EXCHANGE_DEMO=1 (never in production)")


@demo_cli.command("setup")
def setup_command() -> None:
    """Seed the directory, host the Senegalese authorities and create one user per role."""
    _require_demo()
    with unit_of_work() as session:
        directory.seed_directory(session)
        for code in ("SN-CA", "SN-TGI-TAMBA"):
            authority = authority_by_code(session, code)
            assert authority is not None  # noqa: S101 - seeded just above
            authority.hosted = True
        session.flush()
        lines = []
        for email, name, code, roles in DEMO_USERS:
            user = accounts.find_user(session, email)
            if user is None:
                authority = authority_by_code(session, code)
                assert authority is not None  # noqa: S101
                user = accounts.create_user(
                    session,
                    email=email,
                    display_name=name,
                    authority=authority,
                    roles=set(roles),
                )
                # Set past the policy on purpose: the policy refuses this published password for
                # every real account, and demo mode never runs in production.
                user.password_hash = passwords.hash_password(DEMO_PASSWORD)
            if user.totp_required and not user.totp_enabled:
                user.totp_secret = totp.new_secret()
                user.totp_enabled = True
                session.flush()
            lines.append((user.email, ", ".join(sorted(user.roles)), user.totp_secret))
    with unit_of_work() as session:
        envelopes = node_envelopes(session)
        for code in ("SN-CA", "SN-TGI-TAMBA"):
            created = envelopes.keys.generate(code, pq=True, pdf=True)
            local_trust(envelopes.keys, envelopes.trust, code)  # hosted authorities talk too
            if created:
                click.echo(f"keys for {code}: {', '.join(k.use for k in created)}")
    with unit_of_work() as session:
        sample = _sample_case(session)
    if sample:
        click.echo(f"sample case {sample} with draft requests to Nigeria")
    click.echo(f"Demo users (password for all: {DEMO_PASSWORD}):")
    for email, role_names, secret in lines:
        second = f"  TOTP key {secret}" if secret else ""
        click.echo(f"  {email:<24} {role_names:<28}{second}")
    click.echo(
        "Second factor: add the TOTP key to an authenticator app, or print the current code with\n"
        "  make demo-code EMAIL=officer@sn.demo    (in the clone, after `make demo`), or\n"
        f"  {code_command_line('EMAIL')}"
    )


def code_command_line(email: str) -> str:
    """Return the command that prints a demo user's code on this very node (its instance, keys)."""
    settings = current_app.config["EXCHANGE"]
    instance = shlex.quote(str(Path(settings.instance_path).resolve()))
    keys = shlex.quote(str(Path(settings.keys_dir).resolve()))
    return (
        f"EXCHANGE_DEMO=1 EXCHANGE_INSTANCE_PATH={instance} EXCHANGE_KEYS_DIR={keys} "
        f".venv/bin/exchange demo code {email}"
    )


@demo_cli.command("code")
@click.argument("email")
def code_command(email: str) -> None:
    """Print the current TOTP code of a demo user (demo mode only); reads keys, never makes any."""
    _require_demo()
    import pyotp

    settings = current_app.config["EXCHANGE"]
    with unit_of_work() as session:
        if not inspect(session.get_bind()).has_table(User.__tablename__):
            raise click.ClickException(
                f"no demo node in {settings.instance_path}: run `make demo` first (or point "
                "EXCHANGE_INSTANCE_PATH at the demo's instance)"
            )
        user = accounts.find_user(session, email)
        if user is None:
            raise click.ClickException(
                f"no demo user {email!r} in the node of {settings.instance_path} "
                "(is EXCHANGE_INSTANCE_PATH the demo's instance? `make demo-code` sets it)"
            )
        try:
            secret = user.totp_secret
        except EnvelopeError as exc:
            # Seeds are encrypted with the data key of the node's own key store: another one (the
            # default ``keys`` when the demo keeps its keys in ``instance/keys``) cannot read them.
            raise click.ClickException(
                f"cannot read the second factor of {email}: {exc} "
                f"Run `make demo-code EMAIL={email}` "
                "in the clone, or set EXCHANGE_KEYS_DIR to the demo's key store (`make demo` "
                f"keeps it in {Path(settings.instance_path) / 'keys'})"
            ) from exc
        if not secret:
            raise click.ClickException(f"{email} has no second factor")
        click.echo(pyotp.TOTP(secret).now())


def _sample_case(session: DbSession) -> str | None:
    """Open a sample case with two draft requests to Nigeria, once; return its number."""
    from sqlalchemy import select

    from exchange.cases import services as cases
    from exchange.cases.models import Case
    from exchange.mla import services as mla

    number = "TGI-TAMBA/2026/0142"
    if session.scalar(select(Case.id).where(Case.number == number)) is not None:
        return None
    prosecutor = accounts.find_user(session, "prosecutor@sn.demo")
    investigator = accounts.find_user(session, "investigator@sn.demo")
    assert prosecutor is not None and investigator is not None  # noqa: S101 - created above
    case = cases.create_case(
        session,
        prosecutor,
        number=number,
        title="Exploitation sexuelle sur un site d'orpaillage (Kédougou)",
        offences="Traite des personnes (loi n° 2005-06)\nProxénétisme aggravé",
        stage="investigation",
        border_localities="Kédougou\nSaraya\nMoussala (frontière malienne)",
    )
    cases.add_member(session, prosecutor, case, investigator)
    for measure, authority_code in (
        ("taking_evidence", "NG-CA"),
        ("survivor_repatriation", "NG-NAPTIP"),
    ):
        authority = authority_by_code(session, authority_code)
        assert authority is not None  # noqa: S101 - seeded directory
        mla.create_request(session, prosecutor, case, request_type=measure, counterpart=authority)
    return number
