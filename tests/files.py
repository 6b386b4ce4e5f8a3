"""Real evidence files for tests, small and valid: a PDF written by pypdf, a PNG built by hand.

Annexes are checked by their structure (finding 19), so tests upload files that a viewer opens,
never a bare prefix such as ``%PDF-1.4 hello``.
"""

from __future__ import annotations

import io
import struct
import zlib

from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject


def pdf(title: str = "Procès-verbal d'audition") -> bytes:
    """Return a one-page PDF written by pypdf; ``title`` (its metadata) makes each one distinct."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)  # A4, in points
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_open_action_script(script: str = "app.alert('opened')") -> bytes:
    """Return a PDF that runs JavaScript when it is opened (/OpenAction, ISO 32000-2 §12.6.4.17)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(script)}
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """Return one PNG chunk: length, type, data and the CRC of type and data (ISO/IEC 15948 §5.3)."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 4, height: int = 3, seed: int = 0) -> bytes:
    """Return an RGB PNG of ``width`` × ``height`` pixels; ``seed`` varies its colours."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(
        b"\x00" + bytes((x * 40 + seed) % 256 for x in range(width * 3)) for _y in range(height)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


def png_header_only(width: int = 65536, height: int = 1) -> bytes:
    """Return a PNG that declares its size and then ends: no image data (finding 19)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IEND", b"")
