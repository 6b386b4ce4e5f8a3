"""``exchange demo``: a node with demo authorities and users, for a first look."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class DemoNode:
    """One node of the demo: the authorities it hosts and its people (one per role)."""

    title: str
    hosted: tuple[str, ...]
    # (email, name, authority, roles); officers and administrators need TOTP.
    users: tuple[tuple[str, str, str, tuple[str, ...]], ...]
    sample_case: bool = False


# Authorities the demo hosts that the seeded directory may not list yet: (code, kind, name).
DEMO_AUTHORITIES = {
    "SN-TGI-KEDOUGOU": (
        "prosecution_office",
        "Parquet du Tribunal de grande instance de Kédougou",
    ),
    "SN-CNLTP": (
        "special_investigative_unit",
        "Cellule nationale de lutte contre la traite des personnes (CNLTP)",
    ),
}

DEMO_NODES = {
    "dakar": DemoNode(
        "Dakar (Senegal)",
        ("SN-CA", "SN-TGI-TAMBA", "SN-TGI-KEDOUGOU", "SN-CNLTP"),
        (
            ("prosecutor@sn.demo", "Awa Ndiaye", "SN-TGI-TAMBA", ("prosecutor",)),
            ("investigator@sn.demo", "Moussa Diallo", "SN-TGI-TAMBA", ("investigator",)),
            ("kedougou@sn.demo", "Ousmane Sow", "SN-TGI-KEDOUGOU", ("prosecutor",)),
            ("cnltp@sn.demo", "Mariama Diop", "SN-CNLTP", ("investigator",)),
            ("officer@sn.demo", "Fatou Sarr", "SN-CA", ("central_authority_officer",)),
            ("liaison@sn.demo", "Ibrahima Fall", "SN-CA", ("liaison_officer",)),
            # Also the node administrator, so that the demo shows the whole directory being kept.
            ("admin@sn.demo", "Aminata Ba", "SN-CA", ("administrator", "node_admin")),
        ),
        sample_case=True,
    ),
    "abuja": DemoNode(
        "Abuja (Nigeria)",
        ("NG-CA", "NG-NAPTIP"),
        (
            ("officer@ng.demo", "Ngozi Adeyemi", "NG-CA", ("central_authority_officer",)),
            # NAPTIP registers and executes the requests addressed to it (survivors' return).
            ("naptip@ng.demo", "Hauwa Bello", "NG-NAPTIP", ("central_authority_officer",)),
            ("admin@ng.demo", "Emeka Okonkwo", "NG-CA", ("administrator", "node_admin")),
        ),
    ),
}
# Kept for callers of the one-node demo: the people of the Senegalese node.
DEMO_USERS = DEMO_NODES["dakar"].users


def _require_demo() -> None:
    """Refuse to run demo commands on a node that is not in demo mode."""
    if not current_app.config["EXCHANGE"].demo:
        raise click.ClickException("demo commands need EXCHANGE_DEMO=1 (never in production)")


def _host(session: DbSession, code: str) -> None:
    """Host an authority here, adding it to the directory first if the seed does not list it."""
    authority = authority_by_code(session, code)
    if authority is None:
        kind, name = DEMO_AUTHORITIES[code]
        authority = directory.add_authority(
            session,
            code=code,
            name=name,
            kind=kind,
            jurisdiction_code=code[:2],
            hosted=True,
            notes="Demo entry.",
        )
    authority.hosted = True


@demo_cli.command("setup")
@click.option(
    "--node",
    "node_name",
    type=click.Choice(sorted(DEMO_NODES)),
    default="dakar",
    show_default=True,
    help="Which demo node this is: its hosted authorities and people.",
)
def setup_command(node_name: str) -> None:
    """Seed the directory, host the node's authorities and create one user per role."""
    _require_demo()
    node = DEMO_NODES[node_name]
    with unit_of_work() as session:
        directory.seed_directory(session)
        for code in node.hosted:
            _host(session, code)
        session.flush()
        lines = []
        for email, name, code, roles in node.users:
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
        for code in node.hosted:
            created = envelopes.keys.generate(code, pq=True, pdf=True)
            local_trust(envelopes.keys, envelopes.trust, code)  # hosted authorities talk too
            if created:
                click.echo(f"keys for {code}: {', '.join(k.use for k in created)}")
    if node.sample_case:
        with unit_of_work() as session:
            sample = _sample_case(session)
        if sample:
            click.echo(f"sample case {sample} with draft requests to Nigeria")
    example = next(u[0] for u in node.users if "central_authority_officer" in u[3])
    click.echo(f"Demo users of {node.title} (password for all: {DEMO_PASSWORD}):")
    for email, role_names, secret in lines:
        second = f"  TOTP key {secret}" if secret else ""
        click.echo(f"  {email:<24} {role_names:<28}{second}")
    click.echo(
        "Second factor: add the TOTP key to an authenticator app, or print the current code with\n"
        f"  make demo-code EMAIL={example}    (in the clone, after `make demo`), or\n"
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
    _sample_transmitted(session, case)
    return number


# The contents of the demo's transmitted request, by field (any other field is left empty).
SAMPLE_CONTENTS = {
    "requesting_official": "Awa Ndiaye, Procureur de la République près le TGI de Tambacounda",
    "conducting_authority": "Tribunal de grande instance de Tambacounda",
    "subject_matter": "Exploitation sexuelle de mineures sur le site d'orpaillage de Bantaco.",
    "summary_of_facts": "Des jeunes filles recrutées à Lagos ont été conduites à Kédougou.",
    "offences_and_law": "Traite des personnes, loi n° 2005-06 du 10 mai 2005, art. 1 et 3.",
    "assistance_sought": "Audition d'un témoin résidant à Lagos.",
    "purpose": "Établir les conditions du recrutement et du voyage.",
    "questions": "1. Qui a organisé le voyage ? 2. Par quelle route ?",
    "oath_and_rights": "Témoin entendu sous serment, informé de ses droits.",
}


def _annex_pdf() -> bytes:
    """Return a one-page PDF annex: an extract of a hearing record (rendered by WeasyPrint)."""
    import weasyprint

    html = (
        "<h1>Procès-verbal d'audition (extrait)</h1>"
        "<p>TGI de Tambacounda, dossier TGI-TAMBA/2026/0142. Pièce jointe de démonstration.</p>"
    )
    return bytes(weasyprint.HTML(string=html).write_pdf())


def _sample_transmitted(session: DbSession, case: Any) -> None:
    """Add a complete request with a PDF annex, approved and transmitted to Nigeria, so that the
    liaison officer's paper desk has a bundle to build and a dispatch to record."""
    from exchange.mla import services as mla

    prosecutor = accounts.find_user(session, "prosecutor@sn.demo")
    officer = accounts.find_user(session, "officer@sn.demo")
    authority = authority_by_code(session, "NG-CA")
    assert prosecutor and officer and authority  # noqa: S101 - created above, seeded directory
    request = mla.create_request(
        session, prosecutor, case, request_type="taking_evidence", counterpart=authority
    )
    mla.update_contents(
        session, prosecutor, request, expected_version=None, values=dict(SAMPLE_CONTENTS)
    )
    mla.add_person(
        session,
        prosecutor,
        request,
        identity={"name": "Blessing Okafor", "nationality": "Nigerian"},
        victim=True,
        witness=True,
    )
    settings = current_app.config["EXCHANGE"]
    mla.add_annex(
        session,
        prosecutor,
        request,
        filename="proces-verbal-audition.pdf",
        data=_annex_pdf(),
        kind="supporting",
        blobs_dir=Path(current_app.instance_path) / "blobs",
        max_bytes=int(settings.max_upload_mb) * 1024 * 1024,
    )
    mla.submit(session, prosecutor, request)
    mla.approve(session, officer, request)  # four-eyes: the officer, not the author
