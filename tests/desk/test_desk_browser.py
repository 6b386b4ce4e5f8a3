"""In a real browser, for each role: sign in, land on the desk, see the item that another role's
move just created, follow it, act, and see it leave the desk."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from exchange.auth import services as accounts
from exchange.directory.queries import authority_by_code
from exchange.extensions import db
from exchange.mla import services
from exchange.mla.models import INCOMING, MlaRequest
from tests.mla.conftest import deliver_locally, sign_in

pytestmark = pytest.mark.browser


def _item(page: Any, section: str, public_id: str) -> Any:
    """Return the link of an item in a section of the desk."""
    return page.locator(f'#{section} a[href*="{public_id}"]')


def _badge(page: Any) -> str:
    """Return the figure of the desk's badge in the navigation ("" without one)."""
    badge = page.locator("header nav a", has_text="Desk").locator(".count")
    return badge.get_attribute("data-count") if badge.count() else ""


def _submitted(make_user: Any, make_request: Any, **team: Any) -> tuple[Any, Any]:
    """Return a prosecutor and their request, submitted for review (the investigator on its case)."""
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA", name="Awa Ndiaye")
    request = make_request(prosecutor, **team)
    services.submit(db.session, prosecutor, request)
    db.session.commit()
    return prosecutor, request


def test_prosecutor_answers_the_request_for_information(tab, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA", name="Awa Ndiaye")
    officer = make_user("central_authority_officer", "SN-CA")
    ng_officer = make_user("central_authority_officer", "NG-CA")
    req = make_request(prosecutor)
    services.submit(db.session, prosecutor, req)
    services.approve(db.session, officer, req)
    deliver_locally()
    incoming = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == req.conversation_id, MlaRequest.side == INCOMING
        )
    )
    for action, payload in (
        ("register", {"reference": "FMOJ/CAU/2026/7"}),
        ("start_execution", {}),
        ("request_info", {"reason": "Which village of the site?"}),  # Nigeria's move
    ):
        services.act(db.session, ng_officer, incoming, action, payload)
    deliver_locally()
    db.session.commit()

    page = tab("en-GB")
    sign_in(page, prosecutor)
    assert page.locator("#desk-prosecutor").is_visible()
    assert _badge(page) == "1"
    _item(page, "awaiting_answer", req.public_id).click()
    page.wait_for_url(f"**/requests/{req.public_id}")
    page.locator("details.action", has=page.locator("#act-provide_info")).locator("summary").click()
    form = page.locator("#act-provide_info")
    form.locator("textarea[name=reason]").fill("Bantaco, near the river.")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**/requests/{req.public_id}")
    page.goto("/")
    assert _item(page, "awaiting_answer", req.public_id).count() == 0
    assert "No request awaits your answer." in page.locator("#awaiting_answer").inner_text()
    assert _badge(page) == ""


def test_officer_reviews_the_submitted_request(tab, make_user, make_request):
    officer = make_user("central_authority_officer", "SN-CA", name="Fatou Sarr")
    _prosecutor, req = _submitted(make_user, make_request)  # the prosecutor's move

    page = tab("fr-FR")
    sign_in(page, officer)
    assert page.locator("#review_queue h3").inner_text().startswith("À examiner")
    _item(page, "review_queue", req.public_id).click()
    page.wait_for_url(f"**/requests/{req.public_id}")
    page.locator("#approve").click()
    page.wait_for_url("**/approve")
    page.locator("input[name=confirm]").check()
    page.locator("#confirm-approve").click()
    page.wait_for_url(f"**/requests/{req.public_id}")
    page.goto("/")
    assert _item(page, "review_queue", req.public_id).count() == 0
    assert "Rien à examiner." in page.locator("#review_queue").inner_text()
    # Now due for its acknowledgement within the week: on the officer's deadlines.
    assert _item(page, "deadlines_this_week", req.public_id).count() == 1


