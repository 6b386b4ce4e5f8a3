"""Languages, bad input, page weight, directory pages and look-ups."""

from __future__ import annotations

import re

import pytest

from exchange.directory import queries
from exchange.extensions import db
from tests.conftest import csrf_token, login

PAGES_FOR_WEIGHT = ["/", "/account", "/directory/", "/directory/states/SN", "/directory/lookup"]


def test_language_choice_is_remembered_for_the_user(app, make_user):
    user = make_user("prosecutor")
    client = app.test_client()
    login(client, user)
    token = csrf_token(client, "/account")
    response = client.post(
        "/language", data={"locale": "fr", "next": "/account", "csrf_token": token}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert "Votre compte" in client.get("/account").get_data(as_text=True)
    db.session.refresh(user)
    assert user.locale == "fr"
    # A new session of the same user starts in French.
    other = app.test_client()
    login(other, user)
    assert '<html lang="fr">' in other.get("/").get_data(as_text=True)


def test_anonymous_language_choice_applies_to_login_page(client):
    token = csrf_token(client)
    client.post("/language", data={"locale": "pt", "next": "/login", "csrf_token": token})
    page = client.get("/login").get_data(as_text=True)
    assert "Iniciar sessão" in page


def test_browser_language_is_the_default(client):
    page = client.get("/login", headers={"Accept-Language": "fr-SN,fr;q=0.9"}).get_data(
        as_text=True
    )
    assert '<html lang="fr">' in page


def test_unknown_language_gets_a_clear_message(client):
    token = csrf_token(client)
    response = client.post(
        "/language",
        data={"locale": "xx", "next": "/login", "csrf_token": token},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Unknown language" in response.get_data(as_text=True)


def test_language_switch_refuses_open_redirect(client):
    token = csrf_token(client)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            "/language", data={"locale": "en", "next": target, "csrf_token": token}
        )
        assert response.headers["Location"] == "/", target


def test_malformed_login_form_is_answered_in_the_user_language(client):
    token = csrf_token(client)
    client.post("/language", data={"locale": "fr", "next": "/login", "csrf_token": token})
    response = client.post("/login", data={"email": "", "password": "", "csrf_token": token})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Saisissez votre adresse électronique." in page


def test_over_long_field_gets_a_message_not_a_500(client):
    token = csrf_token(client)
    response = client.post(
        "/login", data={"email": "a" * 5000 + "@x.sn", "password": "p" * 5000, "csrf_token": token}
    )
    assert response.status_code == 200
    # The validator's own message, not the field's maxlength attribute (always on the page).
    assert "Field cannot be longer than 254 characters." in response.get_data(as_text=True)


def test_huge_request_body_gets_413_page(app, client):
    token = csrf_token(client)
    too_big = app.config["MAX_CONTENT_LENGTH"] + 1
    response = client.post("/login", data={"email": "x" * too_big, "csrf_token": token})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_unknown_page_is_a_translated_404(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "pt"})
    assert response.status_code == 404
    assert "Não encontrado" in response.get_data(as_text=True) or "não existe" in response.get_data(
        as_text=True
    )


@pytest.mark.parametrize("path", PAGES_FOR_WEIGHT)
def test_pages_are_light(app, make_user, path):
    """Each page, with its stylesheet and images, weighs under 60 KB (a slow line in Kédougou)."""
    user = make_user(("prosecutor", "administrator"), totp=True)
    client = app.test_client()
    login(client, user)
    page = client.get(path)
    assert page.status_code == 200
    total = len(page.data)
    for asset in set(re.findall(r'(?:href|src)="(/static/[^"]+)"', page.get_data(as_text=True))):
        with client.get(asset) as response:
            total += len(response.data)
    assert total < 60 * 1024, (path, total)
    assert "http://" not in page.get_data(as_text=True).replace("http://127.0.0.1", "")


def test_instruments_between_states(app):
    def codes(a, b):
        return [i.code for i in queries.instruments_between(db.session, a, b)]

    # Both ECOWAS members: the ECOWAS conventions first (assistance, extradition), the Budapest
    # Convention (both listed parties), UNTOC always, reciprocity between any two.
    assert codes("SN", "NG") == [
        "ECOWAS-A/P.1/7/92",
        "ECOWAS-A/P.1/8/94",
        "BUDAPEST",
        "UNTOC-18",
        "PALERMO-PROTOCOL",
        "RECIPROCITY",
    ]
    # Mali left ECOWAS on 29 January 2025: UNTOC, not the ECOWAS convention; the two bilateral
    # agreements the legal review names (to be verified), reciprocity.
    assert codes("SN", "ML") == [
        "ML-SN-JUDICIAL",
        "ML-SN-TIP-2004",
        "UNTOC-18",
        "PALERMO-PROTOCOL",
        "RECIPROCITY",
    ]
    assert codes("SN", "MR") == ["UNTOC-18", "PALERMO-PROTOCOL", "RECIPROCITY"]


