"""The translated words of the desk: what is due on paper, why a build failed, what was refused."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

SUBJECT_LABELS = {
    "request": _l("The request"),
    "partially_executed": _l("Partial results"),
    "executed": _l("Final results"),
    "refused": _l("Refusal"),
}

FAILURE_LABELS = {
    "build_failed": _l("The bundle could not be built. Try again, or ask the administrator."),
    "request_gone": _l("The request no longer exists."),
    "too_many_attempts": _l("The build was interrupted too many times."),
    "storage_failed": _l("The bundle could not be stored."),
    "no_signing_key": _l("The authority has no signing certificate for PDF documents."),
}

DESK_MESSAGES = {
    "forbidden": _l("You may not do this for this request."),
    "bad_language": _l("Choose English, French or Portuguese."),
    "nothing_due": _l("Nothing of this request is due on paper in its present state."),
    "bad_channel": _l("Choose a channel from the list."),
    "reference_too_long": _l("The reference is too long."),
    "date_in_future": _l("The date cannot be in the future."),
    "date_too_early": _l("The date cannot be earlier than the transmission or the dispatch."),
    "already_dispatched": _l("A dispatch is already recorded for this."),
    "already_received": _l("A receipt is already recorded for this dispatch."),
    "busy": _l("The request is busy. Try again."),
}


def desk_message(code: str) -> str:
    """Return the translated message of a refusal code."""
    label = DESK_MESSAGES.get(code)
    return str(label) if label is not None else _("This could not be done.")
