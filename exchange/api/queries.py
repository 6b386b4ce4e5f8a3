"""Reads of the API that load only what its answers show, through the portal's scopes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from exchange import policy
from exchange.auth.models import User
from exchange.cases.models import Case, CaseMember
from exchange.db import DbSession
from exchange.mla.models import MlaRequest, RequestEvent


def find_request(session: DbSession, actor: User, public_id: str) -> MlaRequest | None:
    """Return the request ``public_id`` if ``actor`` may see it (``policy.can_view_request``).

    As ``exchange.mla.queries.find_request``, in one statement (the collections joined), without
    the events' authors and the members' accounts, which a request's answer does not show: the
    policy needs only the members' ids.
    """
    found = (
        session.scalars(
            select(MlaRequest)
            .where(MlaRequest.public_id == public_id)
            .options(
                joinedload(MlaRequest.events).options(lazyload(RequestEvent.actor)),
                joinedload(MlaRequest.persons),
                joinedload(MlaRequest.annexes),
                joinedload(MlaRequest.case)
                .joinedload(Case.members)
                .options(lazyload(CaseMember.user)),
            )
        )
        .unique()
        .one_or_none()
    )
    if found is None or not policy.can_view_request(actor, found):
        return None
    return found
