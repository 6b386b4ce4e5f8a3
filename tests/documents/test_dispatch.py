"""Paper dispatches: what awaits the liaison officer, the dispatch and the receipt recorded on
the timeline and the dashboard, and who may reach the desk at all."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from exchange.db import utcnow
from exchange.documents import dispatch, jobs
from exchange.documents.dispatch import DeskError
from exchange.documents.models import PaperDispatch
from exchange.extensions import db
from exchange.mla import services
from exchange.mla.models import MlaRequest, RequestEvent
from tests.conftest import csrf_token, login
from tests.mla.conftest import deliver_locally

TODAY = utcnow().date()


def _post(client, url, data, page):  # type: ignore[no-untyped-def]
    """Post a desk form with the CSRF token of ``page``."""
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def test_dispatch_and_receipt_are_on_the_timeline_and_the_dashboard(
    app, client, make_user, transmitted
):
    liaison = make_user("liaison_officer", "SN-CA")
    officer = make_user("central_authority_officer", "SN-CA")
    request = transmitted(officer=officer)
    public_id = request.public_id
    login(client, liaison)
    page = f"/paper/requests/{public_id}"
    response = _post(
        client,
        f"{page}/dispatch",
        {"channel": "diplomatic_pouch", "reference": "NV/SN/2026/118", "on": TODAY.isoformat()},
        page,
    )
    assert response.status_code == 303
    shown = client.get(page).get_data(as_text=True)
    assert "NV/SN/2026/118" in shown and 'data-received="no"' in shown
    assert public_id not in client.get("/paper/").get_data(as_text=True).split("receipts-h")[0]

    found = db.session.scalar(select(PaperDispatch))
    response = _post(
        client,
        f"/paper/dispatches/{found.public_id}/receipt",
        {"reference": "FMOJ/IN/2026/9", "on": TODAY.isoformat()},
        page,
    )
    assert response.status_code == 303
    assert 'data-received="yes"' in client.get(page).get_data(as_text=True)

    events = db.session.scalars(
        select(RequestEvent)
        .join(MlaRequest)
        .where(MlaRequest.public_id == public_id)
        .order_by(RequestEvent.seq)
    ).all()
    assert [e.action for e in events][-2:] == ["paper_dispatched", "paper_received"]
    assert events[-1].to_state == events[-1].from_state == "transmitted"  # records, not moves

    other = app.test_client()
    login(other, officer)
    view = other.get(f"/requests/{public_id}").get_data(as_text=True)
    assert "Dispatched on paper" in view and "Diplomatic pouch" in view
    assert "NV/SN/2026/118" in view and "Paper received by the other side" in view
    board = other.get("/requests/?direction=outgoing").get_data(as_text=True)
    assert 'data-paper="paper_received"' in board and TODAY.isoformat() in board


def test_awaiting_dispatch_counts_requests_and_answers_of_the_authority(make_user, transmitted):
    liaison = make_user("liaison_officer", "SN-CA")
    ng_liaison = make_user("liaison_officer", "NG-CA")
    ng_officer = make_user("central_authority_officer", "NG-CA")
    request = transmitted()
    assert dispatch.awaiting_dispatch(db.session, liaison) == [request]
    assert dispatch.count_awaiting_dispatch(db.session, liaison) == 1
    assert dispatch.awaiting_dispatch(db.session, ng_liaison) == []
    dispatch.record_dispatch(
        db.session, liaison, request, channel="courier", reference="", on=TODAY
    )
    assert dispatch.count_awaiting_dispatch(db.session, liaison) == 0
    assert [d.request for d in dispatch.awaiting_receipt(db.session, liaison)] == [request]

    # The requested side: once its answer is sent, the answer is due on paper.
    deliver_locally()
    incoming = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == "incoming"
        )
    )
    services.act(db.session, ng_officer, incoming, "register", {"reference": "FMOJ/CAU/2026/7"})
    services.act(db.session, ng_officer, incoming, "start_execution", {})
    assert dispatch.count_awaiting_dispatch(db.session, ng_liaison) == 0
    services.act(db.session, ng_officer, incoming, "execute", {"summary": "Statement taken."})
    assert dispatch.awaiting_dispatch(db.session, ng_liaison) == [incoming]
    assert dispatch.paper_subject(incoming) == "executed"
    # Prosecutors and officers have no dispatches to make.
    assert dispatch.count_awaiting_dispatch(db.session, ng_officer) == 0


def test_a_double_click_records_one_dispatch_and_wrong_dates_are_refused(make_user, transmitted):
    liaison = make_user("liaison_officer", "SN-CA")
    request = transmitted()
    with pytest.raises(DeskError) as future:
        dispatch.record_dispatch(
            db.session,
            liaison,
            request,
            channel="courier",
            reference="",
            on=TODAY + timedelta(days=5),
        )
    assert future.value.code == "date_in_future"
    with pytest.raises(DeskError) as early:
        dispatch.record_dispatch(
            db.session, liaison, request, channel="courier", reference="", on=date(2020, 1, 1)
        )
    assert early.value.code == "date_too_early"
    with pytest.raises(DeskError):
        dispatch.record_dispatch(
            db.session, liaison, request, channel="pigeon", reference="", on=TODAY
        )
    first = dispatch.record_dispatch(
        db.session, liaison, request, channel="courier", reference="C-1", on=TODAY
    )
    again = dispatch.record_dispatch(
        db.session, liaison, request, channel="courier", reference="C-1", on=TODAY
    )
    assert again.id == first.id
    with pytest.raises(DeskError) as second:
        dispatch.record_dispatch(
            db.session, liaison, request, channel="email", reference="", on=TODAY
        )
    assert second.value.code == "already_dispatched"
    events = [e.action for e in db.session.get(MlaRequest, request.id).events]
    assert events.count("paper_dispatched") == 1


def test_a_liaison_officer_of_another_authority_gets_404_everywhere(
    app, client, make_user, transmitted
):
    liaison = make_user("liaison_officer", "SN-CA")
    request = transmitted()
    job = jobs.queue_bundle(db.session, liaison, request, lang="en")
    sent = dispatch.record_dispatch(
        db.session, liaison, request, channel="courier", reference="", on=TODAY
    )
    db.session.commit()
    job_id, dispatch_id, public_id = job.public_id, sent.public_id, request.public_id
    stranger = make_user("liaison_officer", "NG-CA")
    login(client, stranger)
    assert public_id not in client.get("/paper/").get_data(as_text=True)
    token = csrf_token(client, "/paper/")
    for url in (
        f"/paper/requests/{public_id}",
        f"/paper/bundles/{job_id}",
        f"/paper/bundles/{job_id}/status.json",
        f"/paper/bundles/{job_id}/download",
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (f"/paper/requests/{public_id}/bundles", {"lang": "en"}),
        (f"/paper/requests/{public_id}/dispatch", {"channel": "courier", "on": str(TODAY)}),
        (f"/paper/dispatches/{dispatch_id}/receipt", {"on": str(TODAY)}),
    ):
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 404, url
    assert db.session.scalar(select(PaperDispatch)).received_on is None


@pytest.mark.parametrize("role", ["prosecutor", "investigator", "central_authority_officer"])
def test_only_liaison_officers_reach_the_desk(app, client, make_user, transmitted, role):
    liaison = make_user("liaison_officer", "SN-CA")
    request = transmitted()
    job = jobs.queue_bundle(db.session, liaison, request, lang="en")
    db.session.commit()
    job_id, public_id = job.public_id, request.public_id
    user = make_user(role, "SN-CA" if role == "central_authority_officer" else "SN-TGI-TAMBA")
    login(client, user)
    assert "/paper/" not in client.get("/requests/").get_data(as_text=True)  # no menu entry
    for url in ("/paper/", f"/paper/requests/{public_id}", f"/paper/bundles/{job_id}/download"):
        assert client.get(url).status_code in (403, 404), url
    with pytest.raises(DeskError):
        dispatch.record_dispatch(
            db.session, user, request, channel="courier", reference="", on=TODAY
        )


def test_the_liaison_officer_sees_the_desk_in_the_menu(client, make_user):
    liaison = make_user("liaison_officer", "SN-CA")
    login(client, liaison)
    assert 'href="/paper/"' in client.get("/").get_data(as_text=True)
