"""A source cited under the legal basis actually chosen: no article of an instrument not relied on.

A required element's source names the provisions of every instrument that asks for it, in the
reader's citation style ("UNTOC 18(15)(a); ECOWAS 5(1)(a) (inferred)"). A request rests on some of
them only (``MlaRequest.legal_basis``): a request to Mali, where the ECOWAS Convention is not in
force, cites no article of it. Each part of a source (between semicolons) is attributed to the
instrument it names; the parts of instruments not chosen are left out. The UN Convention's parts
stay where the Palermo Protocol is chosen, whose art. 1(2) applies it. A part naming no
instrument of the directory (the EU's EIO form, a drafting model) stays.
"""

from __future__ import annotations

from collections.abc import Collection

ECOWAS_MLA = "ECOWAS-A/P.1/7/92"
ECOWAS_EXTRADITION = "ECOWAS-A/P.1/8/94"
UNTOC = "UNTOC-18"
PALERMO = "PALERMO-PROTOCOL"
BUDAPEST = "BUDAPEST"


def _instrument_of(part: str) -> str | None:
    """Return the directory code of the instrument a part of a source cites, if any."""
    text = part.strip()
    if "A/P.1/8/94" in text:
        return ECOWAS_EXTRADITION
    if text.startswith(("ECOWAS", "CEDEAO")):
        return ECOWAS_MLA
    if text.startswith(("UNTOC", "CNUCTO")):
        return UNTOC
    if "Palerm" in text:
        return PALERMO
    if "Budapest" in text:
        return BUDAPEST
    return None


def _relied_on(code: str, basis: Collection[str]) -> bool:
    """Tell whether the instrument ``code`` is part of the basis (UNTOC through Palermo too)."""
    return code in basis or (code == UNTOC and PALERMO in basis)


def under_basis(source: str, basis: Collection[str]) -> str:
    """Return ``source`` without the parts citing an instrument the request does not rest on.

    If no part would remain (a request resting on reciprocity alone), the UN Convention's parts
    are kept, as every state of the directory is a party to it; failing those, the whole source.
    """
    separator = " ; " if " ; " in source else "; "
    parts = [p.strip() for p in source.split(";") if p.strip()]
    kept = [p for p in parts if (code := _instrument_of(p)) is None or _relied_on(code, basis)]
    if not any(_instrument_of(p) for p in kept):
        kept = [p for p in parts if _instrument_of(p) in (UNTOC, None)] or parts
    return separator.join(kept)


def sources_under_basis(source: dict[str, str], basis: Collection[str]) -> dict[str, str]:
    """Return a source in each language, cited under the legal basis chosen."""
    return {lang: under_basis(text, basis) for lang, text in source.items()}
