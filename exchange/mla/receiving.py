"""Receiving: the other side's messages applied to this node's copies of requests.

Called by the federation layer, or locally for authorities hosted on this node."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from exchange import uow
from exchange.cases.models import CaseReference
from exchange.cases.services import receive_case_reference
from exchange.db import DbSession, new_uuid, utcnow
from exchange.directory import queries as directory
from exchange.directory.models import Authority
from exchange.envelopes import EnvelopeError, Envelopes, ManifestEntry, OpenedEnvelope
from exchange.envelopes.stores import node_envelopes
from exchange.exceptions import Conflict, Refused
from exchange.mla import evidence, lifecycle, sealing
from exchange.mla import incoming_reads as reads
from exchange.mla.annexes import Carried, discard, open_annex, receive_annex
from exchange.mla.errors import MlaError, Rejected
from exchange.mla.inbound import check_payload
from exchange.mla.messages import KIND_SUBJECTS
from exchange.mla.models import (
    INCOMING,
    Message,
    MlaRequest,
    OutboxMessage,
    RequestPerson,
)
from exchange.mla.payloads import carried_annexes, details_context
from exchange.mla.storage import StoredBlob

log = logging.getLogger(__name__)


@dataclass
class IncomingFiles:
    """The files an incoming message carried, where annexes are kept, and what an attempt wrote."""

    carried: Carried
    blobs_dir: Path
    max_bytes: int
    # Blob files written for a request that this attempt created: removed if it does not commit.
    created: list[StoredBlob] = field(default_factory=list)

    def record(
        self, session: DbSession, request: MlaRequest, entry: dict[str, Any], kind: str
    ) -> StoredBlob | None:
        """Record one announced annex from the file the message carried (see ``receive_annex``)."""
        return receive_annex(
            session,
            request,
            entry,
            kind,
            carried=self.carried,
            blobs_dir=self.blobs_dir,
            max_bytes=self.max_bytes,
        )


# The particulars of a move that the other side's messages carry, recorded on its event.
_MOVE_KEYS = (
    "reference",
    "reason",
    "ground",
    "summary",
    "no_consultation_reason",
    "conditions",
    "consultation",
    "kinds",
    "costs",
    "on",
)


def _copy_for(session: DbSession, conversation: str, sender: str) -> MlaRequest | None:
    """Return this node's copy of a request whose other side is the authority ``sender``."""
    return session.scalar(
        select(MlaRequest)
        .join(Authority, Authority.id == MlaRequest.counterpart_id)
        .where(MlaRequest.conversation_id == conversation, Authority.code == sender)
    )


def receive_message(
    session: DbSession,
    *,
    msg_type: str,
    sender: str,
    recipient: str,
    payload: dict[str, Any],
    msg_id: str,
    conversation: str,
    files: IncomingFiles,
) -> None:
    """Apply a message from another authority to this node: the receiving side of each move.

    ``conversation`` is the envelope's conversation claim (the id of its first message);
    ``files`` the files the message itself carried, the only ones its annexes may come from.
    The payload is checked against its schema and our vocabularies before anything is stored.
    """
    check_payload(msg_type, payload, conversation=conversation, recipient=recipient)
    codes = (recipient.upper(), sender.upper())
    found = {a.code: a for a in session.scalars(reads.AUTHORITIES, {"codes": codes})}
    addressed, origin = found.get(codes[0]), found.get(codes[1])
    if addressed is None or origin is None or not addressed.hosted:
        raise MlaError("unknown_authority")
    if msg_type == "mla.request":
        _receive_request(session, addressed, origin, payload, msg_id, files)
    elif msg_type in ("mla.status", "mla.response", "mla.conditions"):
        request = _copy_for(session, str(payload["request"]), sender)
        if request is None:
            raise MlaError("unknown_request")
        action = lifecycle.PEER_ACTION.get(payload["action"], payload["action"])
        data: dict[str, Any] = {k: payload[k] for k in _MOVE_KEYS if k in payload}
        if msg_type == "mla.response":
            # Into the folder of a request that exists already: a file written here is not
            # removed on failure, since a concurrent attempt may have found it there.
            for entry in payload["annexes"]:
                files.record(session, request, entry, "result")
            data["annexes"] = [e["sha256"] for e in payload["annexes"]]
        lifecycle.transition(session, request, action, peer=sender, payload=data, message_id=msg_id)
    elif msg_type == "case.reference":
        receive_case_reference(session, addressed, origin, payload)
    elif msg_type == "message":
        _receive_thread_message(session, addressed, origin, payload, msg_id, conversation)
    elif msg_type == evidence.EVIDENCE_MESSAGE:
        evidence.receive_evidence(session, addressed, origin, payload)
    else:
        raise MlaError("unknown_type", msg_type)


