"""Refusal grounds per legal basis (legal review, finding 1): the grounds offered come from the
instrument the request relies on, UNTOC 18(7) — the ECOWAS Convention's between its parties,
UNTOC 18(21) and 18(9) otherwise, a bilateral treaty's where it brings a list — each with its
source; a ground the basis does not offer is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from exchange.directory.models import APPLIES_PARTIES, Authority, Instrument, InstrumentParty
from exchange.directory.queries import (
    BY_HAND,
    IN_FORCE,
    LEFT_ECOWAS,
    NOT_FOR_MEASURE,
    NOT_PARTY,
    needs_untoc_scope,
)
from exchange.extensions import db
from exchange.mla import grounds, services
from exchange.mla.grounds import GROUNDS_DIR, GroundsError, load_grounds, offer
from exchange.mla.lifecycle import TransitionError
from exchange.mla.models import INCOMING, MlaRequest
from tests.mla.conftest import deliver_locally

ECOWAS = [
    ("political_offence", "ECOWAS A/P.1/7/92 art. 4(1)(a) (numbering UNVERIFIED)"),
    ("essential_interests", "ECOWAS A/P.1/7/92 art. 4(1)(b) (numbering UNVERIFIED)"),
    ("discrimination", "ECOWAS A/P.1/7/92 art. 4(1)(c) (numbering UNVERIFIED)"),
    ("offence_under_investigation", "ECOWAS A/P.1/7/92 art. 4(1)(d) (numbering UNVERIFIED)"),
    ("ne_bis_in_idem", "ECOWAS A/P.1/7/92 art. 4(1)(d) (numbering UNVERIFIED)"),
    ("compulsory_measure", "ECOWAS A/P.1/7/92 art. 4(1)(e) (numbering UNVERIFIED)"),
    ("military_offence", "ECOWAS A/P.1/7/92 art. 4(1)(f) (numbering UNVERIFIED)"),
]
UNTOC = [
    ("not_in_conformity", "UNTOC 18(21)(a)"),
    ("essential_interests", "UNTOC 18(21)(b)"),
    ("domestic_law_prohibits", "UNTOC 18(21)(c)"),
    ("contrary_to_legal_system", "UNTOC 18(21)(d)"),
    ("dual_criminality", "UNTOC 18(9)"),
]
# A bilateral treaty that brings its own list (a test instrument, not shipped data).
TREATY = "SN-ML-TEST-1965"
TREATY_GROUNDS = [
    ("essential_interests", "SN-ML convention art. 3(a)"),
    ("political_offence", "SN-ML convention art. 3(b)"),
]
TREATY_FILE = (
    f'code = "{TREATY}"\nrank = 10\n'
    '[consultation]\nsource = { en = "art. 4", fr = "art. 4", pt = "art. 4.º" }\n'
    + "".join(
        f'[[refusal]]\nground = "{code}"\nsource = {{ en = "{src}", fr = "{src}", pt = "{src}" }}\n'
        for code, src in TREATY_GROUNDS
    )
)

CASES = [
    # (requesting, requested, bilateral treaty, its own list?, instrument, grounds, unlisted)
    ("SN", "NG", False, False, "ECOWAS-A/P.1/7/92", ECOWAS, ()),
    ("SN", "GH", False, False, "ECOWAS-A/P.1/7/92", ECOWAS, ()),
    ("SN", "ML", False, False, "UNTOC-18", UNTOC, ()),
    ("BF", "NE", False, False, "UNTOC-18", UNTOC, ()),
    ("SN", "ML", True, True, TREATY, TREATY_GROUNDS, ()),
    ("SN", "ML", True, False, "UNTOC-18", UNTOC, (TREATY,)),
    ("SN", "NG", True, False, "ECOWAS-A/P.1/7/92", ECOWAS, (TREATY,)),
    ("SN", "NG", True, True, TREATY, TREATY_GROUNDS, ()),
]


@pytest.fixture
def with_treaty_file(tmp_path: Path) -> Path:
    """Return a grounds folder holding the shipped files and the test treaty's."""
    for path in GROUNDS_DIR.glob("*.toml"):
        (tmp_path / path.name).write_text(path.read_text("utf-8"), "utf-8")
    (tmp_path / "sn_ml_test.toml").write_text(TREATY_FILE, "utf-8")
    return tmp_path


