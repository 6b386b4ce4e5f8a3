"""The single-file envelope container for offline carriage (USB key) and the command line.

Without attachments, the envelope *is* the compact JWE (ASCII, starting ``eyJ``). With
attachments, it is a ZIP archive (APPNOTE 6.3, entries STORED, ZIP64 allowed) holding:

* ``envelope.jwe``: the compact JWE, first entry;
* ``attachments/<id>.blob``: each attachment's Tink AES-GCM-HKDF stream, ``<id>`` as in the
  signed manifest (``a1``, ``a2``...).

Anything else in the archive is refused. The blobs are copied and read in chunks (constant memory).
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .errors import MalformedEnvelope, OversizedEnvelope

ENVELOPE_ENTRY = "envelope.jwe"
BLOB_ENTRY = re.compile(r"^attachments/(a[0-9]{1,3})\.blob$")
ZIP_MAGIC = b"PK\x03\x04"


def write_container(dest: Path, token: bytes, blobs: Mapping[str, Path]) -> None:
    """Write an envelope (and its blobs) to one file: the bare JWE, or a ZIP if there are blobs."""
    if not blobs:
        dest.write_bytes(token)
        return
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(ENVELOPE_ENTRY, token)
        for att_id, path in blobs.items():
            with (
                open(path, "rb") as src,
                zf.open(f"attachments/{att_id}.blob", "w", force_zip64=True) as dst,
            ):
                shutil.copyfileobj(src, dst, 1 << 20)


class Container:
    """An opened container: the envelope bytes and a way to stream each blob."""

    def __init__(self, token: bytes, zf: zipfile.ZipFile | None) -> None:
        self.token = token
        self._zip = zf
        self.blob_ids = sorted(
            m.group(1) for n in (zf.namelist() if zf else []) if (m := BLOB_ENTRY.match(n))
        )

    def check_blobs(self, att_ids: Collection[str]) -> None:
        """Refuse a container whose blobs are not exactly the signed manifest's attachments."""
        extra = sorted(set(self.blob_ids) - set(att_ids))
        if extra:  # nothing travels that the sender's signature does not cover
            raise MalformedEnvelope(f"container holds blobs no attachment references: {extra}")
        missing = sorted(set(att_ids) - set(self.blob_ids))
        if missing:
            raise MalformedEnvelope(f"container has no blob for attachments {missing}")

    @contextmanager
    def blob(self, att_id: str) -> Iterator[IO[bytes]]:
        """Open one attachment blob for streaming reads."""
        if self._zip is None or att_id not in self.blob_ids:
            raise MalformedEnvelope(f"container has no blob for attachment {att_id}")
        with self._zip.open(f"attachments/{att_id}.blob") as fh:
            yield fh


@contextmanager
def read_container(path: Path, max_envelope_bytes: int) -> Iterator[Container]:
    """Open an envelope file: a bare compact JWE or a ZIP container."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != ZIP_MAGIC:
        if path.stat().st_size > max_envelope_bytes:
            raise OversizedEnvelope(f"envelope is larger than {max_envelope_bytes} bytes")
        yield Container(path.read_bytes(), None)
        return
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise MalformedEnvelope("envelope container is not a valid ZIP file") from exc
    with zf:
        names = zf.namelist()
        if not names or names[0] != ENVELOPE_ENTRY or len(set(names)) != len(names):
            raise MalformedEnvelope(
                f"container must start with {ENVELOPE_ENTRY} and have unique entries"
            )
        if any(not BLOB_ENTRY.match(n) for n in names[1:]):
            raise MalformedEnvelope("container holds entries other than the envelope and its blobs")
        if zf.getinfo(ENVELOPE_ENTRY).file_size > max_envelope_bytes:
            raise OversizedEnvelope(f"envelope is larger than {max_envelope_bytes} bytes")
        try:
            token = zf.read(ENVELOPE_ENTRY)
        except (zipfile.BadZipFile, OSError) as exc:
            raise MalformedEnvelope("envelope entry of the container is damaged") from exc
        yield Container(token, zf)
