"""Writes on MLA requests: drafting, completeness, persons, annexes, moves, messages, receiving.

Plain functions over the session with the actor passed in; they flush, never commit. Every state
change goes through ``lifecycle.transition``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from exchange import policy
from exchange.auth.models import User
from exchange.cases.models import Case, CaseReference
from exchange.db import DbSession, utcnow
from exchange.directory import queries as directory
from exchange.directory.models import ECOWAS_MEMBER, LANGUAGES, Authority
from exchange.mla import lifecycle, sealing
from exchange.mla.definitions import FieldDef, RequestType, get_type
from exchange.mla.lifecycle import DEFAULT_TARGETS, Targets, TransitionError
from exchange.mla.models import (
    INCOMING,
    OUTGOING,
    Annex,
    Message,
    MlaRequest,
    OutboxMessage,
    RequestPerson,
)
from exchange.mla.payloads import details_of, identity_of

IDENTITY_FIELDS = (
    "name",
    "aliases",
    "date_of_birth",
    "place_of_birth",
    "nationality",
    "identity_documents",
    "address",
    "language",
)
MESSAGE_KINDS = ("consultation", "progress_inquiry", "reply", "note")
# A threaded message travels as the envelope layer's ``message`` body (schemas/v1/message.json):
# its kind is told by a fixed English subject, which a receiving node maps back.
KIND_SUBJECTS = {
    "consultation": "Consultation before a request",
    "progress_inquiry": "Progress inquiry",
    "reply": "Reply",
    "note": "Note",
}
# Annex content types, detected from the first bytes, never from the name or the browser's claim.
MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class MlaError(ValueError):
    """A change was refused; ``code`` names why (for a translated message)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class StaleDraft(MlaError):
    """The draft changed since the editor loaded it (If-Match / version mismatch)."""

    def __init__(self) -> None:
        super().__init__("stale")


# --- suggestions from the directory ------------------------------------------------------------


@dataclass(frozen=True)
class Suggestions:
    """What the directory suggests for a request from one state to another for a measure."""

    authorities: list[Authority]
    language: str
    languages: list[str]
    legal_basis: list[str]


def accepted_languages(
    session: DbSession, requesting_state: str, requested_state: str
) -> list[str]:
    """Return the languages the requested state accepts, preferred first.

    UNTOC 18(14): a language acceptable to the requested state. ECOWAS A/P.1/7/92 art. 5(2): between
    members, any official language of the Community (en, fr, pt) as well.
    """
    requested = directory.jurisdiction(session, requested_state)
    requesting = directory.jurisdiction(session, requesting_state)
    if requested is None:
        return []
    found = list(requested.request_languages)
    if requesting is not None and requested.status == requesting.status == ECOWAS_MEMBER:
        found += [lang for lang in LANGUAGES if lang not in found]
    return found


def suggest(
    session: DbSession, requesting_state: str, requested_state: str, measure: str
) -> Suggestions:
    """Suggest the requested authority, the language and the legal basis for a new request."""
    languages = accepted_languages(session, requesting_state, requested_state)
    return Suggestions(
        authorities=directory.competent_authorities(session, requested_state, measure),
        language=languages[0] if languages else "en",
        languages=languages,
        legal_basis=[
            i.code
            for i in directory.instruments_between(session, requesting_state, requested_state)
        ],
    )


def reviewing_authority_for(session: DbSession, authority: Authority) -> Authority:
    """Return the central authority that reviews and transmits requests of ``authority``'s state."""
    if authority.kind == "central_authority":
        return authority
    central = session.scalar(
        select(Authority)
        .where(
            Authority.jurisdiction_code == authority.jurisdiction_code,
            Authority.kind == "central_authority",
        )
        .order_by(Authority.hosted.desc(), Authority.code)
    )
    return central or authority


# --- drafting ----------------------------------------------------------------------------------


def _details_context(request: MlaRequest) -> str:
    """Return the encryption context of a request's contents."""
    return f"request:{request.public_id}:details"


