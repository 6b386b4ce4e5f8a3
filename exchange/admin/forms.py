"""Forms of the user administration pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from exchange.auth.permissions import ROLE_LABELS, ROLES
from exchange.auth.services import MAX_NAME_LENGTH
from exchange.core.emails import MAX_EMAIL_LENGTH
from exchange.core.inputs import EmailAddress


class RolesField(SelectMultipleField):
    """Roles as a list of check boxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# Every role; a view narrows the choices to those the signed-in administrator may grant.
ROLE_CHOICES = [SelectChoice(r, ROLE_LABELS[r]) for r in ROLES]


class RolesForm(FlaskForm):
    """The roles of a user."""

    roles = RolesField(
        _l("Roles"),
        choices=ROLE_CHOICES,
        validators=[DataRequired(_l("Choose at least one role."))],
    )


class NewUserForm(RolesForm):
    """A new user of the administrator's authority."""

    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Enter an e-mail address.")),
            Length(max=MAX_EMAIL_LENGTH),
            EmailAddress(_l("Enter a valid e-mail address.")),
        ],
    )
    display_name = StringField(
        _l("Full name"),
        validators=[DataRequired(_l("Enter a name.")), Length(max=MAX_NAME_LENGTH)],
    )
