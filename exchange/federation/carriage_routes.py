"""The offline carriage page: export queued envelopes to a file, import carried envelopes and receipts.

For a state whose node cannot be reached. A liaison officer of the sending authority exports the
envelope of a queued message; on the other side a central authority officer or a liaison officer
of the addressed authority imports it, through the inbox's own checks, and takes its receipt
back; the receipt imported on the sending side is matched to the message. Views are thin: the
rules are in ``exchange.federation.offline``.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from exchange import uow
from exchange.auth.forms import EmptyForm
from exchange.auth.permissions import permission_required
from exchange.core import navigation
from exchange.extensions import db
from exchange.federation import journal, offline
from exchange.federation.cli import delivery_config
from exchange.federation.errors import FederationError
from exchange.federation.forms import CarriedFileForm
from exchange.federation.labels import carriage_error, outcome_label
from exchange.federation.routes import inbox_max_bytes

bp = Blueprint("carriage", __name__, url_prefix="/carriage", template_folder="templates")
navigation.add("carriage.index", _l("Offline carriage"), "envelopes.import", order=80)

FORM_OVERHEAD = 64 << 10  # the multipart framing and the CSRF token around the file
CARRIAGE_ACTIONS = ("envelope_export", "envelope_import", "receipt_import")


def _page(form: CarriedFileForm, status: int = 200) -> ResponseReturnValue:
    """Render the carriage page with the user's authority's queued messages and latest actions."""
    code = current_user.authority.code
    messages = offline.carriable(db.session, code) if current_user.can("envelopes.export") else []
    actions = [
        a
        for a in journal.recent_actions(db.session, authority_code=code, limit=100)
        if a.action in CARRIAGE_ACTIONS
    ][:30]
    return render_template(
        "federation/carriage.html",
        form=form,
        button_form=EmptyForm(formdata=None),  # never reads a (possibly oversized) body
        messages=messages,
        exported=offline.exported_at(db.session, [m.id for m in messages]),
        actions=actions,
        outcome_label=outcome_label,
        max_mib=inbox_max_bytes() >> 20,
    ), status


@bp.get("/")
@permission_required("envelopes.import")
def index() -> ResponseReturnValue:
    """Show what can be carried out and the form to import what was carried in."""
    return _page(CarriedFileForm())


@bp.post("/export/<msg_id>")
@permission_required("envelopes.export")
def export(msg_id: str) -> ResponseReturnValue:
    """Export a queued message's envelope of the user's authority as a file download."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    spool = tempfile.TemporaryDirectory()
    path = Path(spool.name) / "envelope"
    try:
        done = offline.export_envelope(
            db.session, delivery_config(), msg_id, path, actor=current_user
        )
    except FederationError as exc:
        spool.cleanup()
        uow.discard_changes()
        flash(carriage_error(exc.code), "error")
        return redirect(url_for("carriage.index"), code=303)
    data = io.BytesIO(path.read_bytes())  # the file is at most the inbox limit
    spool.cleanup()
    response = send_file(
        data, mimetype=done.media_type, as_attachment=True, download_name=done.filename
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.url_value_preprocessor
def _import_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Give the import its own size limit: the inbox's, not the node's upload limit.

    URL value preprocessors run before every ``before_request`` function, and those (the CSRF
    check, the refusal of NUL characters) read the form: the limit must be set first.
    """
    if endpoint == "carriage.import_file":
        request.max_content_length = inbox_max_bytes() + FORM_OVERHEAD


@bp.errorhandler(RequestEntityTooLarge)
def _too_large_body(exc: RequestEntityTooLarge) -> ResponseReturnValue:
    """Answer a body over the limit on the page, with the limit, without reading it."""
    return _too_large(inbox_max_bytes())


@bp.post("/import")
@permission_required("envelopes.import")
def import_file() -> ResponseReturnValue:
    """Import a carried envelope (answered by a receipt to carry back) or a carried receipt."""
    limit = inbox_max_bytes()
    form = CarriedFileForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    data = form.file.data.stream.read(limit + 1)
    if len(data) > limit:
        return _too_large(limit)
    if not data:
        form.file.errors = [carriage_error("empty_file")]
        return _page(form, 400)
    blobs = delivery_config()
    try:
        done = offline.import_file(
            db.session,
            data,
            blobs_dir=blobs.blobs_dir,
            max_annex_bytes=blobs.max_annex_bytes,
            max_bytes=limit,
            actor=current_user,
        )
    except FederationError as exc:
        form.file.errors = [carriage_error(exc.code)]
        return _page(form, 400)
    return render_template("federation/imported.html", done=done, outcome_label=outcome_label)


def _too_large(limit: int) -> ResponseReturnValue:
    """Answer a file over the limit, on the page, without reading it."""
    form = CarriedFileForm(formdata=None)
    form.file.errors = [_("The file is larger than %(n)d MiB.", n=limit >> 20)]
    return _page(form, 413)


@bp.get("/receipts/<public_id>")
@permission_required("envelopes.import")
def receipt(public_id: str) -> ResponseReturnValue:
    """Download the receipt an envelope imported by the user's authority was answered with."""
    found = journal.action_by_public_id(db.session, public_id)
    if (
        found is None
        or found.receipt is None
        or found.action != "envelope_import"
        or found.authority_code != current_user.authority.code
    ):
        abort(404)
    response = send_file(
        io.BytesIO(found.receipt),
        mimetype="application/jose",
        as_attachment=True,
        download_name=f"{found.subject if found.subject != '-' else found.public_id}.receipt.jws",
    )
    response.headers["Cache-Control"] = "no-store"
    return response
