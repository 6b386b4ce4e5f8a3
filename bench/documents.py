"""Benchmark of the official documents.

``bench_letter``: a one-page request letter rendered by ``render_pdf`` (sandboxed Jinja, the
confined fetcher, the shipped fonts, PDF/A-3b) against WeasyPrint rendering a bare one-page HTML
document with its defaults, in the same run, in alternating rounds; the figure is the ratio of
the medians (goal: at most 2x). Other parts (bundles) add a function and a line to ``main``.

Run: ``.venv/bin/python bench/documents.py`` (``--rounds 9``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# A bare page: a title and paragraphs of plain text filling one A4 page, no stylesheet, no
# fonts of its own, WeasyPrint's defaults (no PDF variant, its default fetcher).
BARE_HTML = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Bare</title></head><body>"
    "<h1>A bare document</h1>"
    + "<p>One page of plain text, as WeasyPrint renders it with its defaults: a title and "
    "paragraphs, about as many words as a one-page letter.</p>" * 16 + "</body></html>"
)


def letter_context(lang: str = "en") -> dict[str, Any]:
    """Return the plain-data context of a short letter that fits on one page."""
    side = {
        "code": "",
        "kind": "prosecutor",
        "state_code": "",
        "languages": ["en"],
        "address": "Palais de justice, Tambacounda",
        "email": "parquet@example.org",
        "phone": "+221 33 000 00 00",
    }
    requesting = {**side, "name": "Parquet de Tambacounda", "state": "Senegal",
                  "reference": "SN-TGI-TAMBA/2026/000001", "central": "DACG"}  # fmt: skip
    requested = {**side, "name": "Central Authority Unit", "state": "Nigeria",
                 "reference": "", "central": ""}  # fmt: skip
    item = {"kind": "textarea", "source": "UNTOC 18(3)(a)"}
    return {
        "template_version": "bench",
        "issued_on": dt.date(2026, 12, 2),
        "issuer": requesting,
        "addressee": requested,
        "requesting": requesting,
        "requested": requested,
        "other_side": requested,
        "request": {
            "reference": requesting["reference"],
            "foreign_reference": "",
            "side": "outgoing",
            "type": "taking_evidence",
            "title": "Taking evidence or statements",
            "type_source": "UNTOC 18(3)(a)",
            "state": "approved",
            "language": "en",
            "urgent": False,
            "urgency_reason": "",
            "desired_date": None,
            "confidential": False,
            "created_on": dt.date(2026, 12, 1),
            "transmitted_on": None,
            "due_on": None,
            "case_reference": "PR-TAMBA-2026-0001",
            "stage": "investigation",
        },
        "basis": [
            {
                "code": "UNTOC-18",
                "title": "United Nations Convention against Transnational Organized Crime",
                "citation": "UNTOC art. 18",
            }
        ],
        "contents": [],
        "particulars": [
            {**item, "name": "questions", "label": "Questions", "value": "Where and when?"},
        ],
        "persons": [],
        "identities_shown": True,
        "annexes": [],
        "results": [],
        "event": None,
        "signatory": {"name": "Aminata Diallo", "function": "Procureur de la République"},
    }


def _pages(pdf: bytes) -> int:
    """Return the number of pages of a PDF."""
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def _timed(work: Callable[[], bytes]) -> tuple[float, bytes]:
    """Return how long ``work`` took, and what it returned."""
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def bench_letter(rounds: int = 9) -> dict[str, float]:
    """Time a one-page letter against a bare one-page WeasyPrint document; return the figures."""
    from weasyprint import HTML

    from exchange.documents.rendering import render_pdf

    context = letter_context()
    letter = lambda: render_pdf("letter", "en", context)  # noqa: E731
    bare = lambda: HTML(string=BARE_HTML).write_pdf()  # noqa: E731
    # Warm up both (imports, font loading, caches), and check that each is one page.
    assert _pages(letter()) == 1, "the bench letter must fit on one page"
    assert _pages(bare()) == 1
    letters, bares = [], []
    for _ in range(rounds):
        letters.append(_timed(letter)[0])
        bares.append(_timed(bare)[0])
    figures = {
        "letter_median_s": statistics.median(letters),
        "bare_median_s": statistics.median(bares),
    }
    figures["ratio"] = figures["letter_median_s"] / figures["bare_median_s"]
    return figures


def main() -> None:
    """Run the parts of the benchmark and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    letter = bench_letter(args.rounds)
    print(
        f"letter (one page, PDF/A-3b): median {letter['letter_median_s'] * 1000:.0f} ms; "
        f"bare WeasyPrint page: median {letter['bare_median_s'] * 1000:.0f} ms; "
        f"ratio {letter['ratio']:.2f}x (goal <= 2x)"
    )


if __name__ == "__main__":
    main()
