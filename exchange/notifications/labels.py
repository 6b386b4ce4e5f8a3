"""What each kind of notification says, in the reader's language: the same words in the portal
and in the e-mail, and none of them from the request itself."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from exchange.notifications import recipients as r
from exchange.notifications.models import DAILY, EACH, NONE

KIND_LABELS: dict[str, Any] = {
    r.REVIEW_REQUESTED: _l("A request awaits your review"),
    r.APPROVED: _l("A request you prepared was approved"),
    r.CHANGES_REQUESTED: _l("Changes are asked to a request you prepared"),
    r.INCOMING_REQUEST: _l("A new request has arrived for your authority"),
    r.ASSIGNED: _l("A request was assigned to you"),
    r.INFO_REQUESTED: _l("Additional information is asked for a request"),
    r.INFO_PROVIDED: _l("Additional information has arrived for a request"),
    r.CONDITIONS_PROPOSED: _l("Conditions are proposed for a request"),
    r.RESPONSE: _l("A response has arrived for a request"),
    r.REFUSED: _l("A request was refused"),
    r.WITHDRAWN: _l("A request was withdrawn"),
    r.MESSAGE: _l("A message has arrived about a request"),
    r.OVERDUE: _l("A deadline has passed on a request"),
}

MODE_LABELS: dict[str, Any] = {
    EACH: _l("An e-mail for each event"),
    DAILY: _l("One e-mail a day, grouping the day's events"),
    NONE: _l("No e-mail (notifications stay listed in the portal)"),
}


def kind_label(kind: str) -> Any:
    """Return the words of ``kind`` (a generic phrase for a kind this version does not know)."""
    return KIND_LABELS.get(kind, _l("Something awaits you"))
