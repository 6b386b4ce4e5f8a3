"""Interface languages: English, French and Portuguese, chosen by the user and remembered."""

from __future__ import annotations

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
        return {"available_locales": LOCALES, "get_locale": get_locale}
