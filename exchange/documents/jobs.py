"""Bundle jobs: a request's signed bundle, queued from the desk and built by the worker.

One worker builds a job at a time: it claims it with a conditional UPDATE (the row moves from
``queued``, or from ``running`` with a lapsed lease, to ``running`` under a fresh claim token);
on PostgreSQL the second of two UPDATEs waits for the first and then finds the row taken, on
SQLite writes are serialised — the same statement is safe on both. While it builds, the worker
reports progress on a connection of its own (so that the desk sees it at once) and renews its
lease; a job whose worker died is claimed again when the lease has run out, at most
``MAX_ATTEMPTS`` times. The PDF is stored encrypted with the node's data key under
``instance/bundles/``, and the build is recorded on the request's timeline with the template
version and parameters that made it.
"""

from __future__ import annotations

import io
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update

from exchange import policy
from exchange.auth.models import User
from exchange.db import DbSession, new_uuid, utcnow
from exchange.documents.dispatch import DeskError, record_on_timeline
from exchange.documents.models import DONE, FAILED, QUEUED, RUNNING, BundleJob
from exchange.envelopes import EnvelopeError
from exchange.envelopes.stores import decrypt_file, encrypt_file
from exchange.mla.models import MlaRequest
from exchange.mla.states import BUNDLE_BUILT

log = logging.getLogger(__name__)

LANGUAGES = ("en", "fr", "pt")
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 3
# Jobs built in one pass at most, so that the worker returns to the outbox in between.
PER_PASS = 3
# Seconds between two progress writes (the last step is always written).
REPORT_EVERY = 0.3
# Why a job failed, as codes the desk translates (a traceback goes to the log, never the page).
FAILURE_CODES = frozenset(
    {"build_failed", "request_gone", "too_many_attempts", "storage_failed", "no_signing_key"}
)
Builder = Callable[..., Any]


class Stolen(Exception):
    """Another worker claimed the job after this one's lease ran out: stop building it."""


def default_language(request: MlaRequest) -> str:
    """Return the language a bundle is built in by default: the requested state's language."""
    return request.language if request.language in LANGUAGES else "en"


def queue_bundle(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    *,
    lang: str,
    parameters: dict[str, Any] | None = None,
) -> BundleJob:
    """Queue a bundle build of ``request`` in ``lang``; a build already waiting is returned."""
    if not (actor.can("bundles.export") and policy.can_handle_paper(actor, request)):
        raise DeskError("forbidden")
    if lang not in LANGUAGES:
        raise DeskError("bad_language")
    options = json.dumps(parameters or {}, sort_keys=True)
    waiting = session.scalar(
        select(BundleJob).where(
            BundleJob.request_id == request.id,
            BundleJob.lang == lang,
            BundleJob.parameters == options,
            BundleJob.state.in_((QUEUED, RUNNING)),
        )
    )
    if waiting is not None:
        return waiting  # a double click, or a colleague's build of the same bundle
    job = BundleJob(request_id=request.id, requested_by_id=actor.id, lang=lang, parameters=options)
    session.add(job)
    session.flush()
    return job


def percent(job: BundleJob) -> int:
    """Return how far a job's build is, in percent (100 only once done)."""
    if job.state == DONE:
        return 100
    if job.progress_total:
        return min(99, int(100 * job.progress_done / job.progress_total))
    return 0


def find_job(session: DbSession, actor: User, public_id: str) -> BundleJob | None:
    """Return the job ``public_id`` if ``actor`` may see it (its request's paper), else None."""
    job = session.scalar(select(BundleJob).where(BundleJob.public_id == public_id))
    if job is None or not policy.can_handle_paper(actor, job.request):
        return None
    return job


def _claimable(now: datetime) -> Any:
    """Return the SQL condition of a job a worker may claim now."""
    return or_(
        BundleJob.state == QUEUED,
        and_(BundleJob.state == RUNNING, BundleJob.lease_until < now),
    )


