"""Access matrix: every MLA and case route × every role × own, unassigned and foreign objects.

Own: the user's case (on its team) and its request, or, for a central authority officer, the
requests its authority reviews or receives. Unassigned: the same authority's, but another team's
(or, for incoming requests, addressed to another local authority). Foreign: another state's
authority's. Out of scope answers 404 (never 403, which would confirm that the object exists),
and a 404 page never shows the object.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.directory.queries import authority_by_code
from exchange.extensions import db
from exchange.mla import services
from exchange.mla.models import INCOMING, MlaRequest
from tests import files
from tests.conftest import csrf_token, login
from tests.mla.conftest import deliver_locally, fill_request

ROLES = (
    "prosecutor",
    "investigator",
    "central_authority_officer",
    "liaison_officer",
    "administrator",
    "node_admin",
)
KINDS = ("own", "unassigned", "foreign")


def _request(author, case, to: str, *, submit: bool, annex: bool = True, instance: Path):  # type: ignore[no-untyped-def]
    """Open, fill and (optionally) submit a request with one PDF annex."""
    request = services.create_request(
        db.session,
        author,
        case,
        request_type="taking_evidence",
        counterpart=authority_by_code(db.session, to),
    )
    fill_request(request, author)
    if annex:
        services.add_annex(
            db.session,
            author,
            request,
            filename=f"{case.number}.pdf",
            data=files.pdf(case.number),
            kind="supporting",
            blobs_dir=instance / "blobs",
            max_bytes=10_000,
        )
    if submit:
        services.submit(db.session, author, request)
    return request


@pytest.fixture
def world(app, make_user, make_case):  # type: ignore[no-untyped-def]
    """Build both sides: users of every role, cases, requests, incoming copies, case references."""
    from exchange.cases import services as cases

    instance = Path(app.instance_path)
    p1 = make_user("prosecutor", "SN-TGI-TAMBA")
    i1 = make_user("investigator", "SN-TGI-TAMBA")
    p2 = make_user("prosecutor", "SN-TGI-TAMBA")
    o1 = make_user("central_authority_officer", "SN-CA")
    ngp = make_user("prosecutor", "NG-CA")
    ngo = make_user("central_authority_officer", "NG-CA")
    users = {
        "prosecutor": p1,
        "investigator": i1,
        "central_authority_officer": o1,
        "liaison_officer": make_user("liaison_officer", "SN-CA"),
        "administrator": make_user("administrator", "SN-CA"),
        "node_admin": make_user("node_admin", "SN-CA"),
    }
    case = {
        "own": make_case(p1, team=(i1,), number="SN-OWN-1"),
        "unassigned": make_case(p2, number="SN-OTHER-2"),
        "foreign": make_case(ngp, number="NG-FOREIGN-3"),
    }
    review = {
        "own": _request(p1, case["own"], "NG-CA", submit=True, instance=instance),
        "unassigned": _request(p2, case["unassigned"], "NG-CA", submit=True, instance=instance),
        "foreign": _request(ngp, case["foreign"], "SN-CA", submit=True, instance=instance),
    }
    draft = {
        "own": _request(p1, case["own"], "NG-CA", submit=False, annex=False, instance=instance),
        "unassigned": _request(
            p2, case["unassigned"], "NG-CA", submit=False, annex=False, instance=instance
        ),
        "foreign": _request(
            ngp, case["foreign"], "SN-CA", submit=False, annex=False, instance=instance
        ),
    }
    # Incoming: NG sends to SN-CA (own for the SN officer), to SN-TGI-TAMBA (unassigned to them);
    # SN sends to NG-CA (foreign: its incoming copy is NG's).
    to_sn = _request(ngp, case["foreign"], "SN-CA", submit=True, instance=instance)
    to_office = _request(ngp, case["foreign"], "SN-TGI-TAMBA", submit=True, instance=instance)
    to_ng = _request(p1, case["own"], "NG-CA", submit=True, instance=instance)
    services.approve(db.session, ngo, to_sn)
    services.approve(db.session, ngo, to_office)
    services.approve(db.session, o1, to_ng)
    ref_own = cases.share_reference(
        db.session,
        p1,
        case["own"],
        counterpart=authority_by_code(db.session, "NG-CA"),
        disclose={"title"},
        contact_point="Parquet de Tambacounda",
        offence_categories="TIP",
    )
    ref_other = cases.share_reference(
        db.session,
        p2,
        case["unassigned"],
        counterpart=authority_by_code(db.session, "NG-CA"),
        disclose=set(),
        contact_point="Parquet",
        offence_categories="TIP",
    )
    deliver_locally()

    def incoming_copy(outgoing: MlaRequest) -> MlaRequest:
        return (
            db.session.query(MlaRequest)
            .filter_by(conversation_id=outgoing.conversation_id, side=INCOMING)
            .one()
        )

    from exchange.cases.models import CaseReference

    foreign_ref = (
        db.session.query(CaseReference)
        .filter_by(conversation_id=ref_own.conversation_id, direction="incoming")
        .one()
    )
    db.session.commit()
    return {
        "users": users,
        "case": case,
        "review": review,
        "draft": draft,
        "incoming": {
            "own": incoming_copy(to_sn),
            "unassigned": incoming_copy(to_office),
            "foreign": incoming_copy(to_ng),
        },
        "reference": {"own": ref_own, "unassigned": ref_other, "foreign": foreign_ref},
    }


def _marker(obj) -> str:  # type: ignore[no-untyped-def]
    """Return a string that would reveal ``obj`` if it appeared on a page."""
    if isinstance(obj, MlaRequest):
        return obj.reference or obj.foreign_reference  # the URL itself may be echoed back
    return getattr(obj, "number", None) or obj.reference


# route name -> (method, object family, url builder, form data, expected codes per role for own/unassigned/foreign)
F403 = (403, 403, 403)
N404 = (404, 404, 404)
ROUTES = {
    "case_view": (
        "GET",
        "case",
        lambda o: f"/cases/{o.public_id}",
        None,
        {
            "prosecutor": (200, 404, 404),
            "investigator": (200, 404, 404),
            "central_authority_officer": F403,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "case_share": (
        "GET",
        "case",
        lambda o: f"/cases/{o.public_id}/share",
        None,
        {
            "prosecutor": (200, 404, 404),
            "investigator": F403,
            "central_authority_officer": N404,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "case_edit": (
        "GET",
        "case",
        lambda o: f"/cases/{o.public_id}/edit",
        None,
        {
            "prosecutor": (200, 404, 404),
            "investigator": F403,
            "central_authority_officer": F403,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "case_team": (
        "POST",
        "case",
        lambda o: f"/cases/{o.public_id}/team",
        {"user": "nobody"},
        {
            "prosecutor": (303, 404, 404),
            "investigator": F403,
            "central_authority_officer": F403,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    # The persons of a case: its team reads them, its prosecutors add and change them; nobody
    # else, not even the reviewing officer (who sees what a request discloses, on the request).
    "case_persons": (
        "GET",
        "case",
        lambda o: f"/cases/{o.public_id}/persons",
        None,
        {
            "prosecutor": (200, 404, 404),
            "investigator": (200, 404, 404),
            "central_authority_officer": F403,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "case_person_add": (
        "POST",
        "case",
        lambda o: f"/cases/{o.public_id}/persons",
        {"name": "Added Person", "witness": "y"},
        {
            "prosecutor": (303, 404, 404),
            "investigator": (403, 404, 404),
            "central_authority_officer": F403,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "case_person_edit": (
        "GET",
        "case",
        lambda o: f"/cases/{o.public_id}/persons/{o.persons[0].public_id}",
        None,
        {
            "prosecutor": (200, 404, 404),
            "investigator": F403,
            "central_authority_officer": F403,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "request_new": (
        "GET",
        "case",
        lambda o: f"/requests/new?case={o.public_id}",
        None,
        {
            "prosecutor": (200, 404, 404),
            "investigator": F403,
            "central_authority_officer": F403,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "request_view": (
        "GET",
        "review",
        lambda o: f"/requests/{o.public_id}",
        None,
        {
            "prosecutor": (200, 404, 404),
            "investigator": (200, 404, 404),
            "central_authority_officer": (200, 200, 404),
            "liaison_officer": N404,
            "administrator": F403,
        },
    ),
    "request_edit": (
        "GET",
        "draft",
        lambda o: f"/requests/{o.public_id}/edit/basics",
        None,
        {
            "prosecutor": (200, 404, 404),
            "investigator": F403,
            "central_authority_officer": F403,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    # Withdrawal has its confirmation page (issue 15, defect 4); only drafters reach it.
    "request_withdraw_page": (
        "GET",
        "draft",
        lambda o: f"/requests/{o.public_id}/withdraw",
        None,
        {
            "prosecutor": (200, 404, 404),
            "investigator": F403,
            "central_authority_officer": F403,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "request_withdraw": (
        "POST",
        "draft",
        lambda o: f"/requests/{o.public_id}/withdraw",
        {"reason": "x", "confirm": "y"},
        {
            "prosecutor": (303, 404, 404),
            "investigator": F403,
            "central_authority_officer": F403,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "request_withdraw_sent": (
        "GET",
        "review",
        lambda o: f"/requests/{o.public_id}/withdraw",
        None,
        {
            "prosecutor": (200, 404, 404),
            "investigator": F403,
            "central_authority_officer": F403,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    # The confirmation before an approval: the reviewing central authority only.
    "request_approve_page": (
        "GET",
        "review",
        lambda o: f"/requests/{o.public_id}/approve",
        None,
        {
            "prosecutor": F403,
            "investigator": F403,
            "central_authority_officer": (200, 200, 404),
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "request_approve": (
        "POST",
        "review",
        lambda o: f"/requests/{o.public_id}/approve",
        {"confirm": "y"},
        {
            "prosecutor": F403,
            "investigator": F403,
            "central_authority_officer": (303, 303, 404),
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "request_annex": (
        "GET",
        "review",
        lambda o: f"/requests/{o.public_id}/annexes/{o.annexes[0].sha256}",
        None,
        {
            "prosecutor": (200, 404, 404),
            "investigator": (200, 404, 404),
            "central_authority_officer": (200, 200, 404),
            "liaison_officer": N404,
            "administrator": F403,
        },
    ),
    "request_message": (
        "POST",
        "review",
        lambda o: f"/requests/{o.public_id}/messages",
        {"kind": "progress_inquiry", "body": "?"},
        {
            "prosecutor": (303, 404, 404),
            "investigator": F403,
            "central_authority_officer": (303, 303, 404),
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    # Internal notes: the team holding the copy only; the reviewing officer sees the request
    # but not its team's notes, so for them the route does not exist (issue 15, defect 3).
    "request_note": (
        "POST",
        "review",
        lambda o: f"/requests/{o.public_id}/notes",
        {"note": "For the team."},
        {
            "prosecutor": (303, 404, 404),
            "investigator": (303, 404, 404),
            "central_authority_officer": N404,
            "liaison_officer": N404,
            "administrator": F403,
        },
    ),
    "draft_note": (
        "POST",
        "draft",
        lambda o: f"/requests/{o.public_id}/notes",
        {"note": "For the team."},
        {
            "prosecutor": (303, 404, 404),
            "investigator": (303, 404, 404),
            "central_authority_officer": N404,
            "liaison_officer": N404,
            "administrator": F403,
        },
    ),
    "incoming_note": (
        "POST",
        "incoming",
        lambda o: f"/requests/{o.public_id}/notes",
        {"note": "For the team."},
        {
            "prosecutor": N404,
            "investigator": N404,
            "central_authority_officer": (303, 404, 404),
            "liaison_officer": N404,
            "administrator": F403,
        },
    ),
    "incoming_view": (
        "GET",
        "incoming",
        lambda o: f"/requests/{o.public_id}",
        None,
        {
            "prosecutor": N404,
            "investigator": N404,
            "central_authority_officer": (200, 404, 404),
            "liaison_officer": N404,
            "administrator": F403,
        },
    ),
    "incoming_register": (
        "POST",
        "incoming",
        lambda o: f"/requests/{o.public_id}/act/register",
        {"reference": "DACG/1"},
        {
            "prosecutor": N404,
            "investigator": N404,
            "central_authority_officer": (303, 404, 404),
            "liaison_officer": N404,
            "administrator": F403,
        },
    ),
    "request_submit": (
        "POST",
        "draft",
        lambda o: f"/requests/{o.public_id}/submit",
        {},
        {
            "prosecutor": (303, 404, 404),
            "investigator": F403,
            "central_authority_officer": F403,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "request_person_remove": (
        "POST",
        "draft",
        lambda o: f"/requests/{o.public_id}/persons/{o.persons[0].public_id}/remove",
        {},
        {
            "prosecutor": (303, 404, 404),
            "investigator": F403,
            "central_authority_officer": F403,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "incoming_results": (
        "POST",
        "incoming",
        lambda o: f"/requests/{o.public_id}/results",
        {},
        {
            "prosecutor": F403,
            "investigator": F403,
            "central_authority_officer": (303, 404, 404),
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "case_team_remove": (
        "POST",
        "case",
        lambda o: f"/cases/{o.public_id}/team/{o.members[-1].user.public_id}/remove",
        {},
        {
            "prosecutor": (303, 404, 404),
            "investigator": F403,
            "central_authority_officer": F403,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "reference_link": (
        "POST",
        "reference",
        lambda o: f"/references/{o.public_id}/link",
        {"case": "x"},
        {
            "prosecutor": (303, 404, 404),
            "investigator": F403,
            "central_authority_officer": N404,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "reference_message": (
        "POST",
        "reference",
        lambda o: f"/references/{o.public_id}/messages",
        {"kind": "consultation", "body": "?"},
        {
            "prosecutor": (303, 404, 404),
            "investigator": F403,
            "central_authority_officer": N404,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
    "reference_view": (
        "GET",
        "reference",
        lambda o: f"/references/{o.public_id}",
        None,
        {
            "prosecutor": (200, 404, 404),
            "investigator": F403,
            "central_authority_officer": N404,
            "liaison_officer": F403,
            "administrator": F403,
        },
    ),
}
# The node administrator keeps the directory: like an authority's administrator, it reaches no
# case, request or reference (no permission of theirs, so 403 before any object is looked up).
for _method, _family, _url, _data, _expected in ROUTES.values():
    _expected["node_admin"] = F403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_access(route, role, app, world):
    method, family, url_of, data, expected = ROUTES[route]
    client = app.test_client()
    login(client, world["users"][role])
    token = csrf_token(client, "/") if method == "POST" else None
    for kind, code in zip(KINDS, expected[role], strict=True):
        obj = world[family][kind]
        url = url_of(obj)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={**(data or {}), "csrf_token": token})
        assert response.status_code == code, (route, role, kind, response.status_code)
        if code in (403, 404):
            assert _marker(obj) not in response.get_data(as_text=True), (route, role, kind)


def test_successful_moves_of_the_matrix_took_effect(app, world):
    """The 303 answers above are real moves where allowed, and refusals where not."""
    client = app.test_client()
    login(client, world["users"]["investigator"])
    token = csrf_token(client, "/")
    own_draft = world["draft"]["own"]
    confirmed = {"csrf_token": token, "reason": "x", "confirm": "y"}
    client.post(f"/requests/{own_draft.public_id}/withdraw", data=confirmed)
    db.session.expire_all()
    assert (
        db.session.get(MlaRequest, own_draft.id).state == "draft"
    )  # investigators cannot withdraw
    client = app.test_client()
    login(client, world["users"]["prosecutor"])
    token = csrf_token(client, "/")
    confirmed = {"csrf_token": token, "reason": "x", "confirm": "y"}
    client.post(f"/requests/{own_draft.public_id}/withdraw", data=confirmed)
    db.session.expire_all()
    assert db.session.get(MlaRequest, own_draft.id).state == "withdrawn"


def test_notes_of_the_matrix_stay_with_the_team(app, world):
    """The 303 answers of the note routes keep a note; the 404 ones keep nothing."""
    from exchange.mla.models import InternalNote

    own = world["review"]["own"]
    for role, kept in (("prosecutor", 1), ("central_authority_officer", 1), ("investigator", 2)):
        client = app.test_client()
        login(client, world["users"][role])
        token = csrf_token(client, "/")
        client.post(f"/requests/{own.public_id}/notes", data={"csrf_token": token, "note": role})
        notes = db.session.query(InternalNote).filter_by(request_id=own.id).all()
        assert len(notes) == kept, role
    assert {services.note_body(n) for n in notes} == {"prosecutor", "investigator"}


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_and_lists_leak_nothing(role, app, world):
    """Lists show exactly what the role may open, in both directions."""
    user = world["users"][role]
    client = app.test_client()
    login(client, user)
    outgoing = client.get("/requests/?direction=outgoing")
    incoming = client.get("/requests/?direction=incoming")
    if not user.can("requests.view"):
        assert outgoing.status_code == incoming.status_code == 403
        return
    listed = outgoing.get_data(as_text=True) + incoming.get_data(as_text=True)
    everything = [r for fam in ("review", "draft", "incoming") for r in world[fam].values()]
    from exchange import policy

    for request in everything:
        db.session.refresh(request)
        visible = policy.can_view_request(user, request)
        assert (f"/requests/{request.public_id}" in listed) == visible, (
            role,
            request.side,
            request.state,
        )
    expected_visible = {
        "prosecutor": {"review.own", "draft.own"},
        "investigator": {"review.own", "draft.own"},
        "central_authority_officer": {
            "review.own",
            "review.unassigned",
            "incoming.own",  # drafts stay with their case team until submitted (finding 12)
        },
        "liaison_officer": set(),
    }[role]
    shown = {
        f"{fam}.{kind}"
        for fam in ("review", "draft", "incoming")
        for kind, r in world[fam].items()
        if f"/requests/{r.public_id}" in listed
    }
    assert shown == expected_visible
    if user.can("cases.view"):
        cases_page = client.get("/cases/").get_data(as_text=True)
        assert (
            "SN-OWN-1" in cases_page
            and "SN-OTHER-2" not in cases_page
            and "NG-FOREIGN-3" not in cases_page
        )


# Routes without an object: what each role gets (200 or 403, never an error page).
COLLECTIONS = {
    "/requests/": {
        "prosecutor": 200,
        "investigator": 200,
        "central_authority_officer": 200,
        "liaison_officer": 200,
        "administrator": 403,
    },
    "/requests/?direction=incoming&overdue=y&mine=y": {
        "prosecutor": 200,
        "investigator": 200,
        "central_authority_officer": 200,
        "liaison_officer": 200,
        "administrator": 403,
    },
    "/requests/statistics": {
        "prosecutor": 403,
        "investigator": 403,
        "central_authority_officer": 200,
        "liaison_officer": 403,
        "administrator": 403,
    },
    "/requests/statistics.csv": {
        "prosecutor": 403,
        "investigator": 403,
        "central_authority_officer": 200,
        "liaison_officer": 403,
        "administrator": 403,
    },
    "/requests/new": {
        "prosecutor": 302,  # no case given: sent to the list of cases, with a hint
        "investigator": 403,
        "central_authority_officer": 403,
        "liaison_officer": 403,
        "administrator": 403,
    },
    "/cases/": {
        "prosecutor": 200,
        "investigator": 200,
        "central_authority_officer": 403,
        "liaison_officer": 403,
        "administrator": 403,
    },
    "/cases/new": {
        "prosecutor": 200,
        "investigator": 403,
        "central_authority_officer": 403,
        "liaison_officer": 403,
        "administrator": 403,
    },
    "/references/": {
        "prosecutor": 200,
        "investigator": 403,
        "central_authority_officer": 200,
        "liaison_officer": 403,
        "administrator": 403,
    },
}
for _expected in COLLECTIONS.values():
    _expected["node_admin"] = 403  # the directory's keepers see no request, case or reference


@pytest.mark.parametrize("role", ROLES)
def test_collection_routes(role, app, world):
    client = app.test_client()
    login(client, world["users"][role])
    for url, expected in COLLECTIONS.items():
        assert client.get(url).status_code == expected[role], (url, role)
    # The list of case references never shows another team's or another authority's.
    if client.get("/references/").status_code == 200:
        page = client.get("/references/").get_data(as_text=True)
        assert (world["reference"]["own"].public_id in page) == (role == "prosecutor")
        assert world["reference"]["unassigned"].public_id not in page
        assert world["reference"]["foreign"].public_id not in page


def test_new_request_without_a_case_explains_where_to_start(app, world):
    client = app.test_client()
    login(client, world["users"]["prosecutor"])
    response = client.get("/requests/new", follow_redirects=True)
    assert response.status_code == 200
    assert "A request belongs to a case" in response.get_data(as_text=True)


VICTIM = "Blessing Okafor"  # the person fill_request gives every request of the world


def test_identities_reach_only_the_case_team_and_the_reviewing_officer(app, world, make_user):
    """An investigator outside the team, an officer of another authority, a liaison officer:
    no identity on any page; the case team and the reviewing officer: the disclosed one."""
    own, case = world["review"]["own"], world["case"]["own"]
    to_ng = world["incoming"]["foreign"]  # SN's request as NG-CA received it, not yet registered
    pages = {
        "request": f"/requests/{own.public_id}",
        "confirmation": f"/requests/{own.public_id}/approve",
        "register": f"/cases/{case.public_id}/persons",
        "edit": f"/cases/{case.public_id}/persons/{case.persons[0].public_id}",
        "draft": f"/requests/{world['draft']['own'].public_id}/edit/persons",
        "received": f"/requests/{to_ng.public_id}",
    }
    sees = {
        "outsider": set(),
        "ng_officer": set(),
        "liaison_officer": set(),
        "prosecutor": {"request", "register", "edit", "draft"},
        "investigator": {"request", "register"},
        "central_authority_officer": {"request", "confirmation"},
    }
    users = {
        **world["users"],
        "outsider": make_user("investigator", "SN-TGI-TAMBA"),
        "ng_officer": make_user("central_authority_officer", "NG-CA"),
    }
    for who, expected in sees.items():
        client = app.test_client()
        login(client, users[who])
        shown = {name for name, url in pages.items() if VICTIM in client.get(url).get_data(True)}
        assert shown == expected, who
