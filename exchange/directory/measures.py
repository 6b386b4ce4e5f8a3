"""The measures an authority can be competent for, and an instrument can cover: request types.

The request types are defined by the request area (``exchange.mla.definitions``), which sits above
the directory; it registers them here when it loads, so that the directory can check a competence
or an instrument's coverage against them and name each in the reader's language without importing
that area. ``*`` ("all") is an explicit choice of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from exchange.directory.models import ALL_MEASURES

Catalogue = Callable[[], Mapping[str, Mapping[str, str]]]
_providers: list[Catalogue] = []
MAX_MEASURES = 100


class UnknownMeasure(ValueError):
    """A measure that is no request type (nor ``*``)."""


def register(provider: Catalogue) -> None:
    """Register a provider of ``{code: {en, fr, pt label}}`` (the request area does, once)."""
    if provider not in _providers:
        _providers.append(provider)


def catalogue() -> dict[str, Mapping[str, str]]:
    """Return every registered measure with its labels, in the order registered."""
    found: dict[str, Mapping[str, str]] = {}
    for provider in _providers:
        found.update(provider())
    return found


def label(code: str, locale: str) -> str:
    """Return the name of a measure in ``locale`` (the code itself if unknown)."""
    labels = catalogue().get(code)
    if labels is None:
        return code
    return str(labels.get(locale) or labels.get("en") or code)


def clean(measures: Iterable[str]) -> list[str]:
    """Return the measures trimmed, without repeats; refuse any that is no request type nor ``*``.

    Without a registered catalogue (the directory alone, as in a bare command), nothing is refused
    but empty entries.
    """
    wanted: list[str] = []
    known = catalogue()
    for measure in list(measures)[: MAX_MEASURES + 1]:
        if len(wanted) >= MAX_MEASURES:
            raise UnknownMeasure("…")
        code = measure.strip()
        if not code or code in wanted:
            continue
        if known and code != ALL_MEASURES and code not in known:
            raise UnknownMeasure(code)
        wanted.append(code)
    return wanted
