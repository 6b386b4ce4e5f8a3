"""The form of a person's e-mail preference."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice

from exchange.notifications.labels import MODE_LABELS
from exchange.notifications.models import EACH, MODES


class PreferenceForm(FlaskForm):
    """How to be told by e-mail of what awaits: each event, a daily digest, or none."""

    mode = RadioField(
        _l("E-mail me"),
        choices=[SelectChoice(mode, MODE_LABELS[mode]) for mode in MODES],
        default=EACH,
    )
