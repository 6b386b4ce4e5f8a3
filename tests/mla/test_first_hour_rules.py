"""The rules behind issue 15's defects 1, 3 and 4, below the pages: one submit route; internal
notes that never reach the outbox and only the team reads; a withdrawal that needs reasons and
carries them abroad."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select, text

from exchange import policy
from exchange.extensions import db
from exchange.mla import sealing, services
from exchange.mla.lifecycle import TransitionError
from exchange.mla.models import INCOMING, Message, MlaRequest, OutboxMessage
from exchange.mla.receiving import IncomingFiles
from tests.conftest import csrf_token, login
from tests.mla.conftest import deliver_locally


def test_a_draft_is_submitted_by_one_route_only(app, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    client = app.test_client()
    login(client, prosecutor)
    page = f"/requests/{request.public_id}"
    token = csrf_token(client, page)
    seen = {"csrf_token": token, "seen_state": "draft", "seen_version": request.version}
    # The generic route makes no move that has its own: nothing can post a submission there.
    for action in ("submit", "approve"):
        assert client.post(f"{page}/act/{action}", data=seen).status_code == 404
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).state == "draft"
    assert client.post(f"{page}/submit", data=seen).status_code == 303
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).state == "in_review"


def _transmitted(make_user, make_request, case=None):  # type: ignore[no-untyped-def]
    """Return (prosecutor, officer, request): approved by SN-CA and delivered to NG-CA."""
    prosecutor = case.created_by if case is not None else make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    request = make_request(prosecutor, case=case)
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    deliver_locally()
    db.session.commit()
    return prosecutor, officer, request


def _incoming(request: MlaRequest) -> MlaRequest:
    """Return the requested side's copy of an outgoing request."""
    return db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == INCOMING
        )
    )


def _counts() -> tuple[int, int]:
    """Return how many outbox rows and thread messages there are."""
    return (
        db.session.scalar(select(func.count(OutboxMessage.id))) or 0,
        db.session.scalar(select(func.count(Message.id))) or 0,
    )


def test_an_internal_note_creates_no_outbox_row_and_no_message(app, make_user, make_request):
    prosecutor, _officer, request = _transmitted(make_user, make_request)
    before = _counts()
    note = services.add_note(db.session, prosecutor, request, body="  Call the NGO first.  ")
    db.session.commit()
    assert _counts() == before  # nothing queued abroad, no thread message either
    assert services.note_body(note) == "Call the NGO first."
    assert "Call the NGO" not in note.body_enc  # encrypted at rest, bound to its row
    with pytest.raises(sealing.SealingError):
        sealing.decrypt_field(note.body_enc, context="note:another-row")
    deliver_locally()
    incoming = _incoming(request)
    assert services.notes_of(db.session, prosecutor, incoming) == []
    assert [e.where for e in services.thread_entries(db.session, prosecutor, request)] == [
        "internal"
    ]


def test_a_note_is_never_sent_as_a_message(app, make_user, make_request):
    prosecutor, _officer, request = _transmitted(make_user, make_request)
    before = _counts()
    with pytest.raises(services.MlaError, match="note_is_internal"):
        services.send_message(db.session, prosecutor, body="For us.", kind="note", request=request)
    db.session.rollback()
    assert _counts() == before
    assert "note" not in services.MESSAGE_KINDS
    assert services.KIND_SUBJECTS["note"] == "Note"  # still understood when another node sends it


