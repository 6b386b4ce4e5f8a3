"""Legal sources cited on a request's pages, kept to the instruments the request relies on.

A source is written per language as parts separated by semicolons, one instrument per part
("UNTOC 18(15)(a); ECOWAS 5(1)(a) (inferred)"). A request cites only the instruments of its
legal basis (or, before one is chosen, those in force between the two states): a request to a
state that left ECOWAS does not cite the ECOWAS Convention's articles (issue 12). A part that
names no instrument of the directory (the European Investigation Order's form, a model treaty)
is guidance and always kept.
"""

from __future__ import annotations

from collections.abc import Collection

# How each language names the directory's instruments at the start of a citation, most specific
# first (the extradition convention before the ECOWAS Convention on mutual assistance).
INSTRUMENT_NAMES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("ECOWAS A/P.1/8/94", "CEDEAO A/P.1/8/94"), "ECOWAS-A/P.1/8/94"),
    (("ECOWAS", "CEDEAO"), "ECOWAS-A/P.1/7/92"),
    (("UNTOC", "CNUCTO"), "UNTOC-18"),
    (("Palermo Protocol", "Protocole de Palerme", "Protocolo de Palermo"), "PALERMO-PROTOCOL"),
)


def instrument_cited(part: str) -> str | None:
    """Return the directory code of the instrument a citation part names, or None."""
    text = part.strip()
    for names, code in INSTRUMENT_NAMES:
        if any(text == name or text.startswith((f"{name} ", f"{name},")) for name in names):
            return code
    return None


def cite(source: str, relied_on: Collection[str] | None) -> str:
    """Return ``source`` with only the parts of the instruments in ``relied_on`` (all if None).

    French sets a space before the semicolon; the separator of the source is kept as written.
    An empty string means that no instrument relied on has a provision on the element.
    """
    if relied_on is None:
        return source
    separator = " ; " if " ; " in source else "; "
    parts = [part.strip() for part in source.split(";") if part.strip()]
    kept = [part for part in parts if instrument_cited(part) in (None, *relied_on)]
    return separator.join(kept)
