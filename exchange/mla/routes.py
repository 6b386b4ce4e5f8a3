"""MLA pages: dashboard, drafting steps, a request with its timeline and moves, annexes,
messages and statistics. Thin: parse, authorise, call a service, respond.

The blueprint and what its pages share are in ``blueprint``; importing the page modules here
registers their routes on it.
"""

from __future__ import annotations

from exchange.mla import dashboard_routes, drafting_routes, request_routes, review_routes
from exchange.mla.blueprint import bp

__all__ = [
    "bp",
    "dashboard_routes",
    "drafting_routes",
    "request_routes",
    "review_routes",
]
