"""In a real browser, in French: two officers review the same request; the one whose page is
stale is told that it changed, sees its state now and what she had entered — no error page; a
double click on "Approve" approves once."""

from __future__ import annotations

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import func, select

from exchange.extensions import db
from exchange.mla import services
from exchange.mla.models import MlaRequest, OutboxMessage, RequestEvent
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser
SERIOUS = ("serious", "critical")


def _sign_in(tab, user) -> None:  # type: ignore[no-untyped-def]
    tab.goto("/login")
    tab.locator("input[name=email]").fill(user.email)
    tab.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    tab.locator("form button.primary[type=submit]").click()
    tab.wait_for_url("**/login/second-factor")
    tab.locator("input[name=code]").fill(pyotp.TOTP(user.totp_secret).now())
    tab.locator("form button.primary[type=submit]").click()
    tab.wait_for_url("**/")


@pytest.fixture
def french_tab(browser, live_server):  # type: ignore[no-untyped-def]
    """Return a factory of browser tabs in French, each with its own cookies."""
    contexts = []

    def factory():  # type: ignore[no-untyped-def]
        context = browser.new_context(base_url=live_server, locale="fr-FR")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


def test_a_stale_page_shows_the_request_as_it_is_now(french_tab, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    first = make_user("central_authority_officer", "SN-CA", name="Fatou Sarr")
    second = make_user("central_authority_officer", "SN-CA", name="Moussa Diop")
    second.totp_last_step = None
    request = make_request(prosecutor)
    services.submit(db.session, prosecutor, request)
    db.session.commit()
    url = f"/requests/{request.public_id}"

    fatou, moussa = french_tab(), french_tab()
    _sign_in(fatou, first)
    _sign_in(moussa, second)
    fatou.goto(url)
    moussa.goto(url)  # both pages show the request under review

    fatou.locator("#approve").click()
    fatou.locator("input[name=confirm]").check()
    fatou.locator("#confirm-approve").click()
    fatou.wait_for_url(f"**{url}")
    assert "transmise" in fatou.content().lower() or "transmis" in fatou.content().lower()

    moussa.locator("summary", has_text="Demander des modifications").click()
    moussa.locator("#act-request_changes textarea[name=reason]").fill("Précisez le village.")
    moussa.locator("#act-request_changes button[type=submit]").click()
    heading = moussa.locator("h1")
    assert heading.inner_text() == "Quelqu’un d’autre vient de modifier cette demande"
    body = moussa.locator("main").inner_text()
    assert "Précisez le village." in body  # what she had entered
    assert "Fatou Sarr" in body  # who moved it, and the state it is in now
    serious = [v["id"] for v in Axe().run(moussa).response["violations"] if v["impact"] in SERIOUS]
    assert serious == []
    moussa.get_by_role("link", name="Ouvrir la demande telle qu’elle est maintenant").click()
    moussa.wait_for_url(f"**{url}")


def test_a_double_click_on_approve_approves_once(french_tab, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    request = make_request(prosecutor)
    services.submit(db.session, prosecutor, request)
    db.session.commit()
    tab = french_tab()
    _sign_in(tab, officer)
    tab.goto(f"/requests/{request.public_id}")
    tab.locator("#approve").click()
    tab.locator("input[name=confirm]").check()
    tab.locator("#confirm-approve").dblclick()
    tab.wait_for_load_state("networkidle")
    assert "Erreur" not in tab.locator("h1").inner_text()
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).state == "transmitted"
    approvals = (
        select(func.count())
        .select_from(RequestEvent)
        .where(RequestEvent.request_id == request.id, RequestEvent.action == "approve")
    )
    assert db.session.scalar(approvals) == 1
    sent = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.conversation_id == request.conversation_id)
    )
    assert db.session.scalar(sent) == 1
