"""What a request carries and what is said about it: annexes (upload, download) and its thread."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_smorest.fields import Upload
from marshmallow import Schema

from exchange import policy
from exchange.api import present
from exchange.api.blueprint import blp
from exchange.api.request_routes import load_request
from exchange.api.request_schemas import (
    AnnexIn,
    AnnexListOut,
    AnnexOut,
    MessageIn,
    MessageListOut,
    MessageOut,
)
from exchange.auth.permissions import permission_required
from exchange.extensions import db
from exchange.mla import services
from exchange.mla.blueprint import annex_download, blobs_dir, max_annex_bytes
from exchange.mla.filetypes import MEDIA_TYPES
from exchange.mla.notes import INTERNAL
from exchange.mla.uploads import accepts_evidence

BINARY = {"schema": {"type": "string", "format": "binary"}}


class FileIn(Schema):
    """The uploaded file (a PDF, PNG or JPEG; its type is read from its content)."""

    file = Upload(required=True)


@blp.route("/requests/<public_id>/annexes", methods=["GET"], tags=["annexes"])
@permission_required("requests.view")
@blp.response(200, AnnexListOut)
def list_annexes(public_id: str) -> dict[str, Any]:
    """List a request's annexes."""
    return {"items": [present.annex(a) for a in load_request(public_id).annexes]}


@blp.route("/requests/<public_id>/annexes", methods=["POST"], tags=["annexes"])
@accepts_evidence
@permission_required("requests.view")
@blp.arguments(AnnexIn, location="form")
@blp.arguments(FileIn, location="files")
@blp.response(201, AnnexOut)
@blp.alt_response(413, description="The file is larger than the node accepts.")
def upload_annex(form: dict[str, Any], files: dict[str, Any], public_id: str) -> dict[str, Any]:
    """Upload an annex: supporting (a draft's team) or a result (those who execute)."""
    req = load_request(public_id)
    upload = files["file"]
    annex = services.add_annex(
        db.session,
        current_user,
        req,
        filename=upload.filename or "",
        data=upload.stream,
        kind=form["kind"],
        blobs_dir=blobs_dir(),
        max_bytes=max_annex_bytes(),
    )
    return present.annex(annex)


@blp.route("/requests/<public_id>/annexes/<sha256>", methods=["GET"], tags=["annexes"])
@permission_required("requests.view")
@blp.response(
    200,
    description="The annex, as an attachment of its detected type.",
    content_type="application/octet-stream",
)
@blp.doc(responses={"200": {"content": {t: BINARY for t in MEDIA_TYPES}}})
def download_annex(public_id: str, sha256: str) -> ResponseReturnValue:
    """Download an annex, always as an attachment (never shown inline)."""
    req = load_request(public_id)
    return annex_download(req, sha256)


@blp.route("/requests/<public_id>/messages", methods=["GET"], tags=["messages"])
@permission_required("requests.view")
@blp.response(200, MessageListOut)
def list_messages(public_id: str) -> dict[str, Any]:
    """Return a request's thread: messages sent and received and, to its team, internal notes."""
    req = load_request(public_id)
    entries = services.thread_entries(db.session, current_user, req)
    return {"items": [present.thread_entry(e) for e in entries]}


@blp.route("/requests/<public_id>/messages", methods=["POST"], tags=["messages"])
@permission_required("requests.view")
@blp.arguments(MessageIn)
@blp.response(201, MessageOut)
def post_message(body: dict[str, Any], public_id: str) -> dict[str, Any]:
    """Send a message about a request, or keep an internal note of the team (kind ``note``)."""
    req = load_request(public_id)
    author = current_user.display_name
    if body["kind"] == "note":
        if not policy.can_keep_notes(current_user, req):
            abort(404)  # another team's notes do not exist for this user
        note = services.add_note(db.session, current_user, req, body=body["body"])
        return {
            "at": note.created_at,
            "where": INTERNAL,
            "kind": "",
            "author": author,
            "body": services.note_body(note),
        }
    message = services.send_message(
        db.session, current_user, body=body["body"], kind=body["kind"], request=req
    )
    return {
        "at": message.created_at,
        "where": message.direction,
        "kind": message.kind,
        "author": author,
        "body": services.message_body(message),
    }
