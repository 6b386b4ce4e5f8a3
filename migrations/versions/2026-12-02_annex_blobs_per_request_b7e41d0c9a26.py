"""annex blobs kept per request

Suspicion S1 of the security review: blobs were stored once per node under the SHA-256 of their
plaintext (``blobs/<sha[:2]>/<sha>``, associated data ``blob:<sha>``), so any annex row naming a
digest reached the file. Each request now keeps its own copy (``blobs/<request>/<sha>``,
associated data ``blob:<request>:<sha>``). Existing blobs are re-encrypted into the folder of
every request whose annex rows name them, then removed; the downgrade puts them back.

Revision ID: b7e41d0c9a26
Revises: 9203ca21517f
Create Date: 2026-12-02 09:00:00

"""

import io
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app

from exchange.envelopes.stores import decrypt_file, encrypt_file

# revision identifiers, used by Alembic.
revision = "b7e41d0c9a26"
down_revision = "9203ca21517f"
branch_labels = None
depends_on = None


def _annexes() -> list[tuple[str, str]]:
    """Return (request public id, SHA-256) of every annex row."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT DISTINCT r.public_id, a.sha256 FROM mla_annexes a"
            " JOIN mla_requests r ON r.id = a.request_id"
        )
    )
    return [(row[0], row[1]) for row in rows]


def _blobs() -> Path:
    return Path(current_app.instance_path) / "blobs"


def _recrypt(source: Path, old_context: str, target: Path, new_context: str) -> None:
    """Re-encrypt one blob under another associated data; the target appears whole or not."""
    plain = io.BytesIO()
    with open(source, "rb") as src:
        decrypt_file(src, plain, context=old_context)
    plain.seek(0)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "wb") as dst:
        encrypt_file(plain, dst, context=new_context)
    tmp.replace(target)


def _remove(paths: set[Path]) -> None:
    """Remove files, and their folders once empty."""
    for path in paths:
        path.unlink(missing_ok=True)
    for folder in {p.parent for p in paths}:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def upgrade():
    base = _blobs()
    moved: set[Path] = set()
    for request_id, sha in _annexes():
        old, new = base / sha[:2] / sha, base / request_id / sha
        if old.is_file():
            if not new.exists():
                _recrypt(old, f"blob:{sha}", new, f"blob:{request_id}:{sha}")
            moved.add(old)
    _remove(moved)


def downgrade():
    base = _blobs()
    moved: set[Path] = set()
    for request_id, sha in _annexes():
        old, new = base / sha[:2] / sha, base / request_id / sha
        if new.is_file():
            if not old.exists():
                _recrypt(new, f"blob:{request_id}:{sha}", old, f"blob:{sha}")
            moved.add(new)
    _remove(moved)