def _add_treaty(first: str, second: str) -> None:
    """Add a bilateral treaty between two states to the directory."""
    treaty = Instrument(
        code=TREATY,
        title_en="Test judicial cooperation convention",
        title_fr="Convention de coopération judiciaire (test)",
        title_pt="Convenção de cooperação judiciária (teste)",
        citation_en="SN-ML convention",
        applies=APPLIES_PARTIES,
        precedence=10,
    )
    treaty.parties = [InstrumentParty(jurisdiction_code=c) for c in (first, second)]
    db.session.add(treaty)
    db.session.flush()


@pytest.mark.parametrize(
    ("first", "second", "treaty", "own_list", "instrument", "expected", "unlisted"),
    CASES,
    ids=[f"{c[0]}-{c[1]}{'+treaty' if c[2] else ''}{'-list' if c[3] else ''}" for c in CASES],
)
def test_grounds_offered_per_legal_basis_pair(
    app, with_treaty_file, first, second, treaty, own_list, instrument, expected, unlisted
):
    if treaty:
        _add_treaty(first, second)
    # The basis a request for assistance between the two states is offered (never the
    # extradition convention, which only the extradition types name).
    basis = services.suggest(db.session, first, second, "taking_evidence").legal_basis
    table = load_grounds(with_treaty_file if own_list else GROUNDS_DIR)
    found = offer(basis, table)
    assert found.instrument == instrument
    assert [(g.code, g.source_in("en")) for g in found.refusal] == expected
    assert found.unlisted == unlisted
    assert found.postponement_codes <= {"ongoing_proceedings"}


ECOWAS_MLA, UNTOC_18, PALERMO = "ECOWAS-A/P.1/7/92", "UNTOC-18", "PALERMO-PROTOCOL"
# The legal basis suggested per pair and per measure (legal review, findings 2, 11, 20), each
# with its source. (requesting, requested, bilateral treaty?, measure, suggested, UNTOC scope
# required?, source of the expectation)
BASES = [
    (
        "SN",
        "NG",
        False,
        "taking_evidence",
        [ECOWAS_MLA, UNTOC_18, PALERMO],
        False,
        "UNTOC 18(7): the MLA treaty binding both ECOWAS parties leads; its 5(1) asks no UNTOC scope",
    ),
    (
        "SN",
        "ML",
        False,
        "taking_evidence",
        [UNTOC_18, PALERMO],
        True,
        "states.md: Mali left ECOWAS on 29 Jan 2025; UNTOC arts. 2(a), 3, 18(1) scope (finding 11)",
    ),
    (
        "BF",
        "NE",
        False,
        "records",
        [UNTOC_18, PALERMO],
        True,
        "states.md: both AES states rest on UNTOC art. 18; scope as above",
    ),
    (
        "SN",
        "ML",
        True,
        "taking_evidence",
        [TREATY, UNTOC_18, PALERMO],
        False,
        "UNTOC 18(7): a bilateral MLA treaty applies first; no longer UNTOC alone",
    ),
    (
        "SN",
        "NG",
        True,
        "taking_evidence",
        [TREATY, ECOWAS_MLA, UNTOC_18, PALERMO],
        False,
        "the bilateral treaty first (precedence 10), then A/P.1/7/92 (20)",
    ),
    # Palermo art. 4 limits the Protocol to UNTOC's scope, but the repatriation type omits the
    # element: a victim's return does not wait on proof of an organised group.
    (
        "SN",
        "NG",
        False,
        "survivor_repatriation",
        [PALERMO],
        True,
        "Palermo Protocol art. 8; the MLA conventions are no basis for repatriation (finding 2)",
    ),
    (
        "SN",
        "ML",
        False,
        "survivor_repatriation",
        [PALERMO],
        True,
        "Palermo art. 8; the Mali-Senegal agreement (c. 2004) is unverified: chosen by hand only",
    ),
    (
        "ML",
        "GN",
        False,
        "survivor_repatriation",
        ["ML-GN-TIP-2005", PALERMO],
        False,
        "Afribone (2010): Mali-Guinea child-trafficking agreement, Conakry, 16 June 2005",
    ),
    (
        "SN",
        "NG",
        False,
        "digital_preservation",
        [ECOWAS_MLA, "BUDAPEST", UNTOC_18, PALERMO],
        False,
        "Budapest Convention art. 29 (both listed parties, to verify)",
    ),
    (
        "SN",
        "ML",
        False,
        "digital_preservation",
        [UNTOC_18, PALERMO],
        True,
        "Mali is not listed as a Budapest party; UNTOC 18(3)(i)",
    ),
    (
        "SN",
        "NG",
        False,
        "extradition",
        ["ECOWAS-A/P.1/8/94"],
        False,
        "ECOWAS A/P.1/8/94: the extradition convention, named by the type (Model Treaty art. 1(3))",
    ),
]


