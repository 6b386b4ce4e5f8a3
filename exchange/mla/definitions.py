"""Request types as data: one TOML file per type under ``request_types/``, plus the common fields.

Adding a type means adding a file. Each field says whether it is required (always, or when a
condition holds), the legal source of the requirement, and its label and help in English, French
and Portuguese; the source too is written per language, in each legal tradition's citation style.
The loader checks every file strictly, so a broken definition stops the node at start, not a user
mid-draft.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from exchange.directory import measures
from exchange.mla.states import LIFECYCLES, MLA_LIFECYCLE

TYPES_DIR = Path(__file__).with_name("request_types")
COMMON_FILE = "_common.toml"
LANGS = ("en", "fr", "pt")
FIELD_KINDS = ("text", "textarea", "date", "bool", "choice")
PERSON_RULES = ("optional", "required", "victim")
PERSON_FLAGS = ("victim", "minor", "witness", "suspect")
# The steps a type runs through: a request for assistance, a notice the other side only takes
# note of (UNTOC 18(4)-(5)), or extradition (ECOWAS A/P.1/8/94; UNTOC 16).
MAX_TEXT = {"text": 300, "textarea": 8000}
FIELD_KEYS = {
    "name",
    "kind",
    "required",
    "source",
    "label",
    "help",
    "options",
    "required_when",
    "advised_when",
    "warn_unless",
    "warning",
}


class DefinitionError(ValueError):
    """A request-type file is malformed."""


def _texts(value: Any, where: str) -> dict[str, str]:
    """Check a {en, fr, pt} mapping of non-empty strings."""
    if not isinstance(value, dict) or any(
        not isinstance(value.get(lang), str) or not value[lang].strip() for lang in LANGS
    ):
        raise DefinitionError(f"{where}: needs non-empty en, fr and pt texts")
    return {lang: value[lang] for lang in LANGS}


def _in(texts: Mapping[str, str], locale: str) -> str:
    """Return the text of ``locale``, English if there is none."""
    return texts.get(locale, texts["en"])


@dataclass(frozen=True)
class Option:
    """One answer of a choice field: the stored value and its label in three languages."""

    value: str
    label: dict[str, str]

    def label_in(self, locale: str) -> str:
        """Return the option's label in ``locale``."""
        return _in(self.label, locale)


@dataclass(frozen=True)
class Condition:
    """When a field becomes required or advised: another field has one of some values, a person
    concerned carries a quality (victim, minor, witness, suspect), or the request rests on UNTOC
    and no other treaty (``{ basis = "untoc_only" }``)."""

    field: str | None = None
    values: tuple[str, ...] = ()
    person: str | None = None
    # ``untoc_only``: the request rests on UNTOC (or its Protocol) and no other treaty.
    basis: str | None = None

    def holds(
        self, details: Mapping[str, Any], flags: Iterable[str], *, untoc_only: bool = False
    ) -> bool:
        """Tell whether the condition holds for these contents, persons' qualities and basis."""
        if self.basis is not None:
            return untoc_only
        if self.person is not None:
            return self.person in set(flags)
        return str(details.get(self.field or "") or "") in self.values


@dataclass(frozen=True)
class FieldDef:
    """One element of a request: its kind, whether it is required, and the legal source."""

    name: str
    kind: str
    required: bool
    source: dict[str, str]
    label: dict[str, str]
    help: dict[str, str]
    options: tuple[Option, ...] = ()
    required_when: Condition | None = None
    advised_when: Condition | None = None
    warn_unless: tuple[str, ...] = ()
    warning: dict[str, str] | None = None

    def label_in(self, locale: str) -> str:
        """Return the label in ``locale`` (English if unknown)."""
        return _in(self.label, locale)

    def help_in(self, locale: str) -> str:
        """Return the help text in ``locale`` (English if unknown)."""
        return _in(self.help, locale)

    def source_in(self, locale: str) -> str:
        """Return the legal source, cited in ``locale``'s style."""
        return _in(self.source, locale)

    def warning_in(self, locale: str) -> str:
        """Return the checklist's warning about this field in ``locale`` (empty if none)."""
        return _in(self.warning, locale) if self.warning else ""

    def option_label(self, value: Any, locale: str) -> str:
        """Return the label of a choice's stored value (the value itself if unknown)."""
        for option in self.options:
            if option.value == value:
                return option.label_in(locale)
        return str(value or "")

    @property
    def max_length(self) -> int:
        """Return the longest accepted value of a text field."""
        return MAX_TEXT.get(self.kind, 300)


@dataclass(frozen=True)
class Deadline:
    """A time limit that a move starts: ``days`` after the date the move records (its ``on``),
    or after the move itself; e.g. the formal extradition request after a provisional arrest."""

    after: str
    days: int
    source: dict[str, str]

    def source_in(self, locale: str) -> str:
        """Return the source of the time limit, cited in ``locale``'s style."""
        return _in(self.source, locale)


