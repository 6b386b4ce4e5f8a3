"""Request types as data, and completeness gating: a draft with a required element missing never
goes to review, for every type and every required element."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.extensions import db
from exchange.mla import services
from exchange.mla.definitions import (
    LANGS,
    DefinitionError,
    get_type,
    load_types,
    request_types,
)
from exchange.mla.services import MlaError

UNTOC_18_3 = {
    "taking_evidence": "(a)",
    "service_of_documents": "(b)",
    "search_and_seizure": "(c)",
    "examining_objects_sites": "(d)",
    "information_and_expertise": "(e)",
    "records": "(f)",
    "tracing_proceeds": "(g)",
    "voluntary_appearance": "(h)",
    "other_assistance": "(i)",
}
SEPARATE = {
    "videoconference_hearing",
    "temporary_transfer",
    "freezing_confiscation",
    "digital_preservation",
    "spontaneous_information",
    "survivor_repatriation",
}
TYPES = sorted(request_types())


def test_the_required_types_are_defined():
    assert set(UNTOC_18_3) | SEPARATE <= set(request_types())
    for code, letter in UNTOC_18_3.items():
        assert f"18(3){letter}" in get_type(code).source["en"]


@pytest.mark.parametrize("code", TYPES)
def test_every_field_has_a_source_and_three_languages(code):
    definition = get_type(code)
    assert set(definition.source) == set(LANGS) and all(definition.source.values())
    for text in (definition.label, definition.help):
        assert set(text) == set(LANGS) and all(text.values())
    for field in definition.all_fields:
        assert all(field.source[lang].strip() for lang in LANGS)
        assert all(field.label[lang] and field.help[lang] for lang in LANGS)
    assert any(f.required for f in definition.fields)


def test_service_of_documents_needs_no_summary_of_facts():
    names = {f.name for f in get_type("service_of_documents").all_fields}
    assert "summary_of_facts" not in names
    assert "summary_of_facts" in {f.name for f in get_type("taking_evidence").all_fields}


def test_a_broken_definition_is_refused(tmp_path: Path):
    common = (Path(services.__file__).with_name("request_types") / "_common.toml").read_text(
        "utf-8"
    )
    (tmp_path / "_common.toml").write_text(common, "utf-8")
    (tmp_path / "bad.toml").write_text(
        'code = "bad"\nsource = { en = "x", fr = "x", pt = "x" }\nlabel = { en = "a", fr = "b", pt = "c" }\n'
        'help = { en = "a", fr = "b", pt = "c" }\n[[field]]\nname = "x"\nkind = "text"\n'
        'required = true\nlabel = { en = "a", fr = "b", pt = "c" }\nhelp = { en = "a", fr = "b", pt = "c" }\n',
        "utf-8",
    )
    with pytest.raises(DefinitionError, match="source"):
        load_types(tmp_path)
    (tmp_path / "bad.toml").write_text('code = "other"\n', "utf-8")
    with pytest.raises(DefinitionError, match="file name"):
        load_types(tmp_path)


def test_adding_a_type_means_adding_a_file(tmp_path: Path):
    source = Path(services.__file__).with_name("request_types")
    for path in source.glob("*.toml"):
        (tmp_path / path.name).write_text(path.read_text("utf-8"), "utf-8")
    (tmp_path / "controlled_delivery.toml").write_text(
        'code = "controlled_delivery"\nsource = { en = "UNTOC art. 20", fr = "CNUCTO art. 20", pt = "UNTOC art. 20.º" }\n'
        'label = { en = "Controlled delivery", fr = "Livraison surveillée", pt = "Entrega controlada" }\n'
        'help = { en = "h", fr = "h", pt = "h" }\n[[field]]\nname = "objective"\nkind = "textarea"\nrequired = true\n'
        'source = { en = "UNTOC art. 20", fr = "CNUCTO art. 20", pt = "UNTOC art. 20.º" }\n'
        'label = { en = "Consignment", fr = "Envoi", pt = "Remessa" }\n'
        'help = { en = "h", fr = "h", pt = "h" }\n',
        "utf-8",
    )
    types = load_types(tmp_path)
    assert "controlled_delivery" in types and len(types) == len(request_types()) + 1


@pytest.mark.parametrize("code", TYPES)
def test_completeness_gates_review(code, make_user, make_request):
    """An empty draft lists every required element; each one alone blocks the way to review."""
    from tests.mla.conftest import filler

    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    draft = make_request(prosecutor, request_type=code, complete=False)
    definition = get_type(code)
    required = {f.name for f in definition.all_fields if f.required}
    gaps = {item.key for item in services.missing(db.session, draft)}
    assert required <= gaps
    with pytest.raises(MlaError, match="incomplete"):
        services.submit(db.session, prosecutor, draft)

    full = {f.name: filler(f) for f in definition.all_fields}
    services.update_contents(db.session, prosecutor, draft, expected_version=None, values=full)
    services.add_person(
        db.session, prosecutor, draft, identity={"name": "Amina Bello"}, victim=True
    )
    assert services.missing(db.session, draft) == []
    for name in sorted(required):
        empty = (
            False
            if get_type(code).all_fields
            and {f.name: f for f in definition.all_fields}[name].kind == "bool"
            else ""
        )
        services.update_contents(
            db.session, prosecutor, draft, expected_version=None, values={name: empty}
        )
        assert [i.key for i in services.missing(db.session, draft)] == [name]
        with pytest.raises(MlaError, match="incomplete"):
            services.submit(db.session, prosecutor, draft)
        services.update_contents(
            db.session, prosecutor, draft, expected_version=None, values={name: full[name]}
        )
    services.submit(db.session, prosecutor, draft)
    assert draft.state == "in_review"


def test_urgency_needs_a_reason_and_a_date(make_user, make_request):
    from exchange.directory.queries import authority_by_code

    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    draft = make_request(prosecutor)
    nigeria = authority_by_code(db.session, "NG-CA")
    basics = {
        "counterpart": nigeria,
        "language": "en",
        "legal_basis": ["UNTOC-18"],
        "confidential": True,
    }
    services.update_basics(
        db.session,
        prosecutor,
        draft,
        expected_version=None,
        urgent=True,
        urgency_reason="",
        desired_date=None,
        **basics,
    )
    assert [i.key for i in services.missing(db.session, draft)] == ["urgency"]
    from datetime import date

    services.update_basics(
        db.session,
        prosecutor,
        draft,
        expected_version=None,
        urgent=True,
        urgency_reason="The witness leaves Lagos on 1 March.",
        desired_date=date(2027, 2, 20),
        **basics,
    )
    assert services.missing(db.session, draft) == []


def test_persons_rules(make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    hearing = make_request(prosecutor, request_type="taking_evidence", complete=False)
    assert "persons" in {i.key for i in services.missing(db.session, hearing)}
    repatriation = make_request(prosecutor, request_type="survivor_repatriation", complete=False)
    services.add_person(
        db.session, prosecutor, repatriation, identity={"name": "Grace"}, witness=True
    )
    assert "victim" in {i.key for i in services.missing(db.session, repatriation)}


def test_language_defaults_to_one_the_requested_state_accepts(make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    assert make_request(prosecutor, to="NG-CA").language == "en"
    assert make_request(prosecutor, to="GW-CA").language == "pt"
    to_mali = make_request(prosecutor, to="ML-CA")
    assert to_mali.language == "fr"
    # Mali left ECOWAS: A/P.1/7/92 is not suggested, UNTOC art. 18 is.
    assert "ECOWAS" not in to_mali.legal_basis and "UNTOC-18" in to_mali.legal_basis


def test_survivor_repatriation_suggests_naptip(make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    suggestions = services.suggest(db.session, "SN", "NG", "survivor_repatriation")
    assert suggestions.authorities[0].code == "NG-NAPTIP"
    assert (
        make_request(
            prosecutor, to="NG-NAPTIP", request_type="survivor_repatriation"
        ).counterpart.code
        == "NG-NAPTIP"
    )
