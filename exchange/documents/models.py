"""Bundle jobs (a signed PDF built by the worker, not in the web request) and paper dispatches.

A bundle job is queued from the liaison officer's desk and claimed by one worker at a time
(a conditional UPDATE: it works alike on SQLite and PostgreSQL). While it runs, its lease is
renewed with its progress; a job whose worker died is claimed again once its lease has run out.
The built PDF is stored under ``instance/bundles/`` encrypted with the node's data key.

A paper dispatch records that the request (or its answer) left by an official channel — the
diplomatic pouch, a courier — and later that the other side received it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.db import new_uuid, utcnow
from exchange.extensions import db

if TYPE_CHECKING:
    from exchange.auth.models import User
    from exchange.mla.models import MlaRequest

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
JOB_STATES = (QUEUED, RUNNING, DONE, FAILED)


class BundleJob(db.Model):  # type: ignore[name-defined]
    """One build of a request's signed bundle: who asked, in which language, how far it got."""

    __tablename__ = "bundle_jobs"
    __table_args__ = (
        Index("ix_bundle_jobs_state", "state", "id"),
        Index("ix_bundle_jobs_request", "request_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    request_id: Mapped[int] = mapped_column(ForeignKey("mla_requests.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lang: Mapped[str] = mapped_column(String(2))
    # JSON: the options the build was asked with (and, once built, what the builder reports).
    parameters: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[str] = mapped_column(String(10), default=QUEUED)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    # A code of ``jobs.FAILURE_CODES``: shown translated, never a traceback.
    error: Mapped[str] = mapped_column(String(40), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    # The claim of the worker building it (a random token) and until when it holds.
    claim: Mapped[str] = mapped_column(String(36), default="")
    lease_until: Mapped[datetime | None] = mapped_column()
    # The encrypted file under instance/, relative to it; its plaintext's SHA-256.
    result_path: Mapped[str] = mapped_column(String(200), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    bundle_id: Mapped[str] = mapped_column(String(64), default="")
    template_version: Mapped[str] = mapped_column(String(80), default="")
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()

    request: Mapped[MlaRequest] = relationship()
    requested_by: Mapped[User | None] = relationship()


class PaperDispatch(db.Model):  # type: ignore[name-defined]
    """A request, or an answer to one, sent by an official channel, and its receipt abroad.

    ``subject`` says what was sent: ``request`` (the requesting side's letter) or the answer's
    state (``partially_executed``, ``executed``, ``refused``), so that a second answer makes a
    second dispatch due. References may name a diplomatic note: kept as entered, never sent.
    """

    __tablename__ = "paper_dispatches"
    __table_args__ = (Index("ix_paper_dispatches_request", "request_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    request_id: Mapped[int] = mapped_column(ForeignKey("mla_requests.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(30))
    reference: Mapped[str] = mapped_column(String(120), default="")
    dispatched_on: Mapped[date] = mapped_column()
    bundle_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("bundle_jobs.id", ondelete="SET NULL")
    )
    dispatched_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_on: Mapped[date | None] = mapped_column()
    receipt_reference: Mapped[str] = mapped_column(String(120), default="")
    received_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[MlaRequest] = relationship()
    bundle_job: Mapped[BundleJob | None] = relationship()
