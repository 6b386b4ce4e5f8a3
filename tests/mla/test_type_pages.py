"""The request-type corrections as the reader sees them: legal sources in the reader's language
(finding 35), a choice field offered in that language, warnings that do not block, and the
letter-rogatory title of a request an investigating judge issues (finding 36)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from exchange.directory.models import Authority
from exchange.extensions import db
from exchange.mla import services
from tests.conftest import csrf_token, login


def _reader(app: Flask, user: Any, lang: str) -> Any:
    """Return a client signed in as ``user``, reading in ``lang``."""
    client = app.test_client()
    login(client, user)
    token = csrf_token(client, "/")
    client.post("/language", data={"locale": lang, "next": "/", "csrf_token": token})
    return client


def test_sources_are_cited_in_the_readers_language(app, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    draft = make_request(prosecutor, complete=False)
    expected = {
        "fr": ("CNUCTO 18(15)(a) ; CEDEAO 5(1)(a) (déduit)", "CNUCTO 18(20) ; CEDEAO art. 9"),
        "pt": (
            "UNTOC art. 18.º, n.º 15, al. a); CEDEAO art. 5.º, n.º 1, al. a) (inferido)",
            "UNTOC art. 18.º, n.º 20; CEDEAO art. 9.º (NÃO VERIFICADO)",
        ),
        "en": ("UNTOC 18(15)(a); ECOWAS 5(1)(a) (inferred)", "ECOWAS art. 9 (UNVERIFIED)"),
    }
    for lang, (field_source, structural) in expected.items():
        client = _reader(app, prosecutor, lang)
        page = client.get(f"/requests/{draft.public_id}/edit/contents").get_data(as_text=True)
        assert field_source in page and structural in page, lang
        if lang != "en":
            assert "ECOWAS 5(1)(a) (inferred)" not in page, lang
    new = _reader(app, prosecutor, "fr").get(f"/requests/new?case={draft.case.public_id}")
    text = new.get_data(as_text=True)
    assert "Dénonciation aux fins de poursuites" in text and "(CNUCTO art. 16(10))" in text


def test_a_choice_is_offered_in_the_readers_language_and_checked(app, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    draft = make_request(prosecutor, request_type="survivor_repatriation", complete=False)
    client = _reader(app, prosecutor, "pt")
    url = f"/requests/{draft.public_id}/edit/measure"
    page = client.get(url).get_data(as_text=True)
    assert '<option value="not_yet_asked">Ainda não consultada</option>' in page
    token = csrf_token(client, url)
    bad = client.post(
        url, data={"csrf_token": token, "version": draft.version, "consent_to_return": "forced"}
    )
    assert bad.status_code == 400 and "Escolha uma das respostas propostas." in bad.get_data(
        as_text=True
    )
    saved = client.post(
        url,
        data={"csrf_token": token, "version": draft.version, "consent_to_return": "not_yet_asked"},
    )
    assert saved.status_code == 303
    review = client.get(f"/requests/{draft.public_id}/edit/review").get_data(as_text=True)
    assert 'id="warnings"' in review and "Protocolo de Palermo, art. 8.º, n.º 2" in review
    view = client.get(f"/requests/{draft.public_id}").get_data(as_text=True)
    assert "Ainda não consultada" in view


def test_an_investigating_judges_request_is_a_letter_rogatory(app, make_user, make_case):
    judge_office = Authority(
        code="SN-JI-KEDOUGOU",
        jurisdiction_code="SN",
        kind="investigating_judge",
        name="Cabinet d'instruction du tribunal de Kédougou",
        hosted=True,
    )
    db.session.add(judge_office)
    db.session.commit()
    judge = make_user("prosecutor", "SN-JI-KEDOUGOU")
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    from exchange.directory.queries import authority_by_code

    nigeria = authority_by_code(db.session, "NG-CA")
    by_judge = services.create_request(
        db.session, judge, make_case(judge), request_type="taking_evidence", counterpart=nigeria
    )
    by_prosecutor = services.create_request(
        db.session,
        prosecutor,
        make_case(prosecutor),
        request_type="taking_evidence",
        counterpart=nigeria,
    )
    db.session.commit()
    title = "<h1>Commission rogatoire internationale — Recueil de témoignages ou de dépositions"
    page = _reader(app, judge, "fr").get(f"/requests/{by_judge.public_id}").get_data(as_text=True)
    assert title in page
    page = _reader(app, judge, "pt").get(f"/requests/{by_judge.public_id}").get_data(as_text=True)
    assert "<h1>Carta rogatória — " in page
    other = _reader(app, prosecutor, "fr").get(f"/requests/{by_prosecutor.public_id}")
    text = other.get_data(as_text=True)
    assert "<h1>Recueil de témoignages ou de dépositions" in text
    assert "Commission rogatoire" not in text