def create_request(
    session: DbSession,
    actor: User,
    case: Case,
    *,
    request_type: str,
    counterpart: Authority,
) -> MlaRequest:
    """Open a draft request of ``case`` to ``counterpart``, with the directory's defaults."""
    if not policy.can_view_case(actor, case) or not actor.can("requests.draft"):
        raise MlaError("forbidden")
    definition = get_type(request_type)
    if definition is None:
        raise MlaError("unknown_type")
    if counterpart.jurisdiction_code == actor.authority.jurisdiction_code:
        raise MlaError("same_state")
    hints = suggest(
        session, actor.authority.jurisdiction_code, counterpart.jurisdiction_code, request_type
    )
    request = MlaRequest(
        side=OUTGOING,
        authority_id=actor.authority_id,
        authority=actor.authority,
        reviewing_authority=reviewing_authority_for(session, actor.authority),
        counterpart=counterpart,
        counterpart_state=counterpart.jurisdiction_code,
        case=case,
        request_type=request_type,
        state="",
        language=hints.language,
        legal_basis=",".join(hints.legal_basis),
        confidential=True,
        created_by_id=actor.id,
        details_enc="",
    )
    session.add(request)
    session.flush()
    request.reference = f"{actor.authority.code}/{utcnow().year}/{request.id:06d}"
    request.details_enc = sealing.encrypt_field("{}", context=_details_context(request))
    lifecycle.transition(session, request, "create", actor=actor)
    return request


def _require_editable(actor: User, request: MlaRequest, expected_version: int | None) -> None:
    """Refuse an edit by someone not on the team, of a non-draft, or based on an old version."""
    if not policy.can_edit_draft(actor, request):
        raise MlaError("forbidden")
    if expected_version is not None and expected_version != request.version:
        raise StaleDraft()


def update_basics(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    *,
    expected_version: int | None,
    counterpart: Authority,
    language: str,
    legal_basis: list[str],
    urgent: bool,
    urgency_reason: str,
    desired_date: date | None,
    confidential: bool,
) -> None:
    """Change the requested authority, language, legal basis, urgency and confidentiality."""
    _require_editable(actor, request, expected_version)
    if counterpart.jurisdiction_code == actor.authority.jurisdiction_code:
        raise MlaError("same_state")
    if language not in LANGUAGES:
        raise MlaError("bad_language")
    known = {
        i.code
        for i in directory.instruments_between(
            session, actor.authority.jurisdiction_code, counterpart.jurisdiction_code
        )
    }
    if not set(legal_basis) <= known:
        raise MlaError("bad_legal_basis")
    request.counterpart = counterpart
    request.counterpart_state = counterpart.jurisdiction_code
    request.language = language
    request.legal_basis = ",".join(legal_basis)
    request.urgent = urgent
    request.urgency_reason = urgency_reason.strip()[:4000]
    request.desired_date = desired_date
    request.confidential = confidential
    session.flush()


def _clean_value(field: FieldDef, value: Any) -> Any:
    """Normalise a submitted value for ``field`` (text trimmed, dates as ISO, booleans)."""
    if field.kind == "bool":
        return bool(value)
    if field.kind == "date":
        if value in (None, ""):
            return ""
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise MlaError("bad_date", field.name) from exc
    text = "" if value is None else str(value).strip()
    if len(text) > field.max_length:
        raise MlaError("too_long", field.name)
    return text


def update_contents(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    *,
    expected_version: int | None,
    values: dict[str, Any],
) -> None:
    """Save some of the request's contents (only fields its type defines; others are refused)."""
    _require_editable(actor, request, expected_version)
    definition = get_type(request.request_type)
    assert definition is not None  # noqa: S101 - the type was checked at creation
    fields = {f.name: f for f in definition.all_fields}
    unknown = set(values) - set(fields)
    if unknown:
        raise MlaError("unknown_field", ", ".join(sorted(unknown)))
    details = details_of(request)
    for name, value in values.items():
        details[name] = _clean_value(fields[name], value)
    request.details_enc = sealing.encrypt_field(
        json.dumps(details, sort_keys=True, ensure_ascii=False), context=_details_context(request)
    )
    request.updated_at = utcnow()  # the row changes: the version moves on
    session.flush()


