"""The transition table: every allowed move succeeds for the right actor and is refused to the
wrong one; every move absent from the table is refused; four-eyes; the state is the events' fold."""

from __future__ import annotations

import itertools

import pytest

from exchange.directory.queries import authority_by_code
from exchange.extensions import db
from exchange.mla import lifecycle, steps
from exchange.mla.lifecycle import (
    ACTIONS,
    PEER,
    SYSTEM,
    TABLE,
    USER,
    TransitionError,
)
from exchange.mla.models import INCOMING, OUTGOING, MlaRequest
from exchange.mla.particulars import REQUIRED_FROM_USERS
from exchange.mla.states import INCOMING_STATES, OUTGOING_STATES
from tests.mla.conftest import deliver_locally

PAYLOADS = {
    "request_changes": {"reason": "Add the penalties."},
    "register": {"reference": "CAU/2026/1"},
    "assign": {"authority": "NG-CA"},
    "request_info": {"reason": "Which village?"},
    "provide_info": {"reason": "Bantaco."},
    "postpone": {
        "ground": "ongoing_proceedings",
        "reason": "Ongoing domestic investigation (UNTOC 18(25)).",
        "no_consultation_reason": "The requesting authority did not answer our calls.",
    },
    "refuse": {
        "ground": "essential_interests",
        "reason": "Reasons given.",
        "no_consultation_reason": "No condition could make the assistance possible.",
    },
    "propose_conditions": {"conditions": "Use only for the Tambacounda trial.", "kinds": ["use"]},
    "consult": {"consultation": "Call between the central authorities on 2 December."},
    "decline_conditions": {"reason": "The evidence is needed for a second case as well."},
    "object_to_conditions": {"reason": "Our law obliges disclosure to the defence."},
    "execute_partially": {"summary": "First statement taken."},
    "execute": {"summary": "All statements taken."},
    "withdraw": {"reason": "No longer required (UNTOC 18(24))."},
    "consult_costs": {"costs": "Two interpreters for five days: about 1,500,000 XOF."},
    "answer_costs": {"costs": "We bear the interpreters' fees (UNTOC 18(28))."},
}


def _bare_request(side: str, state: str, author, case=None) -> MlaRequest:  # type: ignore[no-untyped-def]
    """Put a request of ``side`` in ``state`` straight into the database (test set-up only)."""
    if side == OUTGOING:
        holder, counterpart = (
            authority_by_code(db.session, "SN-TGI-TAMBA"),
            authority_by_code(db.session, "NG-CA"),
        )
        reviewer = authority_by_code(db.session, "SN-CA")
    else:
        holder, counterpart = (
            authority_by_code(db.session, "NG-CA"),
            authority_by_code(db.session, "SN-CA"),
        )
        reviewer = None
    request = MlaRequest(
        side=side,
        authority=holder,
        reviewing_authority=reviewer,
        counterpart=counterpart,
        counterpart_state=counterpart.jurisdiction_code,
        case=case,
        request_type="taking_evidence",
        state=state,
        language="en",
        legal_basis="UNTOC-18",
        created_by_id=author.id if side == OUTGOING else None,
    )
    db.session.add(request)
    db.session.flush()
    return request


@pytest.fixture
def actors(make_user, make_case):  # type: ignore[no-untyped-def]
    """The people of both sides, and a case of the requesting prosecutor."""
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    return {
        "prosecutor": prosecutor,
        "officer": make_user("central_authority_officer", "SN-CA"),
        "ng_officer": make_user("central_authority_officer", "NG-CA"),
        "liaison": make_user("liaison_officer", "SN-CA"),
        "case": make_case(prosecutor),
    }


def _actor_for(side: str, permission: str | None, actors):  # type: ignore[no-untyped-def]
    """Return the user who may make a move needing ``permission`` on ``side``."""
    if side == OUTGOING:
        return actors["prosecutor"] if permission == "requests.draft" else actors["officer"]
    return actors["ng_officer"]


