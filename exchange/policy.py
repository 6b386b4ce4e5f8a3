"""Object-level access rules, in one place: who may see or change which object.

Every query a view runs for a user goes through a scope here, so that nothing of another
authority is ever listed or opened (deny by default: an unknown combination is refused).
"""

from __future__ import annotations

from sqlalchemy import Select, select

from exchange.auth.models import User


def users_scope(actor: User) -> Select[tuple[User]]:
    """Return the users that ``actor`` may list: those of the actor's own authority."""
    if not actor.can("users.manage"):
        return select(User).where(User.id == -1)
    return select(User).where(User.authority_id == actor.authority_id)


def can_manage_user(actor: User, user: User) -> bool:
    """Tell whether ``actor`` may open and change ``user``'s account."""
    return actor.can("users.manage") and user.authority_id == actor.authority_id
