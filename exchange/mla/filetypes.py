"""The evidence types an annex may have, each checked by its structure, not by a prefix (finding 19).

Allow-list: PDF (parsed with pypdf, refused when it carries active content), PNG and JPEG (their
chunk or marker structure walked, dimensions bounded). The same check applies to a file uploaded
here and to one that arrives from a peer in an envelope. Images are read as a stream in constant
memory; a PDF is parsed with random access, bounded by the annex size limit its caller enforces.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from exchange.mla.errors import MlaError

if TYPE_CHECKING:
    from pypdf import PdfReader

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
MEDIA_TYPES = (PDF, PNG, JPEG)
# A side of 20,000 pixels is an A3 page scanned at 1,200 dpi; 100 megapixels keeps a decoder's
# memory bounded (Pillow refuses images of about 179 megapixels as decompression bombs).
MAX_IMAGE_SIDE = 20_000
MAX_IMAGE_PIXELS = 100_000_000
CHUNK = 1 << 16
# Bounds the walk of a PDF's objects: far above what a scanned statement or an exported report holds.
MAX_PDF_OBJECTS = 1_000_000

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PDF_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")

# PDF 2.0 (ISO 32000-2) names through which a document runs code, starts a program, submits or
# imports data, or carries files and multimedia: §12.6.4 (actions), §12.6.3 (/AA), §7.11.4
# (embedded files), §12.7.9 (XFA forms), Adobe's RichMedia extension (ISO 32000-2 §13.7).
ACTIVE_KEYS = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/AA",
        "/EmbeddedFiles",
        "/EmbeddedFile",
        "/EF",
        "/XFA",
        "/RichMediaContent",
        "/RichMediaSettings",
    }
)
ACTIVE_NAMES = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/GoToE",
        "/Rendition",
        "/RichMedia",
        "/EmbeddedFile",
        "/3D",
    }
)


def check_evidence(stream: IO[bytes]) -> str:
    """Return the media type of a seekable stream whose structure is a valid PDF, PNG or JPEG.

    Refuses with ``bad_file_type`` (none of them), ``bad_pdf``, ``encrypted_pdf``, ``active_pdf``
    or ``bad_image``. The stream is left at its start.
    """
    stream.seek(0)
    media_type = evidence_type_of(stream.read(8))
    stream.seek(0)
    if media_type is None:
        raise MlaError("bad_file_type")
    try:
        CHECKS[media_type](stream)
    finally:
        stream.seek(0)
    return media_type


def evidence_type_of(head: bytes) -> str | None:
    """Return the evidence type a file's first 8 bytes announce, or None (checked as they arrive)."""
    if PDF_HEADER.match(head):
        return PDF
    if head == PNG_SIGNATURE:
        return PNG
    if head[:2] == b"\xff\xd8":
        return JPEG
    return None


# --- PDF ------------------------------------------------------------------------------------------


def check_pdf(stream: IO[bytes]) -> None:
    """Refuse a PDF that does not parse, has no page, is locked, or carries active content."""
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(max(0, size - 1024))
    # ISO 32000-2 §7.5.5: the file ends with %%EOF; a later section (incremental update) ends with
    # its own. Anything else after it (HTML, a ZIP archive) makes the file a polyglot.
    if not stream.read().rstrip(b"\x00\t\n\f\r ").endswith(b"%%EOF"):
        raise MlaError("bad_pdf")
    stream.seek(0)
    # pypdf (with Pillow and fontTools) is imported by the first PDF checked, not at start-up.
    from pypdf import PdfReader
    from pypdf.generic import DictionaryObject

    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise MlaError("encrypted_pdf")
        root = reader.trailer["/Root"].get_object()
        if not isinstance(root, DictionaryObject) or root.get("/Type") != "/Catalog":
            raise MlaError("bad_pdf")
        if len(reader.pages) < 1:
            raise MlaError("bad_pdf")
        if _has_active_content(reader):
            raise MlaError("active_pdf")
    except MlaError:
        raise
    except Exception as exc:  # pypdf raises many kinds on a malformed file; each means "not a PDF"
        raise MlaError("bad_pdf") from exc


def _pdf_objects(reader: PdfReader) -> Iterator[Any]:
    """Yield the trailer and every object the cross-reference tables list (resolved)."""
    from pypdf.generic import IndirectObject

    yield reader.trailer
    numbers: set[tuple[int, int]] = set()
    for generation, table in reader.xref.items():
        numbers.update((number, generation) for number in table)
    numbers.update((number, 0) for number in reader.xref_objStm)
    for number, generation in sorted(numbers):
        if number > 0:
            yield IndirectObject(number, generation, reader)


