"""The templates: every language has the fields of the others, and the HTML matches its snapshot.

Set EXCHANGE_UPDATE_SNAPSHOTS=1 to write the snapshots again after a deliberate change.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from jinja2 import nodes

from exchange.documents import rendering
from exchange.documents.rendering import LANGUAGES, TEMPLATES_DIR
from tests.documents.bundles import BUNDLE_PAGES, bundle_sample_context
from tests.documents.sample import sample_context

SNAPSHOTS = Path(__file__).with_name("snapshots")
UPDATE = os.environ.get("EXCHANGE_UPDATE_SNAPSHOTS") == "1"


def _path(node: nodes.Node) -> str | None:
    """Return ``a.b.c`` for a variable, attribute or constant-key item, else None."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        base = _path(node.node)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        base = _path(node.node)
        return f"{base}.{node.arg.value}" if base else None
    return None


def template_fields(source: str) -> set[str]:
    """Return what a template uses: every variable path, filter, test, macro and block."""
    tree = rendering.environment().parse(source)
    found: set[str] = set()
    for node in tree.find_all((nodes.Name, nodes.Getattr, nodes.Getitem)):
        path = _path(node)
        if path:
            found.add(path)
    found |= {f"|{n.name}" for n in tree.find_all(nodes.Filter)}
    found |= {f"is {n.name}" for n in tree.find_all(nodes.Test)}
    found |= {f"macro {n.name}" for n in tree.find_all(nodes.Macro)}
    found |= {f"block {n.name}" for n in tree.find_all(nodes.Block)}
    found |= {f"import {n.template.value}" for n in tree.find_all(nodes.Import)
              if isinstance(n.template, nodes.Const)}  # fmt: skip
    # Each language imports its own parts: compare the import, not the language in its name.
    return {re.sub(r"_parts/(en|fr|pt)\.html", "_parts/LANG.html", f) for f in found}


def differences(sources: dict[str, str]) -> dict[str, set[str]]:
    """Return, per language, what the other languages' templates use and this one does not."""
    fields = {lang: template_fields(source) for lang, source in sources.items()}
    every = set().union(*fields.values())
    return {lang: every - used for lang, used in fields.items() if every - used}


def _folders() -> list[str]:
    """Return the documents and the shared parts, each a folder with a template per language."""
    return [*rendering.documents(), "_parts"]


@pytest.mark.parametrize("folder", _folders())
def test_every_language_has_the_fields_of_the_others(folder: str) -> None:
    sources = {lang: (TEMPLATES_DIR / folder / f"{lang}.html").read_text() for lang in LANGUAGES}
    assert differences(sources) == {}


def test_a_template_lacking_a_field_is_caught() -> None:
    """The comparison fails when one language drops a field, a block or a shared part."""
    sources = {
        lang: (TEMPLATES_DIR / "refusal_notice" / f"{lang}.html").read_text() for lang in LANGUAGES
    }
    assert "{{ event.reason }}" in sources["pt"]
    broken = {**sources, "pt": sources["pt"].replace("{{ event.reason }}", "")}
    assert differences(broken) == {"pt": {"event.reason"}}
    no_persons = {**sources, "fr": sources["fr"].replace("{{ p.persons_concerned() }}", "")}
    assert differences(no_persons) == {"fr": {"p.persons_concerned"}}
    parts = {lang: (TEMPLATES_DIR / "_parts" / f"{lang}.html").read_text() for lang in LANGUAGES}
    no_email = {
        **parts,
        "en": parts["en"].replace("{% if issuer.email %} · {{ issuer.email }}{% endif %}", ""),
    }
    assert differences(no_email) == {"en": {"issuer.email"}}


def normalise(html: str) -> str:
    """Return HTML with runs of blank space collapsed and one tag per line (stable to diff)."""
    html = re.sub(r"\s+", " ", html)
    html = re.sub(r">\s*<", ">\n<", html)
    return html.strip() + "\n"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("document", rendering.documents())
def test_html_matches_its_snapshot(document: str, lang: str) -> None:
    context = (
        bundle_sample_context(lang) if document in BUNDLE_PAGES else sample_context(document, lang)
    )
    html = normalise(rendering.render_html(document, lang, context))
    snapshot = SNAPSHOTS / f"{document}.{lang}.html"
    if UPDATE or not snapshot.exists():
        snapshot.write_text(html)
        if not UPDATE:
            pytest.fail(f"snapshot {snapshot.name} written; run again")
    assert html == snapshot.read_text(), (
        f"{snapshot.name} differs: check the change, then EXCHANGE_UPDATE_SNAPSHOTS=1"
    )


def test_snapshots_are_of_existing_documents() -> None:
    expected = {f"{d}.{lang}.html" for d in rendering.documents() for lang in LANGUAGES}
    assert {p.name for p in SNAPSHOTS.glob("*.html")} == expected
