"""The writes of the request area, in one namespace for its callers (routes, commands, tests).

Each concern has its own module — ``drafting`` (suggestions, the draft, persons), ``checklist``
(completeness), ``moves`` (submit, approve, every other move), ``annexes`` (their types checked
by ``filetypes``), ``messages``, ``notes`` (the team's internal notes, never sent) and
``receiving`` (the other side's messages, checked by ``inbound``) — and this module names what
they offer. Plain functions over the session with the actor passed in; they flush, never commit.
Every state change goes through ``lifecycle.transition``.
"""

from __future__ import annotations

from exchange.mla.annexes import add_annex, blob_path, open_annex, read_annex
from exchange.mla.checklist import ChecklistItem, checklist, missing, warnings
from exchange.mla.disclosure import (
    choose_person,
    disclosed_persons,
    disclosure_digest,
    record_view,
)
from exchange.mla.drafting import (
    IDENTITY_FIELDS,
    Suggestions,
    accepted_languages,
    add_person,
    considered_bases,
    create_request,
    person_identities,
    remove_person,
    reviewing_authority_for,
    suggest,
    update_basics,
    update_contents,
)
from exchange.mla.errors import MlaError, Rejected, StaleDraft
from exchange.mla.filetypes import check_evidence
from exchange.mla.messages import KIND_SUBJECTS, MESSAGE_KINDS, message_body, send_message
from exchange.mla.moves import Seen, act, approve, is_repeat, submit
from exchange.mla.notes import (
    ThreadEntry,
    add_note,
    note_body,
    notes_of,
    reference_entries,
    thread_entries,
)
from exchange.mla.receiving import (
    IncomingFiles,
    accept_envelope,
    apply_queued,
    deliver_locally,
    receive_message,
    record_delivery,
)

__all__ = [
    "IDENTITY_FIELDS",
    "KIND_SUBJECTS",
    "MESSAGE_KINDS",
    "ChecklistItem",
    "IncomingFiles",
    "MlaError",
    "Rejected",
    "Seen",
    "StaleDraft",
    "Suggestions",
    "ThreadEntry",
    "accept_envelope",
    "accepted_languages",
    "act",
    "add_annex",
    "add_note",
    "add_person",
    "apply_queued",
    "approve",
    "blob_path",
    "check_evidence",
    "checklist",
    "choose_person",
    "considered_bases",
    "create_request",
    "deliver_locally",
    "disclosed_persons",
    "disclosure_digest",
    "is_repeat",
    "message_body",
    "missing",
    "note_body",
    "notes_of",
    "open_annex",
    "person_identities",
    "read_annex",
    "receive_message",
    "record_delivery",
    "record_view",
    "reference_entries",
    "remove_person",
    "reviewing_authority_for",
    "send_message",
    "submit",
    "suggest",
    "thread_entries",
    "update_basics",
    "update_contents",
    "warnings",
]