def test_investigator_sees_the_new_move_on_the_case_until_the_next_visit(
    tab, make_user, make_case, make_request
):
    investigator = make_user("investigator", "SN-TGI-TAMBA", name="Moussa Diallo")
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA", name="Awa Ndiaye")
    case = make_case(prosecutor, team=(investigator,))
    page = tab("pt-PT")
    sign_in(page, investigator)  # a first visit, before the move
    page.locator("header form button.link").click()  # sign out
    page.wait_for_url("**/login")

    req = make_request(prosecutor, case=case)
    services.submit(db.session, prosecutor, req)  # the prosecutor's move on the case
    db.session.commit()
    sign_in(page, investigator)
    assert page.locator(f'#team_cases a[href*="{case.public_id}"]').count() == 1
    assert _item(page, "case_moves", req.public_id).count() == 2  # opened, then submitted
    _item(page, "case_moves", req.public_id).first.click()
    page.wait_for_url(f"**/requests/{req.public_id}")
    # Read: signing out ends the visit; at the next one the move is no news any more.
    page.locator("header form button.link").click()
    page.wait_for_url("**/login")
    sign_in(page, investigator)
    assert _item(page, "case_moves", req.public_id).count() == 0
    assert "Nenhum passo novo" in page.locator("#case_moves").inner_text()
    assert page.locator(f'#team_cases a[href*="{case.public_id}"]').count() == 1


def test_liaison_officer_sees_the_approved_request_until_its_dispatch_is_recorded(
    tab, make_user, make_request
):
    liaison = make_user("liaison_officer", "SN-CA", name="Ibrahima Fall")
    ng_liaison = make_user("liaison_officer", "NG-CA")
    officer = make_user("central_authority_officer", "SN-CA")
    _prosecutor, req = _submitted(make_user, make_request)
    services.approve(db.session, officer, req)  # the officer's move: approved and transmitted
    db.session.commit()

    page = tab("en-GB")
    sign_in(page, liaison)
    assert _badge(page) == "1"
    _item(page, "awaiting_paper_transmission", req.public_id).click()
    page.wait_for_url(f"**/paper/requests/{req.public_id}")
    assert "Blessing" not in page.content()  # no person, no contents on the paper desk
    # The liaison officer's move: the dispatch by diplomatic pouch, recorded on the paper desk.
    form = page.locator("#dispatch-form")
    form.locator("select[name=channel]").select_option("diplomatic_pouch")
    form.locator("input[name=reference]").fill("NV-2026-118")
    form.locator("input[name=on]").fill(date.today().isoformat())
    form.locator("button[type=submit]").click()
    page.locator("#dispatches").wait_for()
    page.goto("/")
    assert _item(page, "awaiting_paper_transmission", req.public_id).count() == 0
    assert _badge(page) == ""

    other = tab("en-GB")
    sign_in(other, ng_liaison)  # another authority's liaison officer never saw it
    assert "No request awaits paper transmission." in other.content()


def test_administrator_revokes_the_pending_enrolment(tab, make_user):
    admin = make_user("administrator", "SN-CA", name="Aminata Ba")
    colleague = make_user("administrator", "SN-CA")
    newcomer = accounts.create_user(
        db.session,
        email="khady.faye@sn-ca.example",
        display_name="Khady Faye",
        authority=authority_by_code(db.session, "SN-CA"),
        roles={"prosecutor"},
    )
    accounts.issue_enrolment_link(db.session, newcomer, actor=colleague)  # the colleague's move
    db.session.commit()

    page = tab("en-GB")
    sign_in(page, admin)
    assert "enrolment link waiting" in page.locator("#pending_enrolments").inner_text()
    _item(page, "pending_enrolments", newcomer.public_id).click()
    page.wait_for_url(f"**/admin/users/{newcomer.public_id}")
    page.get_by_role("button", name="Disable").click()
    page.wait_for_url(f"**/admin/users/{newcomer.public_id}")
    page.goto("/")
    assert _item(page, "pending_enrolments", newcomer.public_id).count() == 0
    assert "No enrolment pending." in page.locator("#pending_enrolments").inner_text()
