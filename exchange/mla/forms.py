"""Forms of the MLA pages. The content steps are built from the request-type definitions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from exchange.mla.definitions import FieldDef
from exchange.mla.labels import (
    CONDITION_KIND_LABELS,
    GROUND_LABELS,
    MESSAGE_KIND_LABELS,
    POSTPONEMENT_GROUND_LABELS,
)
from exchange.mla.messages import MESSAGE_KINDS
from exchange.mla.notes import MAX_NOTE_LENGTH
from exchange.mla.particulars import MAX_REASON_LENGTH


def as_choices(pairs: Iterable[tuple[str, Any]]) -> list[SelectChoice]:
    """Return WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class NewRequestForm(FlaskForm):
    """The measure and the requested state of a new request."""

    request_type = SelectField(
        _l("Type of request"), validators=[DataRequired(_l("Choose a request type."))]
    )
    country = SelectField(
        _l("Requested state"), validators=[DataRequired(_l("Choose the requested state."))]
    )


class VersionedForm(FlaskForm):
    """A draft form that carries the version it was loaded at (optimistic locking)."""

    version = IntegerField(widget=widgets.HiddenInput(), validators=[InputRequired()])


class BasicsForm(VersionedForm):
    """Requested authority, language, legal basis, urgency, confidentiality."""

    counterpart = SelectField(
        _l("Requested authority"), validators=[DataRequired(_l("Choose the requested authority."))]
    )
    language = SelectField(
        _l("Language of the request"), validators=[DataRequired(_l("Choose a language."))]
    )
    legal_basis = MultiCheckboxField(_l("Legal basis"))
    urgent = BooleanField(_l("Urgent"))
    urgency_reason = TextAreaField(
        _l("Reason for urgency"), validators=[Optional(), Length(max=4000)]
    )
    desired_date = DateField(_l("Desired date of execution"), validators=[Optional()])
    confidential = BooleanField(
        _l("Confidential: the requested state keeps the request and its contents confidential")
    )


def contents_form(
    fields: tuple[FieldDef, ...], locale: str, formdata: Any, data: dict[str, Any]
) -> FlaskForm:
    """Build the form of one content step from field definitions, labelled in ``locale``."""

    class ContentsForm(VersionedForm):
        pass

    for f in fields:
        label = f.label_in(locale)
        if f.kind == "bool":
            field: Any = BooleanField(label, description=f.help_in(locale))
        elif f.kind == "date":
            field = DateField(label, validators=[Optional()], description=f.help_in(locale))
        elif f.kind == "choice":
            field = SelectField(
                label,
                choices=as_choices(
                    [("", "—"), *((o.value, o.label_in(locale)) for o in f.options)]
                ),
                validators=[Optional()],
                validate_choice=False,  # the service refuses an unknown answer, in words
                description=f.help_in(locale),
            )
        elif f.kind == "text":
            field = StringField(
                label,
                validators=[Optional(), Length(max=f.max_length)],
                description=f.help_in(locale),
            )
        else:
            field = TextAreaField(
                label,
                validators=[Optional(), Length(max=f.max_length)],
                description=f.help_in(locale),
            )
        setattr(ContentsForm, f.name, field)
    return ContentsForm(formdata=formdata, data=data)


class ChoosePersonForm(FlaskForm):
    """A person of the case chosen into the request, with what the request discloses of them."""

    person = HiddenField(validators=[DataRequired(_l("Choose a person of the case."))])
    disclosure = SelectField(
        _l("Disclose"),
        choices=as_choices(
            [
                ("identity", _l("The identity")),
                ("pseudonym", _l("The pseudonym only (identity withheld)")),
            ]
        ),
    )
    details = MultiCheckboxField(_l("Details disclosed besides the name"), validate_choice=False)
    measures = MultiCheckboxField(_l("Protection measures sent"), validate_choice=False)


class ApproveForm(FlaskForm):
    """The confirmation of an approval, which transmits the request abroad for good."""

    disclosure = HiddenField()
    confirm = BooleanField(
        _l(
            "I have checked what this request discloses, and I understand that the transmission cannot be undone."
        ),
        validators=[DataRequired(_l("Confirm that you checked the request as it will leave."))],
    )


