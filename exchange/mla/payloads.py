"""The payloads that go to the other side, shaped as the JSON Schemas of ``schemas/v1/payloads/``.

``mla.request`` (the request itself), ``mla.status`` (a move of either side), ``mla.response``
(partial or final execution with result annexes), ``mla.conditions`` (the consultation before a
refusal or postponement, UNTOC 18(26), and an objection to the conditions of a notice). ``case.reference`` and ``message`` are built by
their services. Each payload names its conversation (``request``), so the receiver finds its copy.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from exchange.db import DbSession
from exchange.mla import disclosure, sealing
from exchange.mla.models import (
    INCOMING,
    OUTGOING,
    Annex,
    MlaRequest,
    OutboxMessage,
    RequestEvent,
)
from exchange.mla.states import (
    CONDITIONS_MESSAGE,
    REQUEST_MESSAGE,
    RESPONSE_MESSAGE,
    STATUS_MESSAGE,
)

SCHEMA_VERSION = 1


def details_context(request: MlaRequest) -> str:
    """Return the encryption context of a request's contents (binds the ciphertext to it)."""
    return f"request:{request.public_id}:details"


def details_of(request: MlaRequest) -> dict[str, Any]:
    """Return the decrypted contents of a request (common and type-specific fields)."""
    if not request.details_enc:
        return {}
    value: dict[str, Any] = json.loads(
        sealing.decrypt_field(request.details_enc, context=details_context(request))
    )
    return value


def annex_filename(annex: Annex) -> str:
    """Return the decrypted file name of an annex."""
    return sealing.decrypt_field(annex.filename_enc, context=f"annex:{annex.sha256}:name")


def annex_entry(annex: Annex) -> dict[str, Any]:
    """Describe an annex for a payload: the file travels separately, bound by its SHA-256."""
    return {
        "sha256": annex.sha256,
        "filename": annex_filename(annex),
        "media_type": annex.content_type,
        "size": annex.size,
    }


def sender_and_recipient(request: MlaRequest) -> tuple[str, str]:
    """Return the authority codes that send and receive this side's messages.

    Outgoing: the reviewing central authority transmits (UNTOC 18(13)) to the requested one.
    Incoming: the addressed authority answers whoever sent the request.
    """
    if request.side == OUTGOING:
        sender = request.reviewing_authority or request.authority
        return sender.code, request.counterpart.code
    return request.authority.code, request.counterpart.code


def request_payload(request: MlaRequest) -> dict[str, Any]:
    """Build the ``mla.request`` payload: everything the requested state needs, persons included."""
    case = request.case
    return {
        "v": SCHEMA_VERSION,
        "request": request.conversation_id,
        "request_type": request.request_type,
        "reference": request.reference,
        "requesting_authority": request.authority.code,
        "requested_authority": request.counterpart.code,
        "language": request.language,
        "legal_basis": [c for c in request.legal_basis.split(",") if c],
        "urgent": request.urgent,
        "urgency_reason": request.urgency_reason,
        "desired_date": request.desired_date.isoformat() if request.desired_date else None,
        "confidential": request.confidential,
        "stage": case.stage if case else "investigation",
        "contents": details_of(request),
        # Exactly what the request discloses of each person (identity or pseudonym, details,
        # measures), as the reviewing officer saw it before approving.
        "persons": disclosure.disclosed_persons(request),
        "annexes": [annex_entry(a) for a in request.annexes if a.kind == "supporting"],
    }


def status_payload(request: MlaRequest, event: RequestEvent) -> dict[str, Any]:
    """Build the ``mla.status`` payload of a move (acknowledgement, postponement, refusal...)."""
    data = json.loads(event.payload)
    payload: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "request": request.conversation_id,
        "action": event.action,
        "state": event.to_state,
        "at": event.at.isoformat(),
    }
    for key in ("reference", "reason", "ground", "no_consultation_reason", "on"):
        if data.get(key):
            payload[key] = str(data[key])
    if event.action == "postpone" and data.get("until"):
        payload["until"] = str(data["until"])
    return payload


