"""Threaded messages about a request or a case reference, sealed for the other side."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from exchange import policy
from exchange.auth.models import User
from exchange.cases.models import CaseReference
from exchange.db import DbSession
from exchange.directory.models import LANGUAGES
from exchange.mla import sealing
from exchange.mla.errors import MlaError
from exchange.mla.models import OUTGOING, Message, MlaRequest
from exchange.mla.payloads import sender_and_recipient

# The kinds of message a person sends abroad. A note for the team is not one of them: it is an
# internal note (``notes``), which never becomes an envelope (issue 15, defect 3).
MESSAGE_KINDS = ("consultation", "progress_inquiry", "reply")
# A threaded message travels as the envelope layer's ``message`` body (schemas/v1/message.json):
# its kind is told by a fixed English subject, which a receiving node maps back. "Note" stays
# here for what other nodes send (the wire format is unchanged); this node no longer sends it.
KIND_SUBJECTS = {
    "consultation": "Consultation before a request",
    "progress_inquiry": "Progress inquiry",
    "reply": "Reply",
    "note": "Note",
}
# Annex content types, detected from the first bytes, never from the name or the browser's claim.


def send_message(
    session: DbSession,
    actor: User,
    *,
    body: str,
    kind: str,
    request: MlaRequest | None = None,
    reference: CaseReference | None = None,
) -> Message:
    """Send a sealed message about a request or a case reference (consultation, inquiry...)."""
    body = body.strip()
    if not body:
        raise MlaError("empty_message")
    if len(body) > 8000:
        raise MlaError("too_long")
    if kind == "note":
        raise MlaError("note_is_internal")  # a note of the team stays here: ``notes.add_note``
    if kind not in MESSAGE_KINDS:
        raise MlaError("bad_kind")
    if not actor.can("messages.send"):
        raise MlaError("forbidden")
    if request is not None:
        if not policy.can_view_request(actor, request) or request.state in ("", "draft"):
            raise MlaError("forbidden")
        sender, recipient = sender_and_recipient(request)
        conversation = request.conversation_id
        counterpart_id = request.counterpart_id
    elif reference is not None:
        if not policy.can_view_reference(actor, reference):
            raise MlaError("forbidden")
        sender, recipient = actor.authority.code, reference.counterpart.code
        conversation = reference.conversation_id
        counterpart_id = reference.counterpart_id
    else:
        raise MlaError("no_thread")
    previous = session.scalar(
        select(Message.msg_id)
        .where(Message.authority_id == actor.authority_id, Message.conversation_id == conversation)
        .order_by(Message.id.desc())
        .limit(1)
    )
    payload: dict[str, Any] = {
        "subject": KIND_SUBJECTS[kind],
        "text": body,
        "lang": request.language if request is not None else _lang_of(actor),
    }
    if reference is not None:
        payload["case_reference"] = reference.reference
    if request is not None and request.urgent:
        payload["urgent"] = True
    queued = sealing.queue_message(
        session,
        sender=sender,
        recipient=recipient,
        msg_type="message",
        payload=payload,
        conversation=conversation,
        in_reply_to=previous,
    )
    message = Message(
        msg_id=queued.msg_id,
        conversation_id=conversation,
        authority_id=actor.authority_id,
        counterpart_id=counterpart_id,
        request_id=request.id if request is not None else None,
        case_reference_id=reference.id if reference is not None else None,
        direction=OUTGOING,
        kind=kind,
        in_reply_to=previous,
        author_id=actor.id,
        body_enc="",
    )
    session.add(message)
    session.flush()
    message.body_enc = sealing.encrypt_field(body, context=f"message:{message.public_id}")
    session.flush()
    return message


def _lang_of(actor: User) -> str:
    """Return the actor's interface language if it is a working language, else English."""
    return actor.locale if actor.locale in LANGUAGES else "en"


def message_body(message: Message) -> str:
    """Return the decrypted body of a message."""
    return sealing.decrypt_field(message.body_enc, context=f"message:{message.public_id}")
