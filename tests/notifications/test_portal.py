"""The notifications page: read and unread, one click from the request, marked read, the count in
the navigation in a constant number of queries, the e-mail preference on the account."""

from __future__ import annotations

from sqlalchemy import event, select

from exchange.extensions import db
from exchange.mla import services
from exchange.notifications import services as notifications
from exchange.notifications.models import Notification, NotificationPreference
from tests.conftest import csrf_token, login


def _review_waiting(make_user, make_request, count: int = 1):  # type: ignore[no-untyped-def]
    """Return an officer with ``count`` requests submitted for review, one notification each."""
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    requests = []
    for _ in range(count):
        req = make_request(prosecutor)
        services.submit(db.session, prosecutor, req)
        db.session.commit()
        requests.append(req)
    return prosecutor, officer, requests


def test_list_open_and_mark_read(make_user, make_request, client):
    _, officer, (first, second) = _review_waiting(make_user, make_request, 2)
    login(client, officer)
    page = client.get("/notifications/").get_data(as_text=True)
    assert page.count("A request awaits your review") == 2
    assert 'Notifications <span class="count" data-count="2">' in page
    rows = list(db.session.scalars(select(Notification).order_by(Notification.id)))
    # One click: the notification opens its request and is read from then on.
    answer = client.get(f"/notifications/{rows[0].public_id}")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/requests/{first.public_id}")
    assert client.get(answer.headers["Location"]).status_code == 200
    page = client.get("/notifications/?show=unread").get_data(as_text=True)
    assert page.count("A request awaits your review") == 1
    assert 'Notifications <span class="count" data-count="1">' in page
    token = csrf_token(client, "/notifications/")
    assert (
        client.post(
            f"/notifications/{rows[1].public_id}/read", data={"csrf_token": token}
        ).status_code
        == 303
    )
    db.session.expire_all()
    assert all(n.read_at is not None for n in db.session.scalars(select(Notification)))
    assert 'Notifications <span class="count"' not in client.get("/notifications/").get_data(
        as_text=True
    )
    assert second.public_id


def test_mark_all_read_and_csrf(make_user, make_request, client):
    _, officer, _ = _review_waiting(make_user, make_request, 3)
    login(client, officer)
    assert client.post("/notifications/read-all", data={}).status_code == 400
    token = csrf_token(client, "/notifications/")
    answer = client.post(
        "/notifications/read-all", data={"csrf_token": token}, follow_redirects=True
    )
    assert "3 notifications marked read." in answer.get_data(as_text=True)
    db.session.expire_all()
    assert all(n.read_at is not None for n in db.session.scalars(select(Notification)))


def test_another_persons_notification_is_not_found(make_user, make_request, client):
    prosecutor, officer, _ = _review_waiting(make_user, make_request)
    (row,) = db.session.scalars(select(Notification))
    login(client, prosecutor)
    assert client.get(f"/notifications/{row.public_id}").status_code == 404
    token = csrf_token(client, "/notifications/")
    assert (
        client.post(f"/notifications/{row.public_id}/read", data={"csrf_token": token}).status_code
        == 404
    )
    assert "Nothing awaits you." in client.get("/notifications/").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Notification, row.id).read_at is None
    assert officer.id == row.user_id


def test_the_page_and_the_count_take_a_constant_number_of_queries(
    app, make_user, make_request, client
):
    def queries_for(path: str) -> int:
        count = 0

        def counter(*_args: object) -> None:
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        return count

    prosecutor, officer, _ = _review_waiting(make_user, make_request, 1)
    login(client, officer)
    few = queries_for("/notifications/")
    for _ in range(6):
        req = make_request(prosecutor)
        services.submit(db.session, prosecutor, req)
        db.session.commit()
    assert 'Notifications <span class="count" data-count="7">' in client.get(
        "/notifications/"
    ).get_data(as_text=True)
    assert queries_for("/notifications/") == few
    assert queries_for("/account") == queries_for("/account")


def test_the_email_preference_is_chosen_on_the_account(make_user, client):
    person = make_user("prosecutor", "SN-TGI-TAMBA")
    login(client, person)
    account = client.get("/account").get_data(as_text=True)
    assert "/notifications/preferences" in account
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert '<input checked id="mode-0" name="mode" type="radio" value="each">' in page
    token = csrf_token(client, "/notifications/preferences")
    assert (
        client.post(
            "/notifications/preferences", data={"csrf_token": token, "mode": "bogus"}
        ).status_code
        == 200
    )
    answer = client.post("/notifications/preferences", data={"csrf_token": token, "mode": "daily"})
    assert answer.status_code == 303
    db.session.expire_all()
    mode = db.session.scalar(
        select(NotificationPreference.mode).where(NotificationPreference.user_id == person.id)
    )
    assert mode == "daily"
    assert notifications.preferences_of(db.session, [person.id]) == {person.id: "daily"}
    client.post("/language", data={"csrf_token": token, "locale": "fr", "next": "/"})
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "Un e-mail par jour, regroupant les événements de la journée" in page
