"""Documents and paper: a request's official documents rendered as PDF, bundle jobs built by the
worker (status, download), and the liaison officer's desk (dispatches, receipts, work list).

Each operation goes through the documents area's services and the policy the portal applies:
a document renders for whoever may open the request (``context.document_context``, identities
only where the request page shows them); bundles and dispatches are for the liaison officers
whose authority handles the request's paper (``policy.can_handle_paper``). Anything out of
reach is answered 404, as for what does not exist.

A document (a letter of a few pages, in one to three languages) renders synchronously, as the
command line does: its cost is bounded by the template and the request's contents, never by the
annexes. A bundle merges the annexes and is signed: it is a job of the worker.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

from flask import abort, current_app, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from exchange.api.blueprint import api_problem, blp
from exchange.api.document_schemas import (
    BundleIn,
    BundleListOut,
    BundleOut,
    DispatchIn,
    DispatchListOut,
    DispatchOut,
    DocumentQueryIn,
    PaperDeskOut,
    ReceiptIn,
)
from exchange.api.request_routes import load_request
from exchange.auth.permissions import permission_required
from exchange.documents import context, dispatch, jobs, rendering
from exchange.documents.desk_routes import bundles_dir
from exchange.documents.labels import FAILURE_LABELS
from exchange.documents.models import DONE, BundleJob, PaperDispatch
from exchange.extensions import db, limiter
from exchange.mla.models import MlaRequest

log = logging.getLogger(__name__)

PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
# The documents of a request (the bundle's cover and index are parts of a bundle, not these).
DOCUMENTS = tuple(d for d in rendering.documents() if d in context.ISSUER)
UNAVAILABLE = _l(
    "This document cannot be made for this request yet: the step it reports is not on its timeline."
)
NOT_BUILT = _l("The bundle is not built yet: read its status until it is done.")
LOCATION = {"Location": {"schema": {"type": "string"}}}


def _attachment(data: bytes, name: str) -> ResponseReturnValue:
    """Answer a PDF as an attachment, never cached or sniffed (as an annex)."""
    response = send_file(
        io.BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=name
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _file_part(text: str) -> str:
    """Return ``text`` as a safe part of a file name."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)[:60]


# --- documents --------------------------------------------------------------------------------


def _document_limit() -> str:
    """Return the node's rate limit of document renderings per user."""
    return str(current_app.config["EXCHANGE"].document_rate_limit)


def _renderer() -> str:
    """Return whom a rendering counts against: the signed-in user (whatever the address, since
    a worker's time is spent per user), else the client's address."""
    if current_user.is_authenticated:
        return f"user:{current_user.public_id}"
    return f"address:{request.remote_addr or ''}"


@blp.route("/requests/<public_id>/documents/<document>", methods=["GET"], tags=["documents"])
@permission_required("requests.view")
@limiter.limit(_document_limit, key_func=_renderer)
@blp.arguments(DocumentQueryIn, location="query")
@blp.response(200, description="The document, as a PDF/A-3b attachment.")
@blp.doc(
    responses={"200": {"content": PDF}},
    parameters=[
        {
            "in": "path",
            "name": "document",
            "required": True,
            "schema": {"type": "string", "enum": list(DOCUMENTS)},
        }
    ],
)
@blp.alt_response(422, description="The step the document reports is not on the timeline.")
@blp.alt_response(429, description="Too many documents rendered by this user: retry later.")
def render_document(query: dict[str, Any], public_id: str, document: str) -> ResponseReturnValue:
    """Render an official document of a request (a letter, a notice), in its language and, with
    ``also``, in others after it: the persons as the request page shows them to the user."""
    req = load_request(public_id)
    if document not in DOCUMENTS:
        abort(404)
    first = query["lang"] or req.language
    langs = list(dict.fromkeys([first, *query["also"]]))
    try:
        parts = [
            (lang, context.document_context(db.session, current_user, public_id, document, lang))
            for lang in langs
        ]
        html = rendering.render_parts_html(document, parts)
    except context.RequestNotFound:
        abort(404)
    except rendering.DocumentError:
        return api_problem(422, str(UNAVAILABLE), error="document_unavailable")
    pdf = rendering.html_to_pdf(html)
    name = _file_part(req.reference or req.public_id[:8])
    return _attachment(pdf, f"{document}-{name}-{'-'.join(langs)}.pdf")


# --- bundle jobs ------------------------------------------------------------------------------


def _paper_request(public_id: str) -> MlaRequest:
    """Return a request whose paper the user handles, or answer 404."""
    found = dispatch.find_paper_request(db.session, current_user, public_id)
    if found is None:
        abort(404)
    return found


def _job(public_id: str) -> BundleJob:
    """Return a bundle job of a request whose paper the user handles, or answer 404."""
    found = jobs.find_job(db.session, current_user, public_id)
    if found is None:
        abort(404)
    return found


def _bundle(job: BundleJob) -> dict[str, Any]:
    """Describe a bundle job, its progress and, once built, where to download it."""
    done = job.state == DONE
    return {
        "id": job.public_id,
        "request_id": job.request.public_id,
        "lang": job.lang,
        "state": job.state,
        "done": job.progress_done,
        "total": job.progress_total,
        "percent": jobs.percent(job),
        "error": job.error,
        "error_detail": str(FAILURE_LABELS.get(job.error, job.error)) if job.error else "",
        "sha256": job.sha256,
        "size": job.size,
        "template_version": job.template_version,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "download": url_for("api.download_bundle", job_id=job.public_id) if done else None,
    }


