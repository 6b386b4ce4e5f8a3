"""Administration scoped to one's own authority; the directory's standing kept by node administrators.

Finding 2 of the security review: an administrator of one authority rewrote another state's central
authority (kind, e-mail, competences) and so turned off central-authority review.
"""

from __future__ import annotations

import pytest

from exchange.auth import services as accounts
from exchange.directory import queries
from exchange.directory import services as directory
from exchange.directory.models import AuthorityChange
from exchange.extensions import db
from tests.conftest import csrf_token, login

SN_CA_ATTACK = {
    "name": "Ministère de la Justice (edited by NG admin)",
    "kind": "court",
    "email": "attacker@evil.example",
    "measures": "",
}


def _standing(code: str) -> tuple[str, str, list[str]]:
    """Return an authority's kind, e-mail address and competences, fresh from the database."""
    db.session.expire_all()
    found = queries.authority_by_code(db.session, code)
    assert found is not None
    return found.kind, found.email, sorted(c.measure for c in found.competences)


def test_finding_02_admin_cannot_edit_foreign_authority(app, make_user):
    """The review's reproduction: NG-CA's administrator posts to SN-CA's entry; nothing changes."""
    before = _standing("SN-CA")
    ngadmin = make_user("administrator", authority="NG-CA")
    client = app.test_client()
    login(client, ngadmin)
    assert client.get("/directory/authorities/SN-CA/edit").status_code == 404
    token = csrf_token(client, "/directory/authorities/NG-CA/edit")
    response = client.post(
        "/directory/authorities/SN-CA/edit", data={**SN_CA_ATTACK, "csrf_token": token}
    )
    assert response.status_code == 404
    assert _standing("SN-CA") == before == ("central_authority", "", ["*"])
    # Adding authorities (foreign ones included) is for the node administrators only.
    assert client.get("/directory/authorities/new").status_code == 403
    assert "/directory/authorities/new" not in client.get("/directory/").get_data(as_text=True)
    page = client.get("/directory/authorities/SN-CA").get_data(as_text=True)
    assert "/directory/authorities/SN-CA/edit" not in page
    assert db.session.query(AuthorityChange).count() == 0


