"""Access rules of accounts and the directory: whose account and which entry one may change.

Part of the object-level rules (``exchange.policy``); kept apart because the accounts and the
directory areas use them, and they sit below the areas of cases and requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select, select

from exchange.auth.models import User
from exchange.auth.permissions import NODE_WIDE_ROLES, ROLES

if TYPE_CHECKING:
    from exchange.directory.models import Authority


def users_scope(actor: User) -> Select[tuple[User]]:
    """Return the users that ``actor`` may list: those of the actor's own authority."""
    if not actor.can("users.manage"):
        return select(User).where(User.id == -1)
    return select(User).where(User.authority_id == actor.authority_id)


def can_manage_user(actor: User, user: User) -> bool:
    """Tell whether ``actor`` may open and change ``user``'s account."""
    return actor.can("users.manage") and user.authority_id == actor.authority_id


def grantable_roles(actor: User) -> frozenset[str]:
    """Return the roles ``actor`` may grant or withdraw in the portal.

    Node-wide roles reach every authority's directory entry, so an authority's administrator
    cannot hand them out; only their holders with ``roles.grant_node_wide`` (or the operator).
    """
    if not actor.can("users.manage"):
        return frozenset()
    if actor.can("roles.grant_node_wide"):
        return frozenset(ROLES)
    return frozenset(ROLES) - NODE_WIDE_ROLES


# --- directory ---------------------------------------------------------------------------------
# Everyone with ``directory.view`` reads the whole directory. An authority's administrator keeps
# their own authority's contact details; the node administrators (``directory.manage_all``) add
# authorities, edit any entry, and alone change an authority's kind and competences, which decide
# who reviews outgoing requests and who is competent to receive them (finding 2 of the review).


def can_add_authority(actor: User) -> bool:
    """Tell whether ``actor`` may add an authority to the directory."""
    return actor.can("directory.manage_all")


def can_edit_authority(actor: User, authority: Authority) -> bool:
    """Tell whether ``actor`` may edit ``authority``'s entry: their own, or any for the few."""
    if actor.can("directory.manage_all"):
        return True
    return actor.can("directory.manage") and authority.id == actor.authority_id


def can_edit_instrument(actor: User) -> bool:
    """Tell whether ``actor`` may change a legal instrument of the directory and its parties.

    Which instrument a request rests on decides its grounds of refusal and its languages: a
    node administrator's decision, as for an authority's kind and competences.
    """
    return actor.can("directory.manage_all")


def can_change_authority_standing(actor: User) -> bool:
    """Tell whether ``actor`` may change an authority's kind and competences."""
    return actor.can("directory.manage_all")
