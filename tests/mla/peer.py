"""A peer authority for tests: its keys, the payloads it sends, envelopes sealed with the real façade.

Messages built here go through the real receive path (``services.accept_envelope``), as a
message from another state's node would: nothing of the receiving side is replaced.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from pathlib import Path
from typing import Any

from exchange.envelopes import AttachmentIn, Envelopes, SealedEnvelope, local_trust
from exchange.envelopes.stores import node_envelopes
from exchange.extensions import db
from tests.mla.conftest import accept_envelope


def envelopes_for(*codes: str) -> Envelopes:
    """Return the node's envelopes, with signing and encryption keys for ``codes``, trusted."""
    envelopes = node_envelopes(db.session)
    for code in codes:
        if not envelopes.keys.hosts(code):
            envelopes.keys.generate(code, pdf=False)
            local_trust(envelopes.keys, envelopes.trust, code)
    db.session.commit()
    return envelopes


def annex_entry(
    data: bytes, *, filename: str = "statement.pdf", **overrides: Any
) -> dict[str, Any]:
    """Describe a file as a payload announces it (SHA-256, name, media type, size)."""
    import hashlib

    entry = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "filename": filename,
        "media_type": "application/pdf",
        "size": len(data),
    }
    entry.update(overrides)
    return entry


def request_body(
    conversation: str, *, sender: str = "NG-CA", recipient: str = "SN-CA", **overrides: Any
) -> dict[str, Any]:
    """Return a valid ``mla.request`` payload from ``sender`` (schemas/v1/payloads/)."""
    body: dict[str, Any] = {
        "v": 1,
        "request": conversation,
        "request_type": "taking_evidence",
        "reference": "NAPTIP/2026/14",
        "requesting_authority": sender,
        "requested_authority": recipient,
        "language": "en",
        "legal_basis": ["UNTOC-18", "ECOWAS-A/P.1/7/92"],
        "urgent": False,
        "urgency_reason": "",
        "desired_date": None,
        "confidential": True,
        "stage": "investigation",
        "contents": {},
        "persons": [
            {
                "label": "Person 1",
                "victim": True,
                "minor": False,
                "witness": True,
                "suspect": False,
                "identity": {"name": "Grace Adeyemi"},
            }
        ],
        "annexes": [],
    }
    body.update(overrides)
    return body


def response_body(conversation: str, annexes: list[dict[str, Any]]) -> dict[str, Any]:
    """Return a valid ``mla.response`` payload: partial results with ``annexes``."""
    return {
        "v": 1,
        "request": conversation,
        "action": "execute_partially",
        "kind": "partial",
        "summary": "One statement taken.",
        "at": dt.datetime.now(dt.UTC).isoformat(),
        "annexes": annexes,
    }


def seal(
    envelopes: Envelopes,
    body: dict[str, Any],
    *,
    msg_type: str = "mla.request",
    sender: str = "NG-CA",
    recipient: str = "SN-CA",
    conversation: str | None = None,
    files: tuple[tuple[str, bytes, str], ...] = (),
    blob_dir: Path,
) -> SealedEnvelope:
    """Seal ``body`` as ``sender`` to ``recipient``, with ``files`` (name, content, media type)."""
    conversation = conversation or body.get("request") or str(uuid.uuid4())
    return envelopes.seal(
        body,
        sender=sender,
        recipient=recipient,
        msg_type=msg_type,
        conversation=conversation,
        msg_id=conversation if msg_type == "mla.request" else None,
        attachments=[AttachmentIn(name, kind, io.BytesIO(data)) for name, data, kind in files],
        blob_dir=blob_dir,
    )


def deliver(envelopes: Envelopes, sealed: SealedEnvelope) -> str:
    """Hand a sealed envelope and its blobs to the receive path; return the receipt's status."""
    receipt = accept_envelope(sealed.token, dict(sealed.blobs))
    return envelopes.check_receipt(receipt, sealed.token).status
