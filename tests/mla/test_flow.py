"""End to end on one node: draft, review, transmit, delivery to the hosted requested authority,
its moves, and the requesting side following them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from exchange.extensions import db
from exchange.mla import lifecycle, services
from exchange.mla.lifecycle import TransitionError
from exchange.mla.models import MlaRequest, OutboxMessage
from tests.mla.conftest import deliver_locally


def test_full_exchange_between_two_hosted_authorities(make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    ng_officer = make_user("central_authority_officer", "NG-CA")
    req = make_request(prosecutor)
    assert req.state == "draft"
    assert req.language == "en"  # Nigeria accepts English first
    assert "ECOWAS-A/P.1/7/92" in req.legal_basis and "UNTOC-18" in req.legal_basis
    services.submit(db.session, prosecutor, req)
    with pytest.raises(TransitionError) as four_eyes:
        services.approve(db.session, prosecutor, req)
    assert four_eyes.value.code in ("forbidden", "four_eyes")
    services.approve(db.session, officer, req)
    assert req.state == "transmitted"
    queued = db.session.scalars(select(OutboxMessage)).all()
    assert [m.msg_type for m in queued] == ["mla.request"]
    assert queued[0].sender_code == "SN-CA" and queued[0].recipient_code == "NG-CA"
    assert deliver_locally() == 1
    assert req.state == "delivered"
    incoming = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == req.conversation_id, MlaRequest.side == "incoming"
        )
    )
    assert incoming.state == "received"
    assert services.person_identities(incoming)
    services.act(db.session, ng_officer, incoming, "register", {"reference": "FMOJ/CAU/2026/77"})
    services.act(db.session, ng_officer, incoming, "start_execution", {})
    services.act(db.session, ng_officer, incoming, "request_info", {"reason": "Which village?"})
    deliver_locally()
    assert req.state == "info_requested"
    assert req.foreign_reference == "FMOJ/CAU/2026/77"
    services.act(db.session, prosecutor, req, "provide_info", {"reason": "Bantaco."})
    deliver_locally()
    assert incoming.state == "in_execution"
    services.act(db.session, ng_officer, incoming, "execute", {"summary": "Statement taken."})
    deliver_locally()
    assert req.state == "executed"
    assert req.executed_at is not None and req.acknowledged_at is not None
    services.act(db.session, prosecutor, req, "close", {})
    assert req.state == "closed"
    for copy in (req, incoming):
        assert lifecycle.fold(copy.events, copy.side) == copy.state
    db.session.commit()
