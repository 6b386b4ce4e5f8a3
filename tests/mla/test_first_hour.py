"""In a real browser, what a prosecutor hit in her first hour (issue 15), each in the language in
which it showed: submitting from the request's own page (English), an internal note that must not
go abroad (French), a withdrawal that needs reasons and a confirmation (Portuguese)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from exchange.extensions import db
from exchange.mla import sealing, services
from exchange.mla.models import INCOMING, Message, MlaRequest, OutboxMessage
from tests.mla.conftest import deliver_locally, sign_in

pytestmark = pytest.mark.browser


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
    sign_in(page, prosecutor)

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


def _transmitted(make_user, make_request, case=None):  # type: ignore[no-untyped-def]
    """Return a prosecutor's request, approved by an officer and delivered to NG-CA (hosted)."""
    prosecutor = case.created_by if case is not None else make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA", name="Fatou Sarr")
    request = make_request(prosecutor, case=case)
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    deliver_locally()
    db.session.commit()
    return prosecutor, officer, request


def _outbox(msg_type: str) -> list[dict]:  # type: ignore[type-arg]
    """Return the payloads queued for the other side, of one message type, oldest first."""
    db.session.expire_all()
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.msg_type == msg_type).order_by(OutboxMessage.id)
    )
    return [sealing.message_payload(row) for row in rows]


NOTE = "Le témoin est joignable par l'ONG de Kédougou : ne pas la citer dans la demande."
INQUIRY = "Où en est l'audition du témoin à Lagos ?"


def test_defect_03_une_note_interne_reste_au_sein_de_l_equipe(
    tab, make_user, make_case, make_request
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA", name="Awa Ndiaye")
    investigator = make_user("investigator", "SN-TGI-TAMBA", name="Moussa Diallo")
    case = make_case(prosecutor, team=(investigator,))
    _p, officer, request = _transmitted(make_user, make_request, case=case)
    url = f"/requests/{request.public_id}"
    nigeria = request.counterpart.name

    awa = tab("fr-FR")
    sign_in(awa, prosecutor)
    awa.goto(url)
    # Two forms, each saying where its text goes; "Note" is no longer a message sent abroad.
    note_form, message_form = awa.locator("#note-form"), awa.locator("#message-form")
    assert "Note interne — reste au sein de votre équipe" in note_form.inner_text()
    assert f"Message à {nigeria} — envoyé à l'étranger" in message_form.inner_text()
    kinds = message_form.locator("select[name=kind] option").evaluate_all(
        "options => options.map(o => o.value)"
    )
    assert "note" not in kinds and "progress_inquiry" in kinds

    note_form.get_by_label("Texte de la note").fill(NOTE)
    note_form.get_by_role("button", name="Conserver la note").click()
    awa.wait_for_load_state()
    assert "n'est pas envoyée à l'étranger" in awa.get_by_role("status").first.inner_text()
    kept = awa.locator("#thread article[data-where=internal]")
    assert kept.count() == 1 and NOTE in kept.inner_text()
    assert "Note interne — reste au sein de votre équipe" in kept.inner_text()
    assert _outbox("message") == []  # nothing queued for Nigeria

    # A message to the foreign authority still goes through the outbox, and says so.
    awa.locator("#message-form select[name=kind]").select_option("progress_inquiry")
    awa.locator("#message-form textarea").fill(INQUIRY)
    awa.locator("#message-form").get_by_role("button", name="Envoyer à l'étranger").click()
    awa.wait_for_load_state()
    sent = awa.locator("#thread article[data-where=outgoing]")
    assert sent.count() == 1 and INQUIRY in sent.inner_text()
    assert f"Message à {nigeria} — envoyé à l'étranger" in sent.inner_text()
    queued = _outbox("message")
    assert [m["text"] for m in queued] == [INQUIRY]

    # Nigeria receives the inquiry alone; the team reads the note; the reviewing officer does not.
    deliver_locally()
    db.session.commit()
    incoming = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == INCOMING
        )
    )
    received = db.session.scalars(select(Message).where(Message.request_id == incoming.id)).all()
    assert [services.message_body(m) for m in received] == [INQUIRY]
    moussa = tab("fr-FR")
    sign_in(moussa, investigator)
    moussa.goto(url)
    assert NOTE in moussa.locator("#thread").inner_text()
    fatou = tab("fr-FR")
    sign_in(fatou, officer)
    fatou.goto(url)
    assert INQUIRY in fatou.locator("#thread").inner_text()
    assert NOTE not in fatou.content() and fatou.locator("#note-form").count() == 0


REASONS = "O suspeito foi detido no Senegal: o depoimento da testemunha deixou de ser necessário."


def test_defect_04_retirar_um_pedido_exige_fundamentos_e_confirmacao(tab, make_user, make_request):
    prosecutor, _officer, request = _transmitted(make_user, make_request)
    nigeria = f"{request.counterpart.name} ({request.counterpart.code})"
    before = request.state  # delivered to Nigeria
    page = tab("pt-PT")
    sign_in(page, prosecutor)
    page.goto(f"/requests/{request.public_id}")

    # The request's page leads to a confirmation page naming what happens on the other side.
    page.get_by_role("link", name="Retirar o pedido", exact=True).click()
    page.wait_for_url("**/withdraw")
    assert (
        f"A retirada é enviada a {nigeria} com os seus fundamentos; essa autoridade deixará de "
        "executar o pedido. Esta operação é irreversível."
    ) in page.locator("#consequence").inner_text()
    form = page.locator("#withdraw-form")
    reasons = form.get_by_label("Fundamentos da retirada")
    confirm = form.get_by_label("Compreendo que a retirada é irreversível.")
    assert reasons.get_attribute("required") is not None
    assert confirm.get_attribute("required") is not None

    # Reasons without the confirmation, then the confirmation without reasons: nothing happens.
    reasons.fill(REASONS)
    form.get_by_role("button", name="Retirar o pedido").click()
    assert page.url.endswith("/withdraw")
    reasons.fill("")
    confirm.check()
    form.get_by_role("button", name="Retirar o pedido").click()
    assert page.url.endswith("/withdraw")
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).state == before == "delivered"
    assert [p for p in _outbox("mla.status") if p["action"] == "withdraw"] == []

    reasons.fill(REASONS)
    form.get_by_role("button", name="Retirar o pedido").click()
    page.wait_for_url(f"**/requests/{request.public_id}")
    assert page.locator("#request-state").get_attribute("data-state") == "withdrawn"
    assert "A retirada está em fila para envio" in page.get_by_role("status").first.inner_text()
    withdrawn = page.locator("#timeline li[data-action=withdraw]")
    assert f"Fundamentos: {REASONS}" in withdrawn.inner_text()

    # The withdrawal sent abroad carries the reasons; Nigeria's copy records them.
    sent = [p for p in _outbox("mla.status") if p["action"] == "withdraw"]
    assert len(sent) == 1 and sent[0]["reason"] == REASONS
    deliver_locally()
    db.session.commit()
    incoming = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == INCOMING
        )
    )
    assert incoming.state == "withdrawn"
    assert json.loads(incoming.events[-1].payload)["reason"] == REASONS
