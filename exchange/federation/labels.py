"""What the federation area's pages say: outcomes of carriage and the reasons a file is refused."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

# Outcomes of an import or an export, as recorded (``FederationAction.outcome``).
OUTCOME_LABELS: dict[str, Any] = {
    "exported": _l("Exported"),
    "delivered": _l("Accepted: the receipt says delivered"),
    "duplicate": _l("Already received: the first receipt again"),
    "recorded": _l("Receipt recorded: the message is delivered"),
    "already_recorded": _l("Receipt already recorded"),
    "parked": _l("Refused for good: the message is undeliverable"),
    "refused": _l("Refused: the message stays queued"),
    "unavailable": _l("Not processed: try again later"),
}

CARRIAGE_ERRORS: dict[str, Any] = {
    "unrecognised_file": _l(
        "This file is neither an envelope nor a receipt of the Exchange. Choose the file that was"
        " exported (.jwe or .zip) or the receipt (.receipt.jws)."
    ),
    "empty_file": _l("The file is empty."),
    "oversized": _l("The file is larger than this node accepts."),
    "not_yours": _l("This envelope is addressed to another authority, not to yours."),
    "unknown_message": _l("No message of your authority is answered by this receipt."),
    "never_sent": _l("This message has not left this node: there is no envelope to match."),
    "bad_receipt": _l(
        "This receipt does not answer the envelope that left this node, or its signature is not"
        " valid. Nothing was recorded."
    ),
    "not_delivery_evidence": _l("This receipt is not a delivery receipt. Nothing was recorded."),
    "not_queued": _l("This message is no longer queued: it cannot be exported."),
    "hosted_here": _l(
        "This message is for an authority hosted on this node: it is delivered here."
    ),
    "cannot_seal": _l(
        "The envelope cannot be sealed: the keys of the receiving authority are not trusted here."
    ),
}


def carriage_error(code: str) -> str:
    """Return the translated reason a carried file or an export was refused."""
    return str(CARRIAGE_ERRORS.get(code, CARRIAGE_ERRORS["unrecognised_file"]))


def outcome_label(outcome: str) -> str:
    """Return the translated outcome; a refusal names its reason as the receipt gives it."""
    if outcome.startswith("rejected:"):
        return str(_l("Refused by the receiving node: %(reason)s", reason=outcome.split(":", 1)[1]))
    return str(OUTCOME_LABELS.get(outcome, outcome))
