"""Consultation before refusal or postponement (UNTOC 18(26); legal review, findings 27, 28, 30)
and the short lifecycle of spontaneous information (18(4)-(5); finding 31), through the services,
between two authorities hosted on this node."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa
from sqlalchemy import select

from exchange.extensions import db
from exchange.mla import lifecycle, sealing, services
from exchange.mla.definitions import DefinitionError, load_types
from exchange.mla.lifecycle import NOTICE_LIFECYCLE, PEER, TABLES, USER, TransitionError
from exchange.mla.models import INCOMING, MlaRequest, OutboxMessage
from tests.mla.conftest import accept_envelope, deliver_locally

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "v1" / "payloads"
CONDITIONS = "CONDMARK: use the statements for the Tambacounda trial of Ms Zarakova only."


@pytest.fixture
def people(make_user):  # type: ignore[no-untyped-def]
    return {
        "prosecutor": make_user("prosecutor", "SN-TGI-TAMBA"),
        "sn_officer": make_user("central_authority_officer", "SN-CA"),
        "ng_officer": make_user("central_authority_officer", "NG-CA"),
    }


def _incoming(request: MlaRequest) -> MlaRequest:
    return db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == INCOMING
        )
    )


def _registered(people, make_request, request_type: str = "taking_evidence"):  # type: ignore[no-untyped-def]
    """Return a request SN -> NG and its incoming copy, registered and in execution."""
    request = make_request(people["prosecutor"], request_type=request_type)
    services.submit(db.session, people["prosecutor"], request)
    services.approve(db.session, people["sn_officer"], request)
    deliver_locally()
    incoming = _incoming(request)
    if request_type != "spontaneous_information":
        services.act(db.session, people["ng_officer"], incoming, "register", {"reference": "R/1"})
        services.act(db.session, people["ng_officer"], incoming, "start_execution", {})
        deliver_locally()
    return request, incoming


REFUSAL = {"ground": "essential_interests", "reason": "Prejudice to essential interests."}


def test_refusal_without_consultation_or_reason_is_refused(people, make_request):
    request, incoming = _registered(people, make_request)
    officer = people["ng_officer"]
    for payload in (REFUSAL, {**REFUSAL, "no_consultation_reason": "   "}):
        with pytest.raises(TransitionError) as refused:
            services.act(db.session, officer, incoming, "refuse", payload)
        assert refused.value.code == "consultation_required"
    assert incoming.state == "in_execution"
    # With the reason why none took place, the refusal is made and the reason travels.
    reason = "The requesting authority could not be reached before the hearing date."
    services.act(
        db.session, officer, incoming, "refuse", {**REFUSAL, "no_consultation_reason": reason}
    )
    deliver_locally()
    assert incoming.state == request.state == "refused"
    received = json.loads(request.events[-1].payload)
    assert received["no_consultation_reason"] == reason and received["ground"] == REFUSAL["ground"]


def test_a_recorded_consultation_opens_the_refusal(people, make_request):
    request, incoming = _registered(people, make_request)
    officer = people["ng_officer"]
    services.act(
        db.session, officer, incoming, "consult", {"consultation": "Call of 2 December, CA to CA."}
    )
    services.act(db.session, officer, incoming, "refuse", REFUSAL)
    deliver_locally()
    assert [e.action for e in request.events][-2:] == ["consult", "refuse"]
    assert request.state == "refused"


def test_postponement_needs_its_ground(people, make_request):
    request, incoming = _registered(people, make_request)
    officer = people["ng_officer"]
    base = {"reason": "Our own trial first.", "no_consultation_reason": "Urgent."}
    with pytest.raises(TransitionError, match="missing_postponement_ground"):
        services.act(db.session, officer, incoming, "postpone", base)
    with pytest.raises(TransitionError, match="unknown_postponement_ground"):
        services.act(
            db.session, officer, incoming, "postpone", {**base, "ground": "essential_interests"}
        )
    with pytest.raises(TransitionError, match="consultation_required"):
        services.act(
            db.session,
            officer,
            incoming,
            "postpone",
            {"reason": base["reason"], "ground": "ongoing_proceedings"},
        )
    assert len([e for e in incoming.events if e.action == "postpone"]) == 0
    services.act(
        db.session, officer, incoming, "postpone", {**base, "ground": "ongoing_proceedings"}
    )
    deliver_locally()
    postponed = request.events[-1]
    assert postponed.action == "postpone"
    assert json.loads(postponed.payload)["ground"] == "ongoing_proceedings"


def test_conditions_proposed_accepted_or_declined_on_both_sides(people, make_request):
    request, incoming = _registered(people, make_request)
    officer, prosecutor = people["ng_officer"], people["prosecutor"]
    services.act(
        db.session,
        officer,
        incoming,
        "propose_conditions",
        {"conditions": CONDITIONS, "kinds": ["use", "confidentiality"]},
    )
    assert incoming.state == "conditions_proposed"
    # Neither side can execute meanwhile; the requesting side answers.
    with pytest.raises(TransitionError, match="not_allowed"):
        services.act(db.session, officer, incoming, "execute", {"summary": "Done."})
    deliver_locally()
    assert request.state == "conditions_proposed"
    assert lifecycle.available_actions(request, prosecutor) == [
        "accept_conditions",
        "decline_conditions",
        "withdraw",
    ]
    proposed = json.loads(request.events[-1].payload)
    assert proposed["conditions"] == CONDITIONS and proposed["kinds"] == ["use", "confidentiality"]
    with pytest.raises(TransitionError, match="missing_reason"):
        services.act(db.session, prosecutor, request, "decline_conditions", {"reason": " "})
    services.act(
        db.session, prosecutor, request, "decline_conditions", {"reason": "A second case needs it."}
    )
    deliver_locally()
    assert request.state == incoming.state == "in_execution"
    assert incoming.events[-1].action == "decline_conditions"
    # A second proposal, accepted this time: the assistance goes on under the conditions.
    services.act(
        db.session,
        officer,
        incoming,
        "propose_conditions",
        {"conditions": "Return the originals.", "kinds": ["return_of_materials"]},
    )
    deliver_locally()
    services.act(db.session, prosecutor, request, "accept_conditions", {})
    deliver_locally()
    assert incoming.state == "in_execution" and incoming.events[-1].action == "accept_conditions"
    with pytest.raises(TransitionError, match="unknown_condition_kind"):
        services.act(
            db.session,
            officer,
            incoming,
            "propose_conditions",
            {"conditions": "x", "kinds": ["bank_secrecy"]},
        )
    with pytest.raises(TransitionError, match="too_long"):
        services.act(
            db.session, officer, incoming, "propose_conditions", {"conditions": "x" * 4001}
        )
    for copy in (request, incoming):
        assert lifecycle.fold(copy.events, copy.side) == copy.state
    db.session.commit()
    # The conditions name people: encrypted at rest, in the events and in the outbox.
    for table in ("mla_request_events", "outbox_messages"):
        rows = db.session.execute(sa.text(f"SELECT * FROM {table}")).all()  # noqa: S608
        raw = " ".join(str(value) for row in rows for value in row)
        assert "CONDMARK" not in raw and "Zarakova" not in raw, table
    # Every conditions message validates against its schema.
    schema = json.loads((SCHEMAS / "mla.conditions.json").read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    sent = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.msg_type == "mla.conditions")
    ).all()
    assert len(sent) == 4
    for message in sent:
        assert not list(validator.iter_errors(sealing.message_payload(message)))


def test_the_conditions_schema_refuses_what_the_lifecycle_refuses():
    schema = json.loads((SCHEMAS / "mla.conditions.json").read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    base = {
        "v": 1,
        "request": "6f1d2c1e-8a8b-4f1e-9a1b-2c3d4e5f6a7b",
        "state": "conditions_proposed",
        "at": "2026-12-02T10:00:00+00:00",
    }
    assert not list(
        validator.iter_errors({**base, "action": "propose_conditions", "conditions": "x"})
    )
    assert list(validator.iter_errors({**base, "action": "propose_conditions"}))
    assert list(validator.iter_errors({**base, "action": "decline_conditions"}))
    assert list(
        validator.iter_errors(
            {**base, "action": "propose_conditions", "conditions": "x", "kinds": ["bank"]}
        )
    )
    status = jsonschema.Draft202012Validator(
        json.loads((SCHEMAS / "mla.status.json").read_text("utf-8"))
    )
    refuse = {**base, "state": "refused", "action": "refuse", "reason": "r"}
    assert not list(status.iter_errors({**refuse, "ground": "compulsory_measure"}))
    assert list(status.iter_errors({**refuse, "ground": "ongoing_proceedings"}))
    postpone = {**base, "state": "in_execution", "action": "postpone", "reason": "r"}
    assert not list(status.iter_errors(postpone))  # an earlier node's postponement stays valid
    assert not list(status.iter_errors({**postpone, "ground": "ongoing_proceedings"}))
    assert list(status.iter_errors({**postpone, "ground": "dual_criminality"}))


def test_the_same_conditions_envelope_twice_applies_once(people, make_request):
    from exchange.envelopes import local_trust
    from exchange.envelopes.stores import node_envelopes

    envelopes = node_envelopes(db.session)
    for code in ("SN-CA", "NG-CA"):
        envelopes.keys.generate(code, pdf=False)
        local_trust(envelopes.keys, envelopes.trust, code)
    request, incoming = _registered(people, make_request)
    services.act(
        db.session, people["ng_officer"], incoming, "consult", {"consultation": "Call held."}
    )
    db.session.commit()
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.state == "queued").order_by(OutboxMessage.id)
    )
    assert message is not None and message.msg_type == "mla.conditions"
    sealed = envelopes.seal(
        sealing.message_payload(message),
        sender=message.sender_code,
        recipient=message.recipient_code,
        msg_type=message.msg_type,
        conversation=message.conversation_id,
        msg_id=message.msg_id,
    )
    db.session.commit()
    first = accept_envelope(sealed.token)
    assert accept_envelope(sealed.token) == first
    db.session.expire_all()
    actions = [e.action for e in db.session.get(MlaRequest, request.id).events]
    assert actions.count("consult") == 1


# --- spontaneous information: a notice ---------------------------------------------------------


def test_spontaneous_information_is_noted_never_refused_or_executed(people, make_request):
    request, incoming = _registered(people, make_request, "spontaneous_information")
    officer = people["ng_officer"]
    assert incoming.state == "received"
    assert lifecycle.available_actions(incoming, officer) == ["object_to_conditions", "take_note"]
    for action, payload in (
        ("refuse", {**REFUSAL, "no_consultation_reason": "None."}),
        ("execute", {"summary": "Done."}),
        ("execute_partially", {"summary": "Part."}),
        ("register", {"reference": "R/1"}),
        ("propose_conditions", {"conditions": "x"}),
    ):
        with pytest.raises(TransitionError) as refused:
            services.act(db.session, officer, incoming, action, payload)
        assert refused.value.code == "not_allowed", action
    services.act(db.session, officer, incoming, "take_note", {"reference": "NG/SPONT/1"})
    assert incoming.state == "noted" and incoming.due_at is None
    services.act(
        db.session,
        officer,
        incoming,
        "object_to_conditions",
        {"reason": "Our law obliges us to disclose exculpatory information (UNTOC 18(5))."},
    )
    deliver_locally()
    assert request.state == "acknowledged" and request.foreign_reference == "NG/SPONT/1"
    assert request.due_at is None  # nothing is to be executed
    assert [e.action for e in request.events][-2:] == ["acknowledge", "object_to_conditions"]
    assert lifecycle.available_actions(request, people["prosecutor"]) == ["close"]
    for copy in (request, incoming):
        assert lifecycle.fold(copy.events, copy.side, NOTICE_LIFECYCLE) == copy.state


NOTICE_ALLOWED = sorted((k, v) for k, v in TABLES[NOTICE_LIFECYCLE].items() if k[1] != "")


@pytest.mark.parametrize(
    ("key", "rule"), NOTICE_ALLOWED, ids=[":".join(k) for k, _r in NOTICE_ALLOWED]
)
def test_notice_transition(key, rule):
    """Every move of the notice table is the table's own: refuse, execute, postpone are absent."""
    side, state, action = key
    assert action not in ("refuse", "execute", "execute_partially", "postpone", "request_info")
    request = MlaRequest(side=side, state=state, request_type="spontaneous_information")
    assert lifecycle.rule_for(side, state, action, NOTICE_LIFECYCLE) == rule
    if rule.by == USER:
        with pytest.raises(TransitionError, match="forbidden"):
            lifecycle.check(request, action, peer="NG-CA", payload={"reason": "r"})
    elif rule.by == PEER:
        lifecycle.check(request, action, peer="NG-CA", payload={"reason": "r"})


def test_the_lifecycle_key_is_parsed_strictly(tmp_path: Path):
    source = Path(services.__file__).with_name("request_types")
    for path in source.glob("*.toml"):
        (tmp_path / path.name).write_text(path.read_text("utf-8"), "utf-8")
    types = load_types(tmp_path)
    assert types["spontaneous_information"].lifecycle == "notice"
    assert types["taking_evidence"].lifecycle == "mla"
    target = tmp_path / "taking_evidence.toml"
    text = target.read_text("utf-8")
    target.write_text('lifecycle = "extradition"\n' + text, "utf-8")
    assert load_types(tmp_path)["taking_evidence"].lifecycle == "extradition"
    assert lifecycle.TABLES["extradition"] is not lifecycle.TABLES["mla"]  # steps of its own
    target.write_text('lifecycle = "short"\n' + text, "utf-8")
    with pytest.raises(DefinitionError, match="lifecycle"):
        load_types(tmp_path)
