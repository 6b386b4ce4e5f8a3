"""The rules behind issue 15's defects 1, 3 and 4, below the pages: one submit route; internal
notes that never reach the outbox and only the team reads; a withdrawal that needs reasons and
carries them abroad."""

from __future__ import annotations

from exchange.extensions import db
from exchange.mla.models import MlaRequest
from tests.conftest import csrf_token, login


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
