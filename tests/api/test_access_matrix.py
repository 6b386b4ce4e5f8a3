"""The portal's access matrix replayed over every API operation: roles × own, unassigned and
foreign objects (tests/mla/test_access_matrix.py builds the same world).

For each operation the portal's answer on its page is the reference: what the portal lets a
role reach, the API lets it reach; what the portal hides (404), the API hides too, answering
exactly as for an object that does not exist; what the portal refuses, the API refuses. No
refused or hidden answer names the object.
"""

from __future__ import annotations

import io
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from exchange.extensions import db
from tests.api.conftest import sign_in
from tests.mla.test_access_matrix import KINDS, ROLES, _marker
from tests.mla.test_access_matrix import ROUTES as PORTAL
from tests.mla.test_access_matrix import world as world

IF_MATCH_ANY = {"If-Match": "*"}

# operation -> (method, family, url, json body, extra headers, the portal route it mirrors)
OPERATIONS: dict[str, tuple[str, str, Any, Any, dict[str, str], str]] = {
    "get_case": ("GET", "case", lambda o: f"/cases/{o.public_id}", None, {}, "case_view"),
    "get_team": ("GET", "case", lambda o: f"/cases/{o.public_id}/team", None, {}, "case_view"),
    "case_requests": (
        "GET",
        "case",
        lambda o: f"/cases/{o.public_id}/requests",
        None,
        {},
        "case_view",
    ),
    "list_case_persons": (
        "GET",
        "case",
        lambda o: f"/cases/{o.public_id}/persons",
        None,
        {},
        "case_persons",
    ),
    "get_request": (
        "GET",
        "review",
        lambda o: f"/requests/{o.public_id}",
        None,
        {},
        "request_view",
    ),
    "get_incoming": (
        "GET",
        "incoming",
        lambda o: f"/requests/{o.public_id}",
        None,
        {},
        "incoming_view",
    ),
    "events": (
        "GET",
        "review",
        lambda o: f"/requests/{o.public_id}/events",
        None,
        {},
        "request_view",
    ),
    "list_annexes": (
        "GET",
        "review",
        lambda o: f"/requests/{o.public_id}/annexes",
        None,
        {},
        "request_view",
    ),
    "download_annex": (
        "GET",
        "review",
        lambda o: f"/requests/{o.public_id}/annexes/{o.annexes[0].sha256}",
        None,
        {},
        "request_annex",
    ),
    "list_messages": (
        "GET",
        "review",
        lambda o: f"/requests/{o.public_id}/messages",
        None,
        {},
        "request_view",
    ),
    "get_reference": (
        "GET",
        "reference",
        lambda o: f"/references/{o.public_id}",
        None,
        {},
        "reference_view",
    ),
    "case_references": (
        "GET",
        "case",
        lambda o: f"/cases/{o.public_id}/references",
        None,
        {},
        "case_view",
    ),
    "reference_messages": (
        "GET",
        "reference",
        lambda o: f"/references/{o.public_id}/messages",
        None,
        {},
        "reference_view",
    ),
    # Writes, in an order where none takes away what a later one needs.
    "link_reference": (
        "POST",
        "reference",
        lambda o: f"/references/{o.public_id}/link",
        {"case_id": "x"},
        IF_MATCH_ANY,
        "reference_link",
    ),
    "reference_message": (
        "POST",
        "reference",
        lambda o: f"/references/{o.public_id}/messages",
        {"kind": "consultation", "body": "?"},
        {},
        "reference_message",
    ),
    "edit_case": (
        "PATCH",
        "case",
        lambda o: f"/cases/{o.public_id}",
        {"stage": "trial"},
        {},
        "case_edit",
    ),
    "add_member": (
        "POST",
        "case",
        lambda o: f"/cases/{o.public_id}/team",
        {"user_id": "nobody"},
        {},
        "case_team",
    ),
    "share_reference": (
        "POST",
        "case",
        lambda o: f"/cases/{o.public_id}/references",
        {"counterpart": "NG-CA", "contact_point": "Parquet", "disclose": []},
        {},
        "case_share",
    ),
    "add_case_person": (
        "POST",
        "case",
        lambda o: f"/cases/{o.public_id}/persons",
        {"identity": {"name": "Added Person"}, "capacities": ["witness"]},
        {},
        "case_person_add",
    ),
    "edit_case_person": (
        "PATCH",
        "case",
        lambda o: f"/cases/{o.public_id}/persons/{o.persons[0].public_id}",
        {"protection": {"interpreter_language": "Hausa"}},
        {},
        "case_person_edit",
    ),
    "create_request": (
        "POST",
        "case",
        lambda _o: "/requests",
        lambda o: {"case_id": o.public_id, "request_type": "records", "counterpart": "NG-CA"},
        {},
        "request_new",
    ),
    "edit_draft": (
        "PATCH",
        "draft",
        lambda o: f"/requests/{o.public_id}",
        {"confidential": True},
        IF_MATCH_ANY,
        "request_edit",
    ),
    "add_person": (
        "POST",
        "draft",
        lambda o: f"/requests/{o.public_id}/persons",
        {"identity": {"name": "A. Person"}},
        {},
        "request_edit",
    ),
    "upload_annex": (
        "POST",
        "draft",
        lambda o: f"/requests/{o.public_id}/annexes",
        None,
        {},
        "request_edit",
    ),
    "message": (
        "POST",
        "review",
        lambda o: f"/requests/{o.public_id}/messages",
        {"kind": "progress_inquiry", "body": "?"},
        {},
        "request_message",
    ),
    "note": (
        "POST",
        "review",
        lambda o: f"/requests/{o.public_id}/messages",
        {"kind": "note", "body": "For the team."},
        {},
        "request_note",
    ),
    "draft_note": (
        "POST",
        "draft",
        lambda o: f"/requests/{o.public_id}/messages",
        {"kind": "note", "body": "For the team."},
        {},
        "draft_note",
    ),
    "incoming_note": (
        "POST",
        "incoming",
        lambda o: f"/requests/{o.public_id}/messages",
        {"kind": "note", "body": "For the team."},
        {},
        "incoming_note",
    ),
    "register": (
        "POST",
        "incoming",
        lambda o: f"/requests/{o.public_id}/moves/register",
        {"reference": "DACG/1"},
        {},
        "incoming_register",
    ),
    "approve": (
        "POST",
        "review",
        lambda o: f"/requests/{o.public_id}/approve",
        None,
        {},
        "request_approve",
    ),
    "remove_person": (
        "DELETE",
        "draft",
        lambda o: f"/requests/{o.public_id}/persons/{o.persons[0].public_id}",
        None,
        {},
        "request_person_remove",
    ),
    "submit": (
        "POST",
        "draft",
        lambda o: f"/requests/{o.public_id}/submit",
        None,
        {},
        "request_submit",
    ),
    "withdraw": (
        "POST",
        "draft",
        lambda o: f"/requests/{o.public_id}/moves/withdraw",
        {"reason": "x"},
        {},
        "request_withdraw",
    ),
    "remove_member": (
        "DELETE",
        "case",
        lambda o: f"/cases/{o.public_id}/team/{o.members[-1].user.public_id}",
        None,
        {},
        "case_team_remove",
    ),
}