def test_finding_02_admin_edits_own_entry_but_not_its_kind_or_competences(app, make_user):
    """An administrator keeps their authority's contacts; kind and competences are not theirs."""
    admin = make_user("administrator", authority="SN-TGI-TAMBA")
    kind, _email, competences = _standing("SN-TGI-TAMBA")
    client = app.test_client()
    login(client, admin)
    form = client.get("/directory/authorities/SN-TGI-TAMBA/edit").get_data(as_text=True)
    assert 'name="email"' in form
    assert 'name="kind"' not in form and 'name="measures"' not in form
    token = csrf_token(client, "/directory/authorities/SN-TGI-TAMBA/edit")
    response = client.post(
        "/directory/authorities/SN-TGI-TAMBA/edit",
        data={
            "name": "Parquet de Tambacounda",
            "kind": "central_authority",  # not offered: ignored
            "measures": "*",
            "email": "parquet.tamba@justice.sn",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    assert _standing("SN-TGI-TAMBA") == (kind, "parquet.tamba@justice.sn", competences)
    # The service refuses it too, whatever the view sends.
    found = queries.authority_by_code(db.session, "SN-TGI-TAMBA")
    with pytest.raises(directory.DirectoryError, match="forbidden"):
        directory.update_authority(db.session, found, actor=admin, kind="central_authority")
    with pytest.raises(directory.DirectoryError, match="forbidden"):
        directory.update_authority(db.session, found, actor=admin, measures=["*"])


def test_finding_02_node_admin_changes_a_foreign_kind_with_a_record(app, make_user):
    """A node administrator edits any entry; each change keeps who, when, before and after."""
    keeper = make_user("node_admin", authority="SN-TGI-TAMBA", name="Khady Diop")
    client = app.test_client()
    login(client, keeper)
    token = csrf_token(client, "/directory/authorities/NG-NAPTIP/edit")
    response = client.post(
        "/directory/authorities/NG-NAPTIP/edit",
        data={
            "name": "NAPTIP",
            "kind": "central_authority",
            "measures": ["survivor_repatriation", "taking_evidence"],
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    kind, _email, competences = _standing("NG-NAPTIP")
    assert kind == "central_authority"
    assert competences == ["survivor_repatriation", "taking_evidence"]
    found = queries.authority_by_code(db.session, "NG-NAPTIP")
    (change,) = queries.authority_changes(db.session, found)
    assert change.actor_id == keeper.id and change.changed_at is not None
    assert change.changes["kind"] == ["special_investigative_unit", "central_authority"]
    assert change.changes["competences"][1] == ["survivor_repatriation", "taking_evidence"]
    assert "email" not in change.changes  # only what changed
    page = client.get("/directory/authorities/NG-NAPTIP").get_data(as_text=True)
    assert "Khady Diop (SN-TGI-TAMBA)" in page and "Special investigative unit" in page
    # Saving again unchanged records nothing more.
    data = {"name": "NAPTIP", "kind": "central_authority", "csrf_token": token}
    data["measures"] = ["survivor_repatriation", "taking_evidence"]
    assert client.post("/directory/authorities/NG-NAPTIP/edit", data=data).status_code == 303
    assert len(queries.authority_changes(db.session, found)) == 1


def test_finding_02_node_admin_adds_an_authority_with_a_record(app, make_user):
    """A new entry is recorded as a change from nothing, with its author."""
    keeper = make_user("node_admin", authority="SN-CA")
    client = app.test_client()
    login(client, keeper)
    assert "/directory/authorities/new" in client.get("/directory/").get_data(as_text=True)
    token = csrf_token(client, "/directory/authorities/new")
    response = client.post(
        "/directory/authorities/new",
        data={
            "code": "GH-AG",
            "state": "GH",
            "name": "Attorney-General's Department",
            "kind": "prosecution_office",
            "measures": "taking_evidence",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    found = queries.authority_by_code(db.session, "GH-AG")
    (change,) = queries.authority_changes(db.session, found)
    assert change.actor_id == keeper.id
    assert change.changes["kind"] == [None, "prosecution_office"]


def test_finding_02_admin_cannot_change_own_roles(app, make_user):
    """Issue 15 item 5: an administrator removed her own Administrator role; no longer."""
    admin = make_user("administrator", authority="SN-CA")
    make_user("administrator", authority="SN-CA")  # not the last one: only the own-roles rule
    client = app.test_client()
    login(client, admin)
    page = client.get(f"/admin/users/{admin.public_id}").get_data(as_text=True)
    assert "You cannot change your own roles." in page and "Save roles" not in page
    token = csrf_token(client, "/admin/users")
    for roles in (["liaison_officer"], ["administrator", "node_admin"]):
        response = client.post(
            f"/admin/users/{admin.public_id}",
            data={"roles": roles, "csrf_token": token},
            follow_redirects=True,
        )
        assert response.status_code == 200
    db.session.refresh(admin)
    assert admin.roles == {"administrator"}
    with pytest.raises(accounts.AccountError, match="own_roles"):
        accounts.set_roles(db.session, admin, {"prosecutor"}, actor=admin)


def test_finding_02_admin_cannot_grant_or_withdraw_node_wide_role(app, make_user):
    """Only a node administrator hands out the node-wide role; others keep it when edited."""
    admin = make_user("administrator", authority="SN-CA")
    colleague = make_user("liaison_officer", authority="SN-CA")
    keeper = make_user(("liaison_officer", "node_admin"), authority="SN-CA")
    client = app.test_client()
    login(client, admin)
    assert "Node administrator" not in client.get("/admin/users/new").get_data(as_text=True)
    token = csrf_token(client, "/admin/users")
    refused = client.post(
        f"/admin/users/{colleague.public_id}",
        data={"roles": ["liaison_officer", "node_admin"], "csrf_token": token},
    )
    assert refused.status_code == 200
    assert "not a valid choice" in refused.get_data(as_text=True)
    kept = client.post(
        f"/admin/users/{keeper.public_id}",
        data={"roles": ["prosecutor"], "csrf_token": token},
    )
    assert kept.status_code == 303
    db.session.refresh(colleague)
    db.session.refresh(keeper)
    assert colleague.roles == {"liaison_officer"}
    assert keeper.roles == {"prosecutor", "node_admin"}
    with pytest.raises(accounts.AccountError, match="role_not_grantable"):
        accounts.set_roles(db.session, colleague, {"node_admin"}, actor=admin)


def test_finding_02_node_admin_who_administers_may_grant_node_wide_role(app, make_user):
    """A node administrator who also administers their authority grants the role there."""
    keeper = make_user(("administrator", "node_admin"), authority="SN-CA")
    colleague = make_user("administrator", authority="SN-CA")
    client = app.test_client()
    login(client, keeper)
    token = csrf_token(client, "/admin/users")
    response = client.post(
        f"/admin/users/{colleague.public_id}",
        data={"roles": ["administrator", "node_admin"], "csrf_token": token},
    )
    assert response.status_code == 303
    db.session.refresh(colleague)
    assert colleague.roles == {"administrator", "node_admin"}


def test_finding_02_last_administrator_cannot_be_removed_or_disabled(app, make_user, runner):
    """An authority keeps an active administrator, even against the operator's command line."""
    admin = make_user("administrator", authority="NG-CA")
    removed = runner.invoke(args=["user", "roles", admin.email, "--remove", "administrator"])
    assert removed.exit_code != 0 and "last active administrator" in removed.output
    disabled = runner.invoke(args=["user", "disable", admin.email])
    assert disabled.exit_code != 0 and "last active administrator" in disabled.output
    db.session.expire_all()
    assert admin.roles == {"administrator"} and admin.active
    # With a second administrator, the first may go; the second is then the last one.
    second = make_user("administrator", authority="NG-CA")
    assert runner.invoke(args=["user", "disable", admin.email]).exit_code == 0
    with pytest.raises(accounts.AccountError, match="last_administrator"):
        accounts.set_roles(db.session, second, {"prosecutor"})
    # The command line, the node's root, may still change anyone's roles otherwise.
    assert runner.invoke(args=["user", "roles", second.email, "--add", "node_admin"]).exit_code == 0
    db.session.expire_all()
    assert second.roles == {"administrator", "node_admin"}


def test_finding_02_node_admin_manages_no_users(app, make_user):
    """The node-wide role keeps the directory, not other authorities' accounts."""
    keeper = make_user("node_admin", authority="SN-CA")
    foreign = make_user("prosecutor", authority="NG-CA")
    client = app.test_client()
    login(client, keeper)
    assert client.get("/admin/users").status_code == 403
    assert client.get(f"/admin/users/{foreign.public_id}").status_code == 403


def test_finding_02_operator_changes_are_recorded_too(app):
    """The command line and a seed refresh that sets a kind back leave a record, by nobody."""
    found = queries.authority_by_code(db.session, "NG-NAPTIP")
    directory.update_authority(db.session, found, actor=None, kind="court")
    directory.seed_directory(db.session)
    db.session.commit()
    changes = queries.authority_changes(db.session, found)
    assert [c.changes for c in changes] == [
        {"kind": ["court", "special_investigative_unit"]},
        {"kind": ["special_investigative_unit", "court"]},
    ]
    assert all(c.actor_id is None for c in changes)
    # A refresh that changes nothing records nothing.
    directory.seed_directory(db.session)
    assert len(queries.authority_changes(db.session, found)) == 2
