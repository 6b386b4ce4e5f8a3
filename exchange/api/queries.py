"""Reads of the API that load only what its answers show, through the portal's scopes."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, lazyload, load_only

from exchange import policy
from exchange.auth.models import User
from exchange.cases.models import Case, CaseMember
from exchange.db import DbSession
from exchange.directory.models import Authority
from exchange.mla.models import MlaRequest, RequestEvent, RequestPerson

# A request with everything its answer shows, in one statement (built once; SQLAlchemy caches
# its compiled form): its moves (for the actions offered), its persons with the case's record
# of each (their identities), its annexes, and its case's team (for the policy). Of the moves,
# the case and its team, only the columns that the policy and the actions offered read (what
# an object is made of is most of what the ORM spends on a row): the encrypted text that the
# answer does not show (the moves' particulars, the case's title, offences and localities) is
# left unread, so not decrypted; anything else loads if something asks for it. Of its two
# authorities (joined by the model) only what ``present.authority`` shows: not their other
# columns, nor their jurisdictions (two more entities a row, which the answer never reads).
_AUTHORITY = (
    lazyload(Authority.jurisdiction),
    load_only(Authority.code, Authority.name, Authority.jurisdiction_code, Authority.kind),
)
_REQUEST = (
    select(MlaRequest)
    .where(MlaRequest.public_id == bindparam("public_id"))
    .options(
        joinedload(MlaRequest.authority).options(*_AUTHORITY),
        joinedload(MlaRequest.counterpart).options(*_AUTHORITY),
        joinedload(MlaRequest.events).options(
            lazyload(RequestEvent.actor), load_only(RequestEvent.action, RequestEvent.actor_id)
        ),
        joinedload(MlaRequest.persons).joinedload(RequestPerson.case_person),
        joinedload(MlaRequest.annexes),
        joinedload(MlaRequest.case).options(
            load_only(Case.public_id, Case.authority_id, Case.created_by_id),
            joinedload(Case.members).options(
                lazyload(CaseMember.user), load_only(CaseMember.user_id)
            ),
        ),
    )
)


def find_request(session: DbSession, actor: User, public_id: str) -> MlaRequest | None:
    """Return the request ``public_id`` if ``actor`` may see it (``policy.can_view_request``).

    As ``exchange.mla.queries.find_request``, in one statement (the collections joined), without
    the events' authors and the members' accounts, which a request's answer does not show: the
    policy needs only the members' ids.
    """
    found = session.execute(_REQUEST, {"public_id": public_id}).unique().scalar_one_or_none()
    if found is None or not policy.can_view_request(actor, found):
        return None
    return found
