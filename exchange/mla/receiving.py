"""Receiving: the other side's messages applied to this node's copies of requests.

Called by the federation layer, or locally for authorities hosted on this node."""

from __future__ import annotations

import json
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import select

from exchange import uow
from exchange.cases.models import CaseReference
from exchange.cases.services import receive_case_reference
from exchange.db import DbSession, utcnow
from exchange.directory import queries as directory
from exchange.directory.models import Authority
from exchange.envelopes.stores import node_envelopes
from exchange.exceptions import Conflict
from exchange.mla import lifecycle, sealing
from exchange.mla.annexes import SHA256_RE
from exchange.mla.errors import MlaError
from exchange.mla.messages import KIND_SUBJECTS
from exchange.mla.models import (
    INCOMING,
    OUTGOING,
    Annex,
    Message,
    MlaRequest,
    OutboxMessage,
    RequestPerson,
)
from exchange.mla.payloads import details_context

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
) -> None:
    """Apply a message from another authority to this node: the receiving side of each move.

    ``conversation`` is the envelope's conversation claim (the id of its first message).
    """
    addressed = directory.authority_by_code(session, recipient)
    origin = directory.authority_by_code(session, sender)
    if addressed is None or origin is None or not addressed.hosted:
        raise MlaError("unknown_authority")
    if msg_type == "mla.request":
        _receive_request(session, addressed, origin, payload, msg_id)
    elif msg_type in ("mla.status", "mla.response", "mla.conditions"):
        request = _copy_for(session, str(payload["request"]), sender)
        if request is None:
            raise MlaError("unknown_request")
        action = lifecycle.PEER_ACTION.get(payload["action"], payload["action"])
        data: dict[str, Any] = {k: payload[k] for k in _MOVE_KEYS if k in payload}
        if msg_type == "mla.response":
            for entry in payload.get("annexes", []):
                _annex_from_entry(request, entry, "result")
            data["annexes"] = [e["sha256"] for e in payload.get("annexes", [])]
        lifecycle.transition(session, request, action, peer=sender, payload=data, message_id=msg_id)
    elif msg_type == "case.reference":
        receive_case_reference(session, addressed, origin, payload)
    elif msg_type == "message":
        _receive_thread_message(session, addressed, origin, payload, msg_id, conversation)
    else:
        raise MlaError("unknown_type", msg_type)


def _annex_from_entry(request: MlaRequest, entry: dict[str, Any], kind: str) -> None:
    """Record an annex announced by a payload (its blob travels separately, by SHA-256)."""
    if not SHA256_RE.match(str(entry["sha256"])):
        raise MlaError("bad_annex")
    if any(a.sha256 == entry["sha256"] and a.kind == kind for a in request.annexes):
        return
    request.annexes.append(
        Annex(
            kind=kind,
            sha256=entry["sha256"],
            filename_enc=sealing.encrypt_field(
                str(entry["filename"]), context=f"annex:{entry['sha256']}:name"
            ),
            content_type=str(entry["media_type"]),
            size=int(entry["size"]),
        )
    )


def _receive_request(
    session: DbSession,
    addressed: Authority,
    origin: Authority,
    payload: dict[str, Any],
    msg_id: str,
) -> MlaRequest:
    """Create the requested side's copy of an incoming request."""
    existing = _copy_for(session, str(payload["request"]), origin.code)
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
    )
    session.add(request)
    session.flush()
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
        )
        request.persons.append(person)
        session.flush()
        person.identity_enc = sealing.encrypt_field(
            json.dumps(entry.get("identity", {}), sort_keys=True, ensure_ascii=False),
            context=f"person:{person.public_id}",
        )
    for entry in payload.get("annexes", []):
        _annex_from_entry(request, entry, "supporting")
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


def record_delivery(session: DbSession, msg_id: str) -> None:
    """Mark an outgoing request delivered when the receipt of its ``mla.request`` arrives."""
    message = session.scalar(select(OutboxMessage).where(OutboxMessage.msg_id == msg_id))
    if message is None or message.msg_type != "mla.request":
        return
    request = session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == message.conversation_id, MlaRequest.side == OUTGOING
        )
    )
    if request is not None and request.state == "transmitted":
        lifecycle.transition(session, request, "deliver")


def _queued_for_hosted(session: DbSession) -> list[int]:
    """Return the ids of queued messages addressed to authorities hosted on this node, in order."""
    hosted = {a.code for a in directory.authorities(session, hosted=True)}
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.recipient_code)
        .where(OutboxMessage.state == "queued")
        .order_by(OutboxMessage.id)
    ).all()
    return [row.id for row in rows if row.recipient_code in hosted]


def apply_queued(session: DbSession, message_id: int) -> bool:
    """Apply one queued message to the hosted authority it is addressed to; mark it delivered.

    Returns False when the message is no longer queued (another worker handed it over). Flushes,
    never commits: the caller runs it as a unit of work (``uow.run_job``), so the move it makes,
    the message's new state and the delivery of the request commit together or not at all.
    """
    message = session.get(OutboxMessage, message_id)
    if message is None or message.state != "queued":
        return False
    receive_message(
        session,
        msg_type=message.msg_type,
        sender=message.sender_code,
        recipient=message.recipient_code,
        payload=sealing.message_payload(message),
        msg_id=message.msg_id,
        conversation=message.conversation_id,
    )
    message.state = "delivered"
    session.flush()
    record_delivery(session, message.msg_id)
    return True


def deliver_locally(session: DbSession) -> int:
    """Hand queued messages addressed to authorities hosted on this node straight to them.

    A stand-in for the federation worker when both sides live on one node (demo, tests): same
    receiving functions, no envelope. Each message is its own unit of work, committed once it is
    applied, and applied again when it lost a race with a person's move on the same request.
    Returns how many messages were handed over.
    """
    count = 0
    for message_id in _queued_for_hosted(session):
        if uow.run_job(session, partial(apply_queued, session, message_id)):
            count += 1
    return count


def accept_envelope(session: DbSession, envelope: bytes) -> bytes:
    """Receive an envelope for an authority hosted here: open it once, apply it, return the receipt.

    Each attempt is one unit of work: the move the message makes, its message id and the receipt
    commit together, so no receipt exists for a message that was not applied. The move comes
    before anything else is written, so an attempt that loses a race with a person's move on the
    same request holds no lock meanwhile; it is rolled back whole and made again. The same
    envelope twice answers the first receipt and applies nothing.
    """
    envelopes = node_envelopes(session)

    def attempt() -> bytes:
        """Open, apply and remember the envelope; answer its receipt."""
        opened = envelopes.open(envelope)
        if envelopes.seen is None:
            raise RuntimeError("the node's envelopes have no seen-message register")
        earlier = envelopes.seen.receipt_for(opened.msg_id)
        if earlier is not None:
            return earlier
        receive_message(
            session,
            msg_type=opened.msg_type,
            sender=opened.sender,
            recipient=opened.recipient,
            payload=opened.body,
            msg_id=opened.msg_id,
            conversation=opened.conversation,
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

    return uow.run_job(session, attempt)
