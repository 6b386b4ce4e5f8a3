"""axe-core finds no serious or critical accessibility violation on the portal's pages."""

from __future__ import annotations

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/account",
    "/account/password",
    "/directory/",
    "/directory/states/NG",
    "/directory/lookup?state=NG&measure=taking_evidence",
    "/directory/states/ML",  # notes in the reader's language, national laws
    "/directory/instruments",
    "/admin/users",
    "/admin/users/new",
    "/directory/authorities/SN-CA",  # with its record of changes (made below)
    "/directory/authorities/SN-CA/edit",  # an administrator's own entry: no kind, no competences
]


def _violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_login_page_has_no_serious_violations(page):
    page.goto("/login")
    assert _violations(page) == []


def test_second_factor_enrolment_has_no_serious_violations(page, make_user):
    user = make_user("administrator", authority="SN-CA", totp=False)
    _sign_in(page, user)
    assert "Set up your second factor" in page.content()
    assert _violations(page) == []


@pytest.mark.parametrize("locale", ["en", "fr", "pt"])
def test_portal_pages_have_no_serious_violations(page, make_user, locale):
    user = make_user(("prosecutor", "administrator"), authority="SN-CA", totp=True)
    _record_a_directory_change()
    _sign_in(page, user)
    page.get_by_label("Code").fill(pyotp.TOTP(user.totp_secret).now())
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    page.locator("#lang-select").select_option(locale)
    page.locator("form.lang button").click()
    page.wait_for_load_state()
    found = {}
    for path in [*PAGES, f"/admin/users/{user.public_id}"]:  # one's own: roles not editable
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == locale
        violations = _violations(page)
        if violations:
            found[path] = violations
    assert found == {}


def _record_a_directory_change() -> None:
    """Change SN-CA's entry from the command line, so that its page shows a record."""
    from exchange.directory import queries, services
    from exchange.extensions import db

    found = queries.authority_by_code(db.session, "SN-CA")
    services.update_authority(db.session, found, actor=None, email="dacg@justice.sn")
    db.session.commit()


def _sign_in(page, user) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login/second-factor")
