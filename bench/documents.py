"""Benchmark of the official documents.

``bench_letter``: a one-page request letter rendered by ``render_pdf`` (sandboxed Jinja, the
confined fetcher, the shipped fonts, PDF/A-3b) against WeasyPrint rendering a bare one-page HTML
document with its defaults, in the same run, in alternating rounds; the figure is the ratio of
the medians (goal: at most 2x). ``bench_bundles``: a signed bundle with a 20-page annex against one with a 200-page annex, each
built in a child process of its own: median wall time over several builds, peak Python
allocation (tracemalloc, one build) and peak resident memory (ru_maxrss of the child). Annexes
are merged as they are (qpdf), never re-rendered, so the goal is that the 200-page bundle costs
at most 3x the 20-page one, in time and in memory.

Run: ``.venv/bin/python bench/documents.py`` (``--rounds 9``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
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


# -- bundles ----------------------------------------------------------------------------------

BUNDLE_PAGES = (20, 200)
BUNDLE_REPEATS = 5
BUNDLE_GOAL = 3.0


SCAN_SIDE = 400  # a scanned page: a 400 x 400 greyscale image of its own (160 KB) per page


def _annex(pages: int, path: Path) -> None:
    """Write a scan-like PDF of ``pages`` pages, each with its own image, as a court scans."""
    import os

    from pypdf import PdfWriter
    from pypdf.generic import (
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        NumberObject,
    )

    writer = PdfWriter()
    for _ in range(pages):
        page = writer.add_blank_page(width=595, height=842)
        image = DecodedStreamObject()
        image.set_data(os.urandom(SCAN_SIDE * SCAN_SIDE))  # noise: no compression shrinks it
        image.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Image"),
                NameObject("/Width"): NumberObject(SCAN_SIDE),
                NameObject("/Height"): NumberObject(SCAN_SIDE),
                NameObject("/ColorSpace"): NameObject("/DeviceGray"),
                NameObject("/BitsPerComponent"): NumberObject(8),
            }
        )
        content = DecodedStreamObject()
        content.set_data(b"q 495 0 0 495 50 300 cm /Scan Do Q")
        page[NameObject("/Contents")] = writer._add_object(content)
        page[NameObject("/Resources")] = DictionaryObject(
            {
                NameObject("/XObject"): DictionaryObject(
                    {NameObject("/Scan"): writer._add_object(image)}
                )
            }
        )
    with path.open("wb") as out:
        writer.write(out)


def _child(pages: int, annex_path: str, keys_dir: str) -> None:
    """Build the bundle of one annex size several times; print time and memory as JSON."""
    from exchange.documents import rendering
    from exchange.documents.assembly import AnnexSource, BundleMeta, build_bundle
    from exchange.documents.signing import load_identity
    from exchange.envelopes import KeyStore

    keys = KeyStore(keys_dir, "bench passphrase", kdf_rounds=1000)
    identity = load_identity(keys, "SN-CA")
    letter = rendering.html_to_pdf("<!DOCTYPE html><html><body><h1>Letter</h1></body></html>")
    path = Path(annex_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    annex = AnnexSource("statement.pdf", "application/pdf", digest, lambda: path.open("rb"))
    meta = BundleMeta("bench", "en", "https://node.example/verify", "SN-CA/2026/1")

    def once() -> int:
        with tempfile.TemporaryFile() as out:
            return build_bundle(letter, [annex], meta, identity, out).page_count

    once()  # warm: fonts, templates, imports
    samples = []
    for _ in range(BUNDLE_REPEATS):
        start = time.perf_counter()
        count = once()
        samples.append(time.perf_counter() - start)
    tracemalloc.start()
    once()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "pages": pages,
                "bundle_pages": count,
                "seconds": statistics.median(samples),
                "traced_peak_mib": peak / (1 << 20),
                "max_rss_mib": rss_kib / 1024,
                "annex_mib": path.stat().st_size / (1 << 20),
            }
        )
    )


def bench_bundles() -> dict[int, dict[str, float]]:
    """Measure bundles of 20 and 200 annex pages, each in its own process; print the ratios."""
    from exchange.envelopes import KeyStore

    figures: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        keys = KeyStore(Path(tmp) / "keys", "bench passphrase", kdf_rounds=1000)
        keys.generate("SN-CA")
        for pages in BUNDLE_PAGES:
            annex = Path(tmp) / f"annex-{pages}.pdf"
            _annex(pages, annex)
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--bundle-child",
                    str(pages),
                    str(annex),
                    str(keys.root),
                ],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            figures[pages] = json.loads(done.stdout.strip().splitlines()[-1])
    small, large = figures[BUNDLE_PAGES[0]], figures[BUNDLE_PAGES[1]]
    for pages, row in figures.items():
        print(
            f"bundle, {pages:3d}-page annex ({row['annex_mib']:.2f} MiB, {row['bundle_pages']:.0f} "
            f"pages): {row['seconds'] * 1000:.0f} ms median, tracemalloc peak "
            f"{row['traced_peak_mib']:.1f} MiB, max RSS {row['max_rss_mib']:.0f} MiB"
        )
    for key, label in (
        ("seconds", "time"),
        ("traced_peak_mib", "tracemalloc peak"),
        ("max_rss_mib", "max RSS"),
    ):
        ratio = large[key] / small[key]
        verdict = "ok" if ratio <= BUNDLE_GOAL else "OVER GOAL"
        print(f"bundle 200/20 {label}: {ratio:.2f}x (goal <= {BUNDLE_GOAL:.0f}x) {verdict}")
    return figures


def main() -> None:
    """Run the parts of the benchmark and print their figures."""
    if len(sys.argv) == 5 and sys.argv[1] == "--bundle-child":
        _child(int(sys.argv[2]), sys.argv[3], sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    letter = bench_letter(args.rounds)
    print(
        f"letter (one page, PDF/A-3b): median {letter['letter_median_s'] * 1000:.0f} ms; "
        f"bare WeasyPrint page: median {letter['bare_median_s'] * 1000:.0f} ms; "
        f"ratio {letter['ratio']:.2f}x (goal <= 2x)"
    )
    bench_bundles()


if __name__ == "__main__":
    main()
