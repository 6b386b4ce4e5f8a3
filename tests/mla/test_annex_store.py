"""The annex store is one interface: with an in-memory store in the local folder's place, uploads
through the portal and the API, downloads, and the hand-over of a request's files to another
authority all work, and not a file is written to the blobs folder."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import select

from exchange.envelopes import stores as envelope_stores
from exchange.extensions import db
from exchange.mla import storage
from exchange.mla.errors import MlaError
from exchange.mla.models import INCOMING, MlaRequest
from exchange.mla.storage import AnnexStore, blob_context
from tests import files
from tests.conftest import csrf_token, login
from tests.mla.conftest import deliver_locally


class MemoryStore:
    """Annexes kept encrypted in a dict, by request and SHA-256 (an ``AnnexStore``)."""

    def __init__(self) -> None:
        self.blobs: dict[tuple[str, str], bytes] = {}

    def put(self, request_id: str, sha256: str, content: IO[bytes]) -> bool:
        """Encrypt and keep ``content`` unless it is there already."""
        storage.check_address(request_id, sha256)
        if (request_id, sha256) in self.blobs:
            return False
        content.seek(0)
        out = io.BytesIO()
        _size, digest = envelope_stores.encrypt_file(
            content, out, context=blob_context(request_id, sha256)
        )
        if digest != sha256:
            raise MlaError("corrupt")
        self.blobs[request_id, sha256] = out.getvalue()
        return True

    def open(self, request_id: str, sha256: str) -> IO[bytes]:
        """Return a decrypting view of a kept blob."""
        if (request_id, sha256) not in self.blobs:
            raise MlaError("not_found")
        return envelope_stores.open_file(
            io.BytesIO(self.blobs[request_id, sha256]), context=blob_context(request_id, sha256)
        )

    def exists(self, request_id: str, sha256: str) -> bool:
        """Say whether the blob is kept."""
        return (request_id, sha256) in self.blobs

    def delete(self, request_id: str, sha256: str) -> None:
        """Forget the blob."""
        self.blobs.pop((request_id, sha256), None)


@pytest.fixture
def memory_store() -> Iterator[MemoryStore]:
    """Put an in-memory store in the local folder's place for one test."""
    store = MemoryStore()
    _typed: AnnexStore = store  # the class satisfies the interface (checked by mypy)
    storage.use_store(lambda _blobs_dir: store)
    try:
        yield store
    finally:
        storage.use_store(None)


def test_every_area_reaches_annexes_through_the_store_interface(
    app, make_user, make_request, memory_store
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    statement = files.pdf("Statement kept in memory")
    digest = hashlib.sha256(statement).hexdigest()
    client = app.test_client()
    login(client, prosecutor)
    url = f"/requests/{request.public_id}/edit/annexes"
    answer = client.post(
        url,
        data={"csrf_token": csrf_token(client, url), "file": (io.BytesIO(statement), "s.pdf")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 303
    assert set(memory_store.blobs) == {(request.public_id, digest)}
    assert statement not in memory_store.blobs[request.public_id, digest]  # kept encrypted
    download = client.get(f"/requests/{request.public_id}/annexes/{digest}")
    assert download.status_code == 200 and download.data == statement

    # The request goes to another authority of this node: its copy of the file, in the store.
    from exchange.mla import services

    services.submit(db.session, prosecutor, request)
    services.approve(db.session, make_user("central_authority_officer", "SN-CA"), request)
    db.session.commit()
    assert deliver_locally() == 1
    incoming = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == INCOMING
        )
    )
    assert (incoming.public_id, digest) in memory_store.blobs
    with services.open_annex(Path(app.instance_path) / "blobs", incoming.annexes[0]) as copy:
        assert copy.read() == statement

    blobs = Path(app.instance_path) / "blobs"
    assert not blobs.exists() or not [p for p in blobs.rglob("*") if p.is_file()]
