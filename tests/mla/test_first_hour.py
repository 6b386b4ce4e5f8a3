"""In a real browser, what a prosecutor hit in her first hour (issue 15), each in the language in
which it showed: submitting from the request's own page (English), an internal note that must not
go abroad (French), a withdrawal that needs reasons and a confirmation (Portuguese)."""

from __future__ import annotations

import pyotp
import pytest

from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


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


def _sign_in(page, user) -> None:  # type: ignore[no-untyped-def]
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


def _form_of(page, button: str) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Return where the form of a visible button posts, and the names of the fields it sends."""
    form = page.get_by_role("button", name=button, exact=True).locator("xpath=ancestor::form")
    names = form.locator("input").evaluate_all("inputs => inputs.map(i => i.name)")
    return str(form.get_attribute("action")), sorted(names)


def test_defect_01_submit_from_the_request_page_is_the_checklists_submit(
    tab, make_user, make_request
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA", name="Awa Ndiaye")
    complete = make_request(prosecutor)
    incomplete = make_request(prosecutor, complete=False)
    page = tab("en-GB")
    _sign_in(page, prosecutor)

    # The request's page offers the very form of the checklist step: same route, same fields.
    page.goto(f"/requests/{complete.public_id}/edit/review")
    checklist_form = _form_of(page, "Submit for review")
    page.goto(f"/requests/{complete.public_id}")
    assert _form_of(page, "Submit for review") == checklist_form
    assert checklist_form[0].endswith(f"/requests/{complete.public_id}/submit")

    page.get_by_role("button", name="Submit for review", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#request-state").get_attribute("data-state") == "in_review"
    assert "sent for review" in page.get_by_role("status").first.inner_text()
    assert "not possible in the request's current state" not in page.content()

    # An incomplete draft: the page says so, and its button stops at the checklist, as the
    # checklist's own button does.
    page.goto(f"/requests/{incomplete.public_id}")
    assert "Still missing" in page.locator("#submit-form").inner_text()
    page.get_by_role("button", name="Submit for review", exact=True).click()
    page.wait_for_url("**/edit/review")
    assert "cannot go to review yet" in page.get_by_role("alert").first.inner_text()
    assert page.locator("#checklist tr.missing").count() > 0
    assert "not possible in the request's current state" not in page.content()
