"""Forms of the federation administration pages (peers, operations)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length


class PeerForm(FlaskForm):
    """A peer node to trust: its address and the fingerprint its administrator read out."""

    url = StringField(
        _l("Address of the node"),
        validators=[DataRequired(_l("Enter the address of the node.")), Length(max=300)],
    )
    fingerprint = StringField(
        _l("Fingerprint of its node key"),
        validators=[DataRequired(_l("Enter the fingerprint.")), Length(max=200)],
    )


class RemovePeerForm(FlaskForm):
    """The confirmation of a peer's removal, which cannot be undone."""

    confirm = BooleanField(
        _l("I understand: the keys of its authorities are no longer trusted from now on."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