def add_person(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    *,
    identity: dict[str, str],
    victim: bool = False,
    minor: bool = False,
    witness: bool = False,
    suspect: bool = False,
) -> RequestPerson:
    """Add a person concerned (UNTOC 18(15)(e)); the identity is stored encrypted."""
    _require_editable(actor, request, None)
    clean = {k: str(identity.get(k) or "").strip()[:500] for k in IDENTITY_FIELDS}
    if not clean["name"]:
        raise MlaError("missing_name")
    person = RequestPerson(
        label=f"P{len(request.persons) + 1}",
        is_victim=victim,
        is_minor=minor,
        is_witness=witness,
        is_suspect=suspect,
        identity_enc="",
    )
    request.persons.append(person)
    session.flush()
    person.identity_enc = sealing.encrypt_field(
        json.dumps(clean, sort_keys=True, ensure_ascii=False), context=f"person:{person.public_id}"
    )
    request.updated_at = utcnow()
    session.flush()
    return person


def remove_person(
    session: DbSession, actor: User, request: MlaRequest, person: RequestPerson
) -> None:
    """Remove a person concerned from a draft."""
    _require_editable(actor, request, None)
    if person.request_id != request.id:
        raise MlaError("not_found")
    request.persons.remove(person)
    request.updated_at = utcnow()
    session.flush()


# --- completeness ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    """One thing the requested state will need, with its legal source, and whether it is there."""

    key: str
    source: str
    ok: bool
    required: bool
    field: FieldDef | None = None


STRUCTURAL_SOURCES = {
    "requested_authority": "UNTOC 18(13)",
    "language": "UNTOC 18(14); ECOWAS 5(2)",
    "legal_basis": "UNTOC 18(1), 18(7); ECOWAS A/P.1/7/92 art. 1",
    "urgency": "UNTOC 18(24); ECOWAS 5(1)(f)",
    "confidentiality": "UNTOC 18(20)",
    "persons": "UNTOC 18(15)(e); ECOWAS 5(1)(d) (inferred)",
    "victim": "Palermo Protocol arts. 6 and 8",
}


def _filled(field: FieldDef, value: Any) -> bool:
    """Tell whether a required field has a value (a required checkbox must be ticked)."""
    if field.kind == "bool":
        return value is True
    return bool(str(value or "").strip())


def checklist(session: DbSession, request: MlaRequest) -> list[ChecklistItem]:
    """Return the checklist of the request: every element the requested state needs, in order."""
    definition = get_type(request.request_type)
    assert definition is not None  # noqa: S101
    details = details_of(request)
    languages = accepted_languages(
        session, request.authority.jurisdiction_code, request.counterpart_state
    )
    items = [
        ChecklistItem(
            "requested_authority",
            STRUCTURAL_SOURCES["requested_authority"],
            request.counterpart_id is not None,
            True,
        ),
        ChecklistItem(
            "language", STRUCTURAL_SOURCES["language"], request.language in languages, True
        ),
        ChecklistItem(
            "legal_basis", STRUCTURAL_SOURCES["legal_basis"], bool(request.legal_basis), True
        ),
        ChecklistItem(
            "urgency",
            STRUCTURAL_SOURCES["urgency"],
            not request.urgent
            or (bool(request.urgency_reason.strip()) and request.desired_date is not None),
            request.urgent,
        ),
        ChecklistItem("confidentiality", STRUCTURAL_SOURCES["confidentiality"], True, False),
    ]
    items += [
        ChecklistItem(
            f.name, f.source, _filled(f, details.get(f.name)) or not f.required, f.required, f
        )
        for f in definition.all_fields
    ]
    items += _persons_items(definition, request)
    return items