@pytest.mark.parametrize(
    ("first", "second", "treaty", "measure", "expected", "scope", "source"),
    BASES,
    ids=[f"{c[0]}-{c[1]}{'+treaty' if c[2] else ''}-{c[3]}" for c in BASES],
)
def test_finding_02_11_20_basis_suggested_per_pair_and_measure(
    app, first, second, treaty, measure, expected, scope, source
):
    if treaty:
        _add_treaty(first, second)
    hints = services.suggest(db.session, first, second, measure)
    assert hints.legal_basis == expected, source
    assert needs_untoc_scope(db.session, hints.legal_basis) is scope, source
    # Reciprocity is a basis between any two states, offered to choose by hand, never suggested.
    assert "RECIPROCITY" in hints.choosable and "RECIPROCITY" not in hints.legal_basis
    reasons = {c.instrument.code: c.reason for c in hints.considered}
    assert reasons["RECIPROCITY"] == BY_HAND
    for code in expected:
        assert reasons[code] == IN_FORCE


def test_finding_02_20_why_an_instrument_is_not_offered(app):
    reasons = {
        c.instrument.code: c
        for c in services.suggest(db.session, "SN", "ML", "survivor_repatriation").considered
    }
    # Mali left ECOWAS: the Convention is not offered, and the reason names Mali.
    assert reasons[ECOWAS_MLA].reason == LEFT_ECOWAS and reasons[ECOWAS_MLA].states == ("ML",)
    # UNTOC art. 18 binds both, but is no basis for repatriating a victim (Palermo art. 8 is).
    assert reasons[UNTOC_18].reason == NOT_FOR_MEASURE
    # Senegal is listed as a party to the Budapest Convention, Mali is not.
    assert reasons["BUDAPEST"].reason == NOT_PARTY and reasons["BUDAPEST"].states == ("ML",)
    # Finding 19: between members, each ratification of A/P.1/7/92 is marked to be verified.
    between_members = {
        c.instrument.code: c for c in services.suggest(db.session, "SN", "NG", "records").considered
    }
    assert between_members[ECOWAS_MLA].unverified == ("SN", "NG")


def test_finding_19_a_state_off_the_ratification_list_is_not_bound(app, make_user):
    from exchange.directory.instrument_edits import update_instrument
    from exchange.directory.queries import instrument_by_code

    convention = instrument_by_code(db.session, ECOWAS_MLA)
    parties = sorted(convention.party_codes() - {"NG"})
    update_instrument(
        db.session, convention, actor=make_user("node_admin", "SN-CA"), parties=parties
    )
    hints = services.suggest(db.session, "SN", "NG", "taking_evidence")
    assert hints.legal_basis == [UNTOC_18, PALERMO]
    reasons = {c.instrument.code: c for c in hints.considered}
    assert reasons[ECOWAS_MLA].reason == NOT_PARTY and reasons[ECOWAS_MLA].states == ("NG",)


