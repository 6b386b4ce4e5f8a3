"""In a real browser, on both sides: Nigeria's central authority, in English, proposes conditions
before refusing (UNTOC 18(26)); the Senegalese prosecutor, in French, declines them; Nigeria then
refuses on a ground of the ECOWAS Convention, the instrument the request relies on (UNTOC 18(7)),
shown with its source; each side's timeline shows each step. Messages go between the two hosted
authorities as ``exchange mla deliver-local`` hands them over."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from exchange.extensions import db
from exchange.mla import services
from exchange.mla.models import INCOMING, MlaRequest
from tests.mla.conftest import deliver_locally, sign_in

pytestmark = pytest.mark.browser
CONDITIONS = (
    "Use the statements only for the Tambacounda trial; keep the witness's name confidential."
)


def _deliver() -> None:
    """Hand the queued messages to the other hosted authority, as ``deliver-local`` does."""
    db.session.commit()  # end the test's transaction: see what the pages committed
    deliver_locally()
    db.session.commit()


def _open_move(page, action: str):  # type: ignore[no-untyped-def]
    """Open the form of a move on a request's page and return it."""
    page.locator(f"details:has(#act-{action}) > summary").click()
    return page.locator(f"#act-{action}")


def _timeline(page) -> list[str]:  # type: ignore[no-untyped-def]
    steps = page.locator("#timeline li")
    return [steps.nth(i).get_attribute("data-action") for i in range(steps.count())]


def test_refusal_after_conditions_proposed_and_declined(tab, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA", name="Awa Ndiaye")
    officer = make_user("central_authority_officer", "SN-CA", name="Fatou Sarr")
    ng_officer = make_user("central_authority_officer", "NG-CA", name="Chidi Eze")
    request = make_request(prosecutor)
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    _deliver()
    incoming = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == INCOMING
        )
    )
    services.act(db.session, ng_officer, incoming, "register", {"reference": "FMOJ/CAU/2026/90"})
    services.act(db.session, ng_officer, incoming, "start_execution", {})
    _deliver()
    ours, theirs = f"/requests/{request.public_id}", f"/requests/{incoming.public_id}"

    # Nigeria, in English: no consultation yet, so a refusal would need the reason why none.
    nigeria = tab("en-GB")
    sign_in(nigeria, ng_officer)
    nigeria.goto(theirs)
    refuse = _open_move(nigeria, "refuse")
    assert refuse.locator("textarea[name=no_consultation_reason]").count() == 1
    assert "UNTOC 18(26)" not in refuse.inner_text()  # the Convention's duty is cited instead
    assert "ECOWAS A/P.1/7/92 art. 4(4) (numbering UNVERIFIED)" in refuse.inner_text()
    # It proposes conditions on use and confidentiality (UNTOC 18(19), 18(20)).
    nigeria.goto(theirs)
    propose = _open_move(nigeria, "propose_conditions")
    propose.locator("textarea[name=conditions]").fill(CONDITIONS)
    propose.locator("input[name=kinds][value=use]").check()
    propose.locator("input[name=kinds][value=confidentiality]").check()
    propose.locator("button[type=submit]").click()
    nigeria.wait_for_load_state()
    assert nigeria.locator("#request-state").get_attribute("data-state") == "conditions_proposed"
    _deliver()

    # Senegal, in French: the conditions are shown; the prosecutor declines them, with reasons.
    senegal = tab("fr-FR")
    sign_in(senegal, prosecutor)
    senegal.goto(ours)
    assert senegal.locator("#request-state").inner_text().startswith("Conditions proposées")
    decline = _open_move(senegal, "decline_conditions")
    assert CONDITIONS in decline.locator("#proposed-conditions").inner_text()
    decline.locator("textarea[name=reason]").fill(
        "Les déclarations doivent servir aussi au dossier connexe de Kédougou."
    )
    decline.locator("button[type=submit]").click()
    senegal.wait_for_load_state()
    assert senegal.locator("#request-state").get_attribute("data-state") == "in_execution"
    proposed = senegal.locator("#timeline li[data-action=propose_conditions]").inner_text()
    assert "Utilisation des résultats aux seules fins indiquées" in proposed
    _deliver()

    # Nigeria refuses on a ground of the ECOWAS Convention; UNTOC's own grounds are not offered.
    nigeria.goto(theirs)
    refuse = _open_move(nigeria, "refuse")
    options = refuse.locator("select[name=ground] option").all_inner_texts()
    assert any("ECOWAS A/P.1/7/92 art. 4(1)(d) (numbering UNVERIFIED)" in o for o in options)
    assert not any("UNTOC" in o for o in options)
    assert not any("dual criminality" in o for o in options)
    assert refuse.locator("textarea[name=no_consultation_reason]").count() == 0
    refuse.locator("select[name=ground]").select_option("offence_under_investigation")
    refuse.locator("textarea[name=reason]").fill(
        "Our own prosecution of the same network is under way in Lagos."
    )
    refuse.locator("button[type=submit]").click()
    nigeria.wait_for_load_state()
    assert nigeria.locator("#request-state").get_attribute("data-state") == "refused"
    assert _timeline(nigeria) == [
        "receive",
        "register",
        "start_execution",
        "retrieve",  # the first opening of the request by a person at Nigeria's authority
        "propose_conditions",
        "decline_conditions",
        "refuse",
    ]
    refused = nigeria.locator("#timeline li[data-action=refuse]").inner_text()
    assert "ECOWAS A/P.1/7/92 art. 4(1)(d) (numbering UNVERIFIED)" in refused
    assert (
        "Kédougou" in nigeria.locator("#timeline li[data-action=decline_conditions]").inner_text()
    )
    _deliver()

    # Senegal sees the refusal, its ground and source in French, after each step of the consultation.
    senegal.goto(ours)
    assert senegal.locator("#request-state").get_attribute("data-state") == "refused"
    assert _timeline(senegal)[-6:] == [
        "acknowledge",
        "start_execution",
        "retrieve",  # Nigeria's retrieval evidence, at the time its receipt gives
        "propose_conditions",
        "decline_conditions",
        "refuse",
    ]
    refused = senegal.locator("#timeline li[data-action=refuse]").inner_text()
    assert "L’infraction fait l’objet d’une enquête ou de poursuites dans l’État requis" in refused
    assert "CEDEAO A/P.1/7/92, art. 4, par. 1, al. d) (numérotation NON VÉRIFIÉE)" in refused
    assert "Lagos" in refused