def _persons_items(definition: RequestType, request: MlaRequest) -> list[ChecklistItem]:
    """Return the checklist items about persons concerned that the type asks for."""
    if definition.persons == "required":
        return [
            ChecklistItem("persons", STRUCTURAL_SOURCES["persons"], bool(request.persons), True)
        ]
    if definition.persons == "victim":
        return [
            ChecklistItem(
                "victim",
                STRUCTURAL_SOURCES["victim"],
                any(p.is_victim for p in request.persons),
                True,
            )
        ]
    return [ChecklistItem("persons", STRUCTURAL_SOURCES["persons"], True, False)]


def missing(session: DbSession, request: MlaRequest) -> list[ChecklistItem]:
    """Return the required elements still missing; a draft with any cannot go to review."""
    return [item for item in checklist(session, request) if item.required and not item.ok]


# --- moves ---------------------------------------------------------------------------------------


def submit(session: DbSession, actor: User, request: MlaRequest) -> None:
    """Send a complete draft to review; refuse while a required element is missing."""
    if not policy.can_edit_draft(actor, request):
        raise MlaError("forbidden")
    gaps = missing(session, request)
    if gaps:
        raise MlaError("incomplete", ", ".join(item.key for item in gaps))
    lifecycle.transition(session, request, "submit", actor=actor)


def approve(
    session: DbSession, actor: User, request: MlaRequest, targets: Targets = DEFAULT_TARGETS
) -> None:
    """Approve a request under review (four-eyes) and transmit it: its message is queued."""
    if missing(session, request):  # re-checked: the type definitions may have changed since
        raise MlaError("incomplete")
    lifecycle.transition(session, request, "approve", actor=actor)
    lifecycle.transition(session, request, "transmit", actor=actor, targets=targets)


def act(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    action: str,
    payload: dict[str, Any],
    targets: Targets = DEFAULT_TARGETS,
) -> None:
    """Make any other user move (register, assign, request info, postpone, execute, refuse...)."""
    if action in ("create", "submit", "approve", "transmit"):
        raise TransitionError("not_allowed", action)
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in payload.items()}
    if action == "assign":
        clean = _assignment(session, actor, request, clean)
    if action in ("execute", "execute_partially"):
        shas = clean.get("annexes") or []
        known = {a.sha256 for a in request.annexes if a.kind == "result"}
        if not set(shas) <= known:
            raise MlaError("unknown_annex")
    lifecycle.transition(session, request, action, actor=actor, payload=clean, targets=targets)


def _assignment(
    session: DbSession, actor: User, request: MlaRequest, payload: dict[str, Any]
) -> dict[str, Any]:
    """Check and apply an assignment to an executing authority (and officer) of the same state."""
    authority = directory.authority_by_code(session, str(payload.get("authority") or ""))
    if authority is None or authority.jurisdiction_code != request.authority.jurisdiction_code:
        raise MlaError("bad_authority")
    officer = None
    if payload.get("officer"):
        officer = session.scalar(
            select(User).where(User.public_id == str(payload["officer"]), User.active.is_(True))
        )
        if officer is None or officer.authority_id != authority.id:
            raise MlaError("bad_officer")
        if not officer.can("requests.execute") and not officer.can("requests.view_all"):
            raise MlaError("bad_officer")
    request.assigned_authority_id = authority.id
    request.assigned_officer_id = officer.id if officer else None
    return {"authority": authority.code, "officer": officer.display_name if officer else ""}


# --- annexes --------------------------------------------------------------------------------------


def detect_media_type(data: bytes) -> str | None:
    """Return the media type that the content's first bytes show (PDF, PNG, JPEG), or None."""
    for magic, media_type in MAGIC:
        if data.startswith(magic):
            return media_type
    return None


def blob_path(blobs_dir: Path, sha256: str) -> Path:
    """Return where the encrypted blob of ``sha256`` lives, confined to ``blobs_dir``."""
    if not SHA256_RE.match(sha256):
        raise MlaError("not_found")
    base = blobs_dir.resolve()
    path = (base / sha256[:2] / sha256).resolve()
    if base not in path.parents:
        raise MlaError("not_found")
    return path