def conditions_payload(request: MlaRequest, event: RequestEvent) -> dict[str, Any]:
    """Build the ``mla.conditions`` payload: conditions proposed, accepted or declined, a
    consultation held, or an objection to a notice's conditions."""
    data = json.loads(event.payload)
    payload: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "request": request.conversation_id,
        "action": event.action,
        "state": event.to_state,
        "at": event.at.isoformat(),
    }
    for key in ("conditions", "consultation", "reason", "costs"):
        if data.get(key):
            payload[key] = str(data[key])
    if data.get("kinds"):
        payload["kinds"] = [str(kind) for kind in data["kinds"]]
    return payload


def response_payload(request: MlaRequest, event: RequestEvent) -> dict[str, Any]:
    """Build the ``mla.response`` payload: results of a partial or final execution."""
    data = json.loads(event.payload)
    wanted = set(data.get("annexes", []))
    # The conditions on the results' use, confidentiality and return (UNTOC 18(19), 18(20)).
    conditions: dict[str, Any] = {}
    if data.get("conditions"):
        conditions["conditions"] = str(data["conditions"])
    if data.get("kinds"):
        conditions["kinds"] = [str(kind) for kind in data["kinds"]]
    return {
        **conditions,
        "v": SCHEMA_VERSION,
        "request": request.conversation_id,
        "action": event.action,
        "kind": "final" if event.action == "execute" else "partial",
        "summary": str(data.get("summary", "")),
        "at": event.at.isoformat(),
        "annexes": [
            annex_entry(a) for a in request.annexes if a.kind == "result" and a.sha256 in wanted
        ],
    }


# The message types whose payload may name annexes that travel with them.
ANNEX_CARRIERS = frozenset({REQUEST_MESSAGE, RESPONSE_MESSAGE})


def carried_annexes(
    session: DbSession, message: OutboxMessage, payload: dict[str, Any] | None = None
) -> list[Annex]:
    """Return the stored annexes a queued message carries: those its payload names, of the copy
    of the request that sends it (the files the federation layer attaches to its envelope).

    ``payload`` is the message's payload if the caller decrypted it already."""
    kinds = {REQUEST_MESSAGE: (OUTGOING, "supporting"), RESPONSE_MESSAGE: (INCOMING, "result")}
    if message.msg_type not in kinds:
        return []
    if payload is None:
        payload = sealing.message_payload(message)
    named = {entry["sha256"] for entry in payload.get("annexes", [])}
    if not named:
        return []  # most messages carry none: no query
    side, kind = kinds[message.msg_type]
    source = session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == message.conversation_id, MlaRequest.side == side
        )
    )
    if source is None or sender_and_recipient(source) != (
        message.sender_code,
        message.recipient_code,
    ):
        return []
    return [a for a in source.annexes if a.kind == kind and a.sha256 in named]


def last_message_id(request: MlaRequest) -> str | None:
    """Return the id of the last message sent or received about this request (for threading)."""
    for event in reversed(request.events):
        if event.message_id:
            return event.message_id
    return None


def queue_for(
    session: DbSession, request: MlaRequest, event: RequestEvent, msg_type: str
) -> OutboxMessage:
    """Queue the message that tells the other side about ``event``."""
    builders = {
        REQUEST_MESSAGE: lambda: request_payload(request),
        STATUS_MESSAGE: lambda: status_payload(request, event),
        RESPONSE_MESSAGE: lambda: response_payload(request, event),
        CONDITIONS_MESSAGE: lambda: conditions_payload(request, event),
    }
    sender, recipient = sender_and_recipient(request)
    previous = [e for e in request.events if e is not event]
    in_reply_to = None
    for earlier in reversed(previous):
        if earlier.message_id:
            in_reply_to = earlier.message_id
            break
    return sealing.queue_message(
        session,
        sender=sender,
        recipient=recipient,
        msg_type=msg_type,
        payload=builders[msg_type](),
        conversation=request.conversation_id,
        in_reply_to=in_reply_to,
        # The request's first message opens the conversation: its id is the conversation's.
        msg_id=request.conversation_id if msg_type == REQUEST_MESSAGE else None,
    )
