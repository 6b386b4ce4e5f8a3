"""Suspicion S1 (shared/reference/security-review.md): a peer's payload announced an annex by
SHA-256 alone, and blobs were stored once per node under that digest, so announcing the digest of
a file another authority stored here could give the peer's message a downloadable annex of it.

Now an incoming annex is recorded only from a file its own envelope carried, checked against the
signed manifest, and each request keeps its blobs in a folder of its own."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import select

from exchange.extensions import db
from exchange.mla import services
from exchange.mla.models import INCOMING, Annex, MlaRequest
from tests import files
from tests.conftest import login
from tests.mla import peer
from tests.mla.conftest import deliver_locally


def _blobs(app) -> Path:  # type: ignore[no-untyped-def]
    return Path(app.instance_path) / "blobs"


def _stored_statement(app, prosecutor, make_request):  # type: ignore[no-untyped-def]
    """Return a draft of Tambacounda's with a victim's statement annexed (never sent anywhere)."""
    draft = make_request(prosecutor)
    statement = files.pdf("Statement of Blessing Okafor, victim")
    annex = services.add_annex(
        db.session,
        prosecutor,
        draft,
        filename="statement-blessing.pdf",
        data=statement,
        kind="supporting",
        blobs_dir=_blobs(app),
        max_bytes=10 << 20,
    )
    db.session.commit()
    return draft, annex, statement


def test_suspicion_s1_a_request_announcing_anothers_annex_gets_no_row(
    app, make_user, make_request, tmp_path
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    sn_officer = make_user("central_authority_officer", "SN-CA")
    _draft, annex, statement = _stored_statement(app, prosecutor, make_request)
    envelopes = peer.envelopes_for("NG-CA", "SN-CA")

    # NG-CA announces the statement's SHA-256, size and type, and carries nothing.
    conversation = str(uuid.uuid4())
    entry = peer.annex_entry(statement, filename="statement.pdf")
    assert entry["sha256"] == annex.sha256
    sealed = peer.seal(
        envelopes, peer.request_body(conversation, annexes=[entry]), blob_dir=tmp_path
    )
    assert peer.deliver(envelopes, sealed) == "rejected:missing-attachment"

    # Nor does carrying some other file under the announced digest help.
    other = files.pdf("Something else")
    conversation2 = str(uuid.uuid4())
    sealed = peer.seal(
        envelopes,
        peer.request_body(conversation2, annexes=[entry]),
        files=(("statement.pdf", other, "application/pdf"),),
        blob_dir=tmp_path,
    )
    assert peer.deliver(envelopes, sealed) == "rejected:missing-attachment"

    db.session.expire_all()
    assert (
        db.session.scalars(
            select(MlaRequest).where(MlaRequest.conversation_id.in_([conversation, conversation2]))
        ).all()
        == []
    )
    assert db.session.scalars(select(Annex).where(Annex.sha256 == annex.sha256)).all() == [annex]
    client = app.test_client()
    login(client, sn_officer)
    for row in db.session.scalars(select(MlaRequest).where(MlaRequest.side == INCOMING)):
        assert client.get(f"/requests/{row.public_id}/annexes/{annex.sha256}").status_code == 404


def _in_execution(make_user, make_request):  # type: ignore[no-untyped-def]
    """Return an outgoing request of Tambacounda's to NG-CA, delivered and in execution there."""
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    ng_officer = make_user("central_authority_officer", "NG-CA")
    request = make_request(prosecutor)
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, make_user("central_authority_officer", "SN-CA"), request)
    deliver_locally()
    incoming = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == INCOMING
        )
    )
    services.act(db.session, ng_officer, incoming, "register", {"reference": "CAU/7"})
    services.act(db.session, ng_officer, incoming, "assign", {"authority": "NG-CA"})
    services.act(db.session, ng_officer, incoming, "start_execution", {})
    deliver_locally()
    db.session.commit()
    assert request.state == "in_execution"
    return prosecutor, request


