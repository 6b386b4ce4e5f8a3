"""The directory (who is competent in a state for a measure) and the authority's statistics."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from exchange.api import present
from exchange.api.blueprint import blp
from exchange.api.schemas import AuthorityOut, CompetentQueryIn, StatsOut, StatsQueryIn
from exchange.auth.permissions import permission_required
from exchange.directory import queries as directory
from exchange.extensions import db
from exchange.mla import queries


@blp.route("/directory/competent-authorities", methods=["GET"], tags=["directory"])
@permission_required("directory.view")
@blp.arguments(CompetentQueryIn, location="query")
@blp.response(200, AuthorityOut(many=True))
def competent_authorities(query: dict[str, Any]) -> list[dict[str, Any]]:
    """Return who is competent in a state for a measure (else its central authority)."""
    found = directory.competent_authorities(db.session, query["state"].upper(), query["measure"])
    return [present.authority(a) for a in found]


@blp.route("/statistics", methods=["GET"], tags=["statistics"])
@permission_required("stats.view")
@blp.arguments(StatsQueryIn, location="query")
@blp.response(200, StatsOut)
def statistics(query: dict[str, Any]) -> dict[str, Any]:
    """Return the authority's figures for one direction (aggregates only)."""
    figures = queries.stats(db.session, current_user, query["direction"])

    def counts(rows: list[tuple[str, int]]) -> list[dict[str, Any]]:
        return [{"key": key, "count": count} for key, count in rows]

    return {
        "direction": query["direction"],
        "total": figures.total,
        "by_country": counts(figures.by_country),
        "by_type": counts(figures.by_type),
        "by_state": counts(figures.by_state),
        "refusal_grounds": counts(figures.refusal_grounds),
        "median_days_to_ack": figures.median_days_to_ack,
        "median_days_to_execution": figures.median_days_to_execution,
    }
