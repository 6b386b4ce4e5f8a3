"""Case references through the API: share, receive, link to an own case (ETag / If-Match), the
consultation thread, and a case's references; the other side sees the link."""

from __future__ import annotations

from flask.testing import FlaskClient

from exchange.cases.models import CaseReference
from exchange.extensions import db
from tests.mla.conftest import deliver_locally


def test_a_case_reference_shared_received_linked_and_discussed(
    client: FlaskClient, make_user, make_case, api_headers
) -> None:
    sn = make_user("prosecutor", "SN-TGI-TAMBA")
    ng = make_user("prosecutor", "NG-CA")
    sn_case = make_case(sn, number="SN-REF-1")
    ng_case = make_case(ng, number="NG-REF-9")
    ours, theirs = api_headers(sn), api_headers(ng)

    shared = client.post(
        f"/api/v1/cases/{sn_case.public_id}/references",
        json={"counterpart": "NG-CA", "contact_point": "Parquet de Tambacounda"},
        headers=ours,
    )
    assert shared.status_code == 201, shared.get_json()
    listed = client.get(f"/api/v1/cases/{sn_case.public_id}/references", headers=ours)
    assert [r["id"] for r in listed.get_json()["items"]] == [shared.get_json()["id"]]
    deliver_locally()
    db.session.commit()
    received = db.session.query(CaseReference).filter_by(direction="incoming").one()
    url = f"/api/v1/references/{received.public_id}"

    read = client.get(url, headers=theirs)
    assert read.status_code == 200
    etag = read.headers["ETag"]
    # A stale version is refused (412), nothing linked; the current one links.
    stale = {**theirs, "If-Match": '"' + received.public_id + '-linked"'}
    response = client.post(f"{url}/link", json={"case_id": ng_case.public_id}, headers=stale)
    assert response.status_code == 412
    assert response.mimetype == "application/problem+json"
    # Another team's case, or none, is refused as the same thing.
    other = make_case(make_user("prosecutor", "NG-CA"), number="NG-REF-10")
    response = client.post(f"{url}/link", json={"case_id": other.public_id}, headers=theirs)
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    response = client.post(
        f"{url}/link", json={"case_id": ng_case.public_id}, headers={**theirs, "If-Match": etag}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == "linked" and body["case_id"] == ng_case.public_id
    assert response.headers["ETag"] != etag
    again = client.post(
        f"{url}/link", json={"case_id": ng_case.public_id}, headers={**theirs, "If-Match": etag}
    )
    assert again.status_code == 412
    linked = client.get(f"/api/v1/cases/{ng_case.public_id}/references", headers=theirs)
    assert [r["id"] for r in linked.get_json()["items"]] == [received.public_id]

    # The consultation thread: a message each way, both seen on both sides.
    sent = client.post(
        f"{url}/messages", json={"kind": "consultation", "body": "Un témoin ?"}, headers=theirs
    )
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["where"] == "outgoing"
    note = client.post(f"{url}/messages", json={"kind": "note", "body": "x"}, headers=theirs)
    assert note.status_code == 422  # no internal notes on a reference
    deliver_locally()
    db.session.commit()
    own_url = f"/api/v1/references/{shared.get_json()['id']}"
    mine = client.get(own_url, headers=ours).get_json()
    assert mine["state"] == "linked" and mine["linked_reference"] == "NG-REF-9"
    thread = client.get(f"{own_url}/messages", headers=ours).get_json()["items"]
    assert [(m["where"], m["body"], m["author"]) for m in thread] == [
        ("incoming", "Un témoin ?", "NG-CA")
    ]
    assert client.get(f"{url}/messages", headers=theirs).get_json()["items"][0]["body"] == (
        "Un témoin ?"
    )
    # Another authority's prosecutor finds neither the reference nor its thread.
    outsider = api_headers(make_user("prosecutor", "SN-TGI-TAMBA"))
    assert client.get(f"{url}/messages", headers=outsider).status_code == 404
    assert client.get(f"{own_url}/messages", headers=outsider).status_code == 404
