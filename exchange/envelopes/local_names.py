"""Local file names for received attachments: a sender's name never decides where a file goes,
and never replaces a file that is already there (findings 20 and 21)."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from .errors import AttachmentError

NAME_MAX = 255  # bytes, POSIX {NAME_MAX} on the usual file systems
MAX_CANDIDATES = 1000
# Control characters (NUL among them), format characters (the bidi overrides that make
# "evil\u202efdp.exe" look like "evil.pdf"), surrogates, unassigned and private-use code points,
# and line or paragraph separators: replaced, so a name prints as one honest line.
_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_MAX_SUFFIX = 16


def name_max(folder: Path) -> int:
    """Return the longest file name, in bytes, that ``folder``'s file system takes."""
    try:
        return max(16, min(NAME_MAX, os.pathconf(folder, "PC_NAME_MAX")))
    except (OSError, ValueError):
        return NAME_MAX


def _fit(name: str, limit: int) -> str:
    """Shorten a name to ``limit`` UTF-8 bytes, on a character boundary, keeping a short suffix."""
    if len(name.encode("utf-8")) <= limit:
        return name
    suffix = Path(name).suffix
    if len(suffix.encode("utf-8")) > _MAX_SUFFIX:
        suffix = ""
    room = limit - len(suffix.encode("utf-8"))
    stem = name[: len(name) - len(suffix)].encode("utf-8")[:room].decode("utf-8", "ignore")
    return stem + suffix


def safe_name(name: str, att_id: str, limit: int = NAME_MAX) -> str:
    """Turn a sender's file name into one plain file name: no path, no hidden file, bounded."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join("_" if unicodedata.category(c) in _UNSAFE else c for c in base)
    if base in ("", ".", ".."):
        base = att_id
    elif base.startswith("."):
        suffix = Path(base).suffix
        base = att_id + (suffix if len(suffix) <= _MAX_SUFFIX else "")
    return _fit(base, limit)


def _candidates(base: str, att_id: str, limit: int) -> Iterator[str]:
    yield base
    yield _fit(f"{att_id}-{base}", limit)
    for n in range(2, MAX_CANDIDATES):
        yield _fit(f"{att_id}-{n}-{base}", limit)


def claim_new_file(folder: Path, name: str, att_id: str) -> Path:
    """Create an empty file under a safe, unused name in ``folder`` and return its path.

    Each candidate is created with O_EXCL, so a name taken a moment ago, however many clashes
    there are, is never reused and never overwritten (a symbolic link counts as taken).
    """
    limit = name_max(folder)
    base = safe_name(name, att_id, limit)
    for candidate in _candidates(base, att_id, limit):
        path = folder / candidate
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        os.close(fd)
        return path
    raise AttachmentError(f"no free file name for attachment {att_id} in {folder}")
