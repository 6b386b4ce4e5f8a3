"""The request area's lists and figures: the dashboard, statistics and their CSV."""

from __future__ import annotations

import csv
import io

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from exchange.auth.permissions import permission_required
from exchange.directory import queries as directory
from exchange.extensions import db
from exchange.mla import charts, queries
from exchange.mla.blueprint import bp, countries, locale, type_label
from exchange.mla.definitions import get_type, request_types
from exchange.mla.forms import DashboardFilters, as_choices
from exchange.mla.labels import DIRECTION_LABELS, GROUND_LABELS, STATE_LABELS
from exchange.mla.models import INCOMING, OUTGOING
from exchange.mla.states import INCOMING_STATES, OUTGOING_STATES


@bp.get("/")
@permission_required("requests.view")
def dashboard() -> ResponseReturnValue:
    """List outgoing or incoming requests with filters, newest first, a page at a time."""
    form = DashboardFilters(request.args)
    direction = request.args.get("direction", OUTGOING)
    if direction not in (OUTGOING, INCOMING):
        direction = OUTGOING
    states = OUTGOING_STATES if direction == OUTGOING else INCOMING_STATES
    lang = locale()
    form.direction.choices = as_choices(list(DIRECTION_LABELS.items()))
    form.state.choices = as_choices([("", _("Any"))] + [(s, STATE_LABELS[s]) for s in states])
    form.country.choices = as_choices([("", _("Any")), *countries(lang)])
    form.request_type.choices = as_choices(
        [("", _("Any"))] + [(code, t.label_in(lang)) for code, t in request_types().items()]
    )
    state = request.args.get("state", "")
    country = request.args.get("country", "").upper()
    request_type = request.args.get("request_type", "")
    filters = queries.Filters(
        direction=direction,
        state=state if state in states else "",
        country=country if len(country) == 2 and country.isalpha() else "",
        request_type=request_type if get_type(request_type) else "",
        urgent=request.args.get("urgent") in ("y", "1", "on"),
        overdue=request.args.get("overdue") in ("y", "1", "on"),
        mine=request.args.get("mine") in ("y", "1", "on"),
    )
    page = queries.dashboard_page(
        db.session, current_user, filters, cursor=request.args.get("after") or None
    )
    next_args = None
    if page.next_cursor:
        next_args = {k: v for k, v in request.args.items() if k != "after"}
        next_args["after"] = page.next_cursor
    return render_template(
        "mla/dashboard.html",
        form=form,
        page=page,
        direction=direction,
        next_args=next_args,
        is_overdue=queries.is_overdue,
        paper=queries.paper_marks(db.session, page.rows),
        locale=lang,
    )


@bp.get("/statistics")
@permission_required("stats.view")
def statistics() -> ResponseReturnValue:
    """Show the authority's figures as charts drawn on the server (SVG, no script)."""
    direction = request.args.get("direction", OUTGOING)
    if direction not in (OUTGOING, INCOMING):
        direction = OUTGOING
    figures = queries.stats(db.session, current_user, direction)
    lang = locale()
    names = {j.code: j.name(lang) for j in directory.jurisdictions(db.session)}
    return render_template(
        "mla/statistics.html",
        figures=figures,
        direction=direction,
        country_chart=charts.bar_chart(
            [(names.get(k, k), v) for k, v in figures.by_country], _("Requests by country")
        ),
        type_chart=charts.bar_chart(
            [(type_label(k), v) for k, v in figures.by_type], _("Requests by type")
        ),
        ground_chart=charts.bar_chart(
            [(str(GROUND_LABELS.get(k, k)), v) for k, v in figures.refusal_grounds],
            _("Refusal grounds"),
        ),
        direction_labels=DIRECTION_LABELS,
    )


def csv_cell(value: object) -> object:
    """Return a CSV cell that a spreadsheet shows as text, never runs as a formula.

    OWASP "CSV Injection": a cell starting with =, +, -, @, a tab or a carriage return is
    prefixed with an apostrophe. Keys come from incoming requests too, so this holds even for a
    value that slipped past the checks on receipt.
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@bp.get("/statistics.csv")
@permission_required("stats.view")
def statistics_csv() -> ResponseReturnValue:
    """Download the aggregates as CSV for research partners: counts and medians, no personal data."""
    out = io.StringIO()
    writer = csv.writer(out)

    def write(row: list[object]) -> None:
        """Write one row, each cell made safe for a spreadsheet."""
        writer.writerow([csv_cell(value) for value in row])

    write(["direction", "measure", "key", "value"])
    for direction in (OUTGOING, INCOMING):
        figures = queries.stats(db.session, current_user, direction)
        for key, count in figures.by_country:
            write([direction, "count_by_country", key, count])
        for key, count in figures.by_type:
            write([direction, "count_by_type", key, count])
        for key, count in figures.by_state:
            write([direction, "count_by_state", key, count])
        for key, count in figures.refusal_grounds:
            write([direction, "refusal_ground", key, count])
        write(
            [
                direction,
                "median_days_to_acknowledgement",
                "",
                figures.median_days_to_ack if figures.median_days_to_ack is not None else "",
            ]
        )
        write(
            [
                direction,
                "median_days_to_execution",
                "",
                figures.median_days_to_execution
                if figures.median_days_to_execution is not None
                else "",
            ]
        )
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=exchange-statistics.csv"
    return response
