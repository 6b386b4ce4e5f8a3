"""Interface languages: English, French and Portuguese, chosen by the user and remembered."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from flask import Flask, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from exchange.extensions import babel

LOCALES: dict[str, str] = {"en": "English", "fr": "Français", "pt": "Português"}
LOCALE_LABELS = {"en": _l("English"), "fr": _l("French"), "pt": _l("Portuguese")}


def select_locale() -> str:
    """Pick the interface language: the user's choice, the session's, then the browser's."""
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return str(current_user.locale)
    chosen = session.get("locale")
    if chosen in LOCALES:
        return str(chosen)
    best = request.accept_languages.best_match(list(LOCALES))
    return best or "en"


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with the locale selector."""
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def inject_locales() -> dict[str, object]:
        """Give every template the list of interface languages."""
        return {
            "available_locales": LOCALES,
            "language_labels": LOCALE_LABELS,
            "get_locale": get_locale,
        }


def compile_catalogs(root: Path | None = None) -> int:
    """Compile every area's ``.po`` catalog whose ``.mo`` is missing or older; return the count."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = root or Path(__file__).resolve().parent
    compiled = 0
    for po_path in root.glob("*/translations/*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        compiled += 1
    return compiled


def collation_key(text: str) -> str:
    """Return a sort key that orders accented names with their plain letters (Bénin before Burkina)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
