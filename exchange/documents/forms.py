"""Forms of the liaison officer's desk: build a bundle, record a dispatch and its receipt."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from exchange.documents.dispatch import MAX_REFERENCE

LANGUAGE_LABELS = {"en": _l("English"), "fr": _l("French"), "pt": _l("Portuguese")}
CHANNEL_CHOICES = (
    ("diplomatic_pouch", _l("Diplomatic pouch")),
    ("courier", _l("Courier")),
    ("central_authority_courier", _l("Central authority's courier")),
    ("email", _l("E-mail")),
    ("other", _l("Other channel")),
)


class BuildForm(FlaskForm):
    """Queue a bundle build in a language."""

    lang = SelectField(
        _l("Language of the bundle"),
        choices=[SelectChoice(k, v) for k, v in LANGUAGE_LABELS.items()],
        validators=[DataRequired()],
    )


class DispatchForm(FlaskForm):
    """Record a dispatch by an official channel."""

    channel = SelectField(
        _l("Channel"),
        choices=[SelectChoice(k, v) for k, v in CHANNEL_CHOICES],
        validators=[DataRequired()],
    )
    reference = StringField(
        _l("Diplomatic note or courier reference"),
        validators=[Optional(), Length(max=MAX_REFERENCE)],
    )
    on = DateField(_l("Date of dispatch"), validators=[DataRequired()])


class ReceiptForm(FlaskForm):
    """Record the other side's receipt of a dispatch."""

    reference = StringField(
        _l("Their reference"), validators=[Optional(), Length(max=MAX_REFERENCE)]
    )
    on = DateField(_l("Date of receipt"), validators=[DataRequired()])
