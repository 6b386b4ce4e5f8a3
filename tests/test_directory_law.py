"""The directory's legal data (legal review, findings 19-26; the directory part of issue 12):
instruments and their parties edited by node administrators, each change recorded and kept
through a re-seed; the actors of the seed memorandum; notes and names in the reader's language;
national laws per state; competences chosen from the request types; addresses with their lines."""

from __future__ import annotations

import re

import pytest

from exchange.directory import instrument_edits, queries
from exchange.directory import services as directory
from exchange.directory.models import InstrumentChange
from exchange.extensions import db
from tests.conftest import csrf_token, login

ECOWAS_MLA = "ECOWAS-A/P.1/7/92"


def _convention():  # type: ignore[no-untyped-def]
    found = queries.instrument_by_code(db.session, ECOWAS_MLA)
    assert found is not None
    return found


def test_finding_20_an_administrators_edit_survives_a_reseed(app, make_user):
    keeper = make_user("node_admin", authority="SN-CA")
    convention = _convention()
    instrument_edits.update_instrument(
        db.session,
        convention,
        actor=keeper,
        parties=sorted(convention.party_codes() | {"ML"}),  # the open question, decided here
        unverified_parties=["ML"],
        notes="Mali still bound, per the ministry's opinion of 2026.",
    )
    db.session.commit()
    directory.seed_directory(db.session)
    db.session.commit()
    db.session.expire_all()
    again = _convention()
    assert "ML" in again.party_codes()
    assert again.notes == "Mali still bound, per the ministry's opinion of 2026."
    assert [p.jurisdiction_code for p in again.parties if p.unverified] == ["ML"]
    # An instrument nobody changed is refreshed from the seed as before.
    untoc = queries.instrument_by_code(db.session, "UNTOC-18")
    untoc.title_en = "changed in the database, not by an administrator"
    db.session.commit()
    directory.seed_directory(db.session)
    assert queries.instrument_by_code(db.session, "UNTOC-18").title_en.startswith("United Nations")


