"""The liaison officer's desk: what awaits paper transmission, bundles built by the worker,
their download, and the record of each dispatch and of its receipt by the other side."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import cast

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from exchange.auth.permissions import permission_required
from exchange.core import background, navigation
from exchange.db import DbSession, utcnow
from exchange.documents import dispatch, jobs
from exchange.documents.forms import LANGUAGE_LABELS, BuildForm, DispatchForm, ReceiptForm
from exchange.documents.labels import FAILURE_LABELS, SUBJECT_LABELS, desk_message
from exchange.documents.models import DONE, BundleJob, PaperDispatch
from exchange.extensions import db
from exchange.mla.models import MlaRequest

log = logging.getLogger(__name__)

bp = Blueprint("paper", __name__, url_prefix="/paper", template_folder="templates")
navigation.add("paper.index", _l("Paper desk"), "documents.dispatch", order=30)


def bundles_dir() -> Path:
    """Return the folder of the encrypted bundles, under the instance folder."""
    return Path(current_app.instance_path) / "bundles"


@bp.record_once
def register_pass(state: BlueprintSetupState) -> None:
    """Have the worker build the queued bundles (exchange/core/background.py)."""
    app = cast(Flask, state.app)
    folder = Path(app.instance_path) / "bundles"

    def build_bundles(session: DbSession) -> dict[str, int]:
        """Build the bundles that are due."""
        return jobs.run_pass(session, bundles_dir=folder)

    background.register(app, "bundles", build_bundles)


def _load(public_id: str) -> MlaRequest:
    """Return a request whose paper the user handles, or answer 404 (never 403)."""
    found = dispatch.find_paper_request(db.session, current_user, public_id)
    if found is None:
        abort(404)
    return found


def _load_job(public_id: str) -> BundleJob:
    """Return a bundle job of a request whose paper the user handles, or answer 404."""
    found = jobs.find_job(db.session, current_user, public_id)
    if found is None:
        abort(404)
    return found


def _status(job: BundleJob) -> dict[str, object]:
    """Return what the progress bar shows of a job."""
    return {
        "state": job.state,
        "done": job.progress_done,
        "total": job.progress_total,
        "percent": jobs.percent(job),
        "error": str(FAILURE_LABELS.get(job.error, job.error)) if job.error else "",
        "download": url_for("paper.download", job_id=job.public_id) if job.state == DONE else None,
    }


@bp.get("/")
@permission_required("documents.dispatch")
def index() -> ResponseReturnValue:
    """List the requests and answers awaiting paper, and the dispatches awaiting receipt."""
    return render_template(
        "documents/desk.html",
        awaiting=dispatch.awaiting_dispatch(db.session, current_user),
        receipts=dispatch.awaiting_receipt(db.session, current_user),
        subject_of=dispatch.paper_subject,
        subject_labels=SUBJECT_LABELS,
    )


@bp.get("/requests/<public_id>")
@permission_required("documents.dispatch")
def item(public_id: str) -> ResponseReturnValue:
    """Show one request's paper: build a bundle, its builds, dispatches and receipts."""
    req = _load(public_id)
    entry = dispatch.desk_item(db.session, req)
    build_form = BuildForm(lang=jobs.default_language(req))
    dispatch_form = DispatchForm(on=utcnow().date())
    builds = db.session.scalars(
        select(BundleJob).where(BundleJob.request_id == req.id).order_by(BundleJob.id.desc())
    ).all()
    return render_template(
        "documents/item.html",
        req=req,
        entry=entry,
        builds=builds,
        dispatches=dispatch.dispatches_of(db.session, req),
        build_form=build_form,
        dispatch_form=dispatch_form,
        receipt_form=ReceiptForm(on=utcnow().date()),
        language_labels=LANGUAGE_LABELS,
        subject_labels=SUBJECT_LABELS,
        failure_labels=FAILURE_LABELS,
        status=_status,
    )


