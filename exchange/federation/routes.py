"""Routes of the federation area: the signed node descriptor and the inbox (machine to machine).

Both are public (``exchange.security.PUBLIC_ENDPOINTS``): a peer node has no session. The inbox
is exempt from CSRF, which protects browsers' cookie sessions; an envelope is authenticated by
its own signature, checked against our trust store.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, request

from exchange.core import background
from exchange.envelopes.stores import key_store
from exchange.extensions import csrf, db, limiter
from exchange.federation import held, services
from exchange.federation import inbox as inbox_service
from exchange.mla.blueprint import blobs_dir, max_annex_bytes

bp = Blueprint("federation", __name__, url_prefix="/federation/v1")

JOSE = "application/jose"  # RFC 7515 §9.2.1, compact serialization


@bp.record_once
def _purge_held(state: Any) -> None:
    """The worker drops the envelopes held past their expiry (federation.held)."""
    app = state.app

    def purge(session: Any) -> dict[str, int]:
        expiry = dt.timedelta(hours=app.config["EXCHANGE"].held_expiry_hours)
        held_dir = held.held_dir_of(Path(app.instance_path) / "blobs")
        return held.purge_expired(session, held_dir, expiry)

    background.register(app, "held", purge)


def _inbox_limit() -> str:
    """Return the inbox rate limit of the node's settings."""
    return str(current_app.config["EXCHANGE"].inbox_rate_limit)


def inbox_max_bytes() -> int:
    """Return the largest body the inbox reads: an envelope with its attachments' container."""
    settings = current_app.config["EXCHANGE"]
    return (8 << 20) + 4 * settings.max_upload_mb * 1024 * 1024


@bp.get("/node")
def node() -> Response:
    """Answer the node descriptor, signed by the node key."""
    token = services.signed_descriptor(db.session, current_app.config["EXCHANGE"], key_store())
    return Response(token, mimetype=JOSE)


@bp.post("/inbox")
@csrf.exempt
@limiter.limit(_inbox_limit)
def inbox() -> Response:
    """Receive one envelope; answer with its signed receipt (delivered or rejected)."""
    limit = inbox_max_bytes()
    if request.content_length is not None and request.content_length > limit:
        answer = inbox_service.refuse_oversized(db.session)
    else:
        request.max_content_length = limit
        body = request.stream.read(limit + 1)
        if len(body) > limit:
            answer = inbox_service.refuse_oversized(db.session)
        else:
            answer = inbox_service.receive(
                db.session,
                body,
                blobs_dir=blobs_dir(),
                max_annex_bytes=max_annex_bytes(),
                held_expiry=dt.timedelta(hours=current_app.config["EXCHANGE"].held_expiry_hours),
            )
    return Response(answer.receipt, status=answer.status, mimetype=JOSE)