def test_suspicion_s1_a_response_cannot_reach_another_requests_annex(
    app, make_user, make_request, tmp_path
):
    prosecutor, request = _in_execution(make_user, make_request)
    _draft, annex, statement = _stored_statement(app, prosecutor, make_request)
    envelopes = peer.envelopes_for("NG-CA", "SN-CA")

    # The requested authority answers the real request, naming the other draft's statement.
    body = peer.response_body(request.conversation_id, [peer.annex_entry(statement)])
    sealed = peer.seal(
        envelopes,
        body,
        msg_type="mla.response",
        conversation=request.conversation_id,
        blob_dir=tmp_path,
    )
    assert peer.deliver(envelopes, sealed) == "rejected:missing-attachment"
    db.session.expire_all()
    request = db.session.get(MlaRequest, request.id)
    assert request.state == "in_execution"
    assert [a for a in request.annexes if a.kind == "result"] == []
    client = app.test_client()
    login(client, prosecutor)
    page = f"/requests/{request.public_id}/annexes/{annex.sha256}"
    assert client.get(page).status_code == 404

    # Results it does carry are kept, in the request's own folder, and can be downloaded.
    result = files.pdf("Procès-verbal d'audition, NAPTIP")
    body = peer.response_body(request.conversation_id, [peer.annex_entry(result)])
    sealed = peer.seal(
        envelopes,
        body,
        msg_type="mla.response",
        conversation=request.conversation_id,
        files=(("pv.pdf", result, "application/pdf"),),
        blob_dir=tmp_path,
    )
    assert peer.deliver(envelopes, sealed) == "delivered"
    db.session.expire_all()
    request = db.session.get(MlaRequest, request.id)
    kept = [a for a in request.annexes if a.kind == "result"]
    assert len(kept) == 1 and request.state == "partially_executed"
    assert (_blobs(app) / request.public_id / kept[0].sha256).exists()
    download = client.get(f"/requests/{request.public_id}/annexes/{kept[0].sha256}")
    assert download.status_code == 200 and download.data == result


def test_suspicion_s1_an_annex_row_reaches_only_its_own_requests_blobs(
    app, make_user, make_request
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    draft, annex, _statement = _stored_statement(app, prosecutor, make_request)
    other = make_request(prosecutor)
    # Whatever wrote it, a row of another request with the same digest finds no file there.
    other.annexes.append(
        Annex(
            kind="supporting",
            sha256=annex.sha256,
            filename_enc=annex.filename_enc,
            content_type=annex.content_type,
            size=annex.size,
        )
    )
    db.session.commit()
    client = app.test_client()
    login(client, prosecutor)
    assert client.get(f"/requests/{other.public_id}/annexes/{annex.sha256}").status_code == 404
    assert client.get(f"/requests/{draft.public_id}/annexes/{annex.sha256}").status_code == 200

    # A blob copied into the other request's folder does not decrypt there either.
    source = _blobs(app) / draft.public_id / annex.sha256
    target = _blobs(app) / other.public_id / annex.sha256
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    assert client.get(f"/requests/{other.public_id}/annexes/{annex.sha256}").status_code == 404


def test_suspicion_s1_local_delivery_carries_the_senders_files(app, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    statement = files.pdf("Statement for NG-CA")
    annex = services.add_annex(
        db.session,
        prosecutor,
        request,
        filename="statement.pdf",
        data=statement,
        kind="supporting",
        blobs_dir=_blobs(app),
        max_bytes=10 << 20,
    )
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, make_user("central_authority_officer", "SN-CA"), request)
    assert deliver_locally() == 1
    incoming = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == INCOMING
        )
    )
    copy = incoming.annexes[0]
    assert copy.sha256 == annex.sha256 and copy.uploaded_by_id is None
    # A copy of its own, in the incoming request's folder.
    assert (_blobs(app) / incoming.public_id / annex.sha256).exists()
    assert services.read_annex(_blobs(app), copy) == statement


def test_suspicion_s1_existing_blobs_move_into_their_requests_folders(app, make_user, make_request):
    from flask_migrate import downgrade, upgrade

    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    draft, annex, statement = _stored_statement(app, prosecutor, make_request)
    annex_id, digest = annex.id, annex.sha256
    scoped = _blobs(app) / draft.public_id / digest
    legacy = _blobs(app) / digest[:2] / digest
    db.session.remove()
    try:
        downgrade(revision="9203ca21517f")  # the layout before: one blob per node and digest
        assert legacy.is_file() and not scoped.exists()
    finally:
        upgrade()
    assert scoped.is_file() and not legacy.exists() and not legacy.parent.exists()
    assert services.read_annex(_blobs(app), db.session.get(Annex, annex_id)) == statement
