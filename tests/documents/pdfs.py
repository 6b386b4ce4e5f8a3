"""What a test reads in a rendered PDF: its text (poppler), fonts, attachments and XMP metadata."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from typing import Any

from pypdf import PdfReader


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """Return the text poppler's ``pdftotext`` reads, on one line, words hyphenated at a line end
    joined again (the print stylesheet hyphenates)."""
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    text = result.stdout.decode().replace("\u2010\n", "").replace("-\n", "-")
    return " ".join(text.split())


def pdf_fonts(pdf: bytes, tmp_path: Path) -> list[str]:
    """Return the names of the fonts poppler's ``pdffonts`` lists (subset prefix removed)."""
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, check=True, timeout=60, text=True
    )
    names = [line.split()[0] for line in result.stdout.splitlines()[2:] if line.strip()]
    return [re.sub(r"^[A-Z]{6}\+", "", name) for name in names]


def _resolve(value: Any) -> Any:
    """Return the object a pypdf reference points to."""
    return value.get_object() if hasattr(value, "get_object") else value


def embedded_files(pdf: bytes) -> list[str]:
    """Return every file a PDF embeds: in its /EmbeddedFiles name tree or a file annotation."""
    reader = PdfReader(io.BytesIO(pdf))
    found = []
    names = _resolve(reader.trailer["/Root"]).get("/Names")
    if names is not None and "/EmbeddedFiles" in _resolve(names):
        found.append("/EmbeddedFiles")
    for number, page in enumerate(reader.pages):
        for annotation in _resolve(page.get("/Annots")) or []:
            annotation = _resolve(annotation)
            if annotation.get("/Subtype") == "/FileAttachment" or "/FS" in annotation:
                found.append(f"page {number + 1}: {annotation.get('/Subtype')}")
    return found


def pdfa_identification(pdf: bytes) -> tuple[str, str]:
    """Return the PDF/A part and conformance the XMP metadata declares (pdfaid)."""
    reader = PdfReader(io.BytesIO(pdf))
    metadata = reader.xmp_metadata
    assert metadata is not None, "no XMP metadata"
    xml = metadata.stream.get_data().decode()
    part = re.search(r'pdfaid:part(?:="|>)(\d+)', xml)
    conformance = re.search(r'pdfaid:conformance(?:="|>)([A-Za-z])', xml)
    assert part and conformance, xml
    return part.group(1), conformance.group(1)
