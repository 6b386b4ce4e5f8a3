"""Benchmark of the official documents (run: make bench).

Bundles (``bench_bundles``): a signed bundle with a 20-page annex against one with a 200-page
annex, each built in a child process of its own: median wall time over several builds, peak
Python allocation (tracemalloc, one build) and peak resident memory (ru_maxrss of the child).
Annexes are merged as they are, never re-rendered, so the goal is that the 200-page bundle
costs at most 3x the 20-page one, in time and in memory.
"""

from __future__ import annotations

import hashlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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
    """Run the document benchmarks."""
    if len(sys.argv) == 5 and sys.argv[1] == "--bundle-child":
        _child(int(sys.argv[2]), sys.argv[3], sys.argv[4])
        return
    bench_bundles()


if __name__ == "__main__":
    main()