def _answered(request: MlaRequest, action: str) -> None:
    """Put on the timeline the move that ``action`` answers, if it answers one (steps.ANSWERS)."""
    if action in steps.ANSWERS and request.side == OUTGOING:
        answered = steps.ANSWERS[action]
        lifecycle.transition(
            db.session, request, answered, peer="XX-CA", payload=PAYLOADS[answered]
        )


ALLOWED = sorted((k, v) for k, v in TABLE.items() if k[1] != "")


@pytest.mark.parametrize(
    ("key", "rule"), ALLOWED, ids=[f"{s}:{f}:{a}" for (s, f, a), _r in ALLOWED]
)
def test_allowed_transition(key, rule, actors):
    side, state, action = key
    request = _bare_request(
        side, state, actors["prosecutor"], actors["case"] if side == OUTGOING else None
    )
    payload = PAYLOADS.get(action, {})
    _answered(request, action)
    # The wrong kind of actor is refused first.
    if rule.by == USER:
        with pytest.raises(TransitionError):
            lifecycle.transition(db.session, request, action, peer="NG-CA", payload=payload)
        with pytest.raises(TransitionError):
            lifecycle.transition(
                db.session, request, action, actor=actors["liaison"], payload=payload
            )
        actor = _actor_for(side, rule.permission, actors)
        event = lifecycle.transition(db.session, request, action, actor=actor, payload=payload)
    elif rule.by == PEER:
        with pytest.raises(TransitionError):
            lifecycle.transition(
                db.session, request, action, actor=actors["officer"], payload=payload
            )
        event = lifecycle.transition(db.session, request, action, peer="XX-CA", payload=payload)
    else:
        assert rule.by == SYSTEM
        with pytest.raises(TransitionError):
            lifecycle.transition(db.session, request, action, peer="NG-CA")
        event = lifecycle.transition(db.session, request, action)
    expected = state if rule.same else rule.to
    assert request.state == expected == event.to_state
    assert event.from_state == state and event.at is not None
    assert (event.message_id is not None) == (rule.notify is not None)
    # A mandatory element of the payload cannot be left out (some only by a person).
    required = lifecycle.REQUIRED_PAYLOAD.get(action, ())
    if rule.by == USER:
        required += REQUIRED_FROM_USERS.get(action, ())
    for key_name in required:
        other = _bare_request(
            side, state, actors["prosecutor"], actors["case"] if side == OUTGOING else None
        )
        _answered(other, action)
        partial = {k: v for k, v in payload.items() if k != key_name}
        with pytest.raises(TransitionError, match=rf"missing_(\w+_)?{key_name}"):
            if rule.by == USER:
                lifecycle.transition(
                    db.session,
                    other,
                    action,
                    actor=_actor_for(side, rule.permission, actors),
                    payload=partial,
                )
            else:
                lifecycle.transition(db.session, other, action, peer="XX-CA", payload=partial)


FORBIDDEN = sorted(
    (side, state, action)
    for side, states in ((OUTGOING, OUTGOING_STATES), (INCOMING, INCOMING_STATES))
    for state, action in itertools.product(states, sorted(ACTIONS))
    if (side, state, action) not in TABLE
)


@pytest.mark.parametrize(
    ("side", "state", "action"), FORBIDDEN, ids=[":".join(k) for k in FORBIDDEN]
)
def test_forbidden_transition(side, state, action):
    """Every (state, action) pair absent from the table is refused, whoever asks (before any
    database access, so no session is needed)."""
    request = MlaRequest(side=side, state=state, request_type="taking_evidence")
    for kwargs in ({}, {"peer": "NG-CA"}):
        with pytest.raises(TransitionError) as refused:
            lifecycle.transition(None, request, action, payload=PAYLOADS.get(action, {}), **kwargs)  # type: ignore[arg-type]
        assert refused.value.code == "not_allowed"
    assert request.state == state


