"""In a real browser: a victim is added once to a case and chosen into two requests, one naming
her, one by her pseudonym; a witness of the case stays with the team. The reviewing officer sees
the identity a request discloses and not the witness, the view is on the timeline, the
confirmation lists the persons disclosed, and the envelope carries exactly what was chosen."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe

from exchange.extensions import db
from exchange.mla import services
from exchange.mla.models import MlaRequest, RequestEvent
from tests.mla.conftest import sign_in
from tests.mla.test_persons import _open_request, _sealed_payload

pytestmark = pytest.mark.browser

VICTIM = "Aminata Koroma-Bah"
WITNESS = "Ousmane Kébé-Tall"
SERIOUS = ("serious", "critical")


def _serious(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in SERIOUS]


def _choose(page, request, **ticks: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Choose the victim (P1 of the case) into ``request`` on its persons step."""
    page.goto(f"/requests/{request.public_id}/edit/persons")
    section = page.locator("#choose-P1")
    section.locator(f"input[name=disclosure][value={ticks['disclosure'][0]}]").check()
    for name in ("details", "measures"):
        for box in section.locator(f"input[name={name}]").all():
            value = box.get_attribute("value")
            box.set_checked(value in ticks.get(name, []))
    section.locator("button[type=submit]").first.click()
    page.wait_for_url("**/edit/persons")


def test_a_victim_added_once_chosen_into_two_requests_reviewed_as_sent(
    tab, app, make_user, make_case
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA", name="Awa Ndiaye")
    officer = make_user("central_authority_officer", "SN-CA", name="Fatou Sarr")
    case = make_case(prosecutor)
    first = _open_request(prosecutor, case)
    second = _open_request(prosecutor, case)
    db.session.commit()

    # The prosecutor enters the victim and a witness once, in the case's persons.
    page = tab("en")
    sign_in(page, prosecutor)
    page.goto(f"/cases/{case.public_id}")
    page.locator("#case-persons-link").click()
    for name, capacity, extra in (
        (VICTIM, "Victim", True),
        (WITNESS, "Witness", False),
    ):
        page.get_by_label("Full name").fill(name)
        page.get_by_label(capacity, exact=True).check()
        if extra:
            page.get_by_label("Nationality").fill("Sierra Leonean")
            page.get_by_label("Address or last known location").fill("Foyer, Kédougou")
            page.get_by_label("Pseudonym to use in documents and messages").fill("Witness K-7")
            page.get_by_label("Presumed victim of trafficking", exact=False).check()
        page.get_by_role("button", name="Add this person").click()
        page.wait_for_url("**/persons")
    assert page.locator("#case-persons > li").count() == 2
    # Chosen into two requests: by name with her nationality, and by pseudonym only.
    _choose(
        page, first, disclosure=["identity"], details=["nationality"], measures=["non_punishment"]
    )
    assert VICTIM in page.locator("#disclosed").inner_text()
    assert "Foyer" not in page.locator("#disclosed").inner_text()
    _choose(page, second, disclosure=["pseudonym"])
    assert "Witness K-7" in page.locator("#disclosed").inner_text()
    assert VICTIM not in page.locator("#disclosed").inner_text()
    page.goto(f"/cases/{case.public_id}/persons")
    assert page.locator("#person-P1").get_by_role("link", name=first.reference).count() == 1
    assert page.locator("#person-P1").get_by_role("link", name=second.reference).count() == 1
    assert _serious(page) == []
    db.session.expire_all()  # the browser changed them
    for request in (first, second):
        services.submit(db.session, prosecutor, db.session.get(MlaRequest, request.id))
    db.session.commit()

    # The reviewing officer, in French: the identity disclosed, not the witness, not the address.
    review = tab("fr")
    sign_in(review, officer)
    review.goto(f"/requests/{first.public_id}")
    persons = review.locator("#disclosed").inner_text()
    assert VICTIM in persons and "Sierra Leonean" in persons and "HCDH" in persons
    assert WITNESS not in review.content() and "Foyer" not in review.content()
    assert "enregistrée" in review.locator("#review-recorded").inner_text()
    review.locator("#approve").click()
    review.wait_for_url("**/approve")
    assert f"P1 ({VICTIM})" in review.locator("#persons-disclosed").inner_text()
    assert "NG-CA" in review.locator("#receiving-authority").inner_text()
    assert "enveloppe scellée" in review.locator("#channel").inner_text()
    assert _serious(review) == []
    review.locator("#confirm-approve").click()  # not confirmed: the form does not go
    assert review.url.endswith("/approve")
    db.session.expire_all()
    assert db.session.get(MlaRequest, first.id).state == "in_review"
    review.locator("input[name=confirm]").check()
    review.locator("#confirm-approve").click()
    review.wait_for_url(f"**/requests/{first.public_id}")
    assert review.locator("#request-state").get_attribute("data-state") == "transmitted"
    viewed = review.locator('#timeline li[data-action="view_disclosure"]')
    assert viewed.count() >= 2 and "Fatou Sarr" in viewed.first.inner_text()

    review.goto(f"/requests/{second.public_id}/approve")
    assert "Witness K-7" in review.locator("#persons-disclosed").inner_text()
    assert VICTIM not in review.content()
    review.locator("input[name=confirm]").check()
    review.locator("#confirm-approve").click()
    review.wait_for_url(f"**/requests/{second.public_id}")

    db.session.expire_all()
    views = db.session.scalars(
        sa.select(RequestEvent.actor_id).where(RequestEvent.action == "view_disclosure")
    ).all()
    assert set(views) == {officer.id}  # the officer's views only, never the team's
    # Opened with the recipient's key, each envelope carries exactly what was chosen.
    assert _sealed_payload(app, db.session.get(MlaRequest, first.id))["persons"] == [
        {
            "label": "P1",
            "victim": True,
            "minor": False,
            "witness": False,
            "suspect": False,
            "identity": {"name": VICTIM, "nationality": "Sierra Leonean"},
            "protection": {"non_punishment": True},
        }
    ]
    assert _sealed_payload(app, db.session.get(MlaRequest, second.id))["persons"] == [
        {
            "label": "P1",
            "victim": True,
            "minor": False,
            "witness": False,
            "suspect": False,
            "disclosure": "pseudonym",
            "identity": {"name": "Witness K-7"},
        }
    ]
