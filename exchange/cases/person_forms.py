"""The form of a person of a case, and the translated names of capacities, details, measures."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import DataRequired, Length, Optional

CAPACITY_LABELS = {
    "victim": _l("Victim"),
    "minor": _l("Minor"),
    "witness": _l("Witness"),
    "suspect": _l("Suspect"),
}
# What a request may send of a person's protection measures (Palermo Protocol art. 6).
MEASURE_LABELS = {
    "pseudonym": _l("Pseudonym to use in documents and messages"),
    "confidential_address": _l("Address kept confidential"),
    "no_contact": _l("No contact with the named suspects"),
    "guardian": _l("Guardian or support person of a minor"),
    "interpreter": _l("Interpreter"),
    "non_punishment": _l("Not to be punished for offences that follow from being trafficked"),
    "support": _l("Consents to sharing with a support organisation"),
}
WARNING_LABELS = {
    "victim_and_suspect": _l(
        "This person is recorded both as a victim and as a suspect. A presumed victim of trafficking must not be detained or prosecuted for offences committed as a direct consequence of being trafficked (OHCHR Recommended Principles, principle 7): check the capacities and the non-punishment status."
    ),
    "victim_without_non_punishment": _l(
        "No non-punishment status is recorded for this victim: if she or he is a presumed victim of trafficking, record it so that the requests that name them say so."
    ),
    "minor_without_guardian": _l(
        "This person is a minor and no guardian or support person is recorded (Palermo Protocol art. 6(4))."
    ),
}


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CasePersonForm(FlaskForm):
    """A person of a case: identity, capacities and protection measures (stored encrypted)."""

    name = StringField(
        _l("Full name"), validators=[DataRequired(_l("Enter the person's name.")), Length(max=300)]
    )
    aliases = StringField(_l("Aliases"), validators=[Optional(), Length(max=300)])
    date_of_birth = StringField(
        _l("Date of birth (or age)"), validators=[Optional(), Length(max=40)]
    )
    place_of_birth = StringField(_l("Place of birth"), validators=[Optional(), Length(max=200)])
    nationality = StringField(_l("Nationality"), validators=[Optional(), Length(max=100)])
    identity_documents = StringField(
        _l("Identity documents"), validators=[Optional(), Length(max=300)]
    )
    address = TextAreaField(
        _l("Address or last known location"), validators=[Optional(), Length(max=400)]
    )
    language = StringField(_l("Language spoken"), validators=[Optional(), Length(max=60)])
    victim = BooleanField(_l("Victim"))
    minor = BooleanField(_l("Minor"))
    witness = BooleanField(_l("Witness"))
    suspect = BooleanField(_l("Suspect"))
    pseudonym = StringField(
        _l("Pseudonym to use in documents and messages"),
        validators=[Optional(), Length(max=100)],
    )
    confidential_address = BooleanField(_l("Address kept confidential"))
    no_contact_with = MultiCheckboxField(
        _l("No contact with these suspects"), validate_choice=False
    )
    guardian = StringField(
        _l("Guardian or support person of a minor (name and contact)"),
        validators=[Optional(), Length(max=300)],
    )
    interpreter_language = StringField(
        _l("Interpreter: language in which to hear the person"),
        validators=[Optional(), Length(max=60)],
    )
    non_punishment = BooleanField(
        _l(
            "Presumed victim of trafficking: not to be detained or prosecuted for offences committed as a direct consequence of being trafficked"
        )
    )
    support_consent = BooleanField(_l("Consents to sharing with a support organisation"))
    support_organisation = StringField(
        _l("Support organisation"), validators=[Optional(), Length(max=200)]
    )
