"""Hostile input in every text field, person and annex name: the documents embed no file and make
no request (a local listener proves that none arrived); the text is shown, not interpreted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from exchange.documents import rendering
from exchange.documents.context import build_context
from exchange.documents.rendering import LANGUAGES
from exchange.extensions import db
from exchange.mla import services
from exchange.mla.blueprint import blobs_dir, max_annex_bytes
from exchange.mla.definitions import get_type
from tests import files
from tests.documents.bundles import request_documents
from tests.documents.conftest import incoming_copy
from tests.documents.listener import listening
from tests.documents.pdfs import embedded_files, pdf_text
from tests.mla.conftest import deliver_locally, filler


def hostile(port: int, where: str) -> str:
    """Return markup that would embed /etc/passwd and call the listener, were it interpreted."""
    url = f"http://127.0.0.1:{port}/{where}"
    return (
        f"<link rel=attachment href=file:///etc/passwd><img src={url}>"
        f'<p style="background:url({url}/css)">x</p><script>fetch("{url}/js")</script>'
        f"<a rel=attachment href=print.css>a</a>"
    )


def _annex(actor: Any, request: Any, name: str, kind: str) -> None:
    """Attach a real PDF under a hostile name."""
    services.add_annex(
        db.session,
        actor,
        request,
        filename=f"{name}.pdf",
        data=files.pdf(name[:40]),
        kind=kind,
        blobs_dir=blobs_dir(),
        max_bytes=max_annex_bytes(),
    )


def _hostile_exchange(make_user, make_request, port: int, *, refuse: bool) -> tuple[Any, Any]:  # type: ignore[no-untyped-def]
    """Take a request whose every text is hostile through the moves the documents report."""
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    executor = make_user("central_authority_officer", "NG-CA")
    request = make_request(prosecutor, complete=False)
    definition = get_type(request.request_type)
    assert definition is not None
    values = {
        f.name: hostile(port, f.name) if f.kind in ("text", "textarea") else filler(f)
        for f in definition.all_fields
    }
    services.update_contents(db.session, prosecutor, request, expected_version=None, values=values)
    services.add_person(
        db.session,
        prosecutor,
        request,
        identity={
            "name": hostile(port, "name"),
            "nationality": hostile(port, "nationality"),
            "address": hostile(port, "address"),
            "aliases": hostile(port, "aliases"),
        },
        victim=True,
        witness=True,
    )
    _annex(prosecutor, request, hostile(port, "annex"), "supporting")
    request.urgent = True
    request.urgency_reason = hostile(port, "urgency")
    request.desired_date = dt.date(2027, 1, 15)
    db.session.commit()
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    deliver_locally()
    incoming = incoming_copy(request)
    services.act(db.session, executor, incoming, "register", {"reference": "FMOJ/CAU/2026/78"})
    if refuse:
        services.act(
            db.session,
            executor,
            incoming,
            "refuse",
            {
                "ground": "essential_interests",
                "reason": hostile(port, "refusal"),
                "no_consultation_reason": hostile(port, "consultation"),
            },
        )
    else:
        services.act(db.session, executor, incoming, "start_execution", {})
        services.act(
            db.session, executor, incoming, "request_info", {"reason": hostile(port, "info")}
        )
        deliver_locally()
        services.act(
            db.session, prosecutor, request, "provide_info", {"reason": hostile(port, "more")}
        )
        deliver_locally()
        _annex(executor, incoming, hostile(port, "result"), "result")
        services.act(
            db.session, executor, incoming, "execute", {"summary": hostile(port, "summary")}
        )
    deliver_locally()
    db.session.commit()
    return request, incoming


def test_hostile_input_embeds_nothing_and_fetches_nothing(
    make_user, make_request, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    with listening() as listener:
        done, notices = _hostile_exchange(make_user, make_request, listener.port, refuse=False)
        _, refused = _hostile_exchange(make_user, make_request, listener.port, refuse=True)
        rendered = 0
        for document in request_documents():  # the bundle's pages: test_bundle.py
            request = (
                done
                if document == "letter"
                else refused
                if document == "refusal_notice"
                else notices
            )
            for lang in LANGUAGES:
                context = build_context(db.session, request, document, lang, identities=True)
                html = rendering.render_html(document, lang, context)
                assert (
                    "<script" not in html
                    and "<img" not in html
                    and "<link rel=attachment" not in html
                )
                fetcher = rendering.confined_fetcher()
                pdf = rendering.html_to_pdf(html, fetcher)
                assert fetcher.refused == [], (document, lang)  # the text never became markup
                assert embedded_files(pdf) == [], (document, lang)
                text = pdf_text(pdf, tmp_path)
                assert "<link rel=attachment href=file:///etc/passwd>" in text, (document, lang)
                assert "root:" not in text
                rendered += 1
        assert rendered == len(request_documents()) * len(LANGUAGES)
        assert listener.connections() == 0