def test_sources_are_localised():
    ecowas = offer("ECOWAS-A/P.1/7/92,UNTOC-18,PALERMO-PROTOCOL")
    assert ecowas.source_of("compulsory_measure", "fr") == (
        "CEDEAO A/P.1/7/92, art. 4, par. 1, al. e) (numérotation NON VÉRIFIÉE)"
    )
    assert ecowas.source_of("compulsory_measure", "pt") == (
        "CEDEAO A/P.1/7/92, art. 4.º, n.º 1, al. e) (numeração NÃO VERIFICADA)"
    )
    assert ecowas.consultation_in("en") == "ECOWAS A/P.1/7/92 art. 4(4) (numbering UNVERIFIED)"
    untoc = offer("UNTOC-18,PALERMO-PROTOCOL")
    assert untoc.source_of("not_in_conformity", "fr") == "CNUCTO, art. 18, par. 21, al. a)"
    assert untoc.source_of("not_in_conformity", "pt") == "UNTOC, art. 18.º, n.º 21, al. a)"
    assert untoc.source_of("ongoing_proceedings", "pt") == "UNTOC, art. 18.º, n.º 25"
    assert untoc.consultation_in("fr") == "CNUCTO, art. 18, par. 26"
    # The Palermo Protocol applies the Convention (its art. 1(2)): no note, UNTOC's grounds.
    assert offer("PALERMO-PROTOCOL").instrument == "UNTOC-18"
    assert offer("PALERMO-PROTOCOL").unlisted == ()
    # Bank secrecy (18(8)) and fiscal matters (18(22)) are grounds under no instrument.
    for entry in grounds.shipped_grounds().values():
        assert not {g.code for g in entry.refusal} & {"bank_secrecy", "fiscal_matters"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('code = "X"\nrank = 5\n[[refusal]]\nground = "bank_secrecy"\n', "unknown ground"),
        (
            'code = "X"\nrank = 5\n[consultation]\nsource = { en = "a", fr = "b", pt = "c" }\n'
            '[[refusal]]\nground = "political_offence"\nsource = { en = "a", fr = "b" }\n',
            "en, fr and pt",
        ),
        ('code = "X"\nsame_as = "NOWHERE"\n', "same_as"),
        ('code = "X"\nrank = "first"\n', "rank"),
    ],
)
def test_a_broken_grounds_file_is_refused(tmp_path: Path, content: str, message: str):
    for path in GROUNDS_DIR.glob("*.toml"):
        (tmp_path / path.name).write_text(path.read_text("utf-8"), "utf-8")
    (tmp_path / "bad.toml").write_text(content, "utf-8")
    with pytest.raises(GroundsError, match=message):
        load_grounds(tmp_path)


@pytest.fixture
def mali_hosted(app):  # type: ignore[no-untyped-def]
    """Host Mali's central authority on this node, so that both sides of SN->ML are here."""
    db.session.execute(sa.update(Authority).where(Authority.code == "ML-CA").values(hosted=True))
    db.session.commit()


def _delivered(make_user, make_request, to: str):  # type: ignore[no-untyped-def]
    """Return an outgoing request to ``to`` and its incoming copy, delivered and registered."""
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor, to=to)
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, make_user("central_authority_officer", "SN-CA"), request)
    deliver_locally()
    incoming = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == INCOMING
        )
    )
    return request, incoming


REFUSAL = {"reason": "Reasons given.", "no_consultation_reason": "Nothing could be agreed."}


@pytest.mark.parametrize(
    ("to", "refused", "accepted"),
    [
        # Between ECOWAS parties dual criminality is no ground (A/P.1/7/92 art. 4): refused.
        ("NG-CA", "dual_criminality", "offence_under_investigation"),
        # Under UNTOC alone the Convention's political offence is no ground of 18(21): refused.
        ("ML-CA", "political_offence", "dual_criminality"),
    ],
)
def test_a_ground_the_basis_does_not_offer_is_refused(
    mali_hosted, make_user, make_request, to, refused, accepted
):
    request, incoming = _delivered(make_user, make_request, to)
    officer = make_user("central_authority_officer", to)
    services.act(db.session, officer, incoming, "register", {"reference": "R/1"})
    with pytest.raises(TransitionError) as refusal:
        services.act(db.session, officer, incoming, "refuse", {"ground": refused, **REFUSAL})
    assert refusal.value.code == "ground_not_for_basis"
    assert incoming.state == "registered" and incoming.refusal_ground is None
    services.act(db.session, officer, incoming, "refuse", {"ground": accepted, **REFUSAL})
    deliver_locally()
    assert request.state == "refused" and request.refusal_ground == accepted


def test_the_refusal_form_offers_the_grounds_of_the_basis(
    app, mali_hosted, make_user, make_request
):
    from tests.conftest import csrf_token, login

    _request, incoming = _delivered(make_user, make_request, "ML-CA")
    officer = make_user("central_authority_officer", "ML-CA")
    services.act(db.session, officer, incoming, "register", {"reference": "R/1"})
    db.session.commit()
    client = app.test_client()
    login(client, officer)
    url = f"/requests/{incoming.public_id}"
    page = client.get(url, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "CNUCTO, art. 18, par. 21, al. a)" in page and "CNUCTO, art. 18, par. 9" in page
    assert "Demande non conforme à l’instrument applicable" in page
    assert "CEDEAO A/P.1/7/92, art. 4" not in page  # the Convention is not the basis here
    token = csrf_token(client, url)
    client.post(
        f"{url}/act/refuse",
        data={"csrf_token": token, "ground": "military_offence", **REFUSAL},
    )
    page = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "This ground is not one of the instrument on which the request relies" in page
    db.session.expire_all()
    assert db.session.get(MlaRequest, incoming.id).state == "registered"
