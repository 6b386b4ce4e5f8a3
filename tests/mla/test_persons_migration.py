"""The migration to persons of a case keeps existing data: each request's person becomes a person
of its case (one for the same identity typed in two requests), chosen with all it carried, so
the payload is what it was; the downgrade writes each identity back into its row."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from exchange import create_app
from exchange.envelopes.stores import decrypt_field, encrypt_field
from exchange.extensions import db
from tests.conftest import _settings

BEFORE = "ffd9ce8da32d"
VICTIM = {"name": "Grace Adeyemi", "nationality": "Nigerian", "date_of_birth": "2008-01-02"}
OTHER = {"name": "Kwame Mensah"}


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """Return the URL of an empty database of this run's engine, dropped at the end."""
    server = os.environ.get("EXCHANGE_TEST_DATABASE", "sqlite")
    if server == "sqlite":
        yield f"sqlite:///{tmp_path / 'migration.sqlite'}"
        return
    name = f"exchange_migration_{secrets.token_hex(4)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _old_rows() -> dict[str, int]:
    """Write, as the schema before the migration held them, two requests of one case naming
    the same victim, and a third person; return the ids. Users, cases and requests are
    unchanged by the migration: the ORM writes them; the persons are written as rows."""
    from exchange.auth import services as accounts
    from exchange.cases import services as cases
    from exchange.directory.queries import authority_by_code
    from exchange.directory.services import seed_directory
    from exchange.mla.models import MlaRequest

    seed_directory(db.session)
    office = authority_by_code(db.session, "SN-TGI-TAMBA")
    assert office is not None
    office.hosted = True
    prosecutor = accounts.create_user(
        db.session,
        email="p@sn-tgi-tamba.example",
        display_name="P",
        authority=office,
        roles={"prosecutor"},
    )
    case = cases.create_case(
        db.session,
        prosecutor,
        number="PR-1",
        title="x",
        offences="",
        stage="investigation",
        border_localities="",
    )
    ids = {}
    for n in (1, 2):
        request = MlaRequest(
            side="outgoing",
            authority=office,
            reviewing_authority=authority_by_code(db.session, "SN-CA"),
            counterpart=authority_by_code(db.session, "NG-CA"),
            counterpart_state="NG",
            case=case,
            request_type="taking_evidence",
            state="in_review",
            reference=f"SN-TGI-TAMBA/2026/00000{n}",
            language="en",
            legal_basis="UNTOC-18",
            created_by_id=prosecutor.id,
        )
        db.session.add(request)
        db.session.flush()
        ids[f"request{n}"] = request.id
    people = [("rp-1", "request1", VICTIM, True), ("rp-2", "request2", VICTIM, True)]
    people.append(("rp-3", "request2", OTHER, False))
    for public_id, request_key, identity, victim in people:
        db.session.execute(
            sa.text(
                "INSERT INTO mla_request_persons (public_id, request_id, label, is_victim,"
                " is_minor, is_witness, is_suspect, identity_enc, created_at) VALUES (:p, :r,"
                " :label, :v, false, true, false, :enc, CURRENT_TIMESTAMP)"
            ),
            {
                "p": public_id,
                "r": ids[request_key],
                "label": "P1" if public_id != "rp-3" else "P2",
                "v": victim,
                "enc": encrypt_field(json.dumps(identity), context=f"person:{public_id}"),
            },
        )
    db.session.commit()
    return ids


def test_existing_persons_move_into_their_case_and_back(empty_database, tmp_path):
    app = create_app(_settings(empty_database, tmp_path / "instance"))
    with app.app_context():
        upgrade(revision=BEFORE)
        ids = _old_rows()
        db.session.remove()
        upgrade()
        from exchange.mla import services
        from exchange.mla.models import MlaRequest

        first = db.session.get(MlaRequest, ids["request1"])
        second = db.session.get(MlaRequest, ids["request2"])
        assert first is not None and second is not None and first.case is not None
        # One person for the victim typed in both requests, one for the other.
        assert [p.label for p in first.case.persons] == ["P1", "P2"]
        assert first.persons[0].case_person_id == second.persons[0].case_person_id
        # Each request still sends what it carried before the migration.
        flags = {"victim": True, "minor": False, "witness": True, "suspect": False}
        assert services.disclosed_persons(first) == [{"label": "P1", **flags, "identity": VICTIM}]
        assert services.disclosed_persons(second)[1] == {
            "label": "P2",
            **flags,
            "victim": False,
            "identity": OTHER,
        }
        db.session.remove()
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT public_id, identity_enc FROM mla_request_persons ORDER BY id")
            ).all()
        restored = [
            json.loads(decrypt_field(enc, context=f"person:{public_id}")) for public_id, enc in rows
        ]
        assert restored == [VICTIM, VICTIM, OTHER]
        db.engine.dispose()