class AnnexForm(FlaskForm):
    """An annex upload (PDF, PNG or JPEG)."""

    file = FileField(_l("File (PDF, PNG or JPEG)"), validators=[DataRequired(_l("Choose a file."))])


class ActionForm(FlaskForm):
    """The fields a move may carry; each action's form shows only the ones it needs."""

    reason = TextAreaField(_l("Reasons"), validators=[Optional(), Length(max=MAX_REASON_LENGTH)])
    # The grounds offered depend on the request's legal basis (the page sets them); the
    # lifecycle refuses one the basis does not offer, with its own message.
    ground = SelectField(
        _l("Ground for refusal"),
        choices=as_choices([("", "—"), *GROUND_LABELS.items()]),
        validators=[Optional()],
        validate_choice=False,
    )
    postponement_ground = SelectField(
        _l("Ground for postponement"),
        choices=as_choices([("", "—"), *POSTPONEMENT_GROUND_LABELS.items()]),
        validators=[Optional()],
        validate_choice=False,
    )
    no_consultation_reason = TextAreaField(
        _l("Why no consultation took place (only if none did)"),
        validators=[Optional(), Length(max=4000)],
    )
    conditions = TextAreaField(
        _l("Conditions under which the assistance can be granted"),
        validators=[Optional(), Length(max=4000)],
    )
    kinds = MultiCheckboxField(
        _l("What the conditions bear on"),
        choices=as_choices(CONDITION_KIND_LABELS.items()),
        validate_choice=False,
    )
    consultation = TextAreaField(
        _l("Consultation held (when, with whom, outcome)"),
        validators=[Optional(), Length(max=4000)],
    )
    reference = StringField(_l("Local reference"), validators=[Optional(), Length(max=80)])
    authority = SelectField(
        _l("Executing authority"), validators=[Optional()], validate_choice=False
    )
    officer = SelectField(_l("Executing officer"), validators=[Optional()], validate_choice=False)
    summary = TextAreaField(_l("Summary of the results"), validators=[Optional(), Length(max=8000)])
    annexes = MultiCheckboxField(_l("Result annexes to send"), validate_choice=False)
    until = DateField(_l("Postponed until"), validators=[Optional()])
    on = DateField(_l("Date of the arrest or of the surrender"), validators=[Optional()])
    costs = TextAreaField(
        _l("Extraordinary costs: what they are, their estimate, and who is to bear them"),
        validators=[Optional(), Length(max=4000)],
    )


class WithdrawForm(FlaskForm):
    """A withdrawal: its reasons (mandatory) and the confirmation that it cannot be undone."""

    reason = TextAreaField(
        _l("Reasons for the withdrawal"),
        validators=[
            DataRequired(_l("Give the reasons for the withdrawal.")),
            Length(max=MAX_REASON_LENGTH),
        ],
    )
    confirm = BooleanField(
        _l("I understand that the withdrawal cannot be undone."),
        validators=[DataRequired(_l("Confirm that you understand the withdrawal is final."))],
    )


class MessageForm(FlaskForm):
    """A threaded message to the other side's authority (it goes abroad)."""

    kind = SelectField(
        _l("Kind"), choices=as_choices((k, MESSAGE_KIND_LABELS[k]) for k in MESSAGE_KINDS)
    )
    body = TextAreaField(
        _l("Message"), validators=[DataRequired(_l("Write a message.")), Length(max=8000)]
    )


class NoteForm(FlaskForm):
    """An internal note of the team (it stays on this node)."""

    note = TextAreaField(
        _l("Text of the note"),
        validators=[DataRequired(_l("Write the note.")), Length(max=MAX_NOTE_LENGTH)],
    )


class DashboardFilters(FlaskForm):
    """The dashboard's filters (a GET form)."""

    class Meta:
        csrf = False

    direction = SelectField(_l("Direction"), validators=[Optional()], validate_choice=False)
    state = SelectField(_l("State"), validators=[Optional()], validate_choice=False)
    country = SelectField(_l("Country"), validators=[Optional()], validate_choice=False)
    request_type = SelectField(_l("Type"), validators=[Optional()], validate_choice=False)
    urgent = BooleanField(_l("Urgent only"))
    overdue = BooleanField(_l("Overdue only"))
    mine = BooleanField(_l("Assigned to me or written by me"))
    after = HiddenField()
