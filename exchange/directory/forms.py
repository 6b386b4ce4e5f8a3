"""Forms of the directory pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from exchange.core.emails import MAX_EMAIL_LENGTH
from exchange.core.inputs import EmailAddress
from exchange.directory.models import AUTHORITY_KINDS

KIND_LABELS = {
    "central_authority": _l("Central authority"),
    "prosecution_office": _l("Prosecution office"),
    "special_investigative_unit": _l("Special investigative unit"),
    "court": _l("Court"),
    "investigating_judge": _l("Investigating judge"),
    "consular_post": _l("Consular post"),
    "regional_body": _l("Regional body"),
}

STATUS_LABELS = {
    "ecowas_member": _l("ECOWAS member"),
    "aes_former_member": _l("Left ECOWAS on 29 January 2025 (Alliance of Sahel States)"),
    "non_member": _l("Not an ECOWAS member"),
}


# The name of each field that a recorded change of an entry may hold.
CHANGE_LABELS = {
    "name": _l("Name"),
    "kind": _l("Kind"),
    "email": _l("E-mail address"),
    "phone": _l("Telephone"),
    "address": _l("Postal address"),
    "notes": _l("Notes"),
    "last_verified": _l("Last verified on"),
    "competences": _l("Competent for"),
}


class AuthorityForm(FlaskForm):
    """An authority's editable details."""

    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=300)])
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(k, KIND_LABELS[k]) for k in AUTHORITY_KINDS]
    )
    email = EmailField(
        _l("E-mail address"),
        validators=[
            Optional(),
            Length(max=MAX_EMAIL_LENGTH),
            EmailAddress(_l("Enter a valid e-mail address.")),
        ],
    )
    phone = StringField(_l("Telephone"), validators=[Optional(), Length(max=60)])
    address = TextAreaField(_l("Postal address"), validators=[Optional(), Length(max=1000)])
    measures = StringField(
        _l("Competent for (request types, comma-separated; * for all)"),
        validators=[Optional(), Length(max=1000)],
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])
    last_verified = DateField(_l("Last verified on"), validators=[Optional()])


class NewAuthorityForm(AuthorityForm):
    """A new (foreign) authority: its code and state, then the editable details."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Enter a code, for example ML-PG-BAMAKO.")), Length(max=40)],
    )
    state = SelectField(_l("Country"), validators=[DataRequired()])


class LookupForm(FlaskForm):
    """Which state and which measure, for the competence lookup."""

    class Meta:
        csrf = False  # a read-only GET form

    state = SelectField(_l("Requested state"), validators=[DataRequired()])
    measure = StringField(_l("Measure (request type)"), validators=[Optional(), Length(max=60)])
