"""Reads of the API that load only what its answers show, through the portal's scopes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from exchange import policy
from exchange.auth.models import User
from exchange.cases.models import Case, CaseMember
from exchange.db import DbSession
from exchange.mla.models import MlaRequest, RequestEvent


def find_request(session: DbSession, actor: User, public_id: str) -> MlaRequest | None:
    """Return the request ``public_id`` if ``actor`` may see it (``policy.can_view_request``).

    As ``exchange.mla.queries.find_request``, without the events' authors and the team members'
    accounts, which a request's answer does not show: the policy needs only the members' ids.
    """
    found = session.scalar(
        select(MlaRequest)
        .where(MlaRequest.public_id == public_id)
        .options(
            selectinload(MlaRequest.events).options(lazyload(RequestEvent.actor)),
            selectinload(MlaRequest.persons),
            selectinload(MlaRequest.annexes),
            joinedload(MlaRequest.case)
            .selectinload(Case.members)
            .options(lazyload(CaseMember.user)),
        )
    )
    if found is None or not policy.can_view_request(actor, found):
        return None
    return found
