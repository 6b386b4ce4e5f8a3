"""Access rules of the paper channel: who may build, download and dispatch a request's bundle.

Part of the object-level rules (``exchange.policy``). Only the liaison officers of the request's
authority: on the requesting side the authority that holds the request or the central authority
that reviewed and transmitted it (UNTOC 18(13): the central authority transmits); on the
requested side the addressed authority, which sends the answer. Anyone else is answered 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, false, or_

from exchange.auth.models import User

if TYPE_CHECKING:
    from exchange.mla.models import MlaRequest

DISPATCH_PERMISSION = "documents.dispatch"


def paper_condition(actor: User) -> ColumnElement[bool]:
    """Return the SQL condition of the requests whose paper ``actor`` may handle."""
    from exchange.mla.models import INCOMING, OUTGOING, MlaRequest

    if not actor.can(DISPATCH_PERMISSION):
        return false()
    return or_(
        and_(
            MlaRequest.side == OUTGOING,
            or_(
                MlaRequest.authority_id == actor.authority_id,
                MlaRequest.reviewing_authority_id == actor.authority_id,
            ),
        ),
        and_(MlaRequest.side == INCOMING, MlaRequest.authority_id == actor.authority_id),
    )


def can_handle_paper(actor: User, request: MlaRequest) -> bool:
    """Tell whether ``actor`` may build, download and dispatch ``request``'s paper."""
    from exchange.mla.models import OUTGOING

    if not actor.can(DISPATCH_PERMISSION):
        return False
    if request.side == OUTGOING:
        return actor.authority_id in (request.authority_id, request.reviewing_authority_id)
    return actor.authority_id == request.authority_id