def _receive_request(
    session: DbSession,
    addressed: Authority,
    origin: Authority,
    payload: dict[str, Any],
    msg_id: str,
    files: IncomingFiles,
) -> MlaRequest:
    """Create the requested side's copy of an incoming request."""
    conversation = str(payload["request"])
    if session.scalar(reads.COPY_ID, {"conversation": conversation, "code": origin.code}):
        existing = _copy_for(session, conversation, origin.code)
        if existing is not None:
            return existing  # the same message twice is processed once
    desired = payload.get("desired_date")
    request = MlaRequest(
        side=INCOMING,
        conversation_id=str(payload["request"]),
        authority=addressed,
        authority_id=addressed.id,
        counterpart=origin,
        counterpart_state=origin.jurisdiction_code,
        request_type=str(payload["request_type"]),
        state="",
        foreign_reference=str(payload.get("reference", ""))[:80],
        language=str(payload["language"]),
        legal_basis=",".join(payload.get("legal_basis", [])),
        urgent=bool(payload.get("urgent")),
        urgency_reason=str(payload.get("urgency_reason") or ""),
        desired_date=date.fromisoformat(desired) if desired else None,
        confidential=bool(payload.get("confidential", True)),
        details_enc="",
        public_id=new_uuid(),  # the ids the encryption contexts name, known before any flush
        persons=[],
        events=[],
    )
    session.add(request)
    contents = dict(payload.get("contents", {}))
    contents["_requesting_authority"] = payload.get("requesting_authority", origin.code)
    contents["_stage"] = payload.get("stage", "")
    request.details_enc = sealing.encrypt_field(
        json.dumps(contents, sort_keys=True, ensure_ascii=False), context=details_context(request)
    )
    for entry in payload.get("persons", []):
        person = RequestPerson(
            label=str(entry["label"])[:40],
            is_victim=bool(entry.get("victim")),
            is_minor=bool(entry.get("minor")),
            is_witness=bool(entry.get("witness")),
            is_suspect=bool(entry.get("suspect")),
            identity_enc="",
            public_id=new_uuid(),
        )
        # Identity as received: the name may be a pseudonym (``disclosure``); the protection
        # measures the requesting state asks for travel with the person.
        person.disclosure = "pseudonym" if entry.get("disclosure") == "pseudonym" else "identity"
        request.persons.append(person)
        person.identity_enc = sealing.encrypt_field(
            json.dumps(entry.get("identity", {}), sort_keys=True, ensure_ascii=False),
            context=f"person:{person.public_id}",
        )
        if entry.get("protection"):
            person.protection_enc = sealing.encrypt_field(
                json.dumps(entry["protection"], sort_keys=True, ensure_ascii=False),
                context=f"person:{person.public_id}:protection",
            )
    for entry in payload["annexes"]:
        created = files.record(session, request, entry, "supporting")
        if created is not None:
            files.created.append(created)
    lifecycle.transition(session, request, "receive", peer=origin.code, message_id=msg_id)
    return request


def _receive_thread_message(
    session: DbSession,
    addressed: Authority,
    origin: Authority,
    payload: dict[str, Any],
    msg_id: str,
    conversation: str,
) -> None:
    """Store a threaded message from another authority next to its request or case reference."""
    request = _copy_for(session, conversation, origin.code)
    reference = None
    if request is None:
        reference = session.scalar(
            select(CaseReference).where(
                CaseReference.conversation_id == conversation,
                CaseReference.authority_id == addressed.id,
            )
        )
        if reference is None:
            raise MlaError("unknown_conversation")
    message = Message(
        msg_id=msg_id,
        conversation_id=conversation,
        authority_id=request.authority_id if request is not None else addressed.id,
        counterpart_id=origin.id,
        request_id=request.id if request is not None else None,
        case_reference_id=reference.id if reference is not None else None,
        direction=INCOMING,
        kind=next((k for k, subj in KIND_SUBJECTS.items() if subj == payload["subject"]), "note"),
        body_enc="",
    )
    session.add(message)
    session.flush()
    body = str(payload["text"])
    message.body_enc = sealing.encrypt_field(body, context=f"message:{message.public_id}")
    session.flush()