@dataclass(frozen=True)
class RequestType:
    """A type of request: its specific fields, the common ones it keeps, and its persons rule."""

    code: str
    order: int
    source: dict[str, str]
    label: dict[str, str]
    help: dict[str, str]
    common_fields: tuple[FieldDef, ...]
    fields: tuple[FieldDef, ...]
    persons: str
    # Which lifecycle its requests run (states.LIFECYCLES): spontaneous information is a notice.
    lifecycle: str = MLA_LIFECYCLE
    # Directory instrument codes suggested as the legal basis of this type; empty: the MLA ones.
    bases: tuple[str, ...] = ()
    # A time limit that one of its moves starts (provisional arrest: the formal request).
    deadline: Deadline | None = None

    def label_in(self, locale: str) -> str:
        """Return the type's name in ``locale``."""
        return _in(self.label, locale)

    def help_in(self, locale: str) -> str:
        """Return the type's description in ``locale``."""
        return _in(self.help, locale)

    def source_in(self, locale: str) -> str:
        """Return the type's legal source, cited in ``locale``'s style."""
        return _in(self.source, locale)

    @property
    def all_fields(self) -> tuple[FieldDef, ...]:
        """Return the common fields then the type-specific ones."""
        return self.common_fields + self.fields


def _condition(value: Any, where: str) -> Condition | None:
    """Read a ``{ field = ..., values = [...] }`` or ``{ person = ... }`` condition."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DefinitionError(f"{where}: a condition must be a table")
    if set(value) == {"person"} and value["person"] in PERSON_FLAGS:
        return Condition(person=value["person"])
    if value == {"basis": "untoc_only"}:
        return Condition(basis="untoc_only")
    values = value.get("values")
    if (
        set(value) == {"field", "values"}
        and isinstance(value["field"], str)
        and isinstance(values, list)
        and values
        and all(isinstance(v, str) for v in values)
    ):
        return Condition(field=value["field"], values=tuple(values))
    raise DefinitionError(f"{where}: a condition names a person quality or a field and values")


def _options(value: Any, kind: str, where: str) -> tuple[Option, ...]:
    """Read the options of a choice field (none for other kinds)."""
    if kind != "choice":
        if value is not None:
            raise DefinitionError(f"{where}: only a choice field has `options`")
        return ()
    if not isinstance(value, list) or len(value) < 2:
        raise DefinitionError(f"{where}: a choice field needs at least two `options`")
    options = []
    for item in value:
        code = item.get("value") if isinstance(item, dict) else None
        if not isinstance(code, str) or not code.isidentifier():
            raise DefinitionError(f"{where}: an option needs a `value` code")
        options.append(Option(code, _texts(item.get("label"), f"{where}.{code}")))
    if len({o.value for o in options}) != len(options):
        raise DefinitionError(f"{where}: duplicate option values")
    return tuple(options)


def _field(item: Any, where: str) -> FieldDef:
    """Read and check one ``[[field]]`` table."""
    if not isinstance(item, dict):
        raise DefinitionError(f"{where}: a field must be a table")
    name = item.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        raise DefinitionError(f"{where}: bad field name {name!r}")
    where = f"{where}.{name}"
    if set(item) - FIELD_KEYS:
        raise DefinitionError(f"{where}: unknown keys {sorted(set(item) - FIELD_KEYS)}")
    kind = item.get("kind", "textarea")
    if kind not in FIELD_KINDS:
        raise DefinitionError(f"{where}: unknown kind {kind!r}")
    required = item.get("required")
    if not isinstance(required, bool):
        raise DefinitionError(f"{where}: `required` must be true or false")
    if not isinstance(item.get("source"), dict):
        raise DefinitionError(f"{where}: every field needs its legal `source` in en, fr and pt")
    options = _options(item.get("options"), kind, where)
    warn_unless = item.get("warn_unless", [])
    if not isinstance(warn_unless, list) or not set(warn_unless) <= {o.value for o in options}:
        raise DefinitionError(f"{where}: `warn_unless` names values that are not options")
    advised_when = _condition(item.get("advised_when"), f"{where}.advised_when")
    warns = bool(warn_unless) or advised_when is not None
    if warns != ("warning" in item):
        raise DefinitionError(f"{where}: a `warning` goes with `warn_unless` or `advised_when`")
    return FieldDef(
        name=name,
        kind=kind,
        required=required,
        source=_texts(item["source"], f"{where}.source"),
        label=_texts(item.get("label"), f"{where}.label"),
        help=_texts(item.get("help"), f"{where}.help"),
        options=options,
        required_when=_condition(item.get("required_when"), f"{where}.required_when"),
        advised_when=advised_when,
        warn_unless=tuple(warn_unless),
        warning=_texts(item["warning"], f"{where}.warning") if warns else None,
    )


def _fields(items: Any, where: str) -> tuple[FieldDef, ...]:
    """Read a list of fields, refusing duplicate names."""
    if not isinstance(items, list):
        raise DefinitionError(f"{where}: `field` must be an array of tables")
    fields = tuple(_field(item, where) for item in items)
    names = [f.name for f in fields]
    if len(names) != len(set(names)):
        raise DefinitionError(f"{where}: duplicate field names")
    return fields


def _check_conditions(fields: tuple[FieldDef, ...], where: str) -> None:
    """Refuse a condition on a field the type does not have, or on values it cannot take."""
    by_name = {f.name: f for f in fields}
    for f in fields:
        for condition in (f.required_when, f.advised_when):
            if condition is None or condition.field is None:
                continue
            target = by_name.get(condition.field)
            if target is None or target.kind != "choice":
                raise DefinitionError(f"{where}.{f.name}: a condition needs a choice field")
            if not set(condition.values) <= {o.value for o in target.options}:
                raise DefinitionError(f"{where}.{f.name}: a condition names unknown values")


def _strings(value: Any, where: str) -> tuple[str, ...]:
    """Check a list of non-empty strings."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise DefinitionError(f"{where}: must be a list of strings")
    return tuple(value)


