"""axe-core finds no serious or critical accessibility violation on the MLA and case pages,
in English, French and Portuguese; and the drafting form works from the keyboard alone."""

from __future__ import annotations

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe

from exchange.extensions import db
from exchange.mla import services
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def _violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _sign_in(page, user) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if user.totp_secret:
        page.wait_for_url("**/login/second-factor")
        page.get_by_label("Code").fill(pyotp.TOTP(user.totp_secret).now())
        page.keyboard.press("Enter")
    page.wait_for_url("**/")


@pytest.mark.parametrize("locale", ["en", "fr", "pt"])
def test_mla_pages_have_no_serious_violations(page, make_user, make_case, make_request, locale):
    user = make_user(("prosecutor", "central_authority_officer"), authority="SN-CA")
    case = make_case(user)
    draft = make_request(user, case=case)
    sent = make_request(user, case=case)
    services.submit(db.session, user, sent)
    db.session.commit()
    _sign_in(page, user)
    page.locator("#lang-select").select_option(locale)
    page.locator("form.lang button").click()
    page.wait_for_load_state()
    paths = [
        "/cases/",
        "/cases/new",
        f"/cases/{case.public_id}",
        f"/cases/{case.public_id}/share",
        f"/requests/new?case={case.public_id}",
        "/requests/",
        "/requests/?direction=incoming",
        "/requests/statistics",
        "/references/",
        f"/requests/{sent.public_id}",
        f"/requests/{draft.public_id}",  # the submit form, the team's notes
        f"/requests/{draft.public_id}/withdraw",
        f"/cases/{case.public_id}/persons",
        f"/cases/{case.public_id}/persons/{case.persons[0].public_id}",
        *[
            f"/requests/{draft.public_id}/edit/{step}"
            for step in ("basics", "contents", "measure", "persons", "annexes", "review")
        ],
    ]
    found = {}
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert len(response.body()) < 60_000, path  # light pages
        assert page.locator("html").get_attribute("lang") == locale
        violations = _violations(page)
        if violations:
            found[path] = violations
    assert found == {}


def test_drafting_by_keyboard_alone(page, make_user, make_case):
    user = make_user("prosecutor", authority="SN-TGI-TAMBA")
    case = make_case(user)
    _sign_in(page, user)
    page.goto(f"/requests/new?case={case.public_id}")
    page.get_by_label("Type of request").focus()
    page.keyboard.press("End")  # choose with the keyboard: the last type
    page.keyboard.press("Tab")
    page.keyboard.type("Nigeria")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/edit/basics")
    assert "NG-CA" in page.content() or "NG-NAPTIP" in page.content()


@pytest.mark.parametrize("locale", ["en", "fr", "pt"])
def test_changed_pages_have_no_serious_violations_on_a_phone(
    tab, make_user, make_case, make_request, locale
):
    """The pages whose layout changed for the phone (issue 12), at 390 px: the numbered steps,
    checkboxes on their labels' line, the stacked facts, the framed table of requests, and the
    administration pages with the public-address warning and an enrolment link."""
    from tests.mla.conftest import sign_in

    user = make_user(("prosecutor", "administrator"), authority="SN-TGI-TAMBA")
    case = make_case(user)
    draft = make_request(user, case=case)
    page = tab(locale)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, user)
    found = {}
    for path in (
        f"/requests/{draft.public_id}/edit/basics",
        f"/requests/{draft.public_id}/edit/review",
        f"/requests/{draft.public_id}",
        "/requests/",
        "/admin/users",
        "/admin/users/new",
    ):
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == locale
        violations = _violations(page)
        if violations:
            found[path] = violations
    assert page.locator("#public-url-warning").is_visible()
    page.locator("input[name=email]").fill("awa.ndiaye@justice.sn")
    page.locator("input[name=display_name]").fill("Awa Ndiaye")
    page.locator("#roles-0").check()
    page.locator("form button.primary[type=submit]").click()
    page.wait_for_selector("code.secret")
    if violations := _violations(page):
        found["enrolment link"] = violations
    assert found == {}
