"""Object-level access rules, in one package: who may see or change which object.

Deny by default: an unknown combination is refused. ``accounts`` holds the rules of accounts and
the directory (the areas below cases and requests import it directly); ``cases_and_requests``
the rules of cases, case references, requests and messages. Both are named here for the areas
above them.
"""

from __future__ import annotations

from exchange.policy.accounts import (
    can_add_authority,
    can_change_authority_standing,
    can_edit_authority,
    can_manage_user,
    grantable_roles,
    users_scope,
)
from exchange.policy.cases_and_requests import (
    MAX_CASE_BRANCHES,
    can_act_on_request,
    can_edit_draft,
    can_keep_notes,
    can_manage_case,
    can_review_disclosure,
    can_see_identities,
    can_see_person,
    can_share_case,
    can_view_case,
    can_view_reference,
    can_view_request,
    cases_scope,
    incoming_branches,
    incoming_condition,
    is_on_case_team,
    is_request_team,
    outgoing_branches,
    outgoing_condition,
    references_condition,
    request_team_condition,
    team_case_ids,
)
from exchange.policy.paper import can_handle_paper, paper_condition

__all__ = [
    "MAX_CASE_BRANCHES",
    "can_act_on_request",
    "can_add_authority",
    "can_change_authority_standing",
    "can_edit_authority",
    "can_edit_draft",
    "can_handle_paper",
    "can_keep_notes",
    "can_manage_case",
    "can_manage_user",
    "can_review_disclosure",
    "can_see_identities",
    "can_see_person",
    "can_share_case",
    "can_view_case",
    "can_view_reference",
    "can_view_request",
    "cases_scope",
    "grantable_roles",
    "incoming_branches",
    "incoming_condition",
    "is_on_case_team",
    "is_request_team",
    "outgoing_branches",
    "outgoing_condition",
    "paper_condition",
    "references_condition",
    "request_team_condition",
    "team_case_ids",
    "users_scope",
]