def test_bilateral_treaty_as_data(app):
    from exchange.directory.models import Instrument, InstrumentParty

    treaty = Instrument(
        code="SN-ML-1965",
        title_en="Judicial cooperation agreement",
        title_fr="Accord de coopération judiciaire",
        title_pt="Acordo de cooperação judiciária",
        applies="listed_parties",
        precedence=10,
        parties=[InstrumentParty(jurisdiction_code="SN"), InstrumentParty(jurisdiction_code="ML")],
    )
    db.session.add(treaty)
    db.session.flush()
    between = [i.code for i in queries.instruments_between(db.session, "ML", "SN")]
    assert between.index("SN-ML-1965") < between.index("UNTOC-18")
    assert "SN-ML-1965" not in [i.code for i in queries.instruments_between(db.session, "SN", "NG")]


def test_competence_lookup_prefers_specific_authority_then_falls_back(app):
    found = [
        a.code for a in queries.competent_authorities(db.session, "NG", "survivor_repatriation")
    ]
    assert found == ["NG-NAPTIP", "NG-EMB-DAKAR", "NG-CA"]  # the consular post after NAPTIP
    assert [a.code for a in queries.competent_authorities(db.session, "NG", "taking_evidence")] == [
        "NG-CA"
    ]
    # A state whose authorities have no rule at all falls back to its central authority.
    from exchange.directory.models import Competence

    for row in (
        db.session.query(Competence).join(Competence.authority).filter_by(jurisdiction_code="GH")
    ):
        db.session.delete(row)
    db.session.flush()
    assert [a.code for a in queries.competent_authorities(db.session, "GH", "search_seizure")] == [
        "GH-CA"
    ]


def test_lookup_page(app, make_user):
    user = make_user("prosecutor")
    client = app.test_client()
    login(client, user)
    page = client.get("/directory/lookup?state=NG&measure=survivor_repatriation").get_data(
        as_text=True
    )
    assert page.index("NG-NAPTIP") < page.index("NG-CA")
    bad = client.get("/directory/lookup?state=ZZ&measure=x")
    assert bad.status_code == 200 and "Not a valid choice" in bad.get_data(as_text=True)


def test_node_admin_edits_authority_and_verification_date(app, make_user):
    admin = make_user("node_admin", authority="SN-CA")
    client = app.test_client()
    login(client, admin)
    token = csrf_token(client, "/directory/authorities/NG-NAPTIP/edit")
    response = client.post(
        "/directory/authorities/NG-NAPTIP/edit",
        data={
            "name": "NAPTIP",
            "kind": "special_investigative_unit",
            "email": "mla@naptip.gov.ng",
            "measures": ["survivor_repatriation", "taking_evidence"],
            "last_verified": "2026-11-01",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    authority = queries.authority_by_code(db.session, "NG-NAPTIP")
    db.session.refresh(authority)
    assert authority.email == "mla@naptip.gov.ng"
    assert str(authority.last_verified) == "2026-11-01"
    assert queries.competent_authorities(db.session, "NG", "taking_evidence")[0].code == "NG-NAPTIP"
    bad = client.post(
        "/directory/authorities/NG-NAPTIP/edit",
        data={"name": "", "kind": "spaceship", "last_verified": "yesterday", "csrf_token": token},
    )
    assert bad.status_code == 200
    assert "Not a valid choice" in bad.get_data(as_text=True)


def test_prosecutor_cannot_edit_directory(app, make_user):
    user = make_user("prosecutor")
    client = app.test_client()
    login(client, user)
    assert client.get("/directory/authorities/NG-CA/edit").status_code == 403


def test_node_admin_adds_a_foreign_authority(app, make_user):
    admin = make_user("node_admin", authority="SN-CA")
    client = app.test_client()
    login(client, admin)
    token = csrf_token(client, "/directory/authorities/new")
    form = {
        "code": "ML-PG-BAMAKO",
        "state": "ML",
        "name": "Parquet général de Bamako",
        "kind": "prosecution_office",
        "measures": "taking_evidence",
        "csrf_token": token,
    }
    response = client.post("/directory/authorities/new", data=form)
    assert response.status_code == 303
    added = queries.authority_by_code(db.session, "ML-PG-BAMAKO")
    assert added is not None and not added.hosted and added.jurisdiction_code == "ML"
    assert (
        queries.competent_authorities(db.session, "ML", "taking_evidence")[0].code == "ML-PG-BAMAKO"
    )
    again = client.post("/directory/authorities/new", data=form)
    assert again.status_code == 200
    assert "An authority with this code exists already." in again.get_data(as_text=True)
    bad = client.post("/directory/authorities/new", data={**form, "code": "ML PG!", "state": "ZZ"})
    assert "Not a valid choice" in bad.get_data(as_text=True)
