"""Fixtures of the desk tests: requests approved and transmitted with a PDF annex, a liaison
officer, and the bundle builder (the documents area's own once it exists)."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from flask import Flask

from exchange.extensions import db
from exchange.mla import services
from exchange.mla.blueprint import blobs_dir
from tests import files
from tests.mla.conftest import make_case as make_case
from tests.mla.conftest import make_request as make_request
from tests.mla.conftest import tab as tab

HAS_BUNDLE = importlib.util.find_spec("exchange.documents.bundle") is not None


def weasyprint_bundle(session: Any, request: Any, *, lang: str, progress: Any = None) -> Any:
    """Build a small real PDF with WeasyPrint, reporting progress as the bundle builder does.

    Stands in for ``bundle.build_request_bundle`` only while that builder is not in this tree.
    """
    from types import SimpleNamespace

    import weasyprint

    if progress:
        progress(0, 3)
    html = f"<h1>Request {request.reference or request.public_id}</h1><p lang='{lang}'>Bundle</p>"
    pdf = weasyprint.HTML(string=html).write_pdf()
    if progress:
        progress(2, 3)
        progress(3, 3)
    return SimpleNamespace(
        pdf=pdf,
        sha256="",
        bundle_id=f"b-{request.public_id[:8]}",
        template_version="test-1",
        parameters={"lang": lang},
    )


@pytest.fixture(autouse=True)
def bundle_builder(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make the worker's builder available: the real one with the authority's PDF key, else
    the WeasyPrint stand-in."""
    from exchange.documents import jobs

    if HAS_BUNDLE:
        from exchange.envelopes.stores import key_store

        for code in ("SN-CA", "SN-TGI-TAMBA", "NG-CA"):
            key_store().generate(code, pdf=True)
        return jobs.default_builder()
    monkeypatch.setattr(jobs, "default_builder", lambda: weasyprint_bundle)
    return weasyprint_bundle


@pytest.fixture
def transmitted(make_user, make_request):  # type: ignore[no-untyped-def]
    """Return a factory of outgoing requests approved and transmitted, each with a PDF annex."""

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
