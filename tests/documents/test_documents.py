"""Every document renders in every language from a real request; poppler reads its key fields
and that language's own wording; the letter carries every request type's particulars."""

from __future__ import annotations

from pathlib import Path

import pytest
from markupsafe import escape

from exchange.documents import rendering
from exchange.documents.context import RequestNotFound, build_context, document_context
from exchange.documents.rendering import LANGUAGES, DocumentError
from exchange.extensions import db
from exchange.mla.definitions import request_types
from tests.documents.pdfs import embedded_files, pdf_text, pdfa_identification

# Wording of each document that only its own language's template has (not a field's value).
WORDING = {
    "letter": {
        "en": [
            "Request for mutual legal assistance in criminal matters",
            "Undertakings of the requesting State",
        ],
        "fr": [
            "Demande d'entraide judiciaire en matière pénale",
            "Engagements de l'État requérant",
        ],
        "pt": [
            "Pedido de auxílio judiciário mútuo em matéria penal",
            "Compromissos do Estado requerente",
        ],
    },
    "acknowledgement": {
        "en": ["acknowledges receipt", "has been registered under our reference"],
        "fr": ["accuse réception", "a été enregistrée sous nos références"],
        "pt": ["acusa a receção", "foi registado com a nossa referência"],
    },
    "additional_information": {
        "en": ["the following additional information is required", "UNTOC art. 18(16)"],
        "fr": [
            "les informations complémentaires suivantes sont nécessaires",
            "CNUCTO, art. 18, par. 16",
        ],
        "pt": [
            "são necessárias as seguintes informações complementares",
            "UNTOC, art. 18.º, n.º 16",
        ],
    },
    "execution_report": {
        "en": ["Account of the execution", "Results transmitted"],
        "fr": ["Compte rendu d'exécution", "Pièces d'exécution transmises"],
        "pt": ["Relato da execução", "Elementos transmitidos"],
    },
    "refusal_notice": {
        "en": ["Ground for refusal", "UNTOC art. 18(23)"],
        "fr": ["Motif de refus", "CNUCTO, art. 18, par. 23"],
        "pt": ["Motivo de recusa", "UNTOC, art. 18.º, n.º 23"],
    },
    "case_reference_notice": {
        "en": ["Please quote both references", "(requesting)"],
        "fr": ["rappeler ces deux références", "(autorité requérante)"],
        "pt": ["ambas as referências sejam indicadas", "(autoridade requerente)"],
    },
}
# The shared parts, in each language (legal basis, persons, time limits, signature).
COMMON = {
    "en": [
        "Legal basis",
        "Persons concerned",
        "Urgency and time limits",
        "Our reference",
        "Your reference",
    ],
    "fr": ["Fondement juridique", "Personnes concernées", "Urgence et délais", "N/Réf.", "V/Réf."],
    "pt": ["Base jurídica", "Pessoas visadas", "Urgência e prazos", "N/Ref.ª", "V/Ref.ª"],
}
# What the move each notice reports says (from the conftest's exchange).
EVENT_TEXT = {
    "additional_information": "Which village?",
    "execution_report": "Statement taken on oath.",
    "refusal_notice": "Execution would prejudice security.",
}


def test_the_wording_is_each_languages_own() -> None:
    """The markers above are not shared between languages (each is its own wording)."""
    for document, by_lang in WORDING.items():
        for lang, phrases in by_lang.items():
            for other in LANGUAGES:
                if other != lang:
                    assert not set(phrases) & set(by_lang[other]), (document, lang, other)


