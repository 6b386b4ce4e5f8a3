"""Benchmark of evidence of any size: a 1 GiB annex through the portal's web process and back.

Runs tests/mla/test_evidence_memory.py with a 1 GiB annex (``--mib`` to change it): the node's
web process in a child (Werkzeug's threaded server, or with ``--server gunicorn`` one gunicorn
sync worker, as production serves ``wsgi:app``), a client streaming a multipart body made from a generator, the download
hashed as it arrives and compared with the upload's SHA-256; the web process's peak resident
memory (VmHWM, started again once the application is loaded and warm) is asserted to grow by
less than the test's bound, and printed with the throughput.

Run: ``.venv/bin/python bench/evidence.py`` (needs about 2.2 GiB free under the temporary folder:
the staged upload and the stored blob, both encrypted, exist together for a moment).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Run the memory test at the chosen size and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument(
        "--server",
        choices=("werkzeug", "gunicorn"),
        default="werkzeug",
        help="the web process: Werkzeug's threaded server, or a gunicorn sync worker (production)",
    )
    args = parser.parse_args()
    free = shutil.disk_usage(tempfile.gettempdir()).free
    if free < (args.mib << 20) * 2.2:
        print(f"not enough room under {tempfile.gettempdir()}: {free >> 20} MiB free")
        return 1
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "figures.json"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "EXCHANGE_EVIDENCE_MB": str(args.mib),
            "EXCHANGE_EVIDENCE_SERVER": args.server,
            "EXCHANGE_EVIDENCE_REPORT": str(report),
        }
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--basetemp={Path(folder) / 'pytest'}",
                "tests/mla/test_evidence_memory.py",
            ],
            cwd=ROOT,
            env=env,
            check=False,
        )
        if report.exists():
            figures = json.loads(report.read_text())
            print(
                f"annex {figures['size_mib']} MiB, {figures['server']}: web process idle"
                f" {figures['idle_rss_mib']} MiB, peak {figures['peak_mib']} MiB"
                f" (+{figures['growth_mib']} MiB; {figures['lifetime_peak_mib']} MiB over its life);"
                f" upload {figures['upload_mib_s']} MiB/s, download {figures['download_mib_s']}"
                " MiB/s; downloaded SHA-256 identical"
            )
        return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