def claim_next(session: DbSession, *, now: datetime | None = None) -> tuple[BundleJob, str] | None:
    """Claim the oldest claimable job for this worker; return it and the claim token.

    The candidates are read in a transaction of their own and each claim is its own UPDATE,
    committed at once: on SQLite a read transaction that turns into a write after another
    worker's commit would fail, and the claim must be seen by every other worker.
    """
    now = now or utcnow()
    candidates = list(
        session.scalars(select(BundleJob.id).where(_claimable(now)).order_by(BundleJob.id).limit(5))
    )
    session.commit()
    for job_id in candidates:
        token = new_uuid()
        result = session.execute(
            update(BundleJob)
            .where(BundleJob.id == job_id, _claimable(now))
            .values(
                state=RUNNING,
                claim=token,
                lease_until=now + LEASE,
                attempts=BundleJob.attempts + 1,
                started_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if getattr(result, "rowcount", 0) == 1:
            job = session.get(BundleJob, job_id)
            if job is not None:
                session.refresh(job)
                return job, token
    return None


class Reporter:
    """Write a job's progress on a connection of its own, renewing its lease as it goes."""

    def __init__(self, session: DbSession, job_id: int, token: str) -> None:
        bind = session.get_bind()
        self.engine: Engine = bind if isinstance(bind, Engine) else bind.engine
        self.job_id = job_id
        self.token = token
        self.every = REPORT_EVERY
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        """Record ``done`` of ``total`` steps (at most every ``every`` seconds, and the last)."""
        now = time.monotonic()
        if done < total and now - self.last < self.every:
            return
        self.last = now
        with self.engine.begin() as conn:
            result = conn.execute(
                update(BundleJob)
                .where(BundleJob.id == self.job_id, BundleJob.claim == self.token)
                .values(
                    progress_done=max(0, int(done)),
                    progress_total=max(0, int(total)),
                    lease_until=utcnow() + LEASE,
                )
            )
        if result.rowcount != 1:
            raise Stolen()


def default_builder() -> Builder:
    """Return the bundle builder of the documents area (``bundle.build_request_bundle``)."""
    # Imported when first needed: WeasyPrint and pyHanko load only in the worker that builds.
    from exchange.documents.bundle import build_request_bundle

    return build_request_bundle


def _failure_code(exc: BaseException) -> str:
    """Return the failure code of an exception raised while building."""
    code = str(getattr(exc, "code", ""))
    return code if code in FAILURE_CODES else "build_failed"


def _finish(session: DbSession, job_id: int, token: str, values: dict[str, Any]) -> bool:
    """Set a claimed job's final values if this worker still holds it; tell whether it did."""
    result = session.execute(
        update(BundleJob)
        .where(BundleJob.id == job_id, BundleJob.claim == token)
        .values(finished_at=utcnow(), lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def fail(session: DbSession, job_id: int, token: str, code: str) -> None:
    """Mark a claimed job failed with ``code`` and commit."""
    session.rollback()
    _finish(session, job_id, token, {"state": FAILED, "error": code})
    session.commit()


def bundle_path(bundles_dir: Path, public_id: str, token: str) -> Path:
    """Return where one claim of a job stores its encrypted PDF (two claims never share one)."""
    return bundles_dir / f"{public_id}.{token[:8]}.pdf.enc"


def _context(public_id: str) -> str:
    """Return the associated data of a stored bundle: a copy under another job is unreadable."""
    return f"bundle:{public_id}"


def _store(bundles_dir: Path, public_id: str, token: str, pdf: bytes) -> tuple[Path, int, str]:
    """Encrypt a built PDF into its file; return the path, size and SHA-256."""
    bundles_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = bundle_path(bundles_dir, public_id, token)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as out:
            size, digest = encrypt_file(io.BytesIO(pdf), out, context=_context(public_id))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path, size, digest


def build_one(
    session: DbSession, job: BundleJob, token: str, *, bundles_dir: Path, builder: Builder
) -> str:
    """Build a claimed job, store its PDF and record it on the timeline; return the outcome."""
    job_id, public_id, lang = job.id, job.public_id, job.lang
    request_id, requested_by_id = job.request_id, job.requested_by_id
    parameters = dict(json.loads(job.parameters or "{}"))
    if job.attempts > MAX_ATTEMPTS:
        fail(session, job_id, token, "too_many_attempts")
        return "failed"
    request = session.get(MlaRequest, request_id)
    if request is None:
        fail(session, job_id, token, "request_gone")
        return "failed"
    try:
        built = builder(session, request, lang=lang, progress=Reporter(session, job_id, token))
        pdf = bytes(built.pdf)
        # Keep what the builder recorded, and end the read: on SQLite the finishing write must
        # open its own transaction (a read one turned writer fails after another's commit).
        session.commit()
    except Stolen:
        session.rollback()
        log.warning("bundle job %s was claimed by another worker", public_id)
        return "lost"
    except Exception as exc:
        log.exception("bundle job %s failed", public_id)
        fail(session, job_id, token, _failure_code(exc))
        return "failed"
    try:
        path, size, digest = _store(bundles_dir, public_id, token, pdf)
    except (OSError, EnvelopeError):
        log.exception("bundle job %s could not be stored", public_id)
        fail(session, job_id, token, "storage_failed")
        return "failed"
    parameters.update(getattr(built, "parameters", None) or {})
    template_version = str(getattr(built, "template_version", ""))
    bundle_id = str(getattr(built, "bundle_id", ""))
    values = {
        "state": DONE,
        "error": "",
        "result_path": str(path.relative_to(bundles_dir.parent)),
        "sha256": digest,
        "size": size,
        "bundle_id": bundle_id[:64],
        "template_version": template_version[:80],
        "parameters": json.dumps(parameters, sort_keys=True, default=str),
    }
    if not _finish(session, job_id, token, values):
        session.rollback()
        path.unlink(missing_ok=True)
        return "lost"
    actor = session.get(User, requested_by_id) if requested_by_id else None
    record_on_timeline(
        session,
        actor,
        request,
        BUNDLE_BUILT,
        {
            "template_version": template_version,
            "lang": lang,
            "parameters": {k: str(v) for k, v in parameters.items()},
            "sha256": digest,
            "bundle_id": bundle_id,
        },
    )
    session.commit()
    return "built"


def run_pass(
    session: DbSession, *, bundles_dir: Path, builder: Builder | None = None
) -> dict[str, int]:
    """Build the claimable jobs (a few at most); return counts by outcome (empty if none)."""
    counts: dict[str, int] = {}
    for _ in range(PER_PASS):
        claimed = claim_next(session)
        if claimed is None:
            break
        job, token = claimed
        outcome = build_one(
            session, job, token, bundles_dir=bundles_dir, builder=builder or default_builder()
        )
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def read_bundle(bundles_dir: Path, job: BundleJob) -> bytes:
    """Return a built job's PDF, decrypted and checked against its SHA-256."""
    if job.state != DONE or not job.result_path:
        raise DeskError("not_ready")
    base = bundles_dir.parent.resolve()
    path = (base / job.result_path).resolve()
    if bundles_dir.resolve() not in path.parents or not path.exists():
        raise DeskError("not_found")
    out = io.BytesIO()
    try:
        with open(path, "rb") as src:
            _size, digest = decrypt_file(src, out, context=_context(job.public_id))
    except EnvelopeError as exc:
        raise DeskError("corrupt") from exc
    if digest != job.sha256:
        raise DeskError("corrupt")
    return out.getvalue()
