"""Fixtures of the document tests: a request taken through every move a document reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from exchange.extensions import db
from exchange.mla import services
from exchange.mla.models import MlaRequest
from tests.mla.conftest import deliver_locally, make_case, make_request, tab  # noqa: F401 - fixtures

pytest.importorskip("weasyprint")


@dataclass
class Exchanged:
    """Both copies of one request and the users of each side."""

    outgoing: MlaRequest
    incoming: MlaRequest
    prosecutor: Any
    officer: Any
    executor: Any


def incoming_copy(request: MlaRequest) -> MlaRequest:
    """Return the requested side's copy of an outgoing request delivered on this node."""
    found = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == "incoming"
        )
    )
    assert found is not None
    return found


@pytest.fixture
def exchange(make_user, make_request):  # type: ignore[no-untyped-def]  # noqa: F811
    """Return a factory: a request transmitted to Nigeria, delivered, and moved by both sides.

    ``exchange(refuse=True)`` ends in a refusal; otherwise the requested side registers it,
    asks for more information, gets it, and executes the request.
    """

    def factory(
        *, request_type: str = "taking_evidence", refuse: bool = False, **fill: Any
    ) -> Exchanged:
        prosecutor = make_user("prosecutor", "SN-TGI-TAMBA", name="Aminata Diallo")
        officer = make_user("central_authority_officer", "SN-CA")
        executor = make_user("central_authority_officer", "NG-CA", name="Chinedu Obi")
        request = make_request(prosecutor, request_type=request_type, **fill)
        services.submit(db.session, prosecutor, request)
        services.approve(db.session, officer, request)
        deliver_locally()
        incoming = incoming_copy(request)
        services.act(db.session, executor, incoming, "register", {"reference": "FMOJ/CAU/2026/77"})
        deliver_locally()
        if refuse:
            services.act(
                db.session,
                executor,
                incoming,
                "refuse",
                {
                    "ground": "essential_interests",
                    "reason": "Execution would prejudice security.",
                    "no_consultation_reason": "The request names a state secret.",
                },
            )
        else:
            services.act(db.session, executor, incoming, "start_execution", {})
            services.act(
                db.session, executor, incoming, "request_info", {"reason": "Which village?"}
            )
            deliver_locally()
            services.act(db.session, prosecutor, request, "provide_info", {"reason": "Bantaco."})
            deliver_locally()
            services.act(
                db.session, executor, incoming, "execute", {"summary": "Statement taken on oath."}
            )
        deliver_locally()
        db.session.commit()
        return Exchanged(request, incoming, prosecutor, officer, executor)

    return factory


# -- bundles --------------------------------------------------------------------------------


@pytest.fixture
def identity(app):  # type: ignore[no-untyped-def]
    """Return SN-CA's PDF signing identity from the app's key store (issued by the node CA)."""
    from exchange.documents.signing import load_identity
    from exchange.envelopes.stores import key_store

    keys = key_store()
    keys.generate("SN-CA")
    return load_identity(keys, "SN-CA")


@pytest.fixture
def foreign_identity(tmp_path):  # type: ignore[no-untyped-def]
    """Return a signer whose certificate another node's CA issued (not trusted here)."""
    from exchange.documents.signing import load_identity
    from exchange.envelopes import KeyStore

    keys = KeyStore(tmp_path / "other-node-keys", "other passphrase", kdf_rounds=1000)
    keys.generate("SN-CA")
    return load_identity(keys, "SN-CA")


# -- the liaison officer's desk -------------------------------------------------------------


@pytest.fixture
def bundle_builder(app):  # type: ignore[no-untyped-def]
    """Return the worker's bundle builder, with the signing keys of the hosted authorities."""
    from exchange.documents import jobs
    from exchange.envelopes.stores import key_store

    for code in ("SN-CA", "SN-TGI-TAMBA", "NG-CA"):
        key_store().generate(code)
    return jobs.default_builder()


@pytest.fixture
def transmitted(make_user, make_request):  # type: ignore[no-untyped-def]  # noqa: F811
    """Return a factory of outgoing requests approved and transmitted, each with a PDF annex."""
    from exchange.mla.blueprint import blobs_dir
    from tests import files

    def factory(prosecutor: Any = None, officer: Any = None) -> Any:
        prosecutor = prosecutor or make_user("prosecutor", "SN-TGI-TAMBA")
        officer = officer or make_user("central_authority_officer", "SN-CA")
        request = make_request(prosecutor)
        services.add_annex(
            db.session,
            prosecutor,
            request,
            filename="statement.pdf",
            data=files.pdf("Statement of witness"),
            kind="supporting",
            blobs_dir=blobs_dir(),
            max_bytes=10 * 1024 * 1024,
        )
        services.submit(db.session, prosecutor, request)
        services.approve(db.session, officer, request)
        db.session.commit()
        assert request.state == "transmitted"
        return request

    return factory
