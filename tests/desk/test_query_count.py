"""The desk runs the same number of SQL statements with one item per section as with twenty, and
so does the badge of the navigation on every other page (no N+1)."""

from __future__ import annotations

from datetime import timedelta

from exchange.auth.models import LoginThrottle, User
from exchange.cases.models import Case
from exchange.db import utcnow
from exchange.directory.queries import authority_by_code
from exchange.extensions import db
from exchange.mla.models import INCOMING, OUTGOING, MlaRequest, RequestEvent
from tests.conftest import login
from tests.desk.conftest import desk_of, lock_key

ROLES = (
    "prosecutor",
    "central_authority_officer",
    "investigator",
    "liaison_officer",
    "administrator",
)
# The state (and side) of a request that puts it in each request section.
REQUEST_SECTIONS = {
    "drafts": (OUTGOING, "draft"),
    "awaiting_answer": (OUTGOING, "info_requested"),
    "overdue_and_urgent": (OUTGOING, "in_execution"),
    "review_queue": (OUTGOING, "in_review"),
    "awaiting_paper_transmission": (OUTGOING, "transmitted"),
    "to_register": (INCOMING, "received"),
}


def _add_items(user: User, n: int, start: int) -> None:
    """Add ``n`` items to every section of ``user``'s desk (rows as the moves leave them)."""
    sn, ng = authority_by_code(db.session, "SN-CA"), authority_by_code(db.session, "NG-CA")
    now = utcnow()
    for i in range(start, start + n):
        case = Case(
            authority_id=sn.id, number=f"D-{i:04d}", title=f"Case {i}", created_by_id=user.id
        )
        db.session.add(case)
        db.session.flush()
        for key, (side, state) in REQUEST_SECTIONS.items():
            db.session.add(
                MlaRequest(
                    side=side,
                    authority_id=sn.id,
                    reviewing_authority_id=sn.id if side == OUTGOING else None,
                    counterpart_id=ng.id,
                    counterpart_state="NG",
                    case_id=case.id if side == OUTGOING else None,
                    request_type="taking_evidence",
                    state=state,
                    reference=f"SN-CA/2026/{key[:4]}{i}",
                    language="en",
                    created_by_id=user.id if side == OUTGOING else None,
                    urgent=key == "overdue_and_urgent",
                    # One of them due within the week: on the officer's deadlines.
                    due_at=now + timedelta(days=2) if key == "review_queue" else None,
                )
            )
        answered = MlaRequest(
            side=OUTGOING,
            authority_id=sn.id,
            reviewing_authority_id=sn.id,
            counterpart_id=ng.id,
            counterpart_state="NG",
            case_id=case.id,
            request_type="taking_evidence",
            state="executed",
            reference=f"SN-CA/2026/resp{i}",
            language="en",
            created_by_id=user.id,
        )
        db.session.add(answered)
        db.session.flush()
        db.session.add(
            RequestEvent(
                request_id=answered.id,
                seq=1,
                action="execute",
                to_state="executed",
                actor_authority="NG-CA",
                at=now,
            )
        )
        pending = User(
            email=f"pending{i}@sn-ca.example",
            display_name=f"Pending {i}",
            authority_id=sn.id,
        )
        locked = User(
            email=f"locked{i}@sn-ca.example",
            display_name=f"Locked {i}",
            authority_id=sn.id,
            password_hash="x",
        )
        db.session.add_all([pending, locked])
        db.session.add(
            LoginThrottle(
                key=lock_key(locked.email),
                failures=0,
                last_failure_at=now,
                locked_until=now + timedelta(minutes=15),
            )
        )
    db.session.commit()


def _statements(client, count_queries, path: str) -> int:  # type: ignore[no-untyped-def]
    """Return how many statements one GET of ``path`` runs."""
    before = count_queries.count
    response = client.get(path)
    assert response.status_code == 200
    return count_queries.count - before


def test_same_statements_for_one_item_per_section_as_for_twenty(app, make_user, count_queries):
    user = make_user(ROLES, "SN-CA")
    _add_items(user, 1, 0)
    client = app.test_client()
    login(client, user)
    client.get("/")
    sections = desk_of(user)
    # Every outgoing request from approval on is also owed on paper: the liaison section holds
    # three of each batch (transmitted, information requested, in execution), the others one.
    assert {k: len(v) for k, v in sections.items()} == {
        k: 3 if k == "awaiting_paper_transmission" else 1 for k in sections
    }
    one = _statements(client, count_queries, "/")
    one_elsewhere = _statements(client, count_queries, "/account")

    _add_items(user, 19, 1)
    sections = desk_of(user)
    assert all(len(rows) == 20 for rows in sections.values()), {
        k: len(v) for k, v in sections.items()
    }
    page = client.get("/").get_data(as_text=True)
    assert page.count("SN-CA/2026/draf") == 20 and "Locked 19" in page
    twenty = _statements(client, count_queries, "/")
    assert twenty == one, (one, twenty)
    assert _statements(client, count_queries, "/account") == one_elsewhere
