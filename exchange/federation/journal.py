"""The record of the federation area's administrative and carriage actions (who, what, when)."""

from __future__ import annotations

from sqlalchemy import select

from exchange.auth.models import User
from exchange.db import DbSession
from exchange.federation.records import FederationAction

# What each action is, as stored; the pages translate them.
ACTIONS = (
    "peer_add",
    "peer_refresh",
    "peer_remove",
    "delivery_retry",
    "envelope_export",
    "envelope_import",
    "receipt_import",
)


def record_action(
    session: DbSession,
    actor: User | None,
    action: str,
    subject: str,
    outcome: str = "",
    *,
    detail: str = "",
    receipt: bytes | None = None,
) -> FederationAction:
    """Record one action (``actor`` None for the operator's command line); flush, never commit."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    entry = FederationAction(
        actor_id=actor.id if actor is not None else None,
        authority_code=actor.authority.code if actor is not None else "",
        action=action,
        subject=subject[:300],
        outcome=outcome[:120],
        detail=detail[:2000],
        receipt=receipt,
    )
    session.add(entry)
    session.flush()
    return entry


def recent_actions(
    session: DbSession, *, authority_code: str | None = None, limit: int = 50
) -> list[FederationAction]:
    """Return the latest actions, newest first; only one authority's when ``authority_code``."""
    query = select(FederationAction).order_by(FederationAction.id.desc()).limit(limit)
    if authority_code is not None:
        query = query.where(FederationAction.authority_code == authority_code)
    return list(session.scalars(query))


def action_by_public_id(session: DbSession, public_id: str) -> FederationAction | None:
    """Return the action with this public id."""
    return session.scalar(
        select(FederationAction).where(FederationAction.public_id == public_id[:36])
    )
