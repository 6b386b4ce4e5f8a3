"""The ``exchange mla`` commands."""

from __future__ import annotations

from sqlalchemy import select

from exchange.extensions import db
from exchange.mla import services
from exchange.mla.models import OutboxMessage


def test_types_command_lists_every_type(runner):
    result = runner.invoke(args=["mla", "types"])
    assert result.exit_code == 0, result.output
    assert "survivor_repatriation" in result.output and "UNTOC 18(3)(a)" in result.output


def test_deliver_local_hands_over_queued_messages(runner, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    request = make_request(prosecutor)
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    db.session.commit()
    result = runner.invoke(args=["mla", "deliver-local"])
    assert result.exit_code == 0 and "1 message(s)" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.state)) == "delivered"