def test_finding_20_instrument_administration_is_scoped_and_recorded(app, make_user):
    convention = _convention()
    url = f"/directory/instruments/{convention.id}/edit"
    # An authority's administrator reads the instruments but may not change them.
    admin = make_user("administrator", authority="SN-CA")
    client = app.test_client()
    login(client, admin)
    assert client.get("/directory/instruments").status_code == 200
    assert client.get(url).status_code == 403
    with pytest.raises(directory.DirectoryError, match="forbidden"):
        instrument_edits.update_instrument(db.session, convention, actor=admin, notes="x")
    # A node administrator changes whom it binds and what it covers; the change is on the record.
    keeper = make_user("node_admin", authority="SN-CA", name="Khady Diop")
    client = app.test_client()
    login(client, keeper)
    form = client.get(url).get_data(as_text=True)
    assert re.search(
        r'<input checked id="measures-\d+" name="measures" type="checkbox" '
        r'value="taking_evidence">',
        form,
    )
    token = csrf_token(client, url)
    data = {
        "csrf_token": token,
        "title_en": convention.title_en,
        "title_fr": convention.title_fr,
        "title_pt": convention.title_pt,
        "citation_en": convention.citation_en,
        "citation_fr": convention.citation_fr,
        "citation_pt": convention.citation_pt,
        "kind": "treaty",
        "applies": "ecowas_members",
        "parties": sorted(convention.party_codes() - {"GN"}),
        "unverified_parties": ["SN"],
        "measures": ["taking_evidence", "records"],
        "precedence": "20",
        "suggested": "y",
        "notes": "Guinea's ratification not found.",
    }
    response = client.post(url, data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    db.session.expire_all()
    convention = _convention()
    assert "GN" not in convention.party_codes()
    assert convention.measures == ["taking_evidence", "records"]
    assert convention.edited_at is not None
    (change,) = queries.instrument_changes(db.session, convention)
    assert change.actor_id == keeper.id
    assert "GN" in change.changes["parties"][0] and "GN" not in change.changes["parties"][1]
    page = client.get(
        f"/directory/instruments/{convention.id}", headers={"Accept-Language": "fr"}
    ).get_data(as_text=True)
    assert "Khady Diop (SN-CA)" in page and "Guinée" in page  # codes shown by their names
    # A request type that does not exist is refused by name, and nothing is saved.
    bad = client.post(url, data={**data, "measures": ["taking_evidence", "evidence_taking_typo"]})
    assert bad.status_code == 200
    assert "“evidence_taking_typo” is not a request type" in bad.get_data(as_text=True)
    assert db.session.query(InstrumentChange).count() == 1


def test_finding_21_22_actors_of_the_memorandum(app):
    chad = queries.jurisdiction(db.session, "TD")
    assert chad is not None and chad.wacap_member and chad.status == "non_member"
    assert chad.name("fr") == "Tchad"
    kinds = {a.code: a.kind for a in queries.authorities(db.session)}
    assert kinds["SN-CNLTP"] == "national_agency"
    assert kinds["ECOWAS-TIP-UNIT"] == "regional_body"
    assert kinds["SN-WACAP"] == kinds["ML-PJRS"] == "network_contact_point"
    assert kinds["SN-NCB"] == "interpol_ncb" and kinds["SN-OIM"] == "international_organisation"
    # Consular posts in Senegal of the countries of origin, competent for repatriation.
    for state in ("NG", "ML", "GN", "BF", "SL"):
        post = queries.authority_by_code(db.session, f"{state}-EMB-DAKAR")
        assert post.kind == "consular_post" and post.unverified
        assert post in queries.competent_authorities(db.session, state, "survivor_repatriation")


def test_finding_23_kedougou_is_not_claimed_for_tambacounda(app):
    tamba = queries.authority_by_code(db.session, "SN-TGI-TAMBA")
    assert tamba.unverified
    assert "Kédougou" in tamba.notes and "à vérifier" in tamba.notes
    assert "Competent for offences committed in the Kédougou region" not in tamba.notes


def test_finding_24_central_authority_entries(app):
    for state in ("CV", "GW"):
        entries = [
            a
            for a in queries.authorities(db.session, jurisdiction_code=state)
            if a.kind == "central_authority"
        ]
        names = sorted(a.name for a in entries)
        assert names == ["Ministério da Justiça", "Procuradoria-Geral da República"]
        assert all(a.unverified and "/" not in a.name for a in entries)
    assert "2019" in queries.authority_by_code(db.session, "NG-CA").notes
    # NAPTIP executes investigative measures in trafficking cases, but they are routed via the
    # central authority (UNTOC 18(13)): noted, without making it the suggested recipient.
    naptip = queries.authority_by_code(db.session, "NG-NAPTIP")
    assert {c.measure for c in naptip.competences} == {"survivor_repatriation"}
    assert [a.code for a in queries.competent_authorities(db.session, "NG", "taking_evidence")] == [
        "NG-CA"
    ]
    assert "via NG-CA" in naptip.notes


def test_finding_25_notes_and_names_in_the_readers_language(app, make_user):
    client = app.test_client()
    login(client, make_user("prosecutor"))
    page = client.get("/directory/states/ML", headers={"Accept-Language": "fr"})
    text = page.get_data(as_text=True)
    assert "A quitté la CEDEAO le 29 janvier 2025" in text
    assert "Left ECOWAS on 29 January 2025 (AES)" not in text
    pt = client.get("/directory/states/ML", headers={"Accept-Language": "pt"}).get_data(
        as_text=True
    )
    assert "Saiu da CEDEAO em 29 de janeiro de 2025" in pt
    assert queries.jurisdiction(db.session, "CV").name("fr") == "Cabo Verde"
    assert "haoussa" in queries.jurisdiction(db.session, "NE").notes_fr
    # "Unverified" is a flag shown in the reader's language, not an English sentence in notes.
    ml_ca = client.get("/directory/authorities/ML-CA", headers={"Accept-Language": "fr"})
    text = ml_ca.get_data(as_text=True)
    assert "Les sources de cette fiche la disent non vérifiée" in text
    assert "Unverified: confirm" not in text


def test_finding_26_national_trafficking_laws_per_state(app, make_user):
    laws = {law.code: law for law in queries.national_laws(db.session, "SN")}
    assert laws["SN-LOI-2005-06"].title.startswith("Loi n° 2005-06 du 10 mai 2005")
    assert laws["SN-LOI-2005-06"].provisions.startswith("art. 1")
    assert [law.code for law in queries.national_laws(db.session, "GH")] == ["GH-ACT-694"]
    assert all(law.unverified for law in queries.national_laws(db.session, "NG"))
    client = app.test_client()
    login(client, make_user("prosecutor"))
    page = client.get("/directory/states/SN", headers={"Accept-Language": "fr"}).get_data(
        as_text=True
    )
    assert "Loi nationale contre la traite des personnes" in page and "2005-06" in page


def test_issue_12_competences_are_chosen_from_the_request_types(app, make_user):
    keeper = make_user("node_admin", authority="SN-CA")
    client = app.test_client()
    login(client, keeper)
    url = "/directory/authorities/NG-NAPTIP/edit"
    form = client.get(url, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'type="checkbox"' in form and "Tous les types de demande" in form
    assert "Identification et rapatriement de survivants de la traite" in form  # by name
    token = csrf_token(client, url)
    bad = client.post(
        url,
        data={
            "csrf_token": token,
            "name": "NAPTIP",
            "kind": "special_investigative_unit",
            "measures": ["taking_evidence", "evidence_taking_typo"],
        },
    )
    assert bad.status_code == 200
    assert "“evidence_taking_typo” is not a request type: choose from the list." in (
        bad.get_data(as_text=True)
    )
    naptip = queries.authority_by_code(db.session, "NG-NAPTIP")
    db.session.refresh(naptip)
    assert "evidence_taking_typo" not in {c.measure for c in naptip.competences}
    with pytest.raises(directory.DirectoryError, match="unknown_measure"):
        directory.update_authority(db.session, naptip, actor=None, measures=["taking_evidence, x"])
    # "All" is a choice of its own, shown by its name, never as "*".
    ok = client.post(
        url,
        data={
            "csrf_token": token,
            "name": "NAPTIP",
            "kind": "special_investigative_unit",
            "measures": ["*"],
            "address": "Plot 2028, Dalaba Street\nWuse Zone 5\nAbuja",
        },
    )
    assert ok.status_code == 303
    page = client.get(
        "/directory/authorities/NG-NAPTIP", headers={"Accept-Language": "fr"}
    ).get_data(as_text=True)
    assert "Tous les types de demande" in page and "<code>*</code>" not in page
    # The postal address keeps its lines.
    assert 'class="pre">Plot 2028, Dalaba Street\nWuse Zone 5\nAbuja<' in page


def test_issue_12_lookup_names_countries_and_measures_in_the_readers_language(app, make_user):
    client = app.test_client()
    login(client, make_user("prosecutor"))
    page = client.get(
        "/directory/lookup?state=NG&measure=survivor_repatriation",
        headers={"Accept-Language": "fr"},
    ).get_data(as_text=True)
    assert "Identification et rapatriement de survivants de la traite</option>" in page
    # Countries sorted by their French names: Bénin, Burkina Faso, Cabo Verde, Côte d'Ivoire...
    options = page.split('name="state"')[1].split("</select>")[0]
    order = [code for code in ("BJ", "BF", "CV", "CI", "GM") if f'value="{code}"' in options]
    assert sorted(order, key=lambda c: options.index(f'value="{c}"')) == [
        "BJ",
        "BF",
        "CV",
        "CI",
        "GM",
    ]
    assert "NG-NAPTIP" in page and "NG-EMB-DAKAR" in page