def _has_active_content(reader: PdfReader) -> bool:
    """Tell whether any object of the document names a script, an action or an embedded file.

    Walks every listed object (a viewer that repairs a broken file may find one the trailer does
    not reach), stream dictionaries included, without decoding content streams.
    """
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    seen: set[tuple[int, int]] = set()
    pending = list(_pdf_objects(reader))
    visited = 0
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            item = item.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise MlaError("bad_pdf")
        if isinstance(item, DictionaryObject):
            for key, value in item.items():
                if key in ACTIVE_KEYS or (key == "/OpenAction" and not _harmless_open(value)):
                    return True
                if key != "/Encrypt":
                    pending.append(value)
        elif isinstance(item, ArrayObject):
            pending.extend(item)
        elif isinstance(item, NameObject) and item in ACTIVE_NAMES:
            return True
    return False


def _harmless_open(value: Any) -> bool:
    """Tell whether an /OpenAction only shows a page (a destination, or a GoTo action)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    target = value.get_object() if isinstance(value, IndirectObject) else value
    if isinstance(target, ArrayObject):
        return True
    return isinstance(target, DictionaryObject) and target.get("/S") == "/GoTo"


# --- PNG ------------------------------------------------------------------------------------------

# Channels of each colour type and its allowed bit depths (PNG, ISO/IEC 15948 §11.2.2).
_PNG_COLOUR = {
    0: (1, (1, 2, 4, 8, 16)),
    2: (3, (8, 16)),
    3: (1, (1, 2, 4, 8)),
    4: (2, (8, 16)),
    6: (4, (8, 16)),
}
# Adam7 passes: (x start, y start, x step, y step), ISO/IEC 15948 §8.2.
_ADAM7: tuple[tuple[int, int, int, int], ...] = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)


def _png_raw_size(width: int, height: int, bits_per_pixel: int, interlaced: bool) -> int:
    """Return the size of the filtered image data that IDAT must inflate to (§7.2, §8.2)."""
    passes: tuple[tuple[int, int, int, int], ...] = _ADAM7 if interlaced else ((0, 0, 1, 1),)
    total = 0
    for x0, y0, dx, dy in passes:
        columns = (width - x0 + dx - 1) // dx if width > x0 else 0
        rows = (height - y0 + dy - 1) // dy if height > y0 else 0
        if columns and rows:
            total += rows * (1 + (columns * bits_per_pixel + 7) // 8)
    return total


def check_png(stream: IO[bytes]) -> None:
    """Refuse a PNG whose chunks, CRCs, header, image data or end do not hold (ISO/IEC 15948)."""
    reader = _Reader(stream)
    if reader.read(8) != PNG_SIGNATURE:
        raise MlaError("bad_image")
    previous = b""  # the kind of the chunk before, b"" before IHDR
    idat = palette = False
    colour, expected, inflated = 0, 0, 0
    inflater = zlib.decompressobj()
    while previous != b"IEND":
        length, kind = struct.unpack(">I4s", reader.read(8))
        # IHDR first and once; IDAT chunks consecutive; a palette before them (§5.6).
        if (
            length > 0x7FFFFFFF
            or not kind.isalpha()
            or (not previous) != (kind == b"IHDR")
            or (kind == b"IDAT" and idat and previous != b"IDAT")
            or (kind == b"IEND" and length)
        ):
            raise MlaError("bad_image")
        crc = zlib.crc32(kind)
        if kind == b"IHDR":
            if length != 13:
                raise MlaError("bad_image")
            data = reader.read(13)
            crc = zlib.crc32(data, crc)
            colour, expected = data[9], _png_header(data)
        else:
            for piece in reader.pieces(length):
                crc = zlib.crc32(piece, crc)
                if kind == b"IDAT":
                    inflated += _inflate(inflater, piece, expected - inflated)
        if struct.unpack(">I", reader.read(4))[0] != crc:
            raise MlaError("bad_image")
        palette = palette or (kind == b"PLTE" and not idat)
        idat = idat or kind == b"IDAT"
        previous = kind
    # The whole image is there, and nothing follows IEND (no file hidden behind the image).
    if (
        not idat
        or (colour == 3 and not palette)
        or not inflater.eof
        or inflater.unused_data
        or inflated != expected
        or not reader.at_end()
    ):
        raise MlaError("bad_image")


def _png_header(data: bytes) -> int:
    """Check an IHDR chunk's fields and bounds; return the image data's inflated size."""
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", data
    )
    allowed = _PNG_COLOUR.get(colour)
    if (
        allowed is None
        or depth not in allowed[1]
        or compression != 0
        or filtering != 0
        or interlace not in (0, 1)
    ):
        raise MlaError("bad_image")
    _check_dimensions(width, height)
    return _png_raw_size(width, height, allowed[0] * depth, interlace == 1)


def _inflate(inflater: Any, data: bytes, room: int) -> int:
    """Inflate ``data`` without keeping the output; refuse more than ``room`` bytes of it."""
    produced = 0
    while data:
        try:
            out = inflater.decompress(data, CHUNK)
        except zlib.error as exc:
            raise MlaError("bad_image") from exc
        produced += len(out)
        if produced > room:
            raise MlaError("bad_image")
        data = inflater.unconsumed_tail
    return produced


def _check_dimensions(width: int, height: int) -> None:
    if not (0 < width <= MAX_IMAGE_SIDE and 0 < height <= MAX_IMAGE_SIDE):
        raise MlaError("bad_image")
    if width * height > MAX_IMAGE_PIXELS:
        raise MlaError("bad_image")


# --- JPEG -----------------------------------------------------------------------------------------

# Start-of-frame markers (ITU-T T.81 Table B.1): every SOFn but DHT (C4), JPG (C8) and DAC (CC).
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Marker segments with a length that a decoder reads or skips: DHT, DAC, DQT, DNL, DRI, DHP,
# EXP, APP0-APP15, COM (T.81 §B.2.4, §B.3; JFIF and Exif live in APPn).
_SEGMENTS = frozenset({0xC4, 0xCC, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xFE} | set(range(0xE0, 0xF0)))


def check_jpeg(stream: IO[bytes]) -> None:
    """Refuse a JPEG without SOI, a frame header, a scan and EOI, or with bytes after EOI (T.81)."""
    reader = _Reader(stream)
    if reader.read(2) != b"\xff\xd8":
        raise MlaError("bad_image")
    frame = scans = 0
    marker = reader.marker()
    while marker != 0xD9:  # EOI
        if marker in _SOF:
            if frame:
                raise MlaError("bad_image")
            frame += 1
            _jpeg_frame(reader.read(_segment_length(reader)))
        elif marker == 0xDA:  # SOS, then entropy-coded data up to the next marker
            if not frame:
                raise MlaError("bad_image")
            header = reader.read(_segment_length(reader))
            if not header or len(header) != 4 + 2 * header[0]:
                raise MlaError("bad_image")
            scans += 1
            marker = reader.skip_entropy_coded()
            continue
        elif marker in _SEGMENTS:
            reader.skip(_segment_length(reader))
        else:
            raise MlaError("bad_image")
        marker = reader.marker()
    if not scans or not reader.at_end():
        raise MlaError("bad_image")


def _segment_length(reader: _Reader) -> int:
    length = struct.unpack(">H", reader.read(2))[0]
    if length < 2:
        raise MlaError("bad_image")
    return length - 2


def _jpeg_frame(data: bytes) -> None:
    """Check a frame header: precision, dimensions, components (T.81 §B.2.2)."""
    if len(data) < 6:
        raise MlaError("bad_image")
    _precision, height, width, components = struct.unpack(">BHHB", data[:6])
    if not 1 <= components <= 4 or len(data) != 6 + 3 * components:
        raise MlaError("bad_image")
    _check_dimensions(width, height)  # a height of 0 (set later by DNL) is refused too


# --- reading a stream -----------------------------------------------------------------------------


class _Reader:
    """A forward reader over a binary stream, in constant memory; a short read refuses the file."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.buffer = b""
        self.pos = 0

    def _fill(self, size: int) -> None:
        """Have at least ``size`` unread bytes in the buffer (dropping those already read)."""
        if len(self.buffer) - self.pos >= size:
            return
        parts = [self.buffer[self.pos :]]
        have = len(parts[0])
        while have < size:
            more = self.stream.read(max(CHUNK, size - have))
            if not more:
                raise MlaError("bad_image")
            parts.append(more)
            have += len(more)
        self.buffer, self.pos = b"".join(parts), 0

    def read(self, size: int) -> bytes:
        """Return exactly ``size`` bytes."""
        self._fill(size)
        data = self.buffer[self.pos : self.pos + size]
        self.pos += size
        return data

    def pieces(self, size: int) -> Iterator[bytes]:
        """Yield the next ``size`` bytes in pieces of at most CHUNK."""
        while size:
            piece = self.read(min(size, CHUNK))
            size -= len(piece)
            yield piece

    def skip(self, size: int) -> None:
        """Pass over ``size`` bytes."""
        for _piece in self.pieces(size):
            pass

    def marker(self) -> int:
        """Read a JPEG marker: 0xFF, optional fill bytes 0xFF, then its code (T.81 §B.1.1.2)."""
        if self.read(1) != b"\xff":
            raise MlaError("bad_image")
        code = self.read(1)[0]
        while code == 0xFF:
            code = self.read(1)[0]
        return code

    def skip_entropy_coded(self) -> int:
        """Pass over a scan's data; return the marker that ends it (RSTn and stuffed 0xFF00 stay)."""
        while True:
            at = self.buffer.find(b"\xff", self.pos)
            if at < 0:
                self.pos = len(self.buffer)
                self._fill(1)
                continue
            self.pos = at
            self._fill(2)
            code = self.buffer[self.pos + 1]
            if code == 0x00 or 0xD0 <= code <= 0xD7:
                self.pos += 2
            elif code == 0xFF:
                self.pos += 1  # a fill byte before the marker
            else:
                self.pos += 2
                return code

    def at_end(self) -> bool:
        """Tell whether nothing is left to read."""
        return self.pos == len(self.buffer) and not self.stream.read(1)


CHECKS = {PDF: check_pdf, PNG: check_png, JPEG: check_jpeg}