def record_delivery(
    session: DbSession,
    msg_id: str,
    at: datetime | None = None,
    *,
    message: OutboxMessage | None = None,
) -> None:
    """Mark an outgoing request delivered when the receipt of its ``mla.request`` arrives (at
    ``at``, the receipt's time, when there is one); ``message`` is its outbox row, if loaded."""
    if message is None or message.msg_id != msg_id:
        message = session.scalar(select(OutboxMessage).where(OutboxMessage.msg_id == msg_id))
    if message is None or message.msg_type != "mla.request":
        return
    # The request's state first: only a transmitted one is loaded (with what it joins) and moved.
    row = session.execute(reads.OUTGOING_STATE, {"conversation": message.conversation_id}).first()
    request = session.get(MlaRequest, row.id) if row and row.state == "transmitted" else None
    if request is not None:
        lifecycle.transition(session, request, "deliver", at=at)


def _queued_for_hosted(session: DbSession) -> list[int]:
    """Return the ids of queued messages addressed to authorities hosted on this node, in order."""
    hosted = {a.code for a in directory.authorities(session, hosted=True)}
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.recipient_code)
        .where(OutboxMessage.state == "queued")
        .order_by(OutboxMessage.id)
    ).all()
    return [row.id for row in rows if row.recipient_code in hosted]


def apply_queued(
    session: DbSession,
    message_id: int,
    *,
    blobs_dir: Path,
    max_annex_bytes: int,
    created: list[StoredBlob],
) -> bool:
    """Apply one queued message to the hosted authority it is addressed to; mark it delivered.

    The message carries the stored files of the annexes its payload names, as its envelope would.
    Returns False when the message is no longer queued (another worker handed it over). Flushes,
    never commits: the caller runs it as a unit of work (``uow.run_job``), so the move it makes,
    the message's new state and the delivery of the request commit together or not at all.
    Blob files written for a request it creates are added to ``created``.
    """
    message = session.get(OutboxMessage, message_id)
    if message is None or message.state != "queued":
        return False
    carried = {
        a.sha256: partial(open_annex, blobs_dir, a) for a in carried_annexes(session, message)
    }
    files = IncomingFiles(carried, blobs_dir, max_annex_bytes, created)
    receive_message(
        session,
        msg_type=message.msg_type,
        sender=message.sender_code,
        recipient=message.recipient_code,
        payload=sealing.message_payload(message),
        msg_id=message.msg_id,
        conversation=message.conversation_id,
        files=files,
    )
    message.state = "delivered"
    session.flush()
    record_delivery(session, message.msg_id)
    return True


def _mark_rejected(session: DbSession, message_id: int) -> None:
    """Mark a queued message that its recipient here refused: it is never handed over again."""
    message = session.get(OutboxMessage, message_id)
    if message is not None and message.state == "queued":
        message.state = "rejected"
        session.flush()


def deliver_locally(session: DbSession, *, blobs_dir: Path, max_annex_bytes: int) -> int:
    """Hand queued messages addressed to authorities hosted on this node straight to them.

    A stand-in for the federation worker when both sides live on one node (demo, tests): same
    receiving functions and checks, no envelope. Each message is its own unit of work, committed
    once it is applied, and applied again when it lost a race with a person's move on the same
    request. A message its recipient refuses is marked ``rejected`` and the others go on.
    Returns how many messages were handed over.
    """
    count = 0
    for message_id in _queued_for_hosted(session):
        created: list[StoredBlob] = []

        def attempt(message_id: int = message_id, created: list[StoredBlob] = created) -> bool:
            """Apply the message, after removing what an earlier, rolled-back attempt wrote."""
            discard(created)
            return apply_queued(
                session,
                message_id,
                blobs_dir=blobs_dir,
                max_annex_bytes=max_annex_bytes,
                created=created,
            )

        try:
            applied = uow.run_job(session, attempt)
        except Refused as exc:
            discard(created)
            if isinstance(exc, Conflict):
                raise
            log.warning("queued message %d refused by its recipient: %s", message_id, exc.code)
            uow.run_job(session, partial(_mark_rejected, session, message_id))
            continue
        except BaseException:
            discard(created)
            raise
        count += int(applied)
    return count


