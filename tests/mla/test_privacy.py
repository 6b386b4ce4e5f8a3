"""Identities at rest: a victim's name is in no database page, no row, no outbox message, no blob;
only the case team reads it on the page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from exchange.extensions import db
from exchange.mla import sealing, services
from exchange.mla.sealing import SealingError
from tests.conftest import login
from tests.mla.conftest import deliver_locally

VICTIM = "Chiamaka Eze-Nwosu"


def _queue_everything(make_user, make_request):  # type: ignore[no-untyped-def]
    """Draft, approve and transmit a request naming the victim; deliver it to Nigeria locally."""
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    request = make_request(prosecutor, victim_name=VICTIM)
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    deliver_locally()
    db.session.commit()
    return prosecutor, officer, request


@pytest.mark.skipif(
    os.environ.get("EXCHANGE_TEST_DATABASE", "sqlite") != "sqlite", reason="reads the SQLite file"
)
def test_victim_name_not_in_the_sqlite_file(app, make_user, make_request):
    _queue_everything(make_user, make_request)
    db.session.execute(sa.text("PRAGMA wal_checkpoint(FULL)"))
    db.session.commit()
    path = Path(db.engine.url.database)
    raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    assert b"Chiamaka" not in raw and VICTIM.encode() not in raw
    assert b"taking_evidence" in raw  # the clear metadata is there, so the file was read


@pytest.mark.skipif(
    os.environ.get("EXCHANGE_TEST_DATABASE", "sqlite") == "sqlite", reason="PostgreSQL only"
)
def test_victim_name_not_in_postgresql_rows(app, make_user, make_request):
    _queue_everything(make_user, make_request)
    for table in ("mla_request_persons", "mla_requests", "outbox_messages", "mla_request_events"):
        rows = db.session.execute(sa.text(f"SELECT t::text FROM {table} t")).scalars().all()  # noqa: S608
        assert rows, table
        assert not any("Chiamaka" in row for row in rows), table


def test_identity_is_bound_to_its_row(app, make_user, make_request):
    _p, _o, request = _queue_everything(make_user, make_request)
    person = request.persons[0]
    assert "Chiamaka" in services.person_identities(request)[person.id]["name"]
    with pytest.raises(SealingError):
        sealing.decrypt_field(person.identity_enc, context="person:another-row")


def test_identities_shown_only_to_the_case_team_and_the_reviewing_officer(
    app, make_user, make_case, make_request
):
    """The case team, and the reviewing officer what the request discloses; nobody else."""
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    investigator = make_user("investigator", "SN-TGI-TAMBA")
    outsider = make_user("investigator", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    request = make_request(
        prosecutor, case=make_case(prosecutor, team=(investigator,)), victim_name=VICTIM
    )
    services.submit(db.session, prosecutor, request)
    db.session.commit()
    for user, sees in ((prosecutor, True), (investigator, True), (officer, True)):
        client = app.test_client()
        login(client, user)
        page = client.get(f"/requests/{request.public_id}").get_data(as_text=True)
        assert (VICTIM in page) == sees, user.roles
        assert (
            "P1" in page
        )  # the neutral label and the flags are shown to all who may see the request
    client = app.test_client()
    login(client, outsider)
    assert client.get(f"/requests/{request.public_id}").status_code == 404


def test_the_seam_uses_the_envelope_layer(app):
    """Fields sealed by the MLA seam are the envelope layer's (node data keys, ef1 tokens)."""
    from exchange.envelopes import stores

    token = sealing.encrypt_field("Chiamaka", context="person:x")
    assert token.startswith("ef1.")
    assert stores.decrypt_field(token, context="person:x") == "Chiamaka"
    assert (
        sealing.decrypt_blob(sealing.encrypt_blob(b"%PDF-1.7", context="blob:y"), context="blob:y")
        == b"%PDF-1.7"
    )
    with pytest.raises(SealingError):
        sealing.decrypt_blob(sealing.encrypt_blob(b"%PDF-1.7", context="blob:y"), context="blob:z")


def test_only_the_envelope_layer_imports_cryptography():
    root = Path(__file__).resolve().parents[2] / "exchange"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "envelopes" not in path.parts
        and any(
            line.lstrip().startswith(("import cryptography", "from cryptography"))
            for line in path.read_text("utf-8").splitlines()
        )
    ]
    assert offenders == []


MARKERS = {
    "title": "TITLEMARK Zarakova case",
    "offences": "OFFENCEMARK",
    "border": "BORDERMARK Zarakovaville",
    "urgency": "URGENCYMARK Zarakova is at risk",
    "info": "INFOREASON Zarakova lives at Quartier Zarakovaville",
    "contact": "CONTACTMARK +221 77 000 00 00",
}


def _free_text_everywhere(make_user, make_case, make_request):  # type: ignore[no-untyped-def]
    """Write a marker into every free-text field that may name a person, through the services."""
    from exchange.cases import services as cases
    from exchange.directory.queries import authority_by_code

    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    ng_officer = make_user("central_authority_officer", "NG-CA")
    case = cases.create_case(
        db.session,
        prosecutor,
        number="PR-PRIV-1",
        title=MARKERS["title"],
        offences=MARKERS["offences"],
        stage="investigation",
        border_localities=MARKERS["border"],
    )
    cases.share_reference(
        db.session,
        prosecutor,
        case,
        counterpart=authority_by_code(db.session, "NG-CA"),
        disclose=set(),
        contact_point=MARKERS["contact"],
        offence_categories=MARKERS["offences"],
    )
    request = make_request(prosecutor, case=case)
    request.urgency_reason = MARKERS["urgency"]
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    deliver_locally()
    incoming = db.session.scalar(
        sa.select(type(request)).where(
            type(request).conversation_id == request.conversation_id,
            type(request).side == "incoming",
        )
    )
    services.act(db.session, ng_officer, incoming, "register", {"reference": "R/9"})
    services.act(db.session, ng_officer, incoming, "request_info", {"reason": MARKERS["info"]})
    db.session.commit()
    return prosecutor, incoming


def test_finding_07_free_text_naming_people_is_encrypted_at_rest(
    app, make_user, make_case, make_request
):
    prosecutor, incoming = _free_text_everywhere(make_user, make_case, make_request)
    tables = ("cases", "case_references", "mla_requests", "mla_request_events")
    for table in tables:
        rows = db.session.execute(sa.text(f"SELECT * FROM {table}")).all()  # noqa: S608
        assert rows, table
        raw = " ".join(str(value) for row in rows for value in row)
        for word in (
            "TITLEMARK",
            "OFFENCEMARK",
            "BORDERMARK",
            "URGENCYMARK",
            "INFOREASON",
            "CONTACTMARK",
            "Zarakova",
        ):
            assert word not in raw, (table, word)
    # ... and read back in clear by those who may see them.
    client = app.test_client()
    login(client, prosecutor)
    from exchange.cases.models import Case

    case = db.session.scalar(sa.select(Case).where(Case.number == "PR-PRIV-1"))
    page = client.get(f"/cases/{case.public_id}").get_data(as_text=True)
    assert MARKERS["title"] in page and "BORDERMARK" in page
    assert next(e for e in incoming.events if e.action == "request_info").payload == (
        '{"reason": "' + MARKERS["info"] + '"}'
    )
