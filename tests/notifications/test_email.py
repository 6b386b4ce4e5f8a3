"""Notifications e-mailed through a real SMTP server: one per event in the recipient's language,
none for a move rolled back, nothing of the case in any of them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from exchange.cases import services as cases
from exchange.db import utcnow
from exchange.extensions import db
from exchange.mla import services
from exchange.mla.definitions import get_type
from exchange.mla.messages import send_message
from exchange.mla.models import MlaRequest
from exchange.notifications import services as notifications
from exchange.notifications.models import MAIL_NONE, MAIL_SENT, Notification
from exchange.uow import unit_of_work
from tests.mla.conftest import deliver_locally
from tests.notifications.conftest import body, kinds_of, send_mail

REFUSAL = {
    "ground": "essential_interests",
    "reason": "Reasons given.",
    "no_consultation_reason": "No condition could make the assistance possible.",
}
# Strings put in every part of a case and its requests: none may reach an e-mail.
SECRETS = {
    "case title": "Zebulon-Affair-Title-7731",
    "case number": "PR-SECRET-4242",
    "offence": "Quokka-Offence-5150",
    "person": "Xanthippe Mbeki-Okonkwo",
    "request text": "Narwhal-Facts-9090",
    "message": "Pangolin-Message-3141",
    "reason": "Axolotl-Reason-2718",
    "summary": "Capybara-Summary-1618",
}


def _incoming(request: MlaRequest) -> MlaRequest:
    """Return the requested side's copy of ``request``."""
    found = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == "incoming"
        )
    )
    assert found is not None
    return found


def _locale(user, locale: str):  # type: ignore[no-untyped-def]
    user.locale = locale
    db.session.commit()
    return user


def test_one_email_per_event_each_in_the_recipients_language(make_user, make_request, sink):
    prosecutor = _locale(make_user("prosecutor", "SN-TGI-TAMBA"), "fr")
    officer = _locale(make_user("central_authority_officer", "SN-CA"), "en")
    ng_officer = _locale(make_user("central_authority_officer", "NG-CA"), "pt")
    bystander = make_user("prosecutor", "SN-TGI-TAMBA")  # same authority, not on the case
    req = make_request(prosecutor)
    services.submit(db.session, prosecutor, req)
    db.session.commit()
    assert kinds_of(officer) == ["review_requested"]
    services.approve(db.session, officer, req)
    db.session.commit()
    deliver_locally()
    db.session.commit()
    incoming = _incoming(req)
    services.act(db.session, ng_officer, incoming, "register", {"reference": "FMOJ/77"})
    services.act(db.session, ng_officer, incoming, "start_execution", {})
    services.act(db.session, ng_officer, incoming, "request_info", {"reason": "Which village?"})
    db.session.commit()
    deliver_locally()
    services.act(db.session, prosecutor, req, "provide_info", {"reason": "Bantaco."})
    send_message(db.session, prosecutor, body="When?", kind="progress_inquiry", request=req)
    db.session.commit()
    deliver_locally()
    services.act(db.session, ng_officer, incoming, "execute", {"summary": "Statement taken."})
    db.session.commit()
    deliver_locally()
    db.session.commit()

    assert kinds_of(prosecutor) == ["approved", "info_requested", "response"]
    assert kinds_of(ng_officer) == ["incoming", "info_provided", "message"]
    assert kinds_of(bystander) == []
    assert send_mail() == {"sent": 7}
    received = sink.messages
    assert len(received) == 7
    by_person = {}
    for message in received:
        by_person.setdefault(str(message["To"]), []).append(message)
    assert {k: len(v) for k, v in by_person.items()} == {
        prosecutor.email: 3,
        officer.email: 1,
        ng_officer.email: 3,
    }
    (review,) = by_person[officer.email]
    assert review["Subject"] == "Dakar node: A request awaits your review"
    assert "https://exchange.justice.sn/notifications/" in body(review)
    assert "Hello," in body(review)
    french = [str(m["Subject"]) for m in by_person[prosecutor.email]]
    assert french == [
        "Dakar node: Une demande que vous avez préparée a été approuvée",
        "Dakar node: Des informations complémentaires sont demandées pour une demande",
        "Dakar node: Une réponse est arrivée pour une demande",
    ]
    assert all("Bonjour," in body(m) for m in by_person[prosecutor.email])
    assert all(m["Content-Language"] == "pt" for m in by_person[ng_officer.email])
    assert "Chegou um novo pedido" in str(by_person[ng_officer.email][0]["Subject"])
    # Sent once: the rows are marked, a second pass sends nothing.
    assert db.session.scalar(select(func.count()).where(Notification.mail_status != MAIL_SENT)) == 0
    assert send_mail() == {}
    assert len(sink.messages) == 7


