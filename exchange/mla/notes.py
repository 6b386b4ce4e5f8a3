"""Internal notes of a request's team: kept on this node, never sealed, never queued abroad.

A message (``messages``) goes to the other side through the outbox; a note does not: it has no
envelope id, no counterpart and no outbox row, and the wire format (schemas/v1) knows nothing of
it (issue 15, defect 3). Only the team holding this side's copy reads and writes the notes
(``policy.can_keep_notes``); for anyone else they do not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from exchange import policy
from exchange.auth.models import User
from exchange.cases.models import CaseReference
from exchange.db import DbSession, new_uuid
from exchange.mla import queries, sealing
from exchange.mla.errors import MlaError
from exchange.mla.messages import message_body
from exchange.mla.models import INCOMING, InternalNote, Message, MlaRequest

MAX_NOTE_LENGTH = 8000
# Where a thread entry lives: kept here, or a message sent abroad, or received from abroad.
INTERNAL = "internal"


def _context(note: InternalNote) -> str:
    """Return the encryption context of a note's body (binds the ciphertext to its row)."""
    return f"note:{note.public_id}"


def add_note(session: DbSession, actor: User, request: MlaRequest, *, body: str) -> InternalNote:
    """Keep a note of the team about ``request``; nothing of it leaves this node."""
    if not policy.can_keep_notes(actor, request):
        raise MlaError("forbidden")
    body = body.strip()
    if not body:
        raise MlaError("empty_note")
    if len(body) > MAX_NOTE_LENGTH:
        raise MlaError("too_long")
    note = InternalNote(public_id=new_uuid(), request_id=request.id, author_id=actor.id)
    note.body_enc = sealing.encrypt_field(body, context=_context(note))
    session.add(note)
    session.flush()
    return note


def notes_of(session: DbSession, actor: User, request: MlaRequest) -> list[InternalNote]:
    """Return the notes of ``request``, oldest first, if ``actor`` is on its team; else none."""
    if not policy.can_keep_notes(actor, request):
        return []
    return list(
        session.scalars(
            select(InternalNote)
            .where(InternalNote.request_id == request.id)
            .order_by(InternalNote.id)
        )
    )


def note_body(note: InternalNote) -> str:
    """Return the decrypted body of a note."""
    return sealing.decrypt_field(note.body_enc, context=_context(note))


@dataclass(frozen=True)
class ThreadEntry:
    """One entry of a request's thread as its page shows it: a note of the team, or a message."""

    at: datetime
    where: str  # INTERNAL, or the message's direction (outgoing: sent abroad; incoming)
    kind: str  # the message's kind; empty for a note
    author: str
    body: str


def _message_entry(message: Message) -> ThreadEntry:
    """Return a message as an entry of its thread: who wrote it is the other side's code for a
    received one, the author's name for a sent one."""
    return ThreadEntry(
        at=message.created_at,
        where=message.direction,
        kind=message.kind,
        author=message.counterpart.code
        if message.direction == INCOMING
        else (message.author.display_name if message.author else ""),
        body=message_body(message),
    )


def reference_entries(
    session: DbSession, actor: User, reference: CaseReference
) -> list[ThreadEntry]:
    """Return the messages about a case reference ``actor`` may see, oldest first (no notes)."""
    if not policy.can_view_reference(actor, reference):
        raise MlaError("forbidden")
    return [_message_entry(m) for m in queries.reference_thread(session, reference)]


def thread_entries(session: DbSession, actor: User, request: MlaRequest) -> list[ThreadEntry]:
    """Return the messages of ``request`` and, to its team only, its notes, oldest first."""
    entries = [_message_entry(m) for m in queries.thread(session, request)]
    entries += [
        ThreadEntry(
            at=n.created_at,
            where=INTERNAL,
            kind="",
            author=n.author.display_name if n.author else "",
            body=note_body(n),
        )
        for n in notes_of(session, actor, request)
    ]
    return sorted(entries, key=lambda entry: entry.at)
