"""The form of the public verification page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms.validators import DataRequired


class VerifyForm(FlaskForm):
    """A PDF bundle to verify."""

    file = FileField(_l("Bundle (PDF file)"), validators=[DataRequired(_l("Choose a file."))])
