"""In a real browser: a prosecutor drafts a request to Nigeria to take a witness's statement, is
stopped by a missing required element, completes it and submits it; a central authority officer
approves it; the dashboard shows it transmitted (queued) and its timeline shows each step."""

from __future__ import annotations

import pyotp
import pytest

from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(page, user) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if user.totp_secret:
        page.wait_for_url("**/login/second-factor")
        page.get_by_label("Code").fill(pyotp.TOTP(user.totp_secret).now())
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/")


def test_draft_stop_complete_submit_approve_track(page, make_user, make_case):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA", name="Awa Ndiaye")
    officer = make_user("central_authority_officer", "SN-CA", name="Fatou Sarr")
    case = make_case(prosecutor, number="PR-TAMBA-2026-0007")

    _sign_in(page, prosecutor)
    page.goto(f"/cases/{case.public_id}")
    page.get_by_role("link", name="New request").click()
    page.get_by_label("Type of request").select_option("taking_evidence")
    page.get_by_label("Requested state").select_option("NG")
    page.get_by_role("button", name="Open the draft").click()

    # Step 1: the directory suggested the authority, English and the instruments in force.
    page.wait_for_url("**/edit/basics")
    assert "NG-CA" in page.get_by_label("Requested authority").input_value()
    assert page.get_by_label("Language of the request").input_value() == "en"
    assert page.get_by_label("ECOWAS Convention on Mutual Assistance", exact=False).is_checked()
    page.get_by_role("button", name="Save and continue").click()

    # Step 2: the common contents.
    page.wait_for_url("**/edit/contents")
    page.get_by_label("Requesting official (name, function, contact details)").fill(
        "Awa Ndiaye, substitut du procureur, +221 33 000 00 00"
    )
    page.get_by_label("Authority conducting the investigation, prosecution or proceedings").fill(
        "Parquet de Tambacounda"
    )
    page.get_by_label("Subject matter and nature of the case").fill(
        "Trafficking for sexual exploitation at Bantaco gold-mining site."
    )
    page.get_by_label("Summary of the relevant facts").fill(
        "Between 2025 and 2026 women recruited in Benin City were exploited in Bantaco."
    )
    page.get_by_label("Offences, text of the applicable law and penalties").fill(
        "Law No. 2005-06, art. 1: 5 to 10 years."
    )
    page.get_by_label("Description of the assistance sought").fill(
        "Take the statement of a witness in Lagos."
    )
    page.get_by_label("Purpose for which the evidence, information or action is sought").fill(
        "Trial in Tambacounda."
    )
    page.get_by_role("button", name="Save and continue").click()

    # Step 3: the measure; the oath is left out.
    page.wait_for_url("**/edit/measure")
    page.get_by_label("Questions or subjects to cover").fill(
        "How was the witness recruited? By whom?"
    )
    page.get_by_role("button", name="Save and continue").click()

    # Step 4: the witness.
    # Step 4: the witness, entered in the case's persons, then chosen into the request.
    page.wait_for_url("**/edit/persons")
    page.get_by_role("link", name="Add or edit a person of the case").click()
    page.get_by_label("Full name").fill("Blessing Okafor")
    page.get_by_label("Nationality").fill("Nigerian")
    page.get_by_label("Witness", exact=True).check()
    page.get_by_label("Victim", exact=True).check()
    page.get_by_role("button", name="Add this person").click()
    page.wait_for_url("**/edit/persons")
    page.locator("#choose-P1").get_by_label("Nationality: Nigerian").check()
    page.locator("#choose-P1").get_by_role("button", name="Choose into this request").click()
    page.wait_for_url("**/edit/persons")
    assert "Blessing Okafor" in page.locator("#disclosed").inner_text()
    page.get_by_role("link", name="Checklist and submission").click()

    # Stopped: the oath is required (ECOWAS 5(1)(e)).
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_url("**/edit/review")
    assert "cannot go to review yet" in page.get_by_role("alert").first.inner_text()
    missing = page.locator("#checklist tr.missing")
    assert missing.count() == 1
    assert (
        "Oath or affirmation" in missing.inner_text() and "ECOWAS 5(1)(e)" in missing.inner_text()
    )

    # Complete it and submit.
    page.get_by_role("link", name="Particulars of the measure").click()
    page.get_by_label("Oath or affirmation, and rights to notify").fill(
        "Under oath; the witness may be assisted."
    )
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/edit/persons")
    page.get_by_role("link", name="Checklist and submission").click()
    assert page.locator("#checklist tr.missing").count() == 0
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_url("**/requests/*")
    assert page.locator("#request-state").get_attribute("data-state") == "in_review"
    page.get_by_role("button", name="Sign out").click()

    # The central authority officer approves it.
    _sign_in(page, officer)
    page.goto("/requests/")
    page.get_by_role("link", name="SN-TGI-TAMBA/", exact=False).first.click()
    # The reviewing officer sees the identity the request discloses abroad.
    assert "Blessing Okafor" in page.locator("#disclosed").inner_text()
    page.get_by_role("link", name="Approve and transmit").click()
    page.wait_for_url("**/approve")
    assert "Blessing Okafor" in page.locator("#persons-disclosed").inner_text()
    page.get_by_label("I have checked what this request discloses", exact=False).check()
    page.get_by_role("button", name="Approve and transmit").click()
    page.wait_for_url("**/requests/*")
    assert page.locator("#request-state").get_attribute("data-state") == "transmitted"
    assert "queued for delivery" in page.locator("#request-state").inner_text()

    # The timeline shows each step, with who did it.
    steps = page.locator("#timeline li")
    assert [steps.nth(i).get_attribute("data-action") for i in range(steps.count())] == [
        "create",
        "submit",
        "view_disclosure",  # the request's page, reviewed
        "view_disclosure",  # the confirmation page
        "approve",
        "transmit",
        "view_disclosure",  # the request's page again, transmitted
    ]
    assert "Awa Ndiaye" in steps.nth(1).inner_text() and "Fatou Sarr" in steps.nth(4).inner_text()
    assert "Fatou Sarr" in steps.nth(2).inner_text()

    # The dashboard shows it transmitted (queued).
    page.goto("/requests/?direction=outgoing&state=transmitted")
    row = page.locator("#requests tbody tr")
    assert row.count() == 1
    assert "Transmitted (queued)" in row.locator("td.state").inner_text()
    assert "NG-CA" in row.inner_text()
