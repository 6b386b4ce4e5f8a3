"""Suspicion S2 (shared/reference/security-review.md): incoming payload fields were not validated
on receipt, and ``request_type`` flows into the statistics CSV. Now every incoming payload is
checked against its JSON Schema and our closed vocabularies before anything is stored, a failing
message is answered ``rejected:<reason>``, and the CSV export neutralises formulas."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from exchange.envelopes.models import SeenMessage
from exchange.extensions import db
from exchange.mla import sealing, services
from exchange.mla.models import INCOMING, MlaRequest, OutboxMessage
from tests.conftest import login
from tests.mla import peer
from tests.mla.conftest import deliver_locally


def _person(**changes: Any) -> list[dict[str, Any]]:
    person = dict(peer.request_body(str(uuid.uuid4()))["persons"][0])
    person.update(changes)
    return [person]


BAD = {
    "unknown request type": ({"request_type": "organ_trade"}, "unknown-request-type"),
    "formula as request type": ({"request_type": "=cmd|'/C calc'!A0"}, "invalid-payload"),
    "language outside en, fr, pt": ({"language": "de"}, "invalid-payload"),
    "annex of an unlisted type": (
        {"annexes": [peer.annex_entry(b"<html>", media_type="text/html")]},
        "invalid-payload",
    ),
    "label with a NUL": ({"persons": _person(label="Person\x001")}, "invalid-payload"),
    "label with a bidi override": ({"persons": _person(label="Person \u202e1")}, "invalid-payload"),
    "label with a line break": ({"persons": _person(label="Person\n1")}, "invalid-payload"),
    "label too long": ({"persons": _person(label="P" * 41)}, "invalid-payload"),
    "name with a NUL": (
        {"persons": _person(identity={"name": "Grace\x00Adeyemi"})},
        "invalid-payload",
    ),
    "field the type does not define": ({"contents": {"admin": "yes"}}, "invalid-payload"),
    "legal basis with a comma": ({"legal_basis": ["UNTOC-18,PALERMO"]}, "invalid-payload"),
    "addressed to another authority": ({"requested_authority": "GH-CA"}, "invalid-payload"),
    "urgency reason too long": ({"urgency_reason": "x" * 4001}, "invalid-payload"),
    "impossible date": ({"desired_date": "2027-13-45"}, "invalid-payload"),
    "member the schema does not know": ({"is_admin": True}, "invalid-payload"),
    "missing member": ({"language": None}, "invalid-payload"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_suspicion_s2_an_invalid_request_is_rejected_before_anything_is_stored(
    app, make_user, tmp_path, case
):
    changes, reason = BAD[case]
    envelopes = peer.envelopes_for("NG-CA", "SN-CA")
    conversation = str(uuid.uuid4())
    body = peer.request_body(conversation, **changes)
    if case == "missing member":
        del body["language"]
    sealed = peer.seal(envelopes, body, blob_dir=tmp_path)
    assert peer.deliver(envelopes, sealed) == f"rejected:{reason}"
    db.session.expire_all()
    assert db.session.scalars(select(MlaRequest).where(MlaRequest.side == INCOMING)).all() == []
    # Not remembered: the sender may send a corrected message under a new id.
    assert db.session.get(SeenMessage, conversation) is None


def test_suspicion_s2_a_valid_request_is_received(app, make_user, tmp_path):
    envelopes = peer.envelopes_for("NG-CA", "SN-CA")
    conversation = str(uuid.uuid4())
    body = peer.request_body(
        conversation,
        contents={
            "summary_of_facts": "Recrutement à Lagos, exploitation à Bantaco.",
            "questions": "",
        },
        urgent=True,
        urgency_reason="The witness leaves Kédougou\nnext week.",
        desired_date="2027-01-15",
    )
    sealed = peer.seal(envelopes, body, blob_dir=tmp_path)
    assert peer.deliver(envelopes, sealed) == "delivered"
    received = db.session.scalar(
        select(MlaRequest).where(MlaRequest.conversation_id == conversation)
    )
    assert received.state == "received" and received.request_type == "taking_evidence"
    assert [p.label for p in received.persons] == ["Person 1"]
    assert db.session.get(SeenMessage, conversation) is not None


def test_suspicion_s2_a_move_on_an_unknown_request_is_rejected_not_a_crash(app, tmp_path):
    envelopes = peer.envelopes_for("NG-CA", "SN-CA")
    conversation = str(uuid.uuid4())
    body = {
        "v": 1,
        "request": conversation,
        "action": "register",
        "state": "registered",
        "at": "2026-12-01T10:00:00+00:00",
        "reference": "CAU/9",
    }
    sealed = peer.seal(
        envelopes, body, msg_type="mla.status", conversation=conversation, blob_dir=tmp_path
    )
    assert peer.deliver(envelopes, sealed) == "rejected:unknown-request"
    # An unknown message type is rejected too.
    sealed = peer.seal(envelopes, {"x": 1}, msg_type="mla.bribe", blob_dir=tmp_path)
    assert peer.deliver(envelopes, sealed) == "rejected:unknown-message-type"


def test_suspicion_s2_a_local_message_that_fails_is_marked_rejected_and_the_others_go_on(
    app, make_user, make_request
):
    bad = sealing.queue_message(
        db.session,
        sender="NG-CA",
        recipient="SN-CA",
        msg_type="mla.request",
        payload=peer.request_body(
            "6f1d2c1e-8a8b-4f1e-9a1b-2c3d4e5f6a7b", request_type="=1+2", sender="NG-CA"
        ),
        conversation="6f1d2c1e-8a8b-4f1e-9a1b-2c3d4e5f6a7b",
        in_reply_to=None,
        msg_id="6f1d2c1e-8a8b-4f1e-9a1b-2c3d4e5f6a7b",
    )
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    good = make_request(prosecutor)
    services.submit(db.session, prosecutor, good)
    services.approve(db.session, make_user("central_authority_officer", "SN-CA"), good)
    db.session.commit()
    assert deliver_locally() == 1
    db.session.expire_all()
    assert db.session.get(OutboxMessage, bad.id).state == "rejected"
    assert db.session.get(MlaRequest, good.id).state == "delivered"
    assert deliver_locally() == 0  # a rejected message is not handed over again


def test_suspicion_s2_the_statistics_csv_neutralises_formulas(app, make_user, tmp_path):
    envelopes = peer.envelopes_for("NG-CA", "SN-CA")
    officer = make_user("central_authority_officer", "SN-CA")
    formulas = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)", "\tx"]
    for formula in formulas:
        conversation = str(uuid.uuid4())
        sealed = peer.seal(envelopes, peer.request_body(conversation), blob_dir=tmp_path)
        assert peer.deliver(envelopes, sealed) == "delivered"
        # As a row received before these checks existed would hold it.
        db.session.execute(
            sa.update(MlaRequest)
            .where(MlaRequest.conversation_id == conversation)
            .values(request_type=formula)
        )
    db.session.commit()
    client = app.test_client()
    login(client, officer)
    answer = client.get("/requests/statistics.csv")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    keys = {row[2] for row in rows if row[:2] == ["incoming", "count_by_type"]}
    assert keys == {"'" + formula for formula in formulas}
    assert all(not cell or cell[0] not in "=+-@\t\r" for row in rows for cell in row)


def test_suspicion_s2_the_text_check_refuses_exactly_the_controls_it_names():
    """One pattern stands for asking each character's Unicode category: the same set, all planes."""
    import sys
    import unicodedata

    from exchange.mla.inbound import BIDI_CONTROLS, FORBIDDEN_IN_TEXT

    for code in range(sys.maxunicode + 1):
        char = chr(code)
        named = char in BIDI_CONTROLS or (
            unicodedata.category(char) in ("Cc", "Cs") and char not in "\t\n\r"
        )
        assert bool(FORBIDDEN_IN_TEXT.search(f"text {char} text")) == named, hex(code)