@pytest.mark.parametrize("document", sorted(WORDING))
def test_every_document_renders_in_every_language(exchange, document, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    flow = exchange(refuse=document == "refusal_notice")
    # The letter goes from the requesting side; the notices from the requested side's copy.
    request, actor = (
        (flow.outgoing, flow.prosecutor) if document == "letter" else (flow.incoming, flow.executor)
    )
    for lang in LANGUAGES:
        context = document_context(db.session, actor, request.reference, document, lang)
        pdf = rendering.render_pdf(document, lang, context)
        assert pdfa_identification(pdf) == ("3", "B")
        assert embedded_files(pdf) == []
        text = pdf_text(pdf, tmp_path)
        for phrase in WORDING[document][lang] + COMMON[lang]:
            assert phrase in text, (document, lang, phrase)
        for other in LANGUAGES:
            if other != lang:
                for phrase in WORDING[document][other]:
                    assert phrase not in text, (document, lang, phrase)
        # Key fields: both sides' references and authorities, the type, the persons disclosed.
        assert flow.outgoing.reference in text
        assert "FMOJ/CAU/2026/77" in text
        assert request.authority.name in text  # the letterhead
        assert request.counterpart.name in text  # the addressee
        assert context["request"]["title"] in text
        assert "Blessing Okafor" in text
        assert actor.display_name in text  # the signature block
        if document in EVENT_TEXT:
            assert EVENT_TEXT[document] in text
        if document == "refusal_notice":
            assert context["event"]["ground_label"] in text and context["event"]["ground_source"]


def test_the_letter_names_the_instruments_relied_on(exchange, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    flow = exchange()
    for lang in LANGUAGES:
        context = document_context(
            db.session, flow.prosecutor, flow.outgoing.reference, "letter", lang
        )
        assert [b["code"] for b in context["basis"]] == flow.outgoing.legal_basis.split(",")
        html = rendering.render_html("letter", lang, context)
        for item in context["basis"]:
            assert str(escape(item["title"])) in html
    fr = document_context(db.session, flow.prosecutor, flow.outgoing.reference, "letter", "fr")
    assert "CEDEAO" in fr["basis"][0]["title"]


@pytest.mark.parametrize("code", sorted(request_types()))
def test_the_letter_carries_each_request_types_particulars(
    make_user, make_request, code: str
) -> None:  # type: ignore[no-untyped-def]
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor, request_type=code)
    definition = request_types()[code]
    for lang in LANGUAGES:
        context = build_context(db.session, request, "letter", lang, identities=True)
        names = [item["name"] for item in context["particulars"]]
        assert names == [f.name for f in definition.fields], (code, lang)
        html = rendering.render_html("letter", lang, context)
        for field in definition.fields:
            assert str(escape(field.label_in(lang))) in html


def test_the_letter_in_both_states_languages(exchange, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """By default the requested state's language; the requesting state's beside it, in a second part."""
    flow = exchange()
    assert flow.outgoing.language == "en"
    parts = [
        (
            lang,
            document_context(db.session, flow.prosecutor, flow.outgoing.reference, "letter", lang),
        )
        for lang in ("en", "fr")
    ]
    html = rendering.render_parts_html("letter", parts)
    assert html.count('<section class="part"') == 2
    assert html.index('lang="en" data-document') < html.index('lang="fr" data-document')
    text = pdf_text(rendering.html_to_pdf(html), tmp_path)
    assert text.index("Undertakings of the requesting State") < text.index(
        "Engagements de l'État requérant"
    )


def test_identities_only_for_who_may_see_them(exchange, make_user) -> None:  # type: ignore[no-untyped-def]
    flow = exchange()
    # The case team sees the person disclosed; someone of another authority finds no request.
    team = document_context(db.session, flow.prosecutor, flow.outgoing.reference, "letter", "en")
    assert team["identities_shown"] and team["persons"][0]["name"] == "Blessing Okafor"
    stranger = make_user("prosecutor", "SN-TGI-TAMBA")  # same authority, not on the case team
    with pytest.raises(RequestNotFound):
        document_context(db.session, stranger, flow.outgoing.reference, "letter", "en")
    # The requesting central authority reads its outgoing copy, not the requested side's one.
    # The reviewing officer sees the persons as the request carries them; the view is recorded.
    views = [e for e in flow.outgoing.events if e.action == "view_disclosure"]
    review = document_context(db.session, flow.officer, flow.outgoing.reference, "letter", "en")
    assert review["identities_shown"] and review["persons"][0]["name"] == "Blessing Okafor"
    after = [e for e in flow.outgoing.events if e.action == "view_disclosure"]
    assert len(after) == len(views) + 1 and after[-1].actor_id == flow.officer.id
    with pytest.raises(RequestNotFound):
        document_context(db.session, flow.officer, flow.incoming.reference, "acknowledgement", "en")
    # The operator (no user) renders it without any identity.
    operator = document_context(db.session, None, flow.outgoing.reference, "letter", "en")
    assert not operator["identities_shown"]
    assert operator["persons"][0] == {
        "label": "P1",
        "name": "",
        "pseudonym": False,
        "capacities": ["victim", "minor", "witness"],
        "details": [],
        "protection": [],
    }
    assert "Blessing Okafor" not in rendering.render_html("letter", "en", operator)


def test_a_notice_needs_the_move_it_reports(make_user, make_request) -> None:  # type: ignore[no-untyped-def]
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    with pytest.raises(DocumentError, match="nothing recorded for a refusal_notice"):
        build_context(db.session, request, "refusal_notice", "en", identities=True)
    with pytest.raises(RequestNotFound):
        document_context(db.session, prosecutor, "SN-TGI-TAMBA/1999/000000", "letter", "en")


def test_the_case_number_only_once_shared(exchange) -> None:  # type: ignore[no-untyped-def]
    """A request does not disclose its case's number; a case reference shared with the requested
    authority appears in the references."""
    from exchange.cases import services as cases

    flow = exchange()
    number = flow.outgoing.case.number
    before = document_context(db.session, flow.prosecutor, flow.outgoing.reference, "letter", "en")
    assert before["request"]["case_reference"] == ""
    assert number not in rendering.render_html("letter", "en", before)
    cases.share_reference(
        db.session,
        flow.prosecutor,
        flow.outgoing.case,
        counterpart=flow.outgoing.counterpart,
        disclose={"stage"},
        contact_point="Parquet de Tambacounda",
        offence_categories="trafficking in persons",
    )
    db.session.commit()
    after = document_context(
        db.session, flow.prosecutor, flow.outgoing.reference, "case_reference_notice", "fr"
    )
    assert after["request"]["case_reference"] == number
    assert f"référence du dossier {number}" in rendering.render_html(
        "case_reference_notice", "fr", after
    )
