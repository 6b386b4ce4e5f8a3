"""Request types as data: one TOML file per type under ``request_types/``, plus the common fields.

Adding a type means adding a file. Each field says whether it is required, the legal source of
the requirement, and its label and help in English, French and Portuguese. The loader checks
every file strictly, so a broken definition stops the node at start, not a user mid-draft.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from exchange.mla.states import LIFECYCLES, MLA_LIFECYCLE

TYPES_DIR = Path(__file__).with_name("request_types")
COMMON_FILE = "_common.toml"
LANGS = ("en", "fr", "pt")
FIELD_KINDS = ("text", "textarea", "date", "bool")
PERSON_RULES = ("optional", "required", "victim")
MAX_TEXT = {"text": 300, "textarea": 8000}


class DefinitionError(ValueError):
    """A request-type file is malformed."""


def _texts(value: Any, where: str) -> dict[str, str]:
    """Check a {en, fr, pt} mapping of non-empty strings."""
    if not isinstance(value, dict) or any(
        not isinstance(value.get(lang), str) or not value[lang].strip() for lang in LANGS
    ):
        raise DefinitionError(f"{where}: needs non-empty en, fr and pt texts")
    return {lang: value[lang] for lang in LANGS}


@dataclass(frozen=True)
class FieldDef:
    """One element of a request: its kind, whether it is required, and the legal source."""

    name: str
    kind: str
    required: bool
    source: str
    label: dict[str, str]
    help: dict[str, str]

    def label_in(self, locale: str) -> str:
        """Return the label in ``locale`` (English if unknown)."""
        return self.label.get(locale, self.label["en"])

    def help_in(self, locale: str) -> str:
        """Return the help text in ``locale`` (English if unknown)."""
        return self.help.get(locale, self.help["en"])

    @property
    def max_length(self) -> int:
        """Return the longest accepted value of a text field."""
        return MAX_TEXT.get(self.kind, 300)


@dataclass(frozen=True)
class RequestType:
    """A type of request: its specific fields, the common ones it keeps, and its persons rule."""

    code: str
    order: int
    source: str
    label: dict[str, str]
    help: dict[str, str]
    common_fields: tuple[FieldDef, ...]
    fields: tuple[FieldDef, ...]
    persons: str
    # Which lifecycle its requests run (states.LIFECYCLES): spontaneous information is a notice.
    lifecycle: str = MLA_LIFECYCLE

    def label_in(self, locale: str) -> str:
        """Return the type's name in ``locale``."""
        return self.label.get(locale, self.label["en"])

    def help_in(self, locale: str) -> str:
        """Return the type's description in ``locale``."""
        return self.help.get(locale, self.help["en"])

    @property
    def all_fields(self) -> tuple[FieldDef, ...]:
        """Return the common fields then the type-specific ones."""
        return self.common_fields + self.fields


def _field(item: Any, where: str) -> FieldDef:
    """Read and check one ``[[field]]`` table."""
    if not isinstance(item, dict):
        raise DefinitionError(f"{where}: a field must be a table")
    name = item.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        raise DefinitionError(f"{where}: bad field name {name!r}")
    kind = item.get("kind", "textarea")
    if kind not in FIELD_KINDS:
        raise DefinitionError(f"{where}.{name}: unknown kind {kind!r}")
    required = item.get("required")
    if not isinstance(required, bool):
        raise DefinitionError(f"{where}.{name}: `required` must be true or false")
    source = item.get("source")
    if not isinstance(source, str) or not source.strip():
        raise DefinitionError(f"{where}.{name}: every field needs its legal `source`")
    return FieldDef(
        name=name,
        kind=kind,
        required=required,
        source=source,
        label=_texts(item.get("label"), f"{where}.{name}.label"),
        help=_texts(item.get("help"), f"{where}.{name}.help"),
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
        if not isinstance(data.get("source"), str):
            raise DefinitionError(f"{path.name}: the type needs its legal `source`")
        found[code] = RequestType(
            code=code,
            order=int(data.get("order", 1000)),
            source=data["source"],
            label=_texts(data.get("label"), f"{path.name}.label"),
            help=_texts(data.get("help"), f"{path.name}.help"),
            common_fields=tuple(f for f in common if f.name not in omit),
            fields=fields,
            persons=persons,
            lifecycle=lifecycle,
        )
    return dict(sorted(found.items(), key=lambda kv: (kv[1].order, kv[0])))


@cache
def request_types() -> dict[str, RequestType]:
    """Return the request types shipped with the node (loaded once)."""
    return load_types()


def get_type(code: str) -> RequestType | None:
    """Return the request type ``code``, or None."""
    return request_types().get(code)
