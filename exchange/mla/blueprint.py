"""The request area's blueprint: its URL prefix, what every page of it shares, and how it answers
a refusal or a lost race. The pages themselves are in ``dashboard_routes``, ``drafting_routes``
and ``request_routes``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from exchange import policy, uow
from exchange.cases.person_forms import MEASURE_LABELS, WARNING_LABELS
from exchange.core import background, navigation
from exchange.directory import queries as directory
from exchange.errors import problem, render_error, wants_json
from exchange.exceptions import Conflict, Refused
from exchange.extensions import db
from exchange.i18n import collation_key
from exchange.mla import queries, services, uploads
from exchange.mla.annexes import safe_filename
from exchange.mla.definitions import get_type
from exchange.mla.forms import ActionForm
from exchange.mla.labels import (
    ACTION_LABELS,
    CHECKLIST_LABELS,
    CHECKLIST_WARNINGS,
    GROUND_LABELS,
    IDENTITY_LABELS,
    MESSAGE_KIND_LABELS,
    PAPER_CHANNEL_LABELS,
    STATE_LABELS,
    error_message,
    request_title,
)
from exchange.mla.lifecycle import Targets
from exchange.mla.models import OUTGOING, MlaRequest
from exchange.mla.payloads import annex_filename
from exchange.mla.states import RECORDED_VIEWS

bp = Blueprint("mla", __name__, url_prefix="/requests", template_folder="templates")
DOWNLOAD_PIECE = 1 << 18  # what a download sends at a time: memory stays flat whatever the file


@bp.record_once
def _stream_evidence(state: Any) -> None:
    """Stage annex uploads encrypted as they arrive; sweep what a killed upload left behind."""
    state.app.request_class = uploads.EvidenceRequest
    app = state.app

    def sweep(_session: Any) -> dict[str, int]:
        """Remove staging files a killed upload left (counts only when there were some)."""
        swept = uploads.sweep_staging(app)
        return {"swept": swept} if swept else {}

    background.register(app, "uploads", sweep)


navigation.add("mla.dashboard", _l("Requests"), "requests.view", order=20)
navigation.add("mla.statistics", _l("Statistics"), "stats.view", order=70)

# Form fields that carry no user input: left out when the conflict page shows what was entered.
_HIDDEN_FIELDS = frozenset({"csrf_token", "version", "seen_state", "seen_version", "confirm"})
# Pages that show a lost race their own way, by endpoint (the drafting steps: the form again).
CONFLICT_PAGES: dict[str, Callable[[MlaRequest], ResponseReturnValue]] = {}


@bp.app_context_processor
def inject_mla_labels() -> dict[str, object]:
    """Give templates the translated codes of the area."""
    return {
        "state_labels": STATE_LABELS,
        "action_labels": ACTION_LABELS,
        "ground_labels": GROUND_LABELS,
        "checklist_labels": CHECKLIST_LABELS,
        "checklist_warnings": CHECKLIST_WARNINGS,
        "message_kind_labels": MESSAGE_KIND_LABELS,
        "identity_labels": IDENTITY_LABELS,
        "person_measure_labels": MEASURE_LABELS,
        "person_warning_labels": WARNING_LABELS,
        "paper_channel_labels": PAPER_CHANNEL_LABELS,
        "type_label": type_label,
        "title_of": title_of,
        "max_annex_bytes": max_annex_bytes,
    }


def locale() -> str:
    """Return the interface language code."""
    return str(get_locale())


def countries(lang: str, *, leaving_out: str = "") -> list[tuple[str, str]]:
    """Return (code, name) of the directory's states, sorted by their name in ``lang``."""
    named = [
        (j.code, j.name(lang)) for j in directory.jurisdictions(db.session) if j.code != leaving_out
    ]
    return sorted(named, key=lambda pair: collation_key(pair[1]))


def type_label(code: str) -> str:
    """Return a request type's name in the interface language."""
    definition = get_type(code)
    return definition.label_in(locale()) if definition else code


def title_of(req: MlaRequest) -> str:
    """Return the request's title in the interface language, from its issuer's kind."""
    definition = get_type(req.request_type)
    if definition is None:
        return req.request_type
    issuer = req.authority if req.side == OUTGOING else req.counterpart
    return request_title(definition, issuer.kind if issuer else "", locale())


def targets() -> Targets:
    """Return the node's service targets (``extra`` settings, EIO figures by default)."""
    extra = current_app.config["EXCHANGE"].extra
    return Targets(
        acknowledge_days=int(extra.get("mla_acknowledge_days", 7)),
        execute_days=int(extra.get("mla_execute_days", 90)),
    )


def blobs_dir() -> Path:
    """Return the folder of encrypted annexes, under the instance folder."""
    return Path(current_app.instance_path) / "blobs"


@bp.app_errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
    """Say how large an annex may be when an upload's body is over the limit (413, nothing kept)."""
    if isinstance(request, uploads.EvidenceRequest) and request.accepts_evidence():
        return render_error(
            413,
            _("The file is larger than %(size)s MB, the largest this node accepts.")
            % {"size": max_annex_bytes() >> 20},
        )
    return render_error(413)


def max_annex_bytes() -> int:
    """Return the largest accepted annex (``max_annex_mb``)."""
    return uploads.annex_limit(current_app)


def store_upload(req: MlaRequest, upload: Any, kind: str) -> None:
    """Hand an uploaded file to the services as an annex of ``kind``, as the stream it arrived in.

    On the routes marked ``uploads.accepts_evidence`` the file arrives already staged, encrypted,
    hashed and head-checked (``uploads.StagedUpload``); the services read it back in pieces.
    """
    services.add_annex(
        db.session,
        current_user,
        req,
        filename=upload.filename or "",  # an unnamed file is stored as "annex"
        data=upload.stream,
        kind=kind,
        blobs_dir=blobs_dir(),
        max_bytes=max_annex_bytes(),
    )


