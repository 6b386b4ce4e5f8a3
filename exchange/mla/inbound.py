"""What an incoming payload must be before anything of it is stored (suspicion S2).

First its JSON Schema (``schemas/v1/``, the public contract with other states' nodes), then our
closed vocabularies, which a schema shared by every node cannot know: the request types this node
defines and their fields, the evidence types it accepts, plain-text labels and codes. A payload
that fails is rejected whole (``rejected:invalid-payload``); the log names the failing place,
never a value (a value may name a person).
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exchange.directory.models import LANGUAGES
from exchange.mla.definitions import get_type
from exchange.mla.errors import Rejected
from exchange.mla.filetypes import MEDIA_TYPES

if TYPE_CHECKING:
    import jsonschema

log = logging.getLogger(__name__)

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas" / "v1"
SCHEMA_FILES = {
    "mla.request": "payloads/mla.request.json",
    "mla.status": "payloads/mla.status.json",
    "mla.response": "payloads/mla.response.json",
    "mla.conditions": "payloads/mla.conditions.json",
    "case.reference": "payloads/case.reference.json",
    "message": "message.json",
    "evidence": "payloads/evidence.json",
}
# Instrument codes as the directory spells them (UNTOC-18, ECOWAS-A/P.1/7/92): no comma, since
# they are stored joined by commas, in a column of 300 characters.
INSTRUMENT = re.compile(r"^[A-Z0-9][A-Za-z0-9./_-]{0,39}$")
MAX_LEGAL_BASIS = 300
MAX_URGENCY_REASON = 4000  # as the drafting form keeps it
# Unicode's bidirectional embeddings, overrides and isolates reorder what a reader sees
# (CVE-2021-42574, "Trojan Source"): never in a text that crosses a border.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# What a free text may not hold, in one class: those controls, and the characters of Unicode's
# categories Cc (C0, DEL, C1) and Cs (lone surrogates) but tab and line breaks; the same set as
# asking ``unicodedata.category`` of each character, in one scan (tests/mla checks the two agree).
FORBIDDEN_IN_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]"
)


@cache
def _validator(msg_type: str) -> jsonschema.Draft202012Validator:
    """Return the validator of a message type's payload schema (Draft 2020-12, formats checked)."""
    import jsonschema  # imported by the first payload received, not by every web process

    schema = json.loads((SCHEMAS_DIR / SCHEMA_FILES[msg_type]).read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def check_payload(msg_type: str, payload: Any, *, conversation: str, recipient: str) -> None:
    """Refuse a payload that its schema or our vocabularies do not allow (raises ``Rejected``)."""
    if msg_type not in SCHEMA_FILES:
        raise Rejected("unknown-message-type")
    errors = sorted(_validator(msg_type).iter_errors(payload), key=lambda e: e.json_path)
    if errors:
        log.info("incoming %s refused by its schema at %s", msg_type, errors[0].json_path)
        raise Rejected("invalid-payload")
    where = _free_text_problem(payload, "$")
    if where is None:
        where = _vocabulary_problem(msg_type, payload, conversation, recipient)
    if where is not None:
        log.info("incoming %s refused at %s", msg_type, where)
        raise Rejected("unknown-request-type" if where == "$.request_type" else "invalid-payload")


def is_plain_label(value: str, max_length: int) -> bool:
    """Tell whether ``value`` is a short one-line text: no control, format or private character."""
    return (
        0 < len(value) <= max_length
        and value == value.strip()
        and not any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") for c in value)
    )


def _free_text_problem(value: Any, where: str) -> str | None:
    """Return where a text of the payload holds a control character (tab and line breaks aside)."""
    if isinstance(value, str):
        return where if FORBIDDEN_IN_TEXT.search(value) else None
    if isinstance(value, dict):
        items: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return None
    for key, item in items:
        found = _free_text_problem(item, f"{where}.{key}")
        if found is not None:
            return found
    return None


def _vocabulary_problem(
    msg_type: str, payload: dict[str, Any], conversation: str, recipient: str
) -> str | None:
    """Return the first place where the payload leaves our closed vocabularies, or None."""
    # Each body names its conversation, the envelope's conversation claim (schemas/README.md).
    if msg_type in ("mla.request", "mla.status", "mla.response", "mla.conditions") and (
        payload["request"] != conversation
    ):
        return "$.request"
    if msg_type in ("mla.request", "mla.response"):
        for index, annex in enumerate(payload["annexes"]):
            if annex["media_type"] not in MEDIA_TYPES:
                return f"$.annexes.{index}.media_type"
    if (
        msg_type == "mla.status"
        and payload.get("reference")
        and not is_plain_label(payload["reference"], 80)
    ):
        return "$.reference"
    if msg_type == "mla.request":
        return _request_problem(payload, recipient)
    return None


def _request_problem(payload: dict[str, Any], recipient: str) -> str | None:
    """Check an ``mla.request`` against the request types and the drafting rules of this node."""
    definition = get_type(payload["request_type"])
    if definition is None:
        return "$.request_type"
    if payload["language"] not in LANGUAGES:
        return "$.language"
    if payload["requested_authority"] != recipient:
        return "$.requested_authority"
    if payload["reference"] and not is_plain_label(payload["reference"], 80):
        return "$.reference"
    codes = payload["legal_basis"]
    if not all(INSTRUMENT.match(code) for code in codes) or len(",".join(codes)) > MAX_LEGAL_BASIS:
        return "$.legal_basis"
    if len(payload["urgency_reason"]) > MAX_URGENCY_REASON:
        return "$.urgency_reason"
    if payload["desired_date"] is not None and not _is_date(payload["desired_date"]):
        return "$.desired_date"
    fields = {f.name: f for f in definition.all_fields}
    for name, value in payload["contents"].items():
        field = fields.get(name)
        if field is None or isinstance(value, bool) != (field.kind == "bool"):
            return f"$.contents.{name}"
        if isinstance(value, str) and len(value) > field.max_length:
            return f"$.contents.{name}"
        if field.kind == "date" and value and not _is_date(value):
            return f"$.contents.{name}"
    for index, person in enumerate(payload["persons"]):
        if not is_plain_label(person["label"], 40):
            return f"$.persons.{index}.label"
    return None


def _is_date(value: str) -> bool:
    """Tell whether ``value`` is an ISO 8601 calendar date (RFC 3339 full-date)."""
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10