def add_annex(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    *,
    filename: str,
    data: bytes,
    kind: str,
    blobs_dir: Path,
    max_bytes: int,
) -> Annex:
    """Store an annex encrypted, addressed by the SHA-256 of its content; PDF and images only."""
    if kind == "supporting":
        _require_editable(actor, request, None)
    elif kind == "result":
        if not policy.can_act_on_request(actor, request, "requests.execute"):
            raise MlaError("forbidden")
    else:
        raise MlaError("bad_kind")
    if not data:
        raise MlaError("empty_file")
    if len(data) > max_bytes:
        raise MlaError("too_large")
    media_type = detect_media_type(data)
    if media_type is None:
        raise MlaError("bad_file_type")
    digest = sealing.sha256_hex(data)
    for existing in request.annexes:
        if existing.sha256 == digest and existing.kind == kind:
            return existing
    path = blob_path(blobs_dir, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(sealing.encrypt_blob(data, context=f"blob:{digest}"))
        tmp.replace(path)
    name = Path(filename.replace("\\", "/")).name.strip()[:200] or "annex"
    annex = Annex(
        kind=kind,
        sha256=digest,
        filename_enc=sealing.encrypt_field(name, context=f"annex:{digest}:name"),
        content_type=media_type,
        size=len(data),
        uploaded_by_id=actor.id,
    )
    request.annexes.append(annex)
    session.flush()
    return annex


def read_annex(blobs_dir: Path, annex: Annex) -> bytes:
    """Return the decrypted content of an annex, checked against its SHA-256."""
    path = blob_path(blobs_dir, annex.sha256)
    if not path.exists():
        raise MlaError("not_found")
    data = sealing.decrypt_blob(path.read_bytes(), context=f"blob:{annex.sha256}")
    if sealing.sha256_hex(data) != annex.sha256:
        raise MlaError("corrupt")
    return data


# --- threaded messages ---------------------------------------------------------------------------


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
    from exchange.mla.payloads import sender_and_recipient

    body = body.strip()
    if not body:
        raise MlaError("empty_message")
    if len(body) > 8000:
        raise MlaError("too_long")
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


# --- receiving (called by the federation layer, or locally for hosted recipients) ---------------


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
    from exchange.cases import services as cases

    addressed = directory.authority_by_code(session, recipient)
    origin = directory.authority_by_code(session, sender)
    if addressed is None or origin is None or not addressed.hosted:
        raise MlaError("unknown_authority")
    if msg_type == "mla.request":
        _receive_request(session, addressed, origin, payload, msg_id)
    elif msg_type in ("mla.status", "mla.response"):
        request = _copy_for(session, str(payload["request"]), sender)
        if request is None:
            raise MlaError("unknown_request")
        action = lifecycle.PEER_ACTION.get(payload["action"], payload["action"])
        data: dict[str, Any] = {
            k: payload[k] for k in ("reference", "reason", "ground", "summary") if k in payload
        }
        if msg_type == "mla.response":
            for entry in payload.get("annexes", []):
                _annex_from_entry(request, entry, "result")
            data["annexes"] = [e["sha256"] for e in payload.get("annexes", [])]
        lifecycle.transition(session, request, action, peer=sender, payload=data, message_id=msg_id)
    elif msg_type == "case.reference":
        cases.receive_case_reference(session, addressed, origin, payload)
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
        json.dumps(contents, sort_keys=True, ensure_ascii=False), context=_details_context(request)
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


def deliver_locally(session: DbSession) -> int:
    """Hand queued messages addressed to authorities hosted on this node straight to them.

    A stand-in for the federation worker when both sides live on one node (demo, tests): same
    receiving functions, no envelope. Returns how many messages were handed over.
    """
    count = 0
    queued = session.scalars(
        select(OutboxMessage).where(OutboxMessage.state == "queued").order_by(OutboxMessage.id)
    ).all()
    for message in queued:
        recipient = directory.authority_by_code(session, message.recipient_code)
        if recipient is None or not recipient.hosted:
            continue
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
        count += 1
    return count


def person_identities(request: MlaRequest) -> dict[int, dict[str, str]]:
    """Return the decrypted identities of a request's persons, by person id (for the case team)."""
    return {p.id: identity_of(p) for p in request.persons}
