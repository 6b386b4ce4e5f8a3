"""Fixtures of the MLA tests: cases, complete drafts, requests moved to any state, a live server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import event

from exchange.extensions import db
from exchange.mla import services
from exchange.mla.definitions import get_type
from tests.conftest import DEFAULT_PASSWORD

# A value for each field kind that satisfies "required".
FILLERS = {
    "text": "Filled in",
    "textarea": "Filled in, with detail.",
    "date": "2027-01-15",
    "bool": True,
}


def filler(field: Any) -> Any:
    """Return a value of ``field`` that satisfies "required" (a choice takes its first option)."""
    return field.options[0].value if field.kind == "choice" else FILLERS[field.kind]


@pytest.fixture
def make_case(app: Flask):  # type: ignore[no-untyped-def]
    """Return a factory of cases: ``make_case(prosecutor, team=[investigator])``."""
    from exchange.cases import services as cases

    counter = iter(range(1, 10_000))

    def factory(creator: Any, *, team: tuple[Any, ...] = (), number: str | None = None) -> Any:
        case = cases.create_case(
            db.session,
            creator,
            number=number or f"PR-TAMBA-2026-{next(counter):04d}",
            title="Exploitation sexuelle sur le site d'orpaillage de Bantaco",
            offences="trafficking in persons\nsexual exploitation",
            stage="investigation",
            border_localities="Kédougou\nMoussala",
        )
        for member in team:
            cases.add_member(db.session, creator, case, member)
        db.session.commit()
        return case

    return factory


def fill_request(request: Any, author: Any, *, victim_name: str = "Blessing Okafor") -> None:
    """Fill every field of a draft and add one person (a victim and witness), so it is complete."""
    definition = get_type(request.request_type)
    assert definition is not None
    values = {f.name: filler(f) for f in definition.all_fields}
    services.update_contents(db.session, author, request, expected_version=None, values=values)
    services.add_person(
        db.session,
        author,
        request,
        identity={"name": victim_name, "nationality": "Nigerian", "date_of_birth": "2007-03-02"},
        victim=True,
        minor=True,
        witness=True,
    )
    db.session.flush()


@pytest.fixture
def make_request(make_case):  # type: ignore[no-untyped-def]
    """Return a factory of outgoing requests: ``make_request(prosecutor, to="NG-CA", complete=True)``."""
    from exchange.directory.queries import authority_by_code

    def factory(
        author: Any,
        *,
        to: str = "NG-CA",
        request_type: str = "taking_evidence",
        complete: bool = True,
        case: Any = None,
        victim_name: str = "Blessing Okafor",
    ) -> Any:
        case = case or make_case(author)
        counterpart = authority_by_code(db.session, to)
        request = services.create_request(
            db.session, author, case, request_type=request_type, counterpart=counterpart
        )
        if complete:
            fill_request(request, author, victim_name=victim_name)
        db.session.commit()
        return request

    return factory


class QueryCounter:
    """Count the SQL statements run on the app's engine while active."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


@pytest.fixture
def count_queries(app: Flask) -> Iterator[QueryCounter]:
    """Count the statements run during a test block."""
    counter = QueryCounter()
    engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)


def deliver_locally() -> int:
    """Hand queued messages to the authorities hosted here, as ``exchange mla deliver-local`` does."""
    from exchange.mla.blueprint import blobs_dir, max_annex_bytes

    return services.deliver_locally(
        db.session, blobs_dir=blobs_dir(), max_annex_bytes=max_annex_bytes()
    )


def accept_envelope(token: bytes, blobs: dict[str, Any] | None = None) -> bytes:
    """Receive a sealed envelope (and its attachment blobs, by id) as the federation layer would."""
    from exchange.mla.blueprint import blobs_dir, max_annex_bytes

    return services.accept_envelope(
        db.session, token, blobs=blobs, blobs_dir=blobs_dir(), max_annex_bytes=max_annex_bytes()
    )


@pytest.fixture
def tab(browser, live_server):  # type: ignore[no-untyped-def]
    """Return a factory of browser tabs in a language, each with its own cookies."""
    contexts = []

    def factory(locale: str):  # type: ignore[no-untyped-def]
        context = browser.new_context(base_url=live_server, locale=locale)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


def sign_in(page, user) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the real forms, in whatever language the page speaks."""
    page.goto("/login")
    page.locator("input[name=email]").fill(user.email)
    page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    page.locator("form button.primary[type=submit]").click()
    if user.totp_secret:
        page.wait_for_url("**/login/second-factor")
        page.locator("input[name=code]").fill(pyotp.TOTP(user.totp_secret).now())
        page.locator("form button.primary[type=submit]").click()
    page.wait_for_url("**/")
