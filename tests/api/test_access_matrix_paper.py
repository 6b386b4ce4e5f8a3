"""The access matrix over the API's documents and paper operations: roles × own, unassigned and
foreign objects, the portal's answer taken live as the reference.

For each operation the portal page that makes the same check is opened by the same role: a
request's document renders where the request page opens (the request's policy); bundles and
dispatches are reached where the liaison officer's desk page of the request (or of the job)
opens (``policy.can_handle_paper``). What the portal hides, the API hides exactly as an object
that does not exist; what the portal refuses (no permission), the API refuses; no refused or
hidden answer names the request.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from exchange.db import utcnow
from exchange.documents.models import BundleJob, PaperDispatch
from exchange.extensions import db
from tests.api.conftest import sign_in
from tests.api.test_access_matrix import _call, _class, _nobody
from tests.conftest import login
from tests.mla.test_access_matrix import KINDS, ROLES, _marker
from tests.mla.test_access_matrix import world as world

Operation = tuple[str, str, Any, Any, Any]
# operation -> (method, family, API url, json body, the portal page that makes the same check)
OPERATIONS: dict[str, Operation] = {
    "render_letter": (
        "GET",
        "review",
        lambda o: f"/requests/{o.public_id}/documents/letter",
        None,
        lambda o: f"/requests/{o.public_id}",
    ),
    "render_incoming_letter": (
        "GET",
        "incoming",
        lambda o: f"/requests/{o.public_id}/documents/letter?also=fr",
        None,
        lambda o: f"/requests/{o.public_id}",
    ),
    "list_bundles": (
        "GET",
        "review",
        lambda o: f"/requests/{o.public_id}/bundles",
        None,
        lambda o: f"/paper/requests/{o.public_id}",
    ),
    "list_incoming_bundles": (
        "GET",
        "incoming",
        lambda o: f"/requests/{o.public_id}/bundles",
        None,
        lambda o: f"/paper/requests/{o.public_id}",
    ),
    "get_bundle": (
        "GET",
        "job",
        lambda o: f"/bundles/{o.public_id}",
        None,
        lambda o: f"/paper/bundles/{o.public_id}",
    ),
    "download_bundle": (
        "GET",
        "job",
        lambda o: f"/bundles/{o.public_id}/pdf",
        None,
        lambda o: f"/paper/bundles/{o.public_id}",
    ),
    "list_dispatches": (
        "GET",
        "review",
        lambda o: f"/requests/{o.public_id}/dispatches",
        None,
        lambda o: f"/paper/requests/{o.public_id}",
    ),
    # Writes.
    "create_bundle": (
        "POST",
        "review",
        lambda o: f"/requests/{o.public_id}/bundles",
        {"lang": "fr"},
        lambda o: f"/paper/requests/{o.public_id}",
    ),
    "create_incoming_bundle": (
        "POST",
        "incoming",
        lambda o: f"/requests/{o.public_id}/bundles",
        {"lang": "en"},
        lambda o: f"/paper/requests/{o.public_id}",
    ),
    "create_dispatch": (
        "POST",
        "review",
        lambda o: f"/requests/{o.public_id}/dispatches",
        {"channel": "courier", "on": utcnow().date().isoformat()},
        lambda o: f"/paper/requests/{o.public_id}",
    ),
    "record_receipt": (
        "POST",
        "dispatch",
        lambda o: f"/dispatches/{o.public_id}/receipt",
        {"on": utcnow().date().isoformat(), "reference": "R/1"},
        lambda o: f"/paper/requests/{o.request.public_id}",
    ),
}
# A bundle not built yet is answered 409 (reached: it exists, for this user).
NOT_YET = {"download_bundle": 409}


@pytest.fixture
def paper_world(world: dict[str, Any]) -> dict[str, Any]:
    """Add to the world a queued bundle job and a dispatch awaiting receipt per reviewed request."""
    jobs, dispatches = {}, {}
    for kind, request in world["review"].items():
        job = BundleJob(request_id=request.id, lang="en", parameters="{}")
        sent = PaperDispatch(
            request_id=request.id,
            subject="request",
            channel="diplomatic_pouch",
            reference=f"NV/{kind}",
            dispatched_on=utcnow().date(),
        )
        db.session.add_all([job, sent])
        jobs[kind], dispatches[kind] = job, sent
    db.session.commit()
    return {**world, "job": jobs, "dispatch": dispatches}


def _request_of(obj: Any) -> Any:
    """Return the request an object of the matrix belongs to."""
    return getattr(obj, "request", None) or obj


def _portal_class(client: Any, url: str) -> str:
    """Classify the portal's answer to a page: reached, hidden (404) or no permission (403)."""
    code = client.get(url).status_code
    assert code in (200, 403, 404), (url, code)
    return {200: "reached", 403: "no_permission", 404: "hidden"}[code]


@pytest.mark.parametrize("role", ROLES)
def test_paper_access_matrix(role: str, app: Flask, paper_world: dict[str, Any]) -> None:
    user = paper_world["users"][role]
    portal = app.test_client()
    login(portal, user)
    expected = {
        (name, kind): _portal_class(portal, page(paper_world[family][kind]))
        for name, (_m, family, _u, _b, page) in OPERATIONS.items()
        for kind in KINDS
    }
    client = app.test_client()
    auth = {"Authorization": "Bearer " + sign_in(client, user)["access_token"]}
    reached = 0
    for name, (method, family, url_of, body, _page) in OPERATIONS.items():
        absent = _call(client, method, url_of(_nobody()), body, auth, _nobody())
        assert absent.status_code in (403, 404), (name, role, absent.status_code)
        for kind in KINDS:
            db.session.expire_all()
            obj = paper_world[family][kind]
            response = _call(client, method, url_of(obj), body, auth, obj)
            got = _class(response)
            text = response.get_data().decode("utf-8", "replace")
            where = (name, role, kind, response.status_code, text[:300])
            want = expected[(name, kind)]
            if want == "reached":
                reached += 1
                assert got == "reached", where
                if method == "GET":
                    assert response.status_code == NOT_YET.get(name, 200), where
            elif want == "hidden":
                assert response.status_code == absent.status_code == 404, where
            else:
                assert response.status_code == 403 and got == "no_permission", where
            if response.status_code >= 400:
                assert _marker(_request_of(obj)) not in text, where
    # The matrix reached something for the roles that have a desk, nothing for the others.
    assert (reached > 0) == (
        role in ("liaison_officer", "prosecutor", "investigator", "central_authority_officer")
    ), reached
