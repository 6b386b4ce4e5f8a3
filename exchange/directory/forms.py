"""Forms of the directory pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from exchange.core.emails import MAX_EMAIL_LENGTH
from exchange.core.inputs import EmailAddress
from exchange.directory.models import APPLIES, AUTHORITY_KINDS, INSTRUMENT_KINDS

KIND_LABELS = {
    "central_authority": _l("Central authority"),
    "prosecution_office": _l("Prosecution office"),
    "special_investigative_unit": _l("Special investigative unit"),
    "court": _l("Court"),
    "investigating_judge": _l("Investigating judge"),
    "consular_post": _l("Consular post"),
    "regional_body": _l("Regional body"),
    "network_contact_point": _l("Network contact point"),
    "interpol_ncb": _l("INTERPOL National Central Bureau"),
    "national_agency": _l("National agency or ministry"),
    "international_organisation": _l("International organisation"),
}

INSTRUMENT_KIND_LABELS = {
    "treaty": _l("Treaty (convention, protocol, agreement)"),
    "reciprocity": _l("Reciprocity under national law"),
}

APPLIES_LABELS = {
    "all": _l("Every pair of states of the directory"),
    "ecowas_members": _l("ECOWAS members (among the listed parties, where listed)"),
    "listed_parties": _l("The listed parties only"),
}

# The name of "*" among the measures: an explicit choice, every request type.
ALL_MEASURES_LABEL = _l("All request types")

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


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes; a value outside the list is refused by the service, by name."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


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
    measures = MultiCheckboxField(_l("Competent for"), validate_choice=False)
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
    measure = SelectField(_l("Measure (request type)"), validators=[Optional()])


class InstrumentForm(FlaskForm):
    """An instrument's entry, as a node administrator changes it."""

    title_en = StringField(_l("Title in English"), validators=[DataRequired(), Length(max=300)])
    title_fr = StringField(_l("Title in French"), validators=[DataRequired(), Length(max=300)])
    title_pt = StringField(_l("Title in Portuguese"), validators=[DataRequired(), Length(max=300)])
    citation_en = StringField(_l("Citation in English"), validators=[Length(max=120)])
    citation_fr = StringField(_l("Citation in French"), validators=[Length(max=120)])
    citation_pt = StringField(_l("Citation in Portuguese"), validators=[Length(max=120)])
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(k, INSTRUMENT_KIND_LABELS[k]) for k in INSTRUMENT_KINDS]
    )
    applies = SelectField(
        _l("Binds"), choices=[SelectChoice(k, APPLIES_LABELS[k]) for k in APPLIES]
    )
    parties = MultiCheckboxField(_l("Parties"), validate_choice=False)
    unverified_parties = MultiCheckboxField(
        _l("Parties whose ratification is to be verified"), validate_choice=False
    )
    measures = MultiCheckboxField(_l("Request types it provides for"), validate_choice=False)
    precedence = IntegerField(
        _l("Order of citation (lowest first)"), validators=[NumberRange(min=0, max=1000)]
    )
    suggested = BooleanField(_l("Suggested for new requests"))
    untoc_scope = BooleanField(
        _l("Applies only within UNTOC's scope (organised criminal group, transnational)")
    )
    unverified = BooleanField(_l("To be verified"))
    notes = TextAreaField(_l("Notes in English"), validators=[Length(max=4000)])
    notes_fr = TextAreaField(_l("Notes in French"), validators=[Length(max=4000)])
    notes_pt = TextAreaField(_l("Notes in Portuguese"), validators=[Length(max=4000)])
    last_verified = DateField(_l("Last verified on"), validators=[Optional()])


# The name of each field that a recorded change of an instrument may hold: the form's labels.
INSTRUMENT_CHANGE_LABELS = {
    name: field.args[0]
    for name, field in vars(InstrumentForm).items()
    if isinstance(field, UnboundField)
}
