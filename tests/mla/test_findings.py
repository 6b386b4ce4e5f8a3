"""Security findings of the request area (shared/reference/security-review.md), each named after
its number: they failed on the reviewed commit and pass now."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from exchange.extensions import db
from exchange.mla import services
from tests import files
from tests.conftest import csrf_token, login

PDF = files.pdf()


def test_finding_16_an_overflowing_cursor_shows_the_first_page(app, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    make_request(prosecutor)
    client = app.test_client()
    login(client, prosecutor)
    for cursor in ("1-99999999999999999999999", "1-9223372036854775808", "1--5", "x-y"):
        page = client.get(f"/requests/?after={cursor}")
        assert page.status_code == 200, cursor


@pytest.mark.parametrize(
    "path",
    ["/cases/%00", "/requests/%00", "/references/%00", "/directory/authorities/%00"],
)
def test_finding_16_a_nul_in_a_path_is_refused_everywhere(app, make_user, path):
    client = app.test_client()
    login(client, make_user(("prosecutor", "administrator"), "SN-TGI-TAMBA"))
    assert client.get(path).status_code == 400


def test_finding_16_a_nul_in_the_sign_in_form_is_refused_before_any_query(app):
    client = app.test_client()
    token = csrf_token(client)
    answer = client.post(
        "/login", data={"email": "a\x00@b.demo", "password": "x", "csrf_token": token}
    )
    assert answer.status_code == 400


def test_finding_18_annex_downloads_are_not_cached_and_names_are_clean(
    app, make_user, make_request
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    annex = services.add_annex(
        db.session,
        prosecutor,
        request,
        filename="C:\\evidence\\statement\u202efdp.exe\x07",
        data=PDF,
        kind="supporting",
        blobs_dir=Path(app.instance_path) / "blobs",
        max_bytes=10_000,
    )
    db.session.commit()
    client = app.test_client()
    login(client, prosecutor)
    answer = client.get(f"/requests/{request.public_id}/annexes/{annex.sha256}")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    disposition = answer.headers["Content-Disposition"]
    assert "\u202e" not in disposition and "%E2%80%AE" not in disposition
    assert "statementfdp.exe" in disposition and "evidence" not in disposition


def test_finding_18_a_nul_in_an_uploaded_name_is_refused(app, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor, complete=False)
    client = app.test_client()
    login(client, prosecutor)
    url = f"/requests/{request.public_id}/edit/annexes"
    token = csrf_token(client, url)
    answer = client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(PDF), "x\x00y.pdf")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400


def test_finding_12_officers_see_a_request_once_submitted_not_while_drafted(
    app, make_user, make_request
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    request = make_request(prosecutor)
    client = app.test_client()
    login(client, officer)
    page = f"/requests/{request.public_id}"
    assert client.get(page).status_code == 404
    assert page not in client.get("/requests/?state=draft").get_data(as_text=True)
    services.submit(db.session, prosecutor, request)
    db.session.commit()
    assert client.get(page).status_code == 200


def test_finding_02_an_office_never_reviews_its_own_requests(app, make_user, make_case):
    import sqlalchemy as sa

    from exchange.directory.models import Authority
    from exchange.directory.queries import authority_by_code
    from exchange.mla.errors import MlaError
    from exchange.mla.lifecycle import TransitionError

    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    # An officer's role held inside the prosecution office approves nothing of its own.
    insider = make_user("central_authority_officer", "SN-TGI-TAMBA")
    case = make_case(prosecutor)
    request = services.create_request(
        db.session,
        prosecutor,
        case,
        request_type="taking_evidence",
        counterpart=authority_by_code(db.session, "NG-CA"),
    )
    assert request.reviewing_authority.code == "SN-CA"
    from tests.mla.conftest import fill_request

    fill_request(request, prosecutor)
    services.submit(db.session, prosecutor, request)
    with pytest.raises(TransitionError):
        services.approve(db.session, insider, request)
    # Without a central authority in the directory, no request is opened at all.
    db.session.execute(
        sa.update(Authority)
        .where(Authority.jurisdiction_code == "SN", Authority.kind == "central_authority")
        .values(kind="ministry")
    )
    db.session.expire_all()
    with pytest.raises(MlaError) as refused:
        services.create_request(
            db.session,
            prosecutor,
            case,
            request_type="taking_evidence",
            counterpart=authority_by_code(db.session, "NG-CA"),
        )
    assert refused.value.code == "no_central_authority"
