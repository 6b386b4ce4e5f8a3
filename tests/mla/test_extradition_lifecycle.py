"""Extradition and provisional arrest run steps of their own (ECOWAS A/P.1/8/94; UNTOC 16; legal
review, finding 12): the tables row by row, then each path through the services between two
authorities hosted on this node, every message through the wire schemas as deliver-local hands
it over."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from exchange.directory.queries import authority_by_code
from exchange.extensions import db
from exchange.mla import lifecycle, services, steps
from exchange.mla.definitions import get_type
from exchange.mla.lifecycle import PEER, TABLES, USER, TransitionError
from exchange.mla.models import INCOMING, OUTGOING, MlaRequest, OutboxMessage
from exchange.mla.states import (
    EXTRADITION_LIFECYCLE,
    INCOMING_STATES,
    OUTGOING_STATES,
    PROVISIONAL_ARREST_LIFECYCLE,
)
from tests.mla.conftest import deliver_locally

ARRESTED_ON = "2026-11-30"
PAYLOADS = {
    "register": {"reference": "FMOJ/EXT/2026/7"},
    "assign": {"authority": "NG-CA"},
    "arrest": {"on": ARRESTED_ON},
    "release": {"reason": "The formal request did not arrive within the time limit."},
    "request_info": {"reason": "Send the certified copy of the warrant."},
    "provide_info": {"reason": "Certified copy annexed."},
    "consult": {"consultation": "Call between the central authorities on 1 December."},
    "grant_extradition": {"reason": "Granted by the Federal High Court, Abuja."},
    "surrender": {"on": "2026-12-20", "reason": "At Lagos airport, to two Senegalese officers."},
    "refuse": {
        "ground": "political_offence",
        "reason": "The court held the offence political.",
        "no_consultation_reason": "The person's release was ordered by the court the same day.",
    },
    "send_formal_request": {"reference": "PR-TAMBA/EXT/2026/3"},
    "withdraw": {"reason": "The person was arrested in Senegal."},
}
# The moves of a request for assistance that extradition and provisional arrest do not have.
NOT_THEIRS = ("start_execution", "execute", "execute_partially", "postpone", "propose_conditions")

# Each lifecycle, and the type that runs it; the rows of its own steps (drafting, review and
# transmission are every lifecycle's, tested with the table of a request for assistance).
TYPE_OF = {EXTRADITION_LIFECYCLE: "extradition", PROVISIONAL_ARREST_LIFECYCLE: "provisional_arrest"}
OWN_ACTIONS = {step.action for step in steps.STEPS}


def _rows(name: str):  # type: ignore[no-untyped-def]
    return sorted(
        (key, rule) for key, rule in TABLES[name].items() if key[1] != "" and key[2] in OWN_ACTIONS
    )


def _bare(side: str, state: str, request_type: str, author, case=None) -> MlaRequest:  # type: ignore[no-untyped-def]
    """Put a request of ``side`` in ``state`` straight into the database (test set-up only)."""
    holder, counterpart = ("SN-TGI-TAMBA", "NG-CA") if side == OUTGOING else ("NG-CA", "SN-CA")
    request = MlaRequest(
        side=side,
        authority=authority_by_code(db.session, holder),
        reviewing_authority=authority_by_code(db.session, "SN-CA") if side == OUTGOING else None,
        counterpart=authority_by_code(db.session, counterpart),
        counterpart_state=counterpart[:2],
        case=case,
        request_type=request_type,
        state=state,
        language="en",
        legal_basis="ECOWAS-A/P.1/8/94",
        created_by_id=author.id if side == OUTGOING else None,
    )
    db.session.add(request)
    db.session.flush()
    return request


@pytest.fixture
def actors(make_user, make_case):  # type: ignore[no-untyped-def]
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    return {
        "prosecutor": prosecutor,
        "officer": make_user("central_authority_officer", "SN-CA"),
        "ng_officer": make_user("central_authority_officer", "NG-CA"),
        "case": make_case(prosecutor),
    }


@pytest.mark.parametrize("name", sorted(TYPE_OF))
def test_each_step_is_made_by_its_side_only(name, actors):
    """Every row of the table: the right actor makes the move, reaching the row's state and
    sending its message; the wrong kind of actor is refused."""
    rows = _rows(name)
    assert len(rows) > 30
    for (side, state, action), rule in rows:
        case = actors["case"] if side == OUTGOING else None
        request = _bare(side, state, TYPE_OF[name], actors["prosecutor"], case)
        payload = PAYLOADS.get(action, {})
        if rule.by == USER:
            with pytest.raises(TransitionError):
                lifecycle.transition(db.session, request, action, peer="NG-CA", payload=payload)
            if side == OUTGOING:
                actor = (
                    actors["prosecutor"]
                    if rule.permission == "requests.draft"
                    else actors["officer"]
                )
            else:
                actor = actors["ng_officer"]
            event = lifecycle.transition(db.session, request, action, actor=actor, payload=payload)
        else:
            assert rule.by == PEER
            with pytest.raises(TransitionError):
                lifecycle.transition(
                    db.session, request, action, actor=actors["officer"], payload=payload
                )
            event = lifecycle.transition(db.session, request, action, peer="NG-CA", payload=payload)
        expected = state if rule.same else rule.to
        assert request.state == event.to_state == expected, (side, state, action)
        assert (event.message_id is not None) == (rule.notify is not None), (side, state, action)


@pytest.mark.parametrize("name", sorted(TYPE_OF))
def test_every_other_move_is_refused(name):
    """Whatever is not a row of the table is refused, in every state, to anyone; the moves of a
    request for assistance (execute, postpone, conditions) are no rows of these tables."""
    table = TABLES[name]
    assert not any(action in NOT_THEIRS for (_s, _f, action) in table)
    for side, states in ((OUTGOING, OUTGOING_STATES), (INCOMING, INCOMING_STATES)):
        for state, action in itertools.product(states, sorted(lifecycle.ACTIONS)):
            if (side, state, action) in table:
                continue
            request = MlaRequest(side=side, state=state, request_type=TYPE_OF[name])
            with pytest.raises(TransitionError) as refused:
                lifecycle.transition(None, request, action, peer="NG-CA", payload={})  # type: ignore[arg-type]
            assert refused.value.code == "not_allowed", (side, state, action)


def test_the_types_name_their_lifecycles_and_the_time_limit():
    assert lifecycle.lifecycle_of("extradition") == EXTRADITION_LIFECYCLE
    assert lifecycle.lifecycle_of("provisional_arrest") == PROVISIONAL_ARREST_LIFECYCLE
    deadline = get_type("provisional_arrest").deadline
    assert (deadline.after, deadline.days) == ("arrest", 40)
    assert "A/P.1/8/94 art. 22(4) (UNVERIFIED" in deadline.source_in("en")
    assert "NON VÉRIFIÉ" in deadline.source_in("fr") and "NÃO VERIFICADO" in deadline.source_in(
        "pt"
    )
    assert get_type("extradition").deadline is None


def _transmitted(actors, make_request, request_type: str):  # type: ignore[no-untyped-def]
    """Return a request SN -> NG of ``request_type`` and its incoming copy, registered there."""
    request = make_request(actors["prosecutor"], request_type=request_type)
    services.submit(db.session, actors["prosecutor"], request)
    services.approve(db.session, actors["officer"], request)
    deliver_locally()
    incoming = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == INCOMING
        )
    )
    services.act(db.session, actors["ng_officer"], incoming, "register", PAYLOADS["register"])
    deliver_locally()
    return request, incoming


# Each path: the type, then the moves of the requested (NG) or requesting (SN) side in order,
# and the state both copies reach after each.
PATHS = {
    "extradition granted, then the surrender": (
        "extradition",
        [
            ("NG", "arrest", "person_arrested"),
            ("NG", "request_info", "person_arrested"),
            ("SN", "provide_info", "person_arrested"),
            ("NG", "grant_extradition", "extradition_granted"),
            ("NG", "surrender", "surrendered"),
        ],
    ),
    "extradition refused after a consultation (UNTOC 16(16))": (
        "extradition",
        [
            ("NG", "arrest", "person_arrested"),
            ("NG", "consult", "person_arrested"),
            ("NG", "refuse", "refused"),
        ],
    ),
    "released, arrested again, then granted": (
        "extradition",
        [
            ("NG", "arrest", "person_arrested"),
            ("NG", "release", "released"),
            ("NG", "arrest", "person_arrested"),
            ("NG", "grant_extradition", "extradition_granted"),
        ],
    ),
    "provisional arrest, then the formal request in time": (
        "provisional_arrest",
        [
            ("NG", "arrest", "person_arrested"),
            ("SN", "send_formal_request", "formal_request_sent"),
        ],
    ),
    "provisional arrest, released when the time limit ran out": (
        "provisional_arrest",
        [("NG", "arrest", "person_arrested"), ("NG", "release", "released")],
    ),
    "provisional arrest refused": ("provisional_arrest", [("NG", "refuse", "refused")]),
    "provisional arrest withdrawn by the requesting side": (
        "provisional_arrest",
        [("NG", "arrest", "person_arrested"), ("SN", "withdraw", "withdrawn")],
    ),
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_each_path_on_both_sides(path, actors, make_request):
    request_type, moves = PATHS[path]
    request, incoming = _transmitted(actors, make_request, request_type)
    assert request.state == "acknowledged" and incoming.state == "registered"
    assert request.foreign_reference == PAYLOADS["register"]["reference"]
    for who, action, state in moves:
        copy, actor = (
            (incoming, actors["ng_officer"]) if who == "NG" else (request, actors["prosecutor"])
        )
        payload = dict(PAYLOADS[action])
        if action == "refuse" and any(e.action == "consult" for e in incoming.events):
            payload.pop("no_consultation_reason")  # the consultation took place
        services.act(db.session, actor, copy, action, payload)
        assert deliver_locally() == 1, action  # one message, accepted by its schema
        assert request.state == incoming.state == state, (action, request.state, incoming.state)
    for copy in (request, incoming):
        assert lifecycle.fold(copy.events, copy.side, lifecycle.lifecycle_of(request_type)) == (
            copy.state
        )
    # What each side's moves carried arrived on the other side's timeline.
    last_by_ng = next(a for who, a, _s in reversed(moves) if who == "NG")
    received = next(e for e in reversed(request.events) if e.action == last_by_ng)
    for key, value in PAYLOADS[last_by_ng].items():
        if key != "no_consultation_reason":
            assert json.loads(received.payload)[key] == value


def test_the_formal_request_is_due_within_the_time_limit_after_the_arrest(actors, make_request):
    request, incoming = _transmitted(actors, make_request, "provisional_arrest")
    services.act(db.session, actors["ng_officer"], incoming, "arrest", {"on": ARRESTED_ON})
    deliver_locally()
    due = date.fromisoformat(ARRESTED_ON) + timedelta(days=40)
    for copy in (request, incoming):
        assert copy.due_at is not None and copy.due_at.date() == due
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.conversation_id == request.conversation_id)
    ).all()[-1]
    assert message.msg_type == "mla.status"
    # Once the formal request is sent, nothing more is due on the provisional arrest.
    services.act(
        db.session, actors["prosecutor"], request, "send_formal_request", {"reference": "EXT/3"}
    )
    deliver_locally()
    assert request.due_at is None and incoming.due_at is None
    assert json.loads(incoming.events[-1].payload)["reference"] == "EXT/3"


def test_an_arrest_needs_its_date_and_a_release_its_reasons(actors, make_request):
    _request, incoming = _transmitted(actors, make_request, "provisional_arrest")
    officer = actors["ng_officer"]
    for payload, code in (({}, "missing_on"), ({"on": "30/11/2026"}, "bad_date")):
        with pytest.raises(TransitionError) as refused:
            services.act(db.session, officer, incoming, "arrest", payload)
        assert refused.value.code == code
    services.act(db.session, officer, incoming, "arrest", {"on": ARRESTED_ON})
    with pytest.raises(TransitionError, match="missing_reason"):
        services.act(db.session, officer, incoming, "release", {"reason": "  "})
    # A request for assistance's moves are not steps of a provisional arrest.
    for action in ("execute", "postpone", "propose_conditions"):
        with pytest.raises(TransitionError, match="not_allowed"):
            services.act(db.session, officer, incoming, action, {"summary": "x", "reason": "x"})
    assert incoming.state == "person_arrested"


def test_the_pages_offer_the_steps_in_three_languages(actors, make_request, client):
    from tests.conftest import login

    request, incoming = _transmitted(actors, make_request, "provisional_arrest")
    services.act(db.session, actors["ng_officer"], incoming, "arrest", {"on": ARRESTED_ON})
    deliver_locally()
    db.session.commit()
    login(client, actors["prosecutor"])
    due = (date.fromisoformat(ARRESTED_ON) + timedelta(days=40)).isoformat()
    expected = {
        "en": ("Person arrested", "Record that the formal extradition request was sent"),
        "fr": ("Personne arrêtée", "Consigner l'envoi de la demande d'extradition formelle"),
        "pt": ("Pessoa detida", "Registar o envio do pedido formal de extradição"),
    }
    for lang, (state, move) in expected.items():
        page = client.get(
            f"/requests/{request.public_id}", headers={"Accept-Language": lang}
        ).get_data(as_text=True)
        assert state in page.replace("&#39;", "'") and move in page.replace("&#39;", "'"), lang
        assert f'data-date="{due}"' in page
    assert "send_formal_request" in lifecycle.available_actions(request, actors["prosecutor"])
    assert steps.STEPS  # the rows the tables were built from


def test_the_requested_side_page_offers_the_decision_with_its_fields(actors, make_request, client):
    from tests.conftest import login

    _request, incoming = _transmitted(actors, make_request, "extradition")
    db.session.commit()
    login(client, actors["ng_officer"])
    page = client.get(f"/requests/{incoming.public_id}").get_data(as_text=True)
    for action in ("arrest", "grant_extradition", "refuse", "consult", "request_info"):
        assert f'id="act-{action}"' in page, action
    arrest = page.split('id="act-arrest"', 1)[1].split("</form>", 1)[0]
    assert 'name="on"' in arrest and 'type="date"' in arrest
    refuse = page.split('id="act-refuse"', 1)[1].split("</form>", 1)[0]
    # The extradition convention's grounds and its duty to consult (UNTOC 16(16)) are offered.
    assert 'value="own_national"' in refuse and "UNTOC 16(16)" in refuse
    assert 'value="not_in_conformity"' not in refuse
    for action in ("start_execution", "execute", "postpone", "propose_conditions"):
        assert f'id="act-{action}"' not in page, action
