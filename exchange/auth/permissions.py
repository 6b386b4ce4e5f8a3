"""Roles, the named permissions they grant, and the decorator that puts a permission on a view.

Permissions are checked by name, never by role (the habit of Flask-Security), so that a role can
change what it grants in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l

PROSECUTOR = "prosecutor"
INVESTIGATOR = "investigator"
CENTRAL_AUTHORITY_OFFICER = "central_authority_officer"
LIAISON_OFFICER = "liaison_officer"
ADMINISTRATOR = "administrator"
NODE_ADMINISTRATOR = "node_admin"

ROLES: tuple[str, ...] = (
    PROSECUTOR,
    INVESTIGATOR,
    CENTRAL_AUTHORITY_OFFICER,
    LIAISON_OFFICER,
    ADMINISTRATOR,
    NODE_ADMINISTRATOR,
)

ROLE_LABELS = {
    PROSECUTOR: _l("Prosecutor"),
    INVESTIGATOR: _l("Investigator"),
    CENTRAL_AUTHORITY_OFFICER: _l("Central authority officer"),
    LIAISON_OFFICER: _l("Liaison officer"),
    ADMINISTRATOR: _l("Administrator"),
    NODE_ADMINISTRATOR: _l("Node administrator"),
}

# Roles whose holders must pass a second factor (TOTP) at every login.
ROLES_REQUIRING_TOTP = frozenset({CENTRAL_AUTHORITY_OFFICER, ADMINISTRATOR, NODE_ADMINISTRATOR})

# Roles that reach beyond the holder's own authority. Only a holder of ``roles.grant_node_wide``
# (or the operator, on the command line) may grant or withdraw them: an authority's administrator
# could otherwise make a colleague, or an accomplice, master of every authority's directory entry.
NODE_WIDE_ROLES = frozenset({NODE_ADMINISTRATOR})

# Every permission a view or a service may ask for. A permission absent from every role is
# granted to nobody.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    PROSECUTOR: frozenset(
        {
            "portal.use",
            "directory.view",
            "cases.view",
            "cases.manage",
            "requests.view",
            "requests.draft",
            "references.share",
            "messages.send",
        }
    ),
    INVESTIGATOR: frozenset(
        {"portal.use", "directory.view", "cases.view", "requests.view", "evidence.add"}
    ),
    CENTRAL_AUTHORITY_OFFICER: frozenset(
        {
            "portal.use",
            "directory.view",
            "requests.view",
            "requests.view_all",
            "requests.approve",
            "requests.register",
            "requests.execute",
            "references.share",
            "messages.send",
            "stats.view",
            "envelopes.import",
        }
    ),
    LIAISON_OFFICER: frozenset(
        {
            "portal.use",
            "directory.view",
            "requests.view",
            "bundles.export",
            # The desk of the paper channel: record dispatches and receipts (exchange.documents).
            "documents.dispatch",
            "envelopes.export",
            "envelopes.import",
        }
    ),
    ADMINISTRATOR: frozenset(
        {
            "portal.use",
            "directory.view",
            "directory.manage",
            "users.manage",
            "keys.manage",
            "audit.view",
            "deliveries.manage",
        }
    ),
    # The few who keep the node's directory: any authority's entry, its kind and competences
    # (which decide who reviews a request), and foreign authorities. Not users: those stay with
    # each authority's own administrators.
    NODE_ADMINISTRATOR: frozenset(
        {
            "portal.use",
            "directory.view",
            "directory.manage",
            "directory.manage_all",
            "roles.grant_node_wide",
            # The node's own federation: its peers, and every authority's outbox.
            "peers.manage",
            "deliveries.manage",
            "deliveries.manage_all",
        }
    ),
}

ALL_PERMISSIONS: frozenset[str] = frozenset().union(*ROLE_PERMISSIONS.values())


def permissions_for(roles: set[str] | frozenset[str]) -> frozenset[str]:
    """Return the union of the permissions that ``roles`` grant."""
    return _granted(frozenset(roles))


@cache
def _granted(roles: frozenset[str]) -> frozenset[str]:
    """Return the permissions of a set of roles (a few sets exist: worked out once each)."""
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)


F = TypeVar("F", bound=Callable[..., Any])

PERMISSION_ATTRIBUTE = "_exchange_permission"


def permission_required(permission: str) -> Callable[[F], F]:
    """Mark a view as needing ``permission``; the access gate in ``exchange.security`` enforces it.

    A view without this mark (and not public) is refused to everyone: deny by default.
    """
    if permission not in ALL_PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def mark(view: F) -> F:
        setattr(view, PERMISSION_ATTRIBUTE, permission)
        return view

    return mark
