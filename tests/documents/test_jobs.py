"""Bundle jobs: queued from the desk, built by the worker (one worker per job), progress seen
at once, stored encrypted, downloadable, recorded on the timeline; failures and crashes."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from exchange.db import utcnow
from exchange.documents import jobs
from exchange.documents.models import BundleJob
from exchange.extensions import db
from exchange.mla.models import MlaRequest, RequestEvent
from tests.conftest import csrf_token, login

pytestmark = pytest.mark.usefixtures("bundle_builder")  # the real builder, with signing keys


def _queue(client, request, lang="fr"):  # type: ignore[no-untyped-def]
    """Queue a build through the desk's page; return the job page's address."""
    url = f"/paper/requests/{request.public_id}"
    token = csrf_token(client, url)
    response = client.post(f"{url}/bundles", data={"csrf_token": token, "lang": lang})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def test_a_job_queued_by_the_page_is_built_by_the_worker_and_downloadable(
    app, client, runner, make_user, transmitted
):
    liaison = make_user("liaison_officer", "SN-CA")
    request = transmitted()
    liaison_id, request_id = liaison.id, request.id
    login(client, liaison)
    desk = client.get("/paper/").get_data(as_text=True)
    assert request.public_id in desk
    item = client.get(f"/paper/requests/{request.public_id}").get_data(as_text=True)
    assert '<option selected value="en">' in item or 'value="en" selected' in item  # NG: English
    job_url = _queue(client, request, lang="fr")
    page = client.get(job_url).get_data(as_text=True)
    assert 'http-equiv="refresh"' in page and "bundle-progress.js" in page  # works without script
    status_url = job_url + "/status.json"
    assert client.get(status_url).get_json()["state"] == "queued"

    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "bundles.built=1" in result.output

    status = client.get(status_url)
    assert status.headers["Cache-Control"] == "no-store"
    data = status.get_json()
    assert data["state"] == "done" and data["percent"] == 100 and data["download"]
    page = client.get(job_url).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page and "Download the bundle" in page

    download = client.get(data["download"])
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    db.session.expire_all()
    job = db.session.scalar(select(BundleJob))
    assert job.sha256 == hashlib.sha256(download.data).hexdigest() and job.lang == "fr"
    stored = Path(app.instance_path) / job.result_path
    assert stored.exists() and not stored.read_bytes().startswith(b"%PDF")  # encrypted at rest
    built = db.session.scalar(select(RequestEvent).where(RequestEvent.action == "bundle_built"))
    payload = json.loads(built.payload)
    assert payload["template_version"] == job.template_version != ""
    assert payload["lang"] == "fr" and payload["sha256"] == job.sha256
    assert built.actor_id == liaison_id
    request = db.session.get(MlaRequest, request_id)
    assert built.to_state == request.state  # a record, not a move

    # The requesting side's officer sees the build on the timeline, with its template version.
    officer = make_user("central_authority_officer", "SN-CA")
    other = app.test_client()
    login(other, officer)
    view = other.get(f"/requests/{request.public_id}").get_data(as_text=True)
    assert "Signed bundle built" in view and job.template_version in view


def test_a_double_click_queues_one_job(client, make_user, transmitted):
    liaison = make_user("liaison_officer", "SN-CA")
    request = transmitted()
    login(client, liaison)
    assert _queue(client, request) == _queue(client, request)
    assert len(db.session.scalars(select(BundleJob)).all()) == 1


def test_two_workers_never_build_the_same_job(app, make_user, transmitted, bundle_builder):
    liaison = make_user("liaison_officer", "SN-CA")
    request = transmitted()
    for lang in ("en", "fr", "pt"):
        jobs.queue_bundle(db.session, liaison, request, lang=lang)
    db.session.commit()
    built: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(2)

    def counting(session, req, *, lang, progress=None):  # type: ignore[no-untyped-def]
        with lock:
            built.append(lang)
        return bundle_builder(session, req, lang=lang, progress=progress)

    errors: list[BaseException] = []

    def worker() -> None:
        with app.app_context():
            try:
                start.wait()
                while jobs.run_pass(db.session, bundles_dir=folder, builder=counting):
                    pass
            except BaseException as exc:  # reported to the test below
                errors.append(exc)
            finally:
                db.session.remove()

    folder = Path(app.instance_path) / "bundles"
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(built) == ["en", "fr", "pt"]  # each job built once, by one worker
    db.session.expire_all()
    states = {j.lang: (j.state, j.attempts) for j in db.session.scalars(select(BundleJob))}
    assert states == {"en": ("done", 1), "fr": ("done", 1), "pt": ("done", 1)}
    events = db.session.scalars(select(RequestEvent).where(RequestEvent.action == "bundle_built"))
    assert len(list(events)) == 3


def test_a_claimed_job_is_not_claimed_again_until_its_lease_runs_out(make_user, transmitted):
    liaison = make_user("liaison_officer", "SN-CA")
    job = jobs.queue_bundle(db.session, liaison, transmitted(), lang="en")
    db.session.commit()
    claimed = jobs.claim_next(db.session)
    assert claimed is not None and claimed[0].id == job.id
    assert jobs.claim_next(db.session) is None
    later = utcnow() + jobs.LEASE + timedelta(seconds=1)
    again = jobs.claim_next(db.session, now=later)  # the first worker died: retried
    assert again is not None and again[1] != claimed[1] and again[0].attempts == 2


def test_a_job_whose_worker_died_is_built_after_its_lease(app, make_user, transmitted):
    liaison = make_user("liaison_officer", "SN-CA")
    job = jobs.queue_bundle(db.session, liaison, transmitted(), lang="en")
    db.session.commit()
    assert jobs.claim_next(db.session) is not None  # ... and the worker is killed here
    db.session.execute(
        update(BundleJob).values(lease_until=utcnow() - timedelta(seconds=1))
    )  # the lease ran out
    db.session.commit()
    counts = jobs.run_pass(db.session, bundles_dir=Path(app.instance_path) / "bundles")
    assert counts == {"built": 1}
    db.session.expire_all()
    assert db.session.get(BundleJob, job.id).state == "done"


def test_a_job_interrupted_too_often_fails_with_a_reason(app, client, make_user, transmitted):
    liaison = make_user("liaison_officer", "SN-CA")
    job = jobs.queue_bundle(db.session, liaison, transmitted(), lang="en")
    job.attempts = jobs.MAX_ATTEMPTS
    db.session.commit()
    counts = jobs.run_pass(db.session, bundles_dir=Path(app.instance_path) / "bundles")
    assert counts == {"failed": 1}
    db.session.expire_all()
    assert db.session.get(BundleJob, job.id).error == "too_many_attempts"


def test_a_failed_build_shows_a_translated_reason_never_a_500(app, client, make_user, transmitted):
    liaison = make_user("liaison_officer", "SN-CA")
    request = transmitted()
    job = jobs.queue_bundle(db.session, liaison, request, lang="pt")
    db.session.commit()

    def broken(session, req, *, lang, progress=None):  # type: ignore[no-untyped-def]
        progress(1, 5)
        raise RuntimeError("WeasyPrint fell over")

    counts = jobs.run_pass(
        db.session, bundles_dir=Path(app.instance_path) / "bundles", builder=broken
    )
    assert counts == {"failed": 1}
    login(client, liaison)
    client.post("/language", data={"csrf_token": csrf_token(client, "/paper/"), "locale": "fr"})
    status = client.get(f"/paper/bundles/{job.public_id}/status.json").get_json()
    assert status["state"] == "failed" and "WeasyPrint" not in status["error"]
    assert "Le dossier n'a pas pu être constitué" in status["error"]
    page = client.get(f"/paper/bundles/{job.public_id}")
    assert page.status_code == 200 and "pas pu être constitué" in page.get_data(as_text=True)
    assert client.get(f"/paper/bundles/{job.public_id}/download").status_code == 404


def test_progress_is_visible_while_the_worker_builds(
    app, client, make_user, transmitted, monkeypatch, bundle_builder
):
    liaison = make_user("liaison_officer", "SN-CA")
    job = jobs.queue_bundle(db.session, liaison, transmitted(), lang="en")
    db.session.commit()
    login(client, liaison)
    seen: list[dict] = []

    def slow(session, req, *, lang, progress=None):  # type: ignore[no-untyped-def]
        progress(0, 4)
        progress(2, 4)
        seen.append(client.get(f"/paper/bundles/{job.public_id}/status.json").get_json())
        return bundle_builder(session, req, lang=lang)

    monkeypatch.setattr(jobs, "REPORT_EVERY", 0.0)  # write every step in this test
    jobs.run_pass(db.session, bundles_dir=Path(app.instance_path) / "bundles", builder=slow)
    assert seen[0]["state"] == "running" and seen[0]["done"] == 2 and seen[0]["total"] == 4
    assert seen[0]["percent"] == 50


def test_the_requested_side_builds_the_bundle_of_its_answer(app, make_user, exchange):
    done = exchange()
    assert done.incoming.state == "executed"
    ng_liaison = make_user("liaison_officer", "NG-CA")
    job = jobs.queue_bundle(db.session, ng_liaison, done.incoming, lang="en")
    db.session.commit()
    counts = jobs.run_pass(db.session, bundles_dir=Path(app.instance_path) / "bundles")
    assert counts == {"built": 1}
    db.session.expire_all()
    built = db.session.get(BundleJob, job.id)
    data = jobs.read_bundle(Path(app.instance_path) / "bundles", built)
    assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == built.sha256
