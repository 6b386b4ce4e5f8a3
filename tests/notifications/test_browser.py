"""In the browser: a move by another role shows as an unread count in the navigation; the officer
follows it to the request, and the count goes."""

from __future__ import annotations

from exchange.extensions import db
from exchange.mla import services
from tests.mla.conftest import sign_in, tab  # noqa: F401 - the fixture is used here


def test_officer_follows_a_notification_to_the_request(make_user, make_request, tab):  # noqa: F811
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    req = make_request(prosecutor)
    services.submit(db.session, prosecutor, req)
    db.session.commit()
    page = tab("fr-FR")
    officer.locale = "fr"
    db.session.commit()
    sign_in(page, officer)
    entry = page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Notifications"
    )
    assert entry.locator(".count").inner_text().split() == ["1", "non", "lues"]
    entry.click()
    page.get_by_role("link", name="Une demande attend votre examen").click()
    page.wait_for_url(f"**/requests/{req.public_id}")
    assert entry.locator(".count").count() == 0
    page.goto("/notifications/")
    assert page.locator("li.read").count() == 1 and page.locator("li.unread").count() == 0