def _receipt_reason(exc: Refused) -> str:
    """Return the ``rejected:<reason>`` word of a refusal (lower-case words joined by hyphens)."""
    reason = exc.code if isinstance(exc, Rejected) else exc.code.replace("_", "-")
    return re.sub(r"[^a-z-]", "-", reason.lower()) or "refused"


def _open_carried(
    envelopes: Envelopes,
    opened: OpenedEnvelope,
    entry: ManifestEntry,
    blob: Path | None,
    max_bytes: int,
) -> IO[bytes]:
    """Decrypt one attachment of an envelope into memory, checked against the signed manifest.

    Kept in memory (at most the annex size limit): the plaintext of evidence never touches the
    disk unencrypted.
    """
    if entry.size > max_bytes:
        raise Rejected("oversized")
    if blob is None:
        raise Rejected("missing-attachment")
    content = io.BytesIO()
    try:
        with open(blob, "rb") as source:
            envelopes.open_attachment(opened, entry.id, source, content)
    except OSError as exc:
        raise Rejected("missing-attachment") from exc
    except EnvelopeError as exc:  # a segment altered, or size and SHA-256 not the manifest's
        raise Rejected(exc.reason) from exc
    content.seek(0)
    return content


def accept_envelope(
    session: DbSession,
    envelope: bytes,
    *,
    blobs: Mapping[str, Path] | None = None,
    blobs_dir: Path,
    max_annex_bytes: int,
    opened: OpenedEnvelope | None = None,
) -> bytes:
    """Receive an envelope for an authority hosted here: open it once, apply it, return the receipt.

    ``opened``: these bytes as the caller (the inbox) opened them and found unseen a moment
    ago, not to open them or look their id up twice (a retry looks it up again).

    ``blobs`` are the encrypted attachment blobs delivered with it, by manifest id. Each attempt
    is one unit of work: the move the message makes, its message id and the receipt commit
    together, so no receipt exists for a message that was not applied. The move comes before
    anything else is written, so an attempt that loses a race with a person's move on the same
    request holds no lock meanwhile; it is rolled back whole and made again. The same envelope
    twice answers the first receipt and applies nothing. A message that opens but that its
    payload, its files or its move make us refuse is answered ``rejected:<reason>``, nothing of
    it stored (and not remembered: the sender may send a corrected one).
    """
    envelopes = node_envelopes(session)
    created: list[StoredBlob] = []
    seen: list[OpenedEnvelope] = [] if opened is None else [opened]
    look_up = [opened is None]  # not on the first attempt at one the caller looked up

    def attempt() -> bytes:
        """Open, apply and remember the envelope; answer its receipt."""
        discard(created)
        if not seen:
            seen[:] = [envelopes.open(envelope)]
        opened = seen[0]
        if envelopes.seen is None:
            raise RuntimeError("the node's envelopes have no seen-message register")
        # A race lost since the caller's look-up fails at ``remember``: rolled back, retried.
        earlier = envelopes.seen.receipt_for(opened.msg_id) if look_up[0] else None
        look_up[0] = True
        if earlier is not None:
            return earlier
        carried = {
            entry.sha256: partial(
                _open_carried,
                envelopes,
                opened,
                entry,
                (blobs or {}).get(entry.id),
                max_annex_bytes,
            )
            for entry in opened.attachments
        }
        receive_message(
            session,
            msg_type=opened.msg_type,
            sender=opened.sender,
            recipient=opened.recipient,
            payload=opened.body,
            msg_id=opened.msg_id,
            conversation=opened.conversation,
            files=IncomingFiles(carried, blobs_dir, max_annex_bytes, created),
        )
        receipt = envelopes.make_receipt(
            opened.recipient,
            opened.envelope_sha256,
            "delivered",
            in_reply_to=opened.msg_id,
            to=opened.sender,
        )
        if envelopes.seen.remember(opened.msg_id, receipt, utcnow()) != receipt:
            raise Conflict()  # another worker applied it a moment ago: roll ours back, answer its
        return receipt

    try:
        return uow.run_job(session, attempt)
    except Refused as exc:
        discard(created)
        if isinstance(exc, Conflict) or not seen:
            raise
        opened = seen[0]
        reason = _receipt_reason(exc)
        log.info("message %s from %s rejected: %s", opened.msg_id, opened.sender, reason)
        return envelopes.make_receipt(
            opened.recipient,
            opened.envelope_sha256,
            f"rejected:{reason}",
            in_reply_to=opened.msg_id,
            to=opened.sender,
        )
    except BaseException:
        discard(created)
        raise
