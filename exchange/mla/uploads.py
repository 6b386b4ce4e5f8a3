"""Uploads of evidence of any size: streamed off the socket into an encrypted staging file.

Werkzeug's form parser hands each uploaded file, piece by piece, to the request's stream factory;
its default keeps a file over 500 KB in an anonymous temporary file in the system's temporary
folder, in plaintext. ``EvidenceRequest`` gives the routes marked ``accepts_evidence`` a
``StagedUpload`` instead: each piece is hashed (SHA-256), counted against the annex limit and
encrypted on the way into a staging file under the instance folder, so that neither memory nor
disk ever holds the whole file in plaintext. The file's first bytes are checked as they arrive:
a file that is none of the evidence types, or too large, is refused there, the rest of the body
read and dropped. Staging files go when the request ends, whatever happened (``close``), and the
background pass ``uploads`` sweeps any that a killed process left behind.

The final blob cannot be written in one pass: its associated data names its SHA-256
(``storage.blob_context``), known only at the end. The staged file is therefore re-encrypted
into the store, read through a seekable decrypting view (``open``).
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

from flask import Flask, Request, current_app

from exchange.envelopes import stores as envelope_stores
from exchange.mla import filetypes

# Room above the annex limit for the other fields of an upload's form and the multipart framing.
FORM_ROOM = 1 << 20
STAGING_MAX_AGE = 24 * 3600  # a staging file older than any upload can take is an orphan
HEAD = 8  # the bytes that tell an evidence type (filetypes.check_evidence reads as many)

F = TypeVar("F", bound=Callable[..., Any])


def accepts_evidence(view: F) -> F:
    """Mark a view whose uploads are annexes (streamed, up to the annex limit)."""
    view.accepts_evidence = True  # type: ignore[attr-defined]
    return view


def staging_dir(app: Flask) -> Path:
    """Return the folder of uploads being received, beside the blobs (owner only)."""
    folder = Path(app.instance_path) / "uploads"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def annex_limit(app: Flask) -> int:
    """Return the largest annex the node accepts (``max_annex_mb``)."""
    return int(app.config["EXCHANGE"].max_annex_mb) << 20


class StagedUpload:
    """One uploaded file as it arrives: hashed, counted, head-checked, encrypted to a staging file."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
        self.path = Path(name)
        self.max_bytes = max_bytes
        self.refused: str | None = None  # an MlaError code: too_large, bad_file_type, empty_file
        self.size = 0
        self.sha256 = ""
        self._head = b""
        self._file: IO[bytes] | None = os.fdopen(fd, "w+b")
        self._context = f"upload:{uuid.uuid4()}"  # bound to this staging file alone
        self._writer: envelope_stores.SegmentWriter | None = envelope_stores.file_writer(
            self._file, context=self._context
        )

    def write(self, data: bytes) -> int:
        """Take the next piece of the file (dropped once the file is refused)."""
        if self.refused is not None or self._writer is None:
            return len(data)
        self.size += len(data)
        if self.size > self.max_bytes:
            return self._refuse("too_large", len(data))
        if len(self._head) < HEAD:
            self._head += data[: HEAD - len(self._head)]
            if len(self._head) == HEAD and filetypes.evidence_type_of(self._head) is None:
                return self._refuse("bad_file_type", len(data))
        return self._writer.write(data)

    def _refuse(self, code: str, taken: int) -> int:
        """Stop keeping the file: say why, and remove what was staged."""
        self.refused = code
        self._drop()
        return taken

    def seek(self, offset: int, whence: int = 0) -> int:
        """Finish the file (Werkzeug rewinds it once its last piece has arrived)."""
        self.finish()
        return 0

    def finish(self) -> None:
        """Write the last segment and note the SHA-256; refuse an empty or untyped file."""
        if self._writer is None:
            return
        self.sha256 = self._writer.close()
        self._writer = None
        if self._file is not None:
            self._file.flush()
        if self.refused is None and not self.size:
            self._refuse("empty_file", 0)
        elif self.refused is None and filetypes.evidence_type_of(self._head) is None:
            self._refuse("bad_file_type", 0)

    def open(self) -> IO[bytes]:
        """Return a seekable view of the staged plaintext (decrypted segment by segment)."""
        self.finish()
        if self.refused is not None or self._file is None:
            raise ValueError(f"the upload was refused ({self.refused})")
        return envelope_stores.open_file(open(self.path, "rb"), context=self._context)

    def read(self, size: int = -1) -> bytes:
        """Read nothing: the plaintext is reached through ``open`` (Werkzeug may probe for it)."""
        return b""

    def _drop(self) -> None:
        """Close and remove the staging file."""
        self._writer = None
        if self._file is not None:
            self._file.close()
            self._file = None
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Remove the staging file (when the request ends)."""
        self._drop()


class EvidenceRequest(Request):
    """A request whose annex uploads are staged encrypted, up to the annex limit (not the default)."""

    def accepts_evidence(self) -> bool:
        """Tell whether this request's route is marked ``accepts_evidence``."""
        view = current_app.view_functions.get(self.endpoint or "")
        if getattr(view, "accepts_evidence", False) is not True:
            return False
        # The drafting form's steps share one route: only its annexes step takes files.
        return (self.view_args or {}).get("step", "annexes") == "annexes"

    @property
    def max_content_length(self) -> int | None:
        """Return the body limit: the annex limit on annex routes, else the node's default."""
        if self._max_content_length is None and self.accepts_evidence():
            return annex_limit(current_app) + FORM_ROOM
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        """Stage an annex upload encrypted; leave other uploads to Werkzeug."""
        if not self.accepts_evidence():
            return super()._get_file_stream(
                total_content_length, content_type, filename, content_length
            )
        staged = StagedUpload(staging_dir(current_app), annex_limit(current_app))
        self.staged_uploads.append(staged)
        return staged  # type: ignore[return-value]

    @property
    def staged_uploads(self) -> list[StagedUpload]:
        """Return the files this request staged (kept even if parsing the body failed)."""
        if "_staged_uploads" not in self.__dict__:
            self.__dict__["_staged_uploads"] = []
        staged: list[StagedUpload] = self.__dict__["_staged_uploads"]
        return staged

    def close(self) -> None:
        """Close the request and remove every staging file it made, even of a broken body."""
        try:
            super().close()
        finally:
            for staged in self.staged_uploads:
                staged.close()


def sweep_staging(app: Flask, *, now: float | None = None) -> int:
    """Remove staging files a killed process left (older than a day); return how many."""
    folder = Path(app.instance_path) / "uploads"
    if not folder.is_dir():
        return 0
    limit = (time.time() if now is None else now) - STAGING_MAX_AGE
    removed = 0
    for path in folder.glob(".upload-*.part"):
        if path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
