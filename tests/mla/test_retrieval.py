"""The retrieval evidence: the first opening of an incoming request by a person, on both timelines."""

from __future__ import annotations

from sqlalchemy import select

from exchange.extensions import db
from exchange.mla import services
from exchange.mla.models import INCOMING, MlaRequest, OutboxMessage
from tests.conftest import login
from tests.mla.conftest import deliver_locally


def test_the_first_opening_shows_on_both_timelines_with_its_time(client, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    ng_officer = make_user("central_authority_officer", "NG-CA")
    request = make_request(prosecutor)
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    db.session.commit()
    deliver_locally()
    incoming = db.session.scalar(select(MlaRequest).where(MlaRequest.side == INCOMING))
    assert [e.action for e in incoming.events] == ["receive"]

    login(client, ng_officer)
    for _ in range(2):  # opened twice: one retrieval
        page = client.get(f"/requests/{incoming.public_id}")
        assert page.status_code == 200, page.headers.get("Location")
    db.session.expire_all()
    opened = [e for e in incoming.events if e.action == "retrieve"]
    assert len(opened) == 1 and opened[0].actor_id == ng_officer.id
    assert incoming.state == "received"  # the state is kept
    # Both sides on this node: recorded on the requesting side at once, no envelope.
    assert (
        db.session.scalar(select(OutboxMessage).where(OutboxMessage.msg_type == "evidence")) is None
    )
    seen = [e for e in request.events if e.action == "retrieve"]
    assert len(seen) == 1 and seen[0].actor_authority == "NG-CA"
    assert abs((seen[0].at - opened[0].at).total_seconds()) < 1.5  # the time the receipt gives
    assert request.state == "delivered"
    page = client.get(f"/requests/{incoming.public_id}")
    assert b'data-action="retrieve"' in page.get_data()
