"""Each section of the desk: its items appear with the move that makes them, leave with the move
that answers them, and never come from another authority or a case one is not on."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from exchange.auth import services as accounts
from exchange.auth import signin
from exchange.db import utcnow
from exchange.desk import queries
from exchange.directory.queries import authority_by_code
from exchange.documents import dispatch
from exchange.extensions import db
from exchange.mla import services
from exchange.mla.models import INCOMING, MlaRequest
from tests.desk.conftest import desk_of, ids, lock_key
from tests.mla.conftest import deliver_locally


def _incoming(req: MlaRequest) -> MlaRequest:
    """Return the requested side's copy of ``req``."""
    found = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == req.conversation_id, MlaRequest.side == INCOMING
        )
    )
    assert found is not None
    return found


def test_a_request_crosses_every_desk_and_leaves_each(make_user, make_case, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    investigator = make_user("investigator", "SN-TGI-TAMBA")
    colleague = make_user("prosecutor", "SN-TGI-TAMBA")  # same office, not on the case
    outsider = make_user("investigator", "SN-TGI-TAMBA")  # same office, not on the case
    ng_investigator = make_user("investigator", "NG-CA")
    officer = make_user("central_authority_officer", "SN-CA")
    liaison = make_user("liaison_officer", "SN-CA")
    ng_officer = make_user("central_authority_officer", "NG-CA")
    ng_liaison = make_user("liaison_officer", "NG-CA")
    case = make_case(prosecutor, team=(investigator,))
    req = make_request(prosecutor, case=case)

    assert ids(desk_of(prosecutor)["drafts"]) == [req.public_id]
    assert desk_of(colleague)["drafts"] == []
    assert [c.public_id for c in desk_of(investigator)["team_cases"]] == [case.public_id]
    assert desk_of(officer)["review_queue"] == []

    services.submit(db.session, prosecutor, req)
    db.session.commit()
    assert desk_of(prosecutor)["drafts"] == []
    assert ids(desk_of(officer)["review_queue"]) == [req.public_id]
    assert desk_of(ng_officer)["review_queue"] == []
    # The investigator sees the prosecutor's move on the case; the prosecutor not their own.
    assert [e.action for e, _r in desk_of(investigator)["case_moves"]] == ["submit", "create"]
    for other in (outsider, ng_investigator):
        assert desk_of(other)["case_moves"] == [] and desk_of(other)["team_cases"] == []

    services.approve(db.session, officer, req)
    db.session.commit()
    assert desk_of(officer)["review_queue"] == []
    assert ids(desk_of(liaison)["awaiting_paper_transmission"]) == [req.public_id]
    assert desk_of(ng_liaison)["awaiting_paper_transmission"] == []
    # Due for acknowledgement within the week: on the officer's deadlines, not Nigeria's.
    assert ids(desk_of(officer)["deadlines_this_week"]) == [req.public_id]
    assert desk_of(ng_officer)["deadlines_this_week"] == []

    assert deliver_locally() == 1
    db.session.commit()
    # Delivered by envelope, still owed on paper until the liaison officer records its dispatch.
    assert ids(desk_of(liaison)["awaiting_paper_transmission"]) == [req.public_id]
    dispatch.record_dispatch(
        db.session, liaison, req, channel="courier", reference="C-118", on=utcnow().date()
    )
    db.session.commit()
    assert desk_of(liaison)["awaiting_paper_transmission"] == []
    incoming = _incoming(req)
    assert ids(desk_of(ng_officer)["to_register"]) == [incoming.public_id]
    assert desk_of(officer)["to_register"] == []
    services.act(db.session, ng_officer, incoming, "register", {"reference": "FMOJ/2026/1"})
    db.session.commit()
    assert ids(desk_of(ng_officer)["to_register"]) == [incoming.public_id]  # still to assign
    services.act(db.session, ng_officer, incoming, "assign", {"authority": "NG-CA"})
    services.act(db.session, ng_officer, incoming, "start_execution", {})
    db.session.commit()
    assert desk_of(ng_officer)["to_register"] == []

    services.act(db.session, ng_officer, incoming, "request_info", {"reason": "Which site?"})
    deliver_locally()
    db.session.commit()
    assert ids(desk_of(prosecutor)["awaiting_answer"]) == [req.public_id]
    assert desk_of(colleague)["awaiting_answer"] == []
    services.act(db.session, prosecutor, req, "provide_info", {"reason": "Bantaco."})
    deliver_locally()
    db.session.commit()
    assert desk_of(prosecutor)["awaiting_answer"] == []

    before = utcnow()
    services.act(db.session, ng_officer, incoming, "execute", {"summary": "Statement taken."})
    deliver_locally()
    db.session.commit()
    responses = desk_of(prosecutor)["responses"]
    assert [(e.action, r.public_id) for e, r in responses] == [("execute", req.public_id)]
    assert desk_of(prosecutor, since=utcnow())["responses"] == []  # seen at the last visit
    assert ids(desk_of(prosecutor, since=before)["responses"]) == [req.public_id]
    assert desk_of(colleague)["responses"] == []
    assert "execute" in [e.action for e, _r in desk_of(investigator, since=before)["case_moves"]]
    services.act(db.session, prosecutor, req, "close", {})
    db.session.commit()
    assert desk_of(prosecutor)["responses"] == []


def test_overdue_and_urgent_items_of_the_team_only(make_user, make_case, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    colleague = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    late, urgent = make_request(prosecutor), make_request(prosecutor)
    for req in (late, urgent):
        services.submit(db.session, prosecutor, req)
        services.approve(db.session, officer, req)
    late.due_at = utcnow() - timedelta(days=1)
    urgent.urgent = True
    db.session.commit()
    assert ids(desk_of(prosecutor)["overdue_and_urgent"]) == [late.public_id, urgent.public_id]
    assert desk_of(colleague)["overdue_and_urgent"] == []
    # Withdrawn: nothing is due any more, and it leaves.
    for req in (late, urgent):
        services.act(db.session, prosecutor, req, "withdraw", {"reason": "No longer needed."})
    db.session.commit()
    assert desk_of(prosecutor)["overdue_and_urgent"] == []


def test_pending_enrolments_and_locked_accounts_of_the_authority(app, make_user):
    admin = make_user("administrator", "SN-CA")
    ng_admin = make_user("administrator", "NG-CA")
    newcomer = accounts.create_user(
        db.session,
        email="newcomer@sn-ca.example",
        display_name="Newcomer",
        authority=authority_by_code(db.session, "SN-CA"),
        roles={"prosecutor"},
    )
    accounts.issue_enrolment_link(db.session, newcomer, actor=admin)
    db.session.commit()
    pending = desk_of(admin)["pending_enrolments"]
    assert [(u.public_id, waiting) for u, waiting in pending] == [(newcomer.public_id, True)]
    assert desk_of(ng_admin)["pending_enrolments"] == []
    accounts.disable_user(db.session, newcomer, actor=admin)  # revoked
    db.session.commit()
    assert desk_of(admin)["pending_enrolments"] == []

    # Failed sign-ins up to the account-wide limit lock the account: listed, for its own admin.
    locked = make_user("prosecutor", "SN-CA")
    policy = signin.LoginPolicy.from_settings(app.config["EXCHANGE"])
    for n in range(policy.attempts_per_account):
        client = signin.Client(address=f"192.0.2.{n % 250}")
        signin.attempt_password(db.session, policy, locked.email, "wrong password", client)
    db.session.commit()
    assert [u.public_id for u in desk_of(admin)["locked_accounts"]] == [locked.public_id]
    assert desk_of(ng_admin)["locked_accounts"] == []
    assert lock_key(locked.email) != lock_key(admin.email)


def test_badge_counts_what_asks_for_a_move(make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user(("central_authority_officer", "liaison_officer"), "SN-CA")
    first, second = make_request(prosecutor), make_request(prosecutor)
    for req in (first, second):
        services.submit(db.session, prosecutor, req)
    db.session.commit()

    def badge(user):  # type: ignore[no-untyped-def]
        db.session.expire_all()
        return queries.badge_count(db.session, queries.DeskContext(actor=user, now=utcnow()))

    assert badge(officer) == 2 and badge(prosecutor) == 0  # drafts are no call to move
    services.approve(db.session, officer, first)
    db.session.commit()
    assert badge(officer) == 2  # one to review, one to dispatch on paper
    deliver_locally()
    db.session.commit()
    assert badge(officer) == 2  # delivered by envelope, still owed on paper
    dispatch.record_dispatch(
        db.session, officer, first, channel="courier", reference="C-7", on=utcnow().date()
    )
    db.session.commit()
    assert badge(officer) == 1
