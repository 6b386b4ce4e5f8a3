"""The dashboard: keyset pagination without gaps or repeats, every filter, overdue flags from the
targets and the desired date, and a constant number of queries per page (no N+1)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from exchange.directory.queries import authority_by_code
from exchange.extensions import db
from exchange.mla import lifecycle, queries, services
from exchange.mla.lifecycle import Targets
from exchange.mla.models import INCOMING, MlaRequest
from tests.conftest import login
from tests.mla.conftest import deliver_locally

LINK = re.compile(r'href="/requests/([0-9a-f-]{36})"')


def _many(make_user, make_case, make_request, n: int):  # type: ignore[no-untyped-def]
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    case = make_case(prosecutor)
    made = [
        make_request(prosecutor, case=case, complete=False, to="NG-CA" if i % 3 else "GH-CA")
        for i in range(n)
    ]
    return prosecutor, made


def test_keyset_pages_cover_everything_once(app, make_user, make_case, make_request):
    prosecutor, made = _many(make_user, make_case, make_request, 12)
    seen: list[str] = []
    cursor = None
    while True:
        page = queries.dashboard_page(
            db.session, prosecutor, queries.Filters(), cursor=cursor, limit=5
        )
        seen += [r.public_id for r in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 12
    assert set(seen) == {r.public_id for r in made}
    # Newest first.
    stamps = [
        db.session.scalar(select(MlaRequest.created_at).where(MlaRequest.public_id == p))
        for p in seen
    ]
    assert stamps == sorted(stamps, reverse=True)


def test_next_page_link_and_bad_cursor(app, make_user, make_case, make_request):
    prosecutor, _made = _many(make_user, make_case, make_request, 27)
    client = app.test_client()
    login(client, prosecutor)
    first = client.get("/requests/").get_data(as_text=True)
    assert len(set(LINK.findall(first))) == queries.PAGE_SIZE
    after = re.search(r'href="/requests/\?[^"]*after=([0-9-]+)[^"]*" rel="next"', first)
    assert after
    second = client.get(f"/requests/?after={after.group(1)}").get_data(as_text=True)
    assert len(set(LINK.findall(second))) == 2 and not set(LINK.findall(second)) & set(
        LINK.findall(first)
    )
    assert (
        client.get("/requests/?after=garbage&state=nonsense&country=ZZZ&request_type=x").status_code
        == 200
    )
    assert client.get("/requests/?country=%00").status_code == 400


def test_filters(app, make_user, make_case, make_request):
    prosecutor, made = _many(make_user, make_case, make_request, 6)
    officer = make_user("central_authority_officer", "SN-CA")
    made[0].urgent = True
    services.submit(db.session, prosecutor, made[1]) if not services.missing(
        db.session, made[1]
    ) else None
    db.session.flush()

    def ids(user, **kw):  # type: ignore[no-untyped-def]
        return {r.id for r in queries.dashboard_page(db.session, user, queries.Filters(**kw)).rows}

    assert ids(prosecutor, country="GH") == {r.id for r in made if r.counterpart_state == "GH"}
    assert ids(prosecutor, urgent=True) == {made[0].id}
    assert ids(prosecutor, state="draft") == {r.id for r in made}
    assert ids(prosecutor, request_type="records") == set()
    assert ids(prosecutor, request_type="taking_evidence") == {r.id for r in made}
    assert ids(prosecutor, mine=True) == {r.id for r in made}
    assert ids(officer, mine=True) == set()
    assert ids(officer) == set()  # drafts stay with their case team (finding 12)
    submitted = make_request(prosecutor)
    services.submit(db.session, prosecutor, submitted)
    db.session.flush()
    assert ids(officer) == {submitted.id}  # SN-CA reviews SN-TGI-TAMBA's submitted requests
    assert ids(prosecutor, direction=INCOMING) == set()


def test_overdue_from_targets_and_desired_date(app, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    late = make_request(prosecutor)
    on_time = make_request(prosecutor)
    wanted_soon = make_request(prosecutor)
    wanted_soon.desired_date = date(2026, 1, 10)
    wanted_soon.urgency_reason = "The trial opens on 12 January."  # UNTOC 18(24): with reasons
    long_ago = datetime(2026, 1, 1, tzinfo=UTC)
    for request in (late, on_time, wanted_soon):
        services.submit(db.session, prosecutor, request)
        lifecycle.transition(db.session, request, "approve", actor=officer)
    lifecycle.transition(
        db.session,
        late,
        "transmit",
        actor=officer,
        at=long_ago,
        targets=Targets(acknowledge_days=7),
    )
    lifecycle.transition(db.session, on_time, "transmit", actor=officer)
    lifecycle.transition(db.session, wanted_soon, "transmit", actor=officer, at=long_ago)
    # Acknowledged quickly, but the desired date (10 January) passed long before the 90-day target.
    lifecycle.transition(
        db.session,
        wanted_soon,
        "acknowledge",
        peer="NG-CA",
        at=long_ago + timedelta(days=1),
        payload={"reference": "CAU/9"},
    )
    assert late.due_at == long_ago + timedelta(days=7)
    assert wanted_soon.due_at.date() == date(2026, 1, 10)
    overdue = {
        r.id
        for r in queries.dashboard_page(db.session, prosecutor, queries.Filters(overdue=True)).rows
    }
    assert overdue == {late.id, wanted_soon.id}
    assert not queries.is_overdue(on_time)


def test_constant_number_of_queries_per_page(
    app, make_user, make_case, make_request, count_queries
):
    prosecutor, _made = _many(make_user, make_case, make_request, 30)
    officer = make_user("central_authority_officer", "SN-CA")
    db.session.commit()
    counts = {}
    for limit in (2, 10, 25):
        for user in (prosecutor, officer):
            db.session.expire_all()
            user = db.session.get(type(user), user.id)
            _ = user.authority, user.roles  # loaded once per request in real use
            before = count_queries.count
            page = queries.dashboard_page(db.session, user, queries.Filters(), limit=limit)
            for row in page.rows:  # what the template touches
                _ = (row.counterpart.code, row.reference, row.state, row.urgent, row.created_at)
            counts[(limit, user.id)] = count_queries.count - before
    # Per user, the same number whatever the page size: 1 statement, plus 1 for the team's cases.
    assert {counts[(limit, prosecutor.id)] for limit in (2, 10, 25)} == {2}, counts
    assert {counts[(limit, officer.id)] for limit in (2, 10, 25)} == {1}, counts


def test_page_query_count_over_http(app, make_user, make_case, make_request, count_queries):
    prosecutor, _made = _many(make_user, make_case, make_request, 3)
    client = app.test_client()
    login(client, prosecutor)
    client.get("/requests/")
    before = count_queries.count
    client.get("/requests/")
    few = count_queries.count - before
    case = make_case(prosecutor)
    for _ in range(20):
        make_request(prosecutor, case=case, complete=False)
    before = count_queries.count
    client.get("/requests/")
    many = count_queries.count - before
    assert many == few, (few, many)


def test_incoming_dashboard_for_the_addressed_officer(app, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    ng_officer = make_user("central_authority_officer", "NG-CA")
    request = make_request(prosecutor)
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    deliver_locally()
    rows = queries.dashboard_page(db.session, ng_officer, queries.Filters(direction=INCOMING)).rows
    assert [r.conversation_id for r in rows] == [request.conversation_id]
    assert rows[0].counterpart == authority_by_code(db.session, "SN-CA")
    assert (
        queries.dashboard_page(
            db.session, ng_officer, queries.Filters(direction=INCOMING, overdue=True)
        ).rows
        == []
    )