@bp.post("/requests/<public_id>/bundles")
@permission_required("bundles.export")
def build(public_id: str) -> ResponseReturnValue:
    """Queue a bundle build for the worker; show its progress."""
    req = _load(public_id)
    form = BuildForm()
    if not form.validate_on_submit():
        flash(_("Choose the language of the bundle."), "error")
        return redirect(url_for("paper.item", public_id=public_id), code=303)
    try:
        job = jobs.queue_bundle(db.session, current_user, req, lang=form.lang.data or "")
    except dispatch.DeskError as exc:
        flash(desk_message(exc.code), "error")
        return redirect(url_for("paper.item", public_id=public_id), code=303)
    return redirect(url_for("paper.job", job_id=job.public_id), code=303)


@bp.get("/bundles/<job_id>")
@permission_required("bundles.export")
def job(job_id: str) -> ResponseReturnValue:
    """Show a build's progress; the page refreshes itself without script, polls with it."""
    found = _load_job(job_id)
    return render_template(
        "documents/job.html",
        job=found,
        req=found.request,
        status=_status(found),
        language_labels=LANGUAGE_LABELS,
    )


@bp.get("/bundles/<job_id>/status.json")
@permission_required("bundles.export")
def job_status(job_id: str) -> ResponseReturnValue:
    """Answer a build's progress as JSON, for the progress bar's script."""
    response = jsonify(_status(_load_job(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/bundles/<job_id>/download")
@permission_required("bundles.export")
def download(job_id: str) -> ResponseReturnValue:
    """Download a built bundle: an attachment, never cached or sniffed (as an annex)."""
    found = _load_job(job_id)
    try:
        data = jobs.read_bundle(bundles_dir(), found)
    except dispatch.DeskError:
        abort(404)
    reference = found.request.reference or found.request.public_id[:8]
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in reference)
    log.info(
        "bundle %s of request %s downloaded by user %s",
        found.public_id,
        found.request.public_id,
        current_user.id,
    )
    response = send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"bundle-{name}-{found.lang}.pdf",
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/requests/<public_id>/dispatch")
@permission_required("documents.dispatch")
def record_dispatch(public_id: str) -> ResponseReturnValue:
    """Record that the request (or its answer) left by an official channel."""
    req = _load(public_id)
    form = DispatchForm()
    back = redirect(url_for("paper.item", public_id=public_id), code=303)
    if not form.validate_on_submit() or form.on.data is None:
        flash(_("Give the channel and the date of the dispatch."), "error")
        return back
    entry = dispatch.desk_item(db.session, req)
    built = entry.job if entry.job is not None and entry.job.state == DONE else None
    try:
        dispatch.record_dispatch(
            db.session,
            current_user,
            req,
            channel=form.channel.data or "",
            reference=form.reference.data or "",
            on=form.on.data,
            job=built,
        )
    except dispatch.DeskError as exc:
        flash(desk_message(exc.code), "error")
        return back
    flash(_("The dispatch is recorded on the request's timeline."), "success")
    return back


@bp.post("/dispatches/<dispatch_id>/receipt")
@permission_required("documents.dispatch")
def record_receipt(dispatch_id: str) -> ResponseReturnValue:
    """Record that the other side received a dispatch."""
    found = db.session.scalar(select(PaperDispatch).where(PaperDispatch.public_id == dispatch_id))
    if found is None:
        abort(404)
    req = _load(found.request.public_id)
    form = ReceiptForm()
    back = redirect(url_for("paper.item", public_id=req.public_id), code=303)
    if not form.validate_on_submit() or form.on.data is None:
        flash(_("Give the date of receipt."), "error")
        return back
    try:
        dispatch.record_receipt(
            db.session, current_user, found, on=form.on.data, reference=form.reference.data or ""
        )
    except dispatch.DeskError as exc:
        flash(desk_message(exc.code), "error")
        return back
    flash(_("The receipt is recorded on the request's timeline."), "success")
    return back
