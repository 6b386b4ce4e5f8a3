"""The register of a case's persons: entered once, chosen into each request that concerns them.

Thin: parse, authorise (the case team reads, its prosecutors change), call ``cases.persons``.
Importing this module registers its routes on the cases blueprint.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from exchange import policy
from exchange.auth.permissions import permission_required
from exchange.cases import persons, queries, services
from exchange.cases.models import Case, CasePerson
from exchange.cases.person_forms import (
    CAPACITY_LABELS,
    MEASURE_LABELS,
    WARNING_LABELS,
    CasePersonForm,
)
from exchange.cases.routes import _case_error, bp
from exchange.extensions import db
from exchange.mla import disclosure
from exchange.mla.labels import IDENTITY_LABELS
from exchange.mla.models import MlaRequest, RequestPerson

__all__ = ["bp"]


def _case(public_id: str) -> Case:
    """Return the case if the user is on its team; else 404."""
    case = queries.find_case(db.session, current_user, public_id)
    if case is None or not policy.can_view_case(current_user, case):
        abort(404)
    return case


def _form(case: Case, person: CasePerson | None, formdata: Any) -> CasePersonForm:
    """Build the person form, filled with the stored values when editing."""
    data: dict[str, Any] = {}
    if person is not None:
        data = {**persons.identity_of(person), **persons.protection_of(person)}
        data.update({c: getattr(person, f"is_{c}") for c in persons.CAPACITIES})
    form = CasePersonForm(formdata=formdata, data=data)
    form.no_contact_with.choices = [
        (p.public_id, f"{p.label} — {persons.identity_of(p).get('name', '')}")
        for p in case.persons
        if p.is_suspect and (person is None or p.id != person.id)
    ]
    return form


def _values(form: CasePersonForm) -> tuple[dict[str, Any], set[str], dict[str, Any]]:
    """Return the identity, capacities and protection measures entered in ``form``."""
    identity = {k: form[k].data or "" for k in persons.IDENTITY_FIELDS}
    capacities = {c for c in persons.CAPACITIES if form[c].data}
    protection: dict[str, Any] = {k: form[k].data or "" for k in persons.PROTECTION_TEXT}
    protection.update({k: bool(form[k].data) for k in persons.PROTECTION_FLAGS})
    protection["no_contact_with"] = list(form.no_contact_with.data or [])
    return identity, capacities, protection


def _chosen_into(case: Case) -> dict[int, list[MlaRequest]]:
    """Return, for each person of the case, the requests they are chosen into."""
    rows = db.session.execute(
        select(RequestPerson.case_person_id, MlaRequest)
        .join(MlaRequest, MlaRequest.id == RequestPerson.request_id)
        .where(MlaRequest.case_id == case.id, RequestPerson.case_person_id.is_not(None))
        .order_by(MlaRequest.id)
    ).all()
    found: dict[int, list[MlaRequest]] = {}
    for person_id, req in rows:
        if person_id is not None:
            found.setdefault(person_id, []).append(req)
    return found


def _back_to(case: Case) -> ResponseReturnValue:
    """Go back to the request's persons step the user came from, or to the register."""
    public_id = request.values.get("request", "")
    draft = db.session.scalar(select(MlaRequest).where(MlaRequest.public_id == public_id))
    if (
        draft is not None
        and draft.case_id == case.id
        and policy.can_edit_draft(current_user, draft)
    ):
        return redirect(url_for("mla.edit", public_id=draft.public_id, step="persons"), code=303)
    return redirect(url_for("cases.persons", public_id=case.public_id), code=303)


@bp.route("/cases/<public_id>/persons", methods=["GET", "POST"], endpoint="persons")
@permission_required("cases.view")
def persons_page(public_id: str) -> ResponseReturnValue:
    """List the persons of a case (to its team), and add one."""
    case = _case(public_id)
    can_manage = policy.can_manage_case(current_user, case)
    form = _form(case, None, request.form if request.method == "POST" else None)
    if request.method == "POST":
        if not can_manage:
            abort(403)
        if form.validate_on_submit():
            identity, capacities, protection = _values(form)
            try:
                persons.add_case_person(
                    db.session,
                    current_user,
                    case,
                    identity=identity,
                    capacities=capacities,
                    protection=protection,
                )
            except services.CaseError as exc:
                flash(_case_error(exc.code), "error")
            else:
                flash(_("The person was added to the case."), "success")
                return _back_to(case)
    return render_template(
        "cases/persons.html",
        case=case,
        form=form,
        can_manage=can_manage,
        identities={p.id: persons.identity_of(p) for p in case.persons},
        protections={p.id: persons.protection_of(p) for p in case.persons},
        warnings={p.id: persons.person_warnings(p) for p in case.persons},
        chosen_into=_chosen_into(case),
        labels={p.public_id: p.label for p in case.persons},
        request_id=request.values.get("request", ""),
        capacity_labels=CAPACITY_LABELS,
        measure_labels=MEASURE_LABELS,
        warning_labels=WARNING_LABELS,
        identity_labels=IDENTITY_LABELS,
    ), (400 if request.method == "POST" else 200)


@bp.route("/cases/<public_id>/persons/<person_id>", methods=["GET", "POST"])
@permission_required("cases.manage")
def edit_person(public_id: str, person_id: str) -> ResponseReturnValue:
    """Change a person of the case: identity, capacities, protection measures."""
    case = _case(public_id)
    person = next((p for p in case.persons if p.public_id == person_id), None)
    if person is None or not policy.can_manage_case(current_user, case):
        abort(404)
    form = _form(case, person, request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        identity, capacities, protection = _values(form)
        try:
            persons.update_case_person(
                db.session,
                current_user,
                person,
                identity=identity,
                capacities=capacities,
                protection=protection,
            )
        except services.CaseError as exc:
            flash(_case_error(exc.code), "error")
        else:
            disclosure.sync_capacities(db.session, person)
            flash(_("The person was saved."), "success")
            return _back_to(case)
    return render_template(
        "cases/person_edit.html",
        case=case,
        person=person,
        form=form,
        request_id=request.values.get("request", ""),
    ), (400 if request.method == "POST" else 200)