def _pieces(content: IO[bytes]) -> Iterator[bytes]:
    """Yield a stored annex piece by piece, closing it at the end or when the client leaves."""
    try:
        yield from iter(lambda: content.read(DOWNLOAD_PIECE), b"")
    finally:
        content.close()


def load_request(public_id: str) -> MlaRequest:
    """Return a request the user may see, or answer 404 (never 403: nothing leaks)."""
    found = queries.find_request(db.session, current_user, public_id)
    if found is None:
        abort(404)
    return found


def load_draft(public_id: str) -> MlaRequest:
    """Return a draft the user may edit, or answer 404."""
    found = load_request(public_id)
    if not policy.can_edit_draft(current_user, found):
        abort(404)
    return found


def etag(req: MlaRequest) -> str:
    """Return the entity tag of a draft's current version."""
    return f'"{req.public_id}-v{req.version}"'


def expected_version(form_version: int | None) -> int | None:
    """Return the version the editor saw: from ``If-Match`` if sent, else the form's field."""
    header = request.headers.get("If-Match", "")
    if header.startswith('"') and "-v" in header:
        try:
            return int(header.strip('"').rsplit("-v", 1)[1])
        except ValueError:
            return -1
    return form_version


# --- moves: a double click answers as the first click ---------------------------------------------


@dataclass
class Move:
    """A move a person asked for, with what their page showed, to tell a repeat from a conflict."""

    req: MlaRequest
    action: str
    done: str
    payload: dict[str, Any] = field(default_factory=dict)
    seen: services.Seen = field(init=False)

    def __post_init__(self) -> None:
        """Read the state and version that the page showed (hidden fields), else the loaded ones."""
        try:
            version = int(request.form.get("seen_version", ""))
        except ValueError:
            version = self.req.version
        self.seen = services.Seen(request.form.get("seen_state") or self.req.state, version)

    def answer(self) -> ResponseReturnValue:
        """Answer that the move is made: back to the request, with the move's own message."""
        flash(self.done, "success")
        return redirect(url_for("mla.view", public_id=self.req.public_id), code=303)

    def is_repeat(self, req: MlaRequest) -> bool:
        """Tell whether the user already made this very move (a double click)."""
        return services.is_repeat(req, current_user, self.action, self.payload, self.seen)


def make_move(move: Move, run: Callable[[], object]) -> ResponseReturnValue:
    """Make ``move`` by calling ``run()``; a repeat answers as the first click, a stale page 409."""
    g.mla_move = move
    if move.is_repeat(move.req):
        return move.answer()
    if move.seen.version != move.req.version:
        raise Conflict()  # the request moved since the page was shown: show it as it is now
    run()
    return move.answer()


@uow.refusal_responder(bp)
def explain_refusal(exc: Refused) -> ResponseReturnValue:
    """Explain a refused move on the request's page (its changes are already discarded)."""
    public_id = (request.view_args or {}).get("public_id")
    if public_id is None or wants_json():
        return render_error(400, error_message(exc.code))
    flash(error_message(exc.code), "error")
    if request.endpoint == "mla.submit" and exc.code == "incomplete":
        return redirect(url_for("mla.edit", public_id=public_id, step="review"), code=303)
    return redirect(url_for("mla.view", public_id=public_id), code=303)


@uow.race_responder(bp)
def answer_lost_race() -> ResponseReturnValue:
    """Answer a move or an edit that lost a race: as the first click did, or 409 with both sides.

    Called after the rollback: the request is read again as it is now.
    """
    public_id = (request.view_args or {}).get("public_id")
    req = queries.find_request(db.session, current_user, public_id) if public_id else None
    if req is None:
        return render_error(409)
    move: Move | None = g.get("mla_move")
    if move is not None and move.is_repeat(req):
        move.req = req
        return move.answer()
    if wants_json():
        return problem(409, error_message("changed"), state=req.state, version=req.version)
    page = CONFLICT_PAGES.get(request.endpoint or "")
    if page is not None:
        return page(req)
    labels = {f.name: f.label.text for f in ActionForm(meta={"csrf": False})}
    entered = [
        (labels.get(key, key), GROUND_LABELS.get(value, value) if key == "ground" else value)
        for key, value in request.form.items(multi=True)
        if key not in _HIDDEN_FIELDS and value.strip()
    ]
    latest = next((e for e in reversed(req.events) if e.action not in RECORDED_VIEWS), None)
    return render_template(
        "mla/conflict.html",
        req=req,
        action=move.action if move else None,
        entered=entered,
        latest=latest,
    ), 409


def annex_download(req: MlaRequest, sha256: str) -> ResponseReturnValue:
    """Return the annex ``sha256`` of ``req``, always as an attachment of its detected type (never
    shown inline), kept in no cache; 404 when the request has no such annex or its blob is gone.
    The portal's page and the API's operation both answer with it."""
    found = next((a for a in req.annexes if a.sha256 == sha256), None)
    if found is None:
        abort(404)
    try:
        content = services.open_annex(blobs_dir(), found)
    except services.MlaError:
        abort(404)
    response = send_file(
        content,
        mimetype=found.content_type,
        as_attachment=True,
        download_name=safe_filename(annex_filename(found)),
        conditional=False,
    )
    # Sent piece by piece as it is decrypted (each piece authenticated), never whole in memory.
    response.response = _pieces(content)
    response.content_length = found.size
    # Evidence is never kept in a browser's or a proxy's cache.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