def test_only_the_team_reads_and_writes_the_notes(app, make_user, make_case, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    investigator = make_user("investigator", "SN-TGI-TAMBA")
    other_prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    case = make_case(prosecutor, team=(investigator,))
    _p, officer, request = _transmitted(make_user, make_request, case=case)
    ng_officer = make_user("central_authority_officer", "NG-CA")
    services.add_note(db.session, prosecutor, request, body="Ours only.")
    services.add_note(db.session, investigator, request, body="Seen the witness.")
    db.session.commit()
    assert [
        services.note_body(n) for n in services.notes_of(db.session, investigator, request)
    ] == [
        "Ours only.",
        "Seen the witness.",
    ]
    # The reviewing officer may open the request but is not on its team; the other prosecutor
    # may not open it at all; Nigeria has its own copy, with its own (empty) notes.
    assert policy.can_view_request(officer, request)
    for outsider in (officer, other_prosecutor, ng_officer):
        assert services.notes_of(db.session, outsider, request) == []
        assert all(
            e.where != "internal" for e in services.thread_entries(db.session, outsider, request)
        )
        with pytest.raises(services.MlaError, match="forbidden"):
            services.add_note(db.session, outsider, request, body="Let me in.")
    # Over HTTP: the officer sees the request but not the note, and cannot add one (404).
    client = app.test_client()
    login(client, officer)
    page = client.get(f"/requests/{request.public_id}").get_data(as_text=True)
    assert "Ours only." not in page and 'id="note-form"' not in page
    token = csrf_token(client, f"/requests/{request.public_id}")
    answer = client.post(
        f"/requests/{request.public_id}/notes", data={"csrf_token": token, "note": "x"}
    )
    assert answer.status_code == 404
    # On the requested side, the officers executing it keep their own notes.
    incoming = _incoming(request)
    services.add_note(db.session, ng_officer, incoming, body="Witness located in Ikeja.")
    assert services.notes_of(db.session, prosecutor, incoming) == []
    assert len(services.notes_of(db.session, ng_officer, incoming)) == 1


def test_a_note_is_bounded_and_not_empty(app, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)  # a draft: the team may already keep notes
    with pytest.raises(services.MlaError, match="empty_note"):
        services.add_note(db.session, prosecutor, request, body="   ")
    with pytest.raises(services.MlaError, match="too_long"):
        services.add_note(db.session, prosecutor, request, body="x" * 8001)
    client = app.test_client()
    login(client, prosecutor)
    token = csrf_token(client, f"/requests/{request.public_id}")
    answer = client.post(
        f"/requests/{request.public_id}/notes",
        data={"csrf_token": token, "note": "x" * 8001},
        follow_redirects=True,
    )
    assert answer.status_code == 200 and "8000" in answer.get_data(as_text=True)
    assert services.notes_of(db.session, prosecutor, request) == []


def test_a_withdrawal_without_reasons_is_refused(app, make_user, make_request):
    prosecutor, _officer, request = _transmitted(make_user, make_request)
    before = (request.state, _counts())
    for payload in ({}, {"reason": ""}, {"reason": "   "}):
        with pytest.raises(TransitionError, match="missing_reason"):
            services.act(db.session, prosecutor, request, "withdraw", payload)
    with pytest.raises(TransitionError, match="too_long"):
        services.act(db.session, prosecutor, request, "withdraw", {"reason": "x" * 4001})
    db.session.rollback()
    assert (request.state, _counts()) == before
    draft = make_request(prosecutor)  # not yet abroad: reasons are required all the same
    with pytest.raises(TransitionError, match="missing_reason"):
        services.act(db.session, prosecutor, draft, "withdraw", {})


def test_a_withdrawal_page_refuses_what_lacks_reasons_or_confirmation(app, make_user, make_request):
    prosecutor, _officer, request = _transmitted(make_user, make_request)
    client = app.test_client()
    login(client, prosecutor)
    url = f"/requests/{request.public_id}/withdraw"
    token = csrf_token(client, url)
    for data in (
        {"reason": "No longer required."},
        {"confirm": "y"},
        {"reason": " ", "confirm": "y"},
    ):
        answer = client.post(url, data={"csrf_token": token, **data})
        assert answer.status_code == 400
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).state == "delivered"
    # The generic move route no longer withdraws: only the confirmation page does.
    generic = client.post(
        f"/requests/{request.public_id}/act/withdraw",
        data={"csrf_token": token, "reason": "No longer required."},
    )
    assert generic.status_code == 404
    done = client.post(
        url, data={"csrf_token": token, "reason": "No longer required.", "confirm": "y"}
    )
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).state == "withdrawn"
    # Once withdrawn, the page is not offered again.
    assert client.get(url).status_code == 303


def test_the_withdrawal_sent_abroad_carries_the_reasons(app, make_user, make_request):
    prosecutor, _officer, request = _transmitted(make_user, make_request)
    reasons = "The suspect was arrested in Senegal; the statement is no longer required."
    services.act(db.session, prosecutor, request, "withdraw", {"reason": reasons})
    db.session.commit()
    event = request.events[-1]
    assert event.action == "withdraw"
    raw = db.session.execute(
        text("SELECT payload FROM mla_request_events WHERE id = :id"), {"id": event.id}
    ).scalar_one()
    assert reasons not in raw  # stored encrypted, like a refusal's reasons
    outbox = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.msg_id == event.message_id)
    )
    payload = sealing.message_payload(outbox)
    assert outbox.msg_type == "mla.status"
    assert payload["action"] == "withdraw" and payload["reason"] == reasons
    errors = list(_status_schema().iter_errors(payload))
    assert not errors, [e.message for e in errors]
    deliver_locally()
    incoming = _incoming(request)
    assert incoming.state == "withdrawn"
    assert json.loads(incoming.events[-1].payload)["reason"] == reasons


def test_a_withdrawal_from_an_older_node_without_reasons_is_still_applied(
    app, make_user, make_request, tmp_path
):
    """Reasons are required of a person, not of the other side's message (backward compatible)."""
    _prosecutor, _officer, request = _transmitted(make_user, make_request)
    incoming = _incoming(request)
    services.receive_message(
        db.session,
        msg_type="mla.status",
        sender=request.reviewing_authority.code,
        recipient=incoming.authority.code,
        payload={
            "v": 1,
            "request": request.conversation_id,
            "action": "withdraw",
            "state": "withdrawn",
            "at": "2026-12-02T08:00:00+00:00",
        },
        msg_id=str(uuid.uuid4()),
        conversation=request.conversation_id,
        files=IncomingFiles({}, tmp_path, 1 << 20),  # a status message carries no file
    )
    assert incoming.state == "withdrawn"


def _status_schema():  # type: ignore[no-untyped-def]
    """Return a validator of the mla.status payload schema."""
    from pathlib import Path

    import jsonschema

    path = Path(__file__).resolve().parents[2] / "schemas/v1/payloads/mla.status.json"
    return jsonschema.Draft202012Validator(json.loads(path.read_text()))
