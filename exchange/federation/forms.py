"""Forms of the offline carriage page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms.validators import DataRequired


class CarriedFileForm(FlaskForm):
    """A carried file: an envelope for this node, or a receipt for a message it sent."""

    file = FileField(
        _l("Envelope or receipt file"), validators=[DataRequired(_l("Choose a file."))]
    )
