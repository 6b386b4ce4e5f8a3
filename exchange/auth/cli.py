"""Command line for accounts: ``exchange user add|roles|disable|enable|reset|list``."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from exchange.auth import services
from exchange.auth.models import User
from exchange.auth.passwords import PasswordPolicyError
from exchange.auth.permissions import ROLES
from exchange.core.public_url import links_base
from exchange.db import DbSession
from exchange.directory.queries import authority_by_code
from exchange.uow import unit_of_work

user_cli = AppGroup("user", help="Manage user accounts.")

POLICY_TEXT = {
    "too_short": "the password must have at least 12 characters",
    "too_long": "the password is too long",
    "too_guessable": "the password is too common or too easy to guess",
    "contains_email": "the password must not contain the e-mail address",
}
ACCOUNT_TEXT = {
    "authority_not_hosted": "users can belong only to an authority hosted on this node",
    "unknown_role": "unknown role",
    "email_taken": "a user with this e-mail address exists already",
    "bad_email": "this is not a valid e-mail address",
    "bad_name": f"the name must have 1 to {services.MAX_NAME_LENGTH} characters, "
    "and no line break or other control character",
    "last_administrator": "this is the last active administrator of the authority: make another "
    "user an administrator first (or end this account's access with `exchange user reset`)",
}


def enrolment_url(token: str) -> str:
    """Return the absolute URL of an enrolment link, on the node's public URL (never on the
    address a request arrived at: a Host header is the client's to choose)."""
    return f"{links_base(current_app.config['EXCHANGE'])}/enrol/{token}"


def _user_or_fail(session: DbSession, email: str) -> User:
    """Return the user with this e-mail address, or stop the command with a clear message."""
    user = services.find_user(session, email)
    if user is None:
        raise click.ClickException(f"no user {email!r}")
    return user


@user_cli.command("add")
@click.argument("email")
@click.option("--name", "display_name", required=True, help="The person's full name.")
@click.option("--authority", "authority_code", required=True, help="Code of a hosted authority.")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), required=True)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of printing an enrolment link.",
)
def add_user_command(
    email: str, display_name: str, authority_code: str, roles: tuple[str, ...], password_stdin: bool
) -> None:
    """Add a user; print a one-time enrolment link unless the password comes on standard input."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        with unit_of_work() as session:
            authority = authority_by_code(session, authority_code)
            if authority is None:
                raise click.ClickException(f"no authority {authority_code!r}")
            user = services.create_user(
                session,
                email=email,
                display_name=display_name,
                authority=authority,
                roles=set(roles),
                password=password,
            )
            token = None if password_stdin else services.issue_enrolment_link(session, user)
    except PasswordPolicyError as exc:
        raise click.ClickException(POLICY_TEXT.get(str(exc), str(exc))) from exc
    except services.AccountError as exc:
        raise click.ClickException(ACCOUNT_TEXT.get(exc.code, exc.code)) from exc
    click.echo(f"user {user.email} added to {authority.code} as {', '.join(sorted(roles))}")
    if token:
        click.echo(f"enrolment link (valid 3 days, once): {enrolment_url(token)}")


@user_cli.command("roles")
@click.argument("email")
@click.option("--add", "added", multiple=True, type=click.Choice(ROLES))
@click.option("--remove", "removed", multiple=True, type=click.Choice(ROLES))
@click.option("--set", "replaced", multiple=True, type=click.Choice(ROLES))
def roles_command(
    email: str, added: tuple[str, ...], removed: tuple[str, ...], replaced: tuple[str, ...]
) -> None:
    """Show, add, remove or replace a user's roles."""
    try:
        with unit_of_work() as session:
            user = _user_or_fail(session, email)
            if added or removed or replaced:
                roles = set(replaced) if replaced else set(user.roles)
                roles = (roles | set(added)) - set(removed)
                services.set_roles(session, user, roles)
            click.echo(f"{user.email}: {', '.join(sorted(user.roles)) or '(no roles)'}")
    except services.AccountError as exc:
        raise click.ClickException(ACCOUNT_TEXT.get(exc.code, exc.code)) from exc


@user_cli.command("disable")
@click.argument("email")
def disable_command(email: str) -> None:
    """Disable a user and end all their sessions."""
    try:
        with unit_of_work() as session:
            services.disable_user(session, _user_or_fail(session, email))
    except services.AccountError as exc:
        raise click.ClickException(ACCOUNT_TEXT.get(exc.code, exc.code)) from exc
    click.echo(f"user {email} disabled")


@user_cli.command("enable")
@click.argument("email")
def enable_command(email: str) -> None:
    """Re-enable a disabled user."""
    with unit_of_work() as session:
        services.enable_user(session, _user_or_fail(session, email))
    click.echo(f"user {email} enabled")


@user_cli.command("reset")
@click.argument("email")
def reset_command(email: str) -> None:
    """Clear a user's password and second factor, end their sessions, print a new enrolment link."""
    with unit_of_work() as session:
        token = services.issue_enrolment_link(session, _user_or_fail(session, email), reset=True)
    click.echo(f"enrolment link (valid 3 days, once): {enrolment_url(token)}")


@user_cli.command("list")
@click.option("--authority", "authority_code", default=None)
def list_command(authority_code: str | None) -> None:
    """List users, with their authority, roles and state."""
    from sqlalchemy import select

    from exchange.directory.models import Authority

    with unit_of_work() as session:
        query = select(User).join(Authority).order_by(Authority.code, User.email)
        if authority_code:
            query = query.where(Authority.code == authority_code.upper())
        for user in session.scalars(query):
            state = "active" if user.active else "disabled"
            click.echo(
                f"{user.email:<36} {user.authority.code:<14} {state:<8} {','.join(sorted(user.roles))}"
            )
