"""Forms of the case pages and of case references."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import DataRequired, Length, Optional

from exchange.mla.forms import as_choices

STAGE_LABELS = {
    "investigation": _l("Investigation"),
    "instruction": _l("Judicial investigation (investigating judge)"),
    "prosecution": _l("Prosecution"),
    "trial": _l("Trial"),
    "enforcement": _l("Enforcement of the judgment"),
}

DISCLOSURE_LABELS = {
    "title": _l("Title of the case"),
    "offences": _l("Offences"),
    "stage": _l("Stage of the proceedings"),
    "border_localities": _l("Border localities involved"),
}


class CaseForm(FlaskForm):
    """A case's details."""

    number = StringField(
        _l("Case number"), validators=[DataRequired(_l("Enter the case number.")), Length(max=60)]
    )
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=300)]
    )
    offences = TextAreaField(
        _l("Offences (one per line)"), validators=[Optional(), Length(max=4000)]
    )
    stage = SelectField(_l("Stage"), choices=as_choices(STAGE_LABELS.items()))
    border_localities = TextAreaField(
        _l("Border localities involved (one per line)"), validators=[Optional(), Length(max=4000)]
    )


class TeamForm(FlaskForm):
    """Add someone to a case team."""

    user = SelectField(
        _l("Prosecutor or investigator"), validators=[DataRequired(_l("Choose a person."))]
    )


class ShareReferenceForm(FlaskForm):
    """Share a case reference with a foreign authority, choosing what it discloses."""

    counterpart = SelectField(
        _l("Foreign authority"), validators=[DataRequired(_l("Choose an authority."))]
    )
    disclose = SelectMultipleField(
        _l("What to disclose"),
        choices=as_choices(DISCLOSURE_LABELS.items()),
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
    )
    offence_categories = StringField(
        _l("Offence categories"), validators=[Optional(), Length(max=300)]
    )
    contact_point = StringField(
        _l("Contact point"),
        validators=[DataRequired(_l("Enter a contact point.")), Length(max=300)],
    )


class LinkForm(FlaskForm):
    """Link an incoming case reference to a local case."""

    case = SelectField(_l("Local case"), validators=[DataRequired(_l("Choose a case."))])