def test_refusal_needs_a_ground_from_the_list(actors):
    request = _bare_request(INCOMING, "registered", actors["prosecutor"])
    with pytest.raises(TransitionError, match="unknown_ground"):
        lifecycle.transition(
            db.session,
            request,
            "refuse",
            actor=actors["ng_officer"],
            payload={"ground": "bank_secrecy", "reason": "UNTOC 18(8) says this is no ground."},
        )
    with pytest.raises(TransitionError, match="missing_reason"):
        lifecycle.transition(
            db.session,
            request,
            "refuse",
            actor=actors["ng_officer"],
            payload={"ground": "dual_criminality", "reason": "  "},
        )
    assert request.state == "registered"


def test_author_never_approves(make_user, make_case, make_request):
    from exchange.mla import services

    # One person holding both roles, at the central authority: still may not approve their own.
    both = make_user(("prosecutor", "central_authority_officer"), "SN-CA")
    request = make_request(both, case=make_case(both))
    services.submit(db.session, both, request)
    assert "approve" not in lifecycle.available_actions(request, both)
    with pytest.raises(TransitionError) as refused:
        services.approve(db.session, both, request)
    assert refused.value.code == "four_eyes"
    assert request.state == "in_review"


def test_submitter_never_approves(make_user, make_case, make_request):
    from exchange.cases import services as cases
    from exchange.mla import services

    author = make_user("prosecutor", "SN-CA")
    colleague = make_user(("prosecutor", "central_authority_officer"), "SN-CA")
    case = make_case(author)
    cases.add_member(db.session, author, case, colleague)
    request = make_request(author, case=case)
    services.submit(db.session, colleague, request)  # the colleague sends it to review
    with pytest.raises(TransitionError, match="four_eyes"):
        services.approve(db.session, colleague, request)
    other = make_user("central_authority_officer", "SN-CA")
    services.approve(db.session, other, request)
    assert request.state == "transmitted"


def test_four_eyes_through_the_page(app, make_user, make_case, make_request):
    from exchange.mla import services
    from tests.conftest import csrf_token, login

    both = make_user(("prosecutor", "central_authority_officer"), "SN-CA")
    request = make_request(both, case=make_case(both))
    services.submit(db.session, both, request)
    db.session.commit()
    client = app.test_client()
    login(client, both)
    page = client.get(f"/requests/{request.public_id}").get_data(as_text=True)
    assert 'id="approve"' not in page
    token = csrf_token(client, f"/requests/{request.public_id}")
    response = client.post(f"/requests/{request.public_id}/approve", data={"csrf_token": token})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).state == "in_review"


def test_state_is_the_fold_of_events(make_user, make_request):
    from exchange.mla import services

    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    request = make_request(prosecutor)
    services.submit(db.session, prosecutor, request)
    lifecycle.transition(
        db.session, request, "request_changes", actor=officer, payload={"reason": "Penalties?"}
    )
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    actions = [e.action for e in request.events]
    assert actions == ["create", "submit", "request_changes", "submit", "approve", "transmit"]
    assert lifecycle.fold(request.events, OUTGOING) == request.state == "transmitted"
    assert all(e.actor_id is not None for e in request.events)
    with pytest.raises(TransitionError, match="inconsistent_history"):
        lifecycle.fold([("create", None), ("approve", None)], OUTGOING)


def test_withdrawal_abroad_tells_the_other_side(make_user, make_request):
    from exchange.mla import services

    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    request = make_request(prosecutor)
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    deliver_locally()
    services.act(
        db.session,
        prosecutor,
        request,
        "withdraw",
        {"reason": "No longer required (UNTOC 18(24))."},
    )
    assert request.state == "withdrawn" and request.due_at is None
    deliver_locally()
    incoming = (
        db.session.query(MlaRequest)
        .filter_by(conversation_id=request.conversation_id, side=INCOMING)
        .one()
    )
    assert incoming.state == "withdrawn"