@blp.route("/requests/<public_id>/bundles", methods=["GET"], tags=["paper"])
@permission_required("bundles.export")
@blp.response(200, BundleListOut)
def list_bundles(public_id: str) -> dict[str, Any]:
    """List a request's bundle jobs, newest first."""
    req = _paper_request(public_id)
    rows = db.session.scalars(
        select(BundleJob).where(BundleJob.request_id == req.id).order_by(BundleJob.id.desc())
    )
    return {"items": [_bundle(job) for job in rows]}


@blp.route("/requests/<public_id>/bundles", methods=["POST"], tags=["paper"])
@permission_required("bundles.export")
@blp.arguments(BundleIn)
@blp.response(202, BundleOut, headers=LOCATION)
def create_bundle(body: dict[str, Any], public_id: str) -> ResponseReturnValue:
    """Queue a signed bundle of a request (letter and annexes) for the worker; a build of the
    same bundle already waiting is answered instead. Poll its status until ``done``."""
    job = jobs.queue_bundle(db.session, current_user, _paper_request(public_id), lang=body["lang"])
    location = url_for("api.get_bundle", job_id=job.public_id)
    return _bundle(job), 202, {"Location": location}


@blp.route("/bundles/<job_id>", methods=["GET"], tags=["paper"])
@permission_required("bundles.export")
@blp.response(200, BundleOut)
def get_bundle(job_id: str) -> ResponseReturnValue:
    """Return a bundle job's state and progress (never cached)."""
    return _bundle(_job(job_id)), 200, {"Cache-Control": "no-store"}


@blp.route("/bundles/<job_id>/pdf", methods=["GET"], tags=["paper"])
@permission_required("bundles.export")
@blp.response(200, description="The signed bundle, as a PDF attachment.")
@blp.doc(responses={"200": {"content": PDF}})
@blp.alt_response(409, description="The bundle is not built yet.")
def download_bundle(job_id: str) -> ResponseReturnValue:
    """Download a built bundle, checked against its SHA-256."""
    found = _job(job_id)
    if found.state != DONE:
        return api_problem(409, str(NOT_BUILT), state=found.state)
    try:
        data = jobs.read_bundle(bundles_dir(), found)
    except dispatch.DeskError:
        abort(404)
    log.info(
        "bundle %s of request %s downloaded by user %s through the API",
        found.public_id,
        found.request.public_id,
        current_user.id,
    )
    name = _file_part(found.request.reference or found.request.public_id[:8])
    return _attachment(data, f"bundle-{name}-{found.lang}.pdf")


# --- paper dispatches -------------------------------------------------------------------------


def _dispatch(row: PaperDispatch) -> dict[str, Any]:
    """Describe a paper dispatch and its receipt."""
    return {
        "id": row.public_id,
        "request_id": row.request.public_id,
        "subject": row.subject,
        "channel": row.channel,
        "reference": row.reference,
        "dispatched_on": row.dispatched_on,
        "bundle_id": row.bundle_job.public_id if row.bundle_job is not None else None,
        "received_on": row.received_on,
        "receipt_reference": row.receipt_reference,
    }


@blp.route("/paper", methods=["GET"], tags=["paper"])
@permission_required("documents.dispatch")
@blp.response(200, PaperDeskOut)
def paper_desk() -> dict[str, Any]:
    """Return the liaison officer's work list: the paper owed (urgent first, oldest first) and
    the dispatches whose receipt by the other side is not recorded yet."""
    owed = dispatch.awaiting_dispatch(db.session, current_user)
    return {
        "awaiting_dispatch": [
            {
                "request_id": req.public_id,
                "reference": req.reference or "",
                "direction": req.side,
                "state": req.state,
                "urgent": bool(req.urgent),
                "subject": dispatch.paper_subject(req) or "",
            }
            for req in owed
        ],
        "awaiting_receipt": [
            _dispatch(row) for row in dispatch.awaiting_receipt(db.session, current_user)
        ],
    }


@blp.route("/requests/<public_id>/dispatches", methods=["GET"], tags=["paper"])
@permission_required("documents.dispatch")
@blp.response(200, DispatchListOut)
def list_dispatches(public_id: str) -> dict[str, Any]:
    """List a request's paper dispatches, newest first."""
    req = _paper_request(public_id)
    return {"items": [_dispatch(row) for row in dispatch.dispatches_of(db.session, req)]}


@blp.route("/requests/<public_id>/dispatches", methods=["POST"], tags=["paper"])
@permission_required("documents.dispatch")
@blp.arguments(DispatchIn)
@blp.response(201, DispatchOut)
def create_dispatch(body: dict[str, Any], public_id: str) -> dict[str, Any]:
    """Record that what of the request is owed on paper left by an official channel (with the
    latest built bundle, as the desk records it); the same record sent twice is kept once."""
    req = _paper_request(public_id)
    entry = dispatch.desk_item(db.session, req)
    built = entry.job if entry.job is not None and entry.job.state == DONE else None
    row = dispatch.record_dispatch(
        db.session,
        current_user,
        req,
        channel=body["channel"],
        reference=body["reference"],
        on=body["on"],
        job=built,
    )
    return _dispatch(row)


@blp.route("/dispatches/<dispatch_id>/receipt", methods=["POST"], tags=["paper"])
@permission_required("documents.dispatch")
@blp.arguments(ReceiptIn)
@blp.response(200, DispatchOut)
def record_receipt(body: dict[str, Any], dispatch_id: str) -> dict[str, Any]:
    """Record that the other side received a dispatch (their reference, the date); once."""
    found = db.session.scalar(select(PaperDispatch).where(PaperDispatch.public_id == dispatch_id))
    if found is None or not _paper_request(found.request.public_id):
        abort(404)
    row = dispatch.record_receipt(
        db.session, current_user, found, on=body["on"], reference=body["reference"]
    )
    return _dispatch(row)
