"""Every payload the MLA area produces validates against its JSON Schema (Draft 2020-12)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select

from exchange.directory.queries import authority_by_code
from exchange.extensions import db
from exchange.mla import sealing, services
from exchange.mla.models import INCOMING, MlaRequest, OutboxMessage
from tests import files
from tests.mla.conftest import deliver_locally

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "v1" / "payloads"


def _schema_path(msg_type: str) -> Path:
    """Return the schema of a message type: ours under payloads/, or the envelope layer's."""
    ours = SCHEMAS / f"{msg_type}.json"
    return ours if ours.exists() else SCHEMAS.parent / f"{msg_type}.json"


def _validator(msg_type: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(_schema_path(msg_type).read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("name", sorted(p.stem for p in SCHEMAS.glob("*.json")))
def test_schemas_are_valid_draft_2020_12(name):
    schema = json.loads((SCHEMAS / f"{name}.json").read_text("utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_produced_payload_validates(app, make_user, make_case, make_request):
    from exchange.cases import services as cases

    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    ng_officer = make_user("central_authority_officer", "NG-CA")
    ng_prosecutor = make_user("prosecutor", "NG-CA")
    case = make_case(prosecutor)
    blobs = Path(app.instance_path) / "blobs"

    first = make_request(prosecutor, case=case)
    services.add_annex(
        db.session,
        prosecutor,
        first,
        filename="order.pdf",
        data=files.pdf("Ordonnance du juge d'instruction"),
        kind="supporting",
        blobs_dir=blobs,
        max_bytes=10_000,
    )
    services.submit(db.session, prosecutor, first)
    services.approve(db.session, officer, first)
    deliver_locally()
    incoming = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == first.conversation_id, MlaRequest.side == INCOMING
        )
    )
    services.act(db.session, ng_officer, incoming, "register", {"reference": "CAU/1"})
    services.act(db.session, ng_officer, incoming, "assign", {"authority": "NG-NAPTIP"})
    services.act(db.session, ng_officer, incoming, "start_execution", {})
    services.act(
        db.session,
        ng_officer,
        incoming,
        "propose_conditions",
        {"conditions": "Use for the Tambacounda case only.", "kinds": ["use", "confidentiality"]},
    )
    deliver_locally()
    services.act(db.session, prosecutor, first, "decline_conditions", {"reason": "Second case."})
    deliver_locally()
    services.act(
        db.session, ng_officer, incoming, "consult", {"consultation": "Call of 2 December."}
    )
    services.act(
        db.session,
        ng_officer,
        incoming,
        "postpone",
        {"ground": "ongoing_proceedings", "reason": "Domestic trial first.", "until": "2027-03-01"},
    )
    services.act(
        db.session,
        ng_officer,
        incoming,
        "propose_conditions",
        {"conditions": "Return the originals after the trial.", "kinds": ["return_of_materials"]},
    )
    deliver_locally()
    services.act(db.session, prosecutor, first, "accept_conditions", {})
    deliver_locally()
    services.act(db.session, ng_officer, incoming, "request_info", {"reason": "Address?"})
    deliver_locally()
    services.act(db.session, prosecutor, first, "provide_info", {"reason": "Bantaco."})
    services.send_message(
        db.session, prosecutor, body="Any progress?", kind="progress_inquiry", request=first
    )
    deliver_locally()
    result = services.add_annex(
        db.session,
        ng_officer,
        incoming,
        filename="pv.pdf",
        data=files.pdf("Procès-verbal d'audition"),
        kind="result",
        blobs_dir=blobs,
        max_bytes=10_000,
    )
    services.act(
        db.session,
        ng_officer,
        incoming,
        "execute_partially",
        {"summary": "One statement.", "annexes": [result.sha256]},
    )
    services.act(db.session, ng_officer, incoming, "execute", {"summary": "Done.", "annexes": []})
    deliver_locally()
    assert first.state == "executed" and len([a for a in first.annexes if a.kind == "result"]) == 1

    second = make_request(prosecutor, case=case, request_type="records")
    services.submit(db.session, prosecutor, second)
    services.approve(db.session, officer, second)
    deliver_locally()
    incoming2 = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == second.conversation_id, MlaRequest.side == INCOMING
        )
    )
    services.act(
        db.session,
        ng_officer,
        incoming2,
        "refuse",
        {
            "ground": "offence_under_investigation",
            "reason": "Our own prosecution of the same network is under way.",
            "no_consultation_reason": "No condition could make the assistance possible.",
        },
    )
    third = make_request(prosecutor, case=case)
    services.submit(db.session, prosecutor, third)
    services.approve(db.session, officer, third)
    services.act(db.session, prosecutor, third, "withdraw", {"reason": "No longer required."})

    reference = cases.share_reference(
        db.session,
        prosecutor,
        case,
        counterpart=authority_by_code(db.session, "NG-CA"),
        disclose={"title", "offences", "stage", "border_localities"},
        contact_point="Substitut, Parquet de Tambacounda",
        offence_categories="TIP",
    )
    deliver_locally()
    from exchange.cases.models import CaseReference

    received = db.session.scalar(
        select(CaseReference).where(
            CaseReference.conversation_id == reference.conversation_id,
            CaseReference.direction == "incoming",
        )
    )
    ng_case = make_case(ng_prosecutor, number="NAPTIP/2026/9")
    cases.link_reference(db.session, ng_prosecutor, received, ng_case)
    services.send_message(
        db.session, ng_prosecutor, body="Shall we meet?", kind="consultation", reference=received
    )
    deliver_locally()
    assert reference.state == "linked" and reference.linked_reference == "NAPTIP/2026/9"

    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    seen = set()
    for message in messages:
        payload = sealing.message_payload(message)
        errors = sorted(_validator(message.msg_type).iter_errors(payload), key=str)
        assert not errors, (message.msg_type, payload, [e.message for e in errors])
        seen.add((message.msg_type, payload.get("action", "")))
    assert {t for t, _a in seen} == {
        "mla.request",
        "mla.status",
        "mla.response",
        "mla.conditions",
        "case.reference",
        "message",
    }
    assert {a for t, a in seen if t == "mla.conditions"} == {
        "propose_conditions",
        "decline_conditions",
        "accept_conditions",
        "consult",
    }
    assert {a for t, a in seen if t == "mla.status"} >= {
        "register",
        "start_execution",
        "postpone",
        "request_info",
        "provide_info",
        "refuse",
        "withdraw",
    }
    # Threading: every message after the request replies to the previous one of its conversation.
    statuses = [
        m
        for m in messages
        if m.conversation_id == first.conversation_id and m.msg_type != "message"
    ]
    assert statuses[0].in_reply_to is None and all(m.in_reply_to for m in statuses[1:])


def test_schema_rejects_a_refusal_without_reasons():
    bad = {
        "v": 1,
        "request": "6f1d2c1e-8a8b-4f1e-9a1b-2c3d4e5f6a7b",
        "action": "refuse",
        "state": "refused",
        "at": "2026-11-28T10:00:00+00:00",
        "ground": "dual_criminality",
    }
    assert list(_validator("mla.status").iter_errors(bad))
    bad["ground"] = "bank_secrecy"
    bad["reason"] = "x"
    assert list(_validator("mla.status").iter_errors(bad))