def test_a_refusal_and_an_overdue_deadline_are_told_once(make_user, make_request, sink):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    ng_officer = make_user("central_authority_officer", "NG-CA")
    req = make_request(prosecutor)
    services.submit(db.session, prosecutor, req)
    services.approve(db.session, officer, req)
    db.session.commit()
    deliver_locally()
    incoming = _incoming(req)
    services.act(db.session, ng_officer, incoming, "register", {"reference": "FMOJ/78"})
    db.session.commit()
    # The acknowledgement deadline of the requesting side passes: noticed once, whatever the passes.
    db.session.execute(
        update(MlaRequest).where(MlaRequest.id == req.id).values(due_at=utcnow().replace(year=2020))
    )
    db.session.commit()
    assert notifications.notice_overdue(db.session) == {"overdue": 1}
    assert notifications.notice_overdue(db.session) == {}
    services.act(db.session, ng_officer, incoming, "refuse", REFUSAL)
    db.session.commit()
    deliver_locally()
    db.session.commit()
    assert kinds_of(prosecutor) == ["approved", "overdue", "refused"]
    send_mail()
    subjects = [str(m["Subject"]) for m in sink.messages if m["To"] == prosecutor.email]
    assert subjects == [
        "Dakar node: A request you prepared was approved",
        "Dakar node: A deadline has passed on a request",
        "Dakar node: A request was refused",
    ]


def test_a_move_rolled_back_notifies_nobody(make_user, make_request, sink):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    req = make_request(prosecutor)
    with pytest.raises(RuntimeError), unit_of_work():
        services.submit(db.session, prosecutor, req)
        db.session.flush()
        assert kinds_of(officer) == ["review_requested"]  # written with the move...
        raise RuntimeError("the move fails after its flush")
    db.session.expire_all()
    assert db.session.get(MlaRequest, req.id).state == "draft"  # ...and rolled back with it
    assert kinds_of(officer) == []
    assert send_mail() == {}
    assert sink.messages == []


def test_no_email_carries_anything_of_the_case(make_user, sink):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    ng_officer = make_user("central_authority_officer", "NG-CA")
    from exchange.directory.queries import authority_by_code

    case = cases.create_case(
        db.session,
        prosecutor,
        number=SECRETS["case number"],
        title=SECRETS["case title"],
        offences=SECRETS["offence"],
        stage="investigation",
        border_localities="Kédougou",
    )
    req = services.create_request(
        db.session,
        prosecutor,
        case,
        request_type="taking_evidence",
        counterpart=authority_by_code(db.session, "NG-CA"),
    )
    definition = get_type(req.request_type)
    assert definition is not None
    values = {}
    for f in definition.all_fields:
        if f.kind == "choice":
            values[f.name] = f.options[0].value
        elif f.kind == "date":
            values[f.name] = "2027-01-15"
        elif f.kind == "bool":
            values[f.name] = True
        else:
            values[f.name] = SECRETS["request text"]
    services.update_contents(db.session, prosecutor, req, expected_version=None, values=values)
    services.add_person(
        db.session,
        prosecutor,
        req,
        identity={
            "name": SECRETS["person"],
            "nationality": "Nigerian",
            "date_of_birth": "2007-03-02",
        },
        victim=True,
        minor=True,
        witness=True,
    )
    db.session.commit()
    services.submit(db.session, prosecutor, req)
    services.approve(db.session, officer, req)
    db.session.commit()
    deliver_locally()
    incoming = _incoming(req)
    services.act(db.session, ng_officer, incoming, "register", {"reference": "FMOJ/79"})
    services.act(db.session, ng_officer, incoming, "start_execution", {})
    services.act(db.session, ng_officer, incoming, "request_info", {"reason": SECRETS["reason"]})
    db.session.commit()
    deliver_locally()
    send_message(
        db.session, prosecutor, body=SECRETS["message"], kind="progress_inquiry", request=req
    )
    services.act(db.session, prosecutor, req, "provide_info", {"reason": SECRETS["reason"]})
    db.session.commit()
    deliver_locally()
    services.act(db.session, ng_officer, incoming, "execute", {"summary": SECRETS["summary"]})
    db.session.commit()
    deliver_locally()
    db.session.commit()
    send_mail()
    received = sink.messages
    assert len(received) == 7
    for message in received:
        text = message.as_string() + body(message)
        for what, secret in SECRETS.items():
            assert secret.lower() not in text.lower(), f"{what} in {message['Subject']}"
        assert req.reference not in text or not req.reference
        for word in ("Blessing", "Kédougou", "FMOJ"):
            assert word not in text


def test_preference_none_sends_nothing_and_still_lists(make_user, make_request, sink, client):
    from tests.conftest import login

    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    notifications.set_preference(db.session, officer, "none")
    db.session.commit()
    req = make_request(prosecutor)
    services.submit(db.session, prosecutor, req)
    db.session.commit()
    (row,) = db.session.scalars(select(Notification).where(Notification.user_id == officer.id))
    assert row.mail_status == MAIL_NONE
    assert send_mail() == {}
    assert sink.messages == []
    login(client, officer)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "A request awaits your review" in page
    assert 'Notifications <span class="count" data-count="1">' in page
