"""A case's register of persons through the API: its prosecutor enters and changes a person
(stored encrypted), the team reads identities and measures, nobody else learns the case exists;
refusals of the cases area's services come back as problem details in the user's language."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from exchange.cases.models import CasePerson
from exchange.extensions import db
from tests.api.conftest import bearer, sign_in


def test_the_team_keeps_the_register_and_nobody_else_sees_it(
    client: FlaskClient, make_user: Any, make_case: Any
) -> None:
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    investigator = make_user("investigator", "SN-TGI-TAMBA")
    outsider = make_user("prosecutor", "SN-TGI-TAMBA")
    case = make_case(prosecutor, team=(investigator,), number="SN-PERS-1")
    auth = bearer(sign_in(client, prosecutor)["access_token"])
    url = f"/api/v1/cases/{case.public_id}/persons"
    suspect = client.post(
        url, json={"identity": {"name": "Tunde Bello"}, "capacities": ["suspect"]}, headers=auth
    )
    assert suspect.status_code == 201, suspect.get_data(as_text=True)
    victim = client.post(
        url,
        json={
            "identity": {"name": "Blessing Okafor", "nationality": "NG"},
            "capacities": ["victim", "minor"],
            "protection": {"pseudonym": "V1", "no_contact_with": [suspect.get_json()["id"]]},
        },
        headers=auth,
    )
    assert victim.status_code == 201, victim.get_data(as_text=True)
    made = victim.get_json()
    assert made["identity"]["name"] == "Blessing Okafor" and made["label"] == "P2"
    assert made["protection"]["no_contact_with"] == [suspect.get_json()["id"]]
    assert made["warnings"]  # a minor without a guardian
    db.session.expire_all()
    stored = db.session.scalar(select(CasePerson).where(CasePerson.public_id == made["id"]))
    assert "Blessing" not in stored.identity_enc  # encrypted at rest

    changed = client.patch(
        f"{url}/{made['id']}", json={"protection": {"guardian": "Mrs A. Diallo"}}, headers=auth
    )
    assert changed.status_code == 200
    assert changed.get_json()["protection"] == {"guardian": "Mrs A. Diallo"}
    assert changed.get_json()["identity"]["nationality"] == "NG"  # what was not sent stays

    team = bearer(sign_in(client, investigator)["access_token"])
    names = [p["identity"]["name"] for p in client.get(url, headers=team).get_json()["items"]]
    assert names == ["Tunde Bello", "Blessing Okafor"]
    assert client.post(url, json={"identity": {"name": "X"}}, headers=team).status_code == 403

    other = bearer(sign_in(client, outsider)["access_token"])
    for response in (
        client.get(url, headers=other),
        client.patch(f"{url}/{made['id']}", json={"capacities": []}, headers=other),
        client.post(url, json={"identity": {"name": "X"}}, headers=other),
    ):
        assert response.status_code == 404
        assert "SN-PERS-1" not in response.get_data(as_text=True)

    # The services' refusals: no name, a no-contact that is not a suspect of the case.
    nameless = client.post(
        url, json={"identity": {"nationality": "SN"}}, headers={**auth, "Accept-Language": "fr"}
    )
    assert nameless.status_code == 422 and nameless.get_json()["error"] == "missing_name"
    assert nameless.headers["Content-Type"] == "application/problem+json"
    wrong = client.patch(
        f"{url}/{made['id']}", json={"protection": {"no_contact_with": [made["id"]]}}, headers=auth
    )
    assert wrong.status_code == 422 and wrong.get_json()["error"] == "bad_no_contact"
    assert client.post(url, json={"identity": {"shoe_size": "44"}}, headers=auth).status_code == 422