def _deadline(value: Any, where: str) -> Deadline | None:
    """Read a type's ``[deadline]`` table: the move that starts it, its days, its source."""
    if value is None:
        return None
    days = value.get("days") if isinstance(value, dict) else None
    if (
        not isinstance(value, dict)
        or set(value) != {"after", "days", "source"}
        or not isinstance(value["after"], str)
        or not isinstance(days, int)
        or isinstance(days, bool)
        or not 0 < days <= 365
    ):
        raise DefinitionError(f"{where}: `deadline` needs `after` (a move), `days` and `source`")
    return Deadline(value["after"], days, _texts(value["source"], f"{where}.source"))


def load_types(directory: Path = TYPES_DIR) -> dict[str, RequestType]:
    """Load and check every request-type file of ``directory``, ordered for display."""
    common = _fields(
        tomllib.loads((directory / COMMON_FILE).read_text("utf-8")).get("field", []), COMMON_FILE
    )
    common_names = {f.name for f in common}
    found: dict[str, RequestType] = {}
    for path in sorted(directory.glob("*.toml")):
        if path.name == COMMON_FILE:
            continue
        data = tomllib.loads(path.read_text("utf-8"))
        code = data.get("code")
        if code != path.stem:
            raise DefinitionError(f"{path.name}: `code` must equal the file name")
        omit = data.get("omit_common", [])
        if not isinstance(omit, list) or not set(omit) <= common_names:
            raise DefinitionError(f"{path.name}: `omit_common` names unknown common fields")
        fields = _fields(data.get("field", []), path.name)
        if {f.name for f in fields} & common_names:
            raise DefinitionError(f"{path.name}: a field repeats a common field's name")
        persons = data.get("persons", "optional")
        if persons not in PERSON_RULES:
            raise DefinitionError(f"{path.name}: `persons` must be one of {PERSON_RULES}")
        lifecycle = data.get("lifecycle", MLA_LIFECYCLE)
        if lifecycle not in LIFECYCLES:
            raise DefinitionError(f"{path.name}: `lifecycle` must be one of {LIFECYCLES}")
        if not isinstance(data.get("source"), dict):
            raise DefinitionError(f"{path.name}: the type needs its legal `source` in en, fr, pt")
        kept = tuple(f for f in common if f.name not in omit)
        _check_conditions(kept + fields, path.name)
        found[code] = RequestType(
            code=code,
            order=int(data.get("order", 1000)),
            source=_texts(data["source"], f"{path.name}.source"),
            label=_texts(data.get("label"), f"{path.name}.label"),
            help=_texts(data.get("help"), f"{path.name}.help"),
            common_fields=kept,
            fields=fields,
            persons=persons,
            lifecycle=lifecycle,
            bases=_strings(data.get("bases", []), f"{path.name}.bases"),
            deadline=_deadline(data.get("deadline"), f"{path.name}.deadline"),
        )
    return dict(sorted(found.items(), key=lambda kv: (kv[1].order, kv[0])))


@cache
def request_types() -> dict[str, RequestType]:
    """Return the request types shipped with the node (loaded once)."""
    return load_types()


def get_type(code: str) -> RequestType | None:
    """Return the request type ``code``, or None."""
    return request_types().get(code)


def suggested_bases(definition: RequestType, in_force: Iterable[str]) -> list[str]:
    """Return the instruments in force to suggest as the legal basis of a request of this type.

    A type that names its bases (extradition: A/P.1/8/94) gets those in force; a type that names
    none gets every instrument in force but those named by other types, so the extradition
    convention is never suggested for a request for assistance (Model Treaty art. 1(3)).
    """
    if definition.bases:
        return [code for code in in_force if code in definition.bases]
    reserved = {code for other in request_types().values() for code in other.bases}
    return [code for code in in_force if code not in reserved]


def _measure_labels() -> dict[str, dict[str, str]]:
    """Return every request type's name in the three languages, for the directory."""
    return {code: dict(t.label) for code, t in request_types().items()}


measures.register(_measure_labels)