def test_conditions_accepted_and_costs_consulted_on_both_sides(tab, make_user, make_request):
    """Nigeria, in Portuguese, proposes conditions; the Senegalese prosecutor, in French, accepts
    them in the page; Nigeria then raises extraordinary costs (UNTOC 18(28)) and Senegal answers;
    each side's timeline shows each step, with the source of who bears the costs."""
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA", name="Awa Ndiaye")
    officer = make_user("central_authority_officer", "SN-CA", name="Fatou Sarr")
    ng_officer = make_user("central_authority_officer", "NG-CA", name="Chidi Eze")
    request = make_request(prosecutor)
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    _deliver()
    incoming = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == INCOMING
        )
    )
    services.act(db.session, ng_officer, incoming, "register", {"reference": "FMOJ/CAU/2026/91"})
    services.act(db.session, ng_officer, incoming, "start_execution", {})
    _deliver()
    ours, theirs = f"/requests/{request.public_id}", f"/requests/{incoming.public_id}"

    nigeria = tab("pt-PT")
    sign_in(nigeria, ng_officer)
    nigeria.goto(theirs)
    propose = _open_move(nigeria, "propose_conditions")
    propose.locator("textarea[name=conditions]").fill(CONDITIONS)
    propose.locator("input[name=kinds][value=use]").check()
    propose.locator("button[type=submit]").click()
    nigeria.wait_for_load_state()
    assert nigeria.locator("#request-state").get_attribute("data-state") == "conditions_proposed"
    _deliver()

    # Senegal, in French, sees the conditions and accepts them: execution goes on.
    senegal = tab("fr-FR")
    sign_in(senegal, prosecutor)
    senegal.goto(ours)
    accept = _open_move(senegal, "accept_conditions")
    assert CONDITIONS in accept.locator("#proposed-conditions").inner_text()
    assert senegal.locator("#act-answer_costs").count() == 0  # no costs raised yet
    accept.locator("button[type=submit]").click()
    senegal.wait_for_load_state()
    assert senegal.locator("#request-state").get_attribute("data-state") == "in_execution"
    _deliver()

    # Nigeria sees the acceptance, then raises extraordinary costs, with their source shown.
    nigeria.goto(theirs)
    assert nigeria.locator("#request-state").get_attribute("data-state") == "in_execution"
    assert _timeline(nigeria)[-2:] == ["propose_conditions", "accept_conditions"]
    costs = _open_move(nigeria, "consult_costs")
    assert "UNTOC, art. 18.º, n.º 28" in costs.inner_text()
    assert "despesas ordinárias" in costs.inner_text()
    costs.locator("textarea[name=costs]").fill(
        "Dois intérpretes durante cinco dias: 2 400 000 NGN."
    )
    costs.locator("button[type=submit]").click()
    nigeria.wait_for_load_state()
    assert _timeline(nigeria)[-1] == "consult_costs"
    _deliver()

    # Senegal answers on the costs in French; the state does not change.
    senegal.goto(ours)
    raised = senegal.locator("#timeline li[data-action=consult_costs]").inner_text()
    assert "2 400 000 NGN" in raised and "CNUCTO, art. 18, par. 28" in raised
    answer = _open_move(senegal, "answer_costs")
    answer.locator("textarea[name=costs]").fill("Le ministère de la Justice prend les interprètes.")
    answer.locator("button[type=submit]").click()
    senegal.wait_for_load_state()
    assert senegal.locator("#request-state").get_attribute("data-state") == "in_execution"
    _deliver()

    nigeria.goto(theirs)
    assert _timeline(nigeria)[-4:] == [
        "propose_conditions",
        "accept_conditions",
        "consult_costs",
        "answer_costs",
    ]
    answered = nigeria.locator("#timeline li[data-action=answer_costs]").inner_text()
    assert "interprètes" in answered
