"""Every message shown to a person is translated into French and Portuguese, and catalogs are current."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

EXCHANGE = Path(__file__).resolve().parent.parent / "exchange"
METHOD_MAP = [("**.py", "python"), ("**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _area_sources(area: str) -> list[Path]:
    """Return the folders and files whose messages belong to ``area``'s catalog."""
    if area == "core":
        return [EXCHANGE / "core", EXCHANGE / "templates", *sorted(EXCHANGE.glob("*.py"))]
    return [EXCHANGE / area]


def _extracted(area: str) -> set[str]:
    """Return the message ids found in ``area``'s sources."""
    found: set[str] = set()
    for source in _area_sources(area):
        if source.is_file():
            messages = [e[1] for e in extract_from_file("python", source, keywords=KEYWORDS)]
        else:
            messages = [e[2] for e in extract_from_dir(source, METHOD_MAP, keywords=KEYWORDS)]
        for message in messages:
            found.add(message if isinstance(message, str) else message[0])
    return found


AREAS = (
    sorted(
        p.name for p in EXCHANGE.iterdir() if (p / "__init__.py").exists() and _extracted(p.name)
    )
    if EXCHANGE.exists()
    else []
)


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("lang", ["fr", "pt"])
def test_catalog_is_complete(area: str, lang: str) -> None:
    """Fail on any message of the area that has no (non-fuzzy) translation."""
    path = EXCHANGE / area / "translations" / lang / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"no {lang} catalog for {area}: run scripts/translations.sh {area}"
    with path.open("rb") as f:
        catalog = read_po(f)
    missing = sorted(m for m in _extracted(area) if m not in catalog)
    assert not missing, (
        f"{area}/{lang}: not in the catalog (run scripts/translations.sh): {missing[:10]}"
    )
    untranslated = sorted(
        str(m.id)
        for m in catalog
        if m.id and (m.fuzzy or not (m.string if isinstance(m.string, str) else all(m.string)))
    )
    assert not untranslated, f"{area}/{lang}: {len(untranslated)} untranslated: {untranslated[:10]}"


@pytest.mark.parametrize("lang", ["fr", "pt"])
def test_a_message_shared_by_areas_reads_the_same_in_each(lang: str) -> None:
    """Fail when two areas translate one message id differently.

    Flask-Babel merges every area's catalog into one, the last area winning: the directory's
    "State" (a country) was shown as the mla area's "État de la demande" (issue 15, defect 6).
    A message that means two things needs two message ids.
    """
    seen: dict[str, dict[str, str]] = {}
    for path in sorted(EXCHANGE.glob(f"*/translations/{lang}/LC_MESSAGES/messages.po")):
        with path.open("rb") as f:
            for message in read_po(f):
                if message.id and isinstance(message.id, str) and not message.context:
                    seen.setdefault(message.id, {})[path.parts[-5]] = str(message.string)
    differing = {k: v for k, v in seen.items() if len(set(v.values())) > 1}
    assert not differing, f"{lang}: one message id, several translations: {differing}"
