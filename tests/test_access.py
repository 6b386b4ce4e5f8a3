"""Deny by default: every route needs a login and a permission; nothing of another authority leaks."""

from __future__ import annotations

import pytest
from flask import Flask

from exchange.auth.permissions import PERMISSION_ATTRIBUTE, ROLES
from exchange.security import ACCOUNT_ENDPOINTS, PUBLIC_ENDPOINTS
from tests.conftest import csrf_token, login


def _concrete_url(app: Flask, rule) -> str:  # type: ignore[no-untyped-def]
    values = {
        arg: "SN-CA" if arg == "code" else "00000000-0000-0000-0000-000000000000"
        for arg in rule.arguments
    }
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def test_every_route_is_public_or_declares_a_permission(app):
    """A view without a permission (and not on the allow-list) would be refused to all: flag it."""
    undeclared = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint in PUBLIC_ENDPOINTS | ACCOUNT_ENDPOINTS:
            continue
        if getattr(view, PERMISSION_ATTRIBUTE, None) is None:
            undeclared.append(rule.endpoint)
    assert undeclared == []


def test_anonymous_visitors_reach_only_public_routes(app, client):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _concrete_url(app, rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            # A change without a CSRF token is refused before anything else (400).
            refused = (302, 401) if method == "GET" else (302, 400, 401)
            assert response.status_code in refused, (method, url, response.status_code)
            if response.status_code == 302:
                assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_403_on_routes_it_lacks(app, make_user, role):
    user = make_user(role, authority="SN-CA")
    client = app.test_client()
    login(client, user)
    # The API takes a bearer token, never the cookie: its operations get the user's own token.
    from exchange.api.tokens import create_personal_token
    from exchange.extensions import db

    _row, token = create_personal_token(db.session, user, name="access test", scope="read")
    db.session.commit()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in PUBLIC_ENDPOINTS | ACCOUNT_ENDPOINTS:
            continue
        permission = getattr(app.view_functions[rule.endpoint], PERMISSION_ATTRIBUTE)
        api = rule.endpoint.startswith("api.")
        headers = {"Authorization": f"Bearer {token}"} if api else {}
        response = client.get(_concrete_url(app, rule), headers=headers)
        if user.can(permission):
            # 422: an API operation whose query parameters are required (none is sent here).
            expected = (200, 302, 404, 422) if api else (200, 302, 404)
            assert response.status_code in expected, (rule.endpoint, response.status_code)
            if response.status_code == 302:  # e.g. a missing parameter: never back to sign-in
                assert "/login" not in response.headers["Location"], rule.endpoint
        else:
            assert response.status_code == 403, (rule.endpoint, response.status_code)


def test_admin_lists_only_own_authority_users(app, make_user):
    admin = make_user("administrator", authority="SN-CA")
    colleague = make_user("liaison_officer", authority="SN-CA")
    foreign = make_user("prosecutor", authority="NG-CA", name="Chinedu Okafor")
    client = app.test_client()
    login(client, admin)
    page = client.get("/admin/users").get_data(as_text=True)
    assert colleague.email in page
    assert foreign.email not in page and "Chinedu Okafor" not in page


def test_admin_cannot_open_or_change_another_authority_user(app, make_user):
    admin = make_user("administrator", authority="SN-CA")
    foreign = make_user("prosecutor", authority="NG-CA")
    client = app.test_client()
    login(client, admin)
    assert client.get(f"/admin/users/{foreign.public_id}").status_code == 404
    token = csrf_token(client, "/admin/users")
    for action in ("disable", "enable", "reset"):
        response = client.post(
            f"/admin/users/{foreign.public_id}/{action}", data={"csrf_token": token}
        )
        assert response.status_code == 404, action
    response = client.post(
        f"/admin/users/{foreign.public_id}", data={"roles": ["administrator"], "csrf_token": token}
    )
    assert response.status_code == 404
    from exchange.extensions import db

    db.session.refresh(foreign)
    assert foreign.active and foreign.roles == {"prosecutor"}


def test_admin_manages_own_authority_user(app, make_user):
    admin = make_user("administrator", authority="SN-CA")
    colleague = make_user("liaison_officer", authority="SN-CA")
    client = app.test_client()
    login(client, admin)
    token = csrf_token(client, "/admin/users")
    response = client.post(
        f"/admin/users/{colleague.public_id}",
        data={"roles": ["liaison_officer", "prosecutor"], "csrf_token": token},
    )
    assert response.status_code == 303
    response = client.post(
        f"/admin/users/{colleague.public_id}/disable", data={"csrf_token": token}
    )
    assert response.status_code == 303
    from exchange.extensions import db

    db.session.refresh(colleague)
    assert colleague.roles == {"liaison_officer", "prosecutor"}
    assert not colleague.active


def test_admin_creates_user_with_enrolment_link(app, make_user):
    admin = make_user("administrator", authority="SN-CA")
    client = app.test_client()
    login(client, admin)
    token = csrf_token(client, "/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={
            "email": "new.officer@justice.gouv.sn",
            "display_name": "Nouvel Agent",
            "roles": ["central_authority_officer"],
            "csrf_token": token,
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "/enrol/" in page
    from exchange.auth.services import find_user
    from exchange.extensions import db

    created = find_user(db.session, "new.officer@justice.gouv.sn")
    assert created is not None and created.authority.code == "SN-CA"


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in response.get_data(as_text=True)


def test_security_headers_come_once_and_leave_a_view_s_own(app, client, monkeypatch):
    from exchange import security

    def own_headers():  # a public view that sets two of the headers itself
        return "", 200, {"cache-control": "private, max-age=60", "X-Frame-Options": "SAMEORIGIN"}

    app.add_url_rule("/own-headers", endpoint="own_headers", view_func=own_headers)
    monkeypatch.setattr(security, "PUBLIC_ENDPOINTS", PUBLIC_ENDPOINTS | {"own_headers"})
    response = client.get("/own-headers")
    assert response.headers.getlist("Cache-Control") == ["private, max-age=60"]
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    for name, value in security.SECURITY_HEADERS[:2] + security.SECURITY_HEADERS[3:]:
        assert response.headers.getlist(name) == [value]
    page = client.get("/login")
    assert page.headers.getlist("Cache-Control") == ["no-store"]
    assert page.headers.getlist("X-Frame-Options") == ["DENY"]
    assert "Strict-Transport-Security" not in page.headers  # development: no HSTS


def test_admin_cannot_disable_own_account(app, make_user):
    admin = make_user("administrator", authority="SN-CA")
    client = app.test_client()
    login(client, admin)
    token = csrf_token(client, "/admin/users")
    response = client.post(
        f"/admin/users/{admin.public_id}/disable", data={"csrf_token": token}, follow_redirects=True
    )
    assert "You cannot disable your own account." in response.get_data(as_text=True)
    from exchange.extensions import db

    db.session.refresh(admin)
    assert admin.active


# Directory entries: what each role gets on its own authority's entry, a foreign one, and "add".
DIRECTORY_MATRIX = {
    "prosecutor": (403, 403, 403),
    "investigator": (403, 403, 403),
    "central_authority_officer": (403, 403, 403),
    "liaison_officer": (403, 403, 403),
    "administrator": (200, 404, 403),
    "node_admin": (200, 200, 200),
}


@pytest.mark.parametrize("role", ROLES)
def test_directory_entries_by_role(app, make_user, role):
    """An administrator edits their own entry only; the node administrator any entry, and adds."""
    user = make_user(role, authority="SN-CA")
    client = app.test_client()
    login(client, user)
    codes = tuple(
        client.get(url).status_code
        for url in (
            "/directory/authorities/SN-CA/edit",
            "/directory/authorities/NG-CA/edit",
            "/directory/authorities/new",
        )
    )
    assert codes == DIRECTORY_MATRIX[role]