def _nobody() -> SimpleNamespace:
    """Return a stand-in for an object that does not exist."""
    fake = str(uuid.uuid4())
    return SimpleNamespace(
        public_id=fake,
        annexes=[SimpleNamespace(sha256="0" * 64)],
        persons=[SimpleNamespace(public_id=fake)],
        members=[SimpleNamespace(user=SimpleNamespace(public_id=fake))],
    )


def _class(response: Any) -> str:
    """Name what an answer means: reached (done, or refused on its merits), hidden, no permission."""
    if response.status_code == 404:
        return "hidden"
    if response.status_code == 403 and "error" not in (response.get_json() or {}):
        return "no_permission"  # the gate, before any object is looked up
    if response.status_code == 401:
        return "unauthenticated"
    return "reached"


def _call(client: Any, method: str, url: str, body: Any, headers: dict[str, str], obj: Any) -> Any:
    """Make one API call with the role's bearer token."""
    from tests import files

    url = "/api/v1" + url
    if url.endswith("/annexes") and method == "POST":
        return client.post(
            url,
            data={"kind": "supporting", "file": (io.BytesIO(files.pdf("x")), "x.pdf")},
            headers=headers,
            content_type="multipart/form-data",
        )
    payload = body(obj) if callable(body) else body
    return client.open(url, method=method, json=payload, headers=headers)


@pytest.mark.parametrize("role", ROLES)
def test_api_access_matrix(role: str, app: Flask, world: dict[str, Any]) -> None:
    client = app.test_client()
    auth = {"Authorization": "Bearer " + sign_in(client, world["users"][role])["access_token"]}
    for name, (method, family, url_of, body, extra, portal) in OPERATIONS.items():
        expected = PORTAL[portal][4][role]
        headers = {**auth, **extra}
        absent = _call(client, method, url_of(_nobody()), body, headers, _nobody())
        assert absent.status_code in (403, 404), (name, role, absent.status_code)
        for kind, code in zip(KINDS, expected, strict=True):
            db.session.expire_all()
            obj = world[family][kind]
            response = _call(client, method, url_of(obj), body, headers, obj)
            got = _class(response)
            text = response.get_data().decode("utf-8", "replace")
            where = (name, role, kind, response.status_code, text[:300])
            assert got != "unauthenticated", where
            if code in (200, 303):
                assert got == "reached", where
                if method == "GET":
                    assert response.status_code == 200, where
            elif code == 404:
                # Hidden as the portal hides it: the same answer as for no object at all.
                assert response.status_code == absent.status_code, where
            else:
                assert got != "reached" or response.status_code >= 400, where
            if response.status_code >= 400:
                assert _marker(obj) not in text, where
    _check_lists(client, auth, role, world)


LISTS = {
    "/requests?direction=outgoing": ("review", "request_view"),
    "/requests?direction=incoming": ("incoming", "incoming_view"),
    "/cases": ("case", "case_view"),
    "/references": ("reference", "reference_view"),
}


def _check_lists(client: Any, auth: dict[str, str], role: str, world: dict[str, Any]) -> None:
    """Check that the API's lists show only what the portal lets ``role`` open."""
    for url, (family, portal) in LISTS.items():
        response = client.get("/api/v1" + url, headers=auth)
        text = response.get_data(as_text=True)
        for kind, code in zip(KINDS, PORTAL[portal][4][role], strict=True):
            obj = world[family][kind]
            if code != 200:
                assert obj.public_id not in text, (url, role, kind)
                if family != "reference":  # both copies of a reference carry the same one
                    assert _marker(obj) not in text, (url, role, kind)
