"""One unit of work per request or job: views and services flush, only this module commits.

It also owns what happens when a unit of work cannot commit as it is:

- a **refusal** (``exchange.exceptions.Refused``) discards the request's changes, whatever the
  response: views catch the refusal to explain it, and never roll back themselves;
- a **lost race** (another person or the worker changed the same request first: the optimistic
  lock's ``StaleDataError``, a ``Conflict``, a lock or serialization failure of the engine) rolls
  back and answers 409 — never a 500. An area may register how to answer it
  (``conflict_responder``): a double click answers as the first click did, anything else shows
  the request as it is now beside what the user had entered;
- a **job** (worker, command line) that loses a race is run again (``run_job``).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, g, request
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.orm.exc import StaleDataError

from exchange.db import DbSession
from exchange.errors import render_error
from exchange.exceptions import Conflict, Refused
from exchange.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")

# SQLSTATEs of PostgreSQL that mean "another transaction got there first": retry or answer 409.
_RACE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})  # serialization, deadlock, lock busy
# How each area (blueprint name) answers a lost race, and a refusal that its view let through.
_RACE_RESPONDERS: dict[str, Callable[[], ResponseReturnValue]] = {}
_REFUSAL_RESPONDERS: dict[str, Callable[[Refused], ResponseReturnValue]] = {}
# The key of ``Session.info`` that says the session's transaction wrote something.
_WROTE = "exchange.wrote"


def keep_changes_on_error() -> None:
    """Commit this request's changes even though it answers with an error (a failed login count)."""
    g.keep_changes_on_error = True


def discard_changes() -> None:
    """Roll this request's changes back whatever the response (a refused action)."""
    db.session.rollback()
    g.discard_changes = True


def lost_race(exc: BaseException, *, duplicates: bool = False) -> bool:
    """Tell whether ``exc`` means that another transaction changed the same rows first.

    ``duplicates`` also counts a unique-constraint violation (two workers inserting the same
    received message): a job re-run then finds the other's row and does nothing twice.
    """
    if isinstance(exc, Conflict | StaleDataError):
        return True
    if duplicates and isinstance(exc, IntegrityError):
        return True
    if isinstance(exc, DBAPIError) and not isinstance(exc, IntegrityError):
        original = exc.orig
        if getattr(original, "sqlstate", None) in _RACE_SQLSTATES:
            return True
        # SQLite: another connection holds the write lock past the busy timeout, or committed
        # after this transaction's snapshot (SQLITE_BUSY_SNAPSHOT): the same message for both.
        return "database is locked" in str(original)
    return False


def race_responder(
    bp: Blueprint,
) -> Callable[[Callable[[], ResponseReturnValue]], Callable[[], ResponseReturnValue]]:
    """Register how ``bp``'s views answer a lost race (called after the rollback)."""

    def register(func: Callable[[], ResponseReturnValue]) -> Callable[[], ResponseReturnValue]:
        _RACE_RESPONDERS[bp.name] = func
        return func

    return register


def refusal_responder(
    bp: Blueprint,
) -> Callable[[Callable[[Refused], ResponseReturnValue]], Callable[[Refused], ResponseReturnValue]]:
    """Register how ``bp``'s views explain a refusal (called after its changes are discarded)."""

    def register(
        func: Callable[[Refused], ResponseReturnValue],
    ) -> Callable[[Refused], ResponseReturnValue]:
        _REFUSAL_RESPONDERS[bp.name] = func
        return func

    return register


def _answer_lost_race() -> ResponseReturnValue:
    """Discard the request's changes and answer the lost race as the view's area says."""
    discard_changes()
    g.pop("_flashes", None)
    cookie_session.pop("_flashes", None)  # the view's "done" must not survive its rollback
    responder = _RACE_RESPONDERS.get(request.blueprint or "")
    if responder is not None:
        return responder()
    return render_error(409)


def _note_flush(session: Session, _context: Any) -> None:
    """Remember that the session's transaction wrote (a flush sent changes)."""
    session.info[_WROTE] = True


def _note_statement(state: ORMExecuteState) -> None:
    """Remember that the session's transaction may have written (any statement but a SELECT:
    an UPDATE, INSERT or DELETE of Core or the ORM, or text, whatever it does)."""
    if not state.is_select:
        state.session.info[_WROTE] = True


def wrote(session: Session) -> bool:
    """Tell whether the session's transaction has written, or holds changes not yet flushed.

    Every statement sent through the session (``session.execute``, its queries, its flushes) is
    seen; one sent on ``session.connection()`` directly is not: write through the session.
    """
    return bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)


def init_app(app: Flask) -> None:
    """Commit after a successful response; roll back after an error, a refusal or an exception."""
    if not event.contains(Session, "after_flush", _note_flush):
        event.listen(Session, "after_flush", _note_flush)
        event.listen(Session, "do_orm_execute", _note_statement)

    @app.after_request
    def commit_unit_of_work(response: Response) -> Response:
        """Commit the request's changes if the response is a success or a redirect.

        A request that wrote nothing (only SELECTs, nothing flushed, nothing pending: most reads)
        has nothing to commit: its session is closed at the end of the request as any other,
        which ends its transaction, without the commit's expiry of every object it loaded.
        """
        keep = g.pop("keep_changes_on_error", False)
        discard = g.pop("discard_changes", False)
        session = db.session()
        if not wrote(session):
            return response
        session.info.pop(_WROTE, None)
        if discard or (response.status_code >= 400 and not keep):
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except Exception as exc:
            if not lost_race(exc):
                raise
            log.info("lost race at commit on %s %s", request.method, request.path)
            return app.make_response(_answer_lost_race())
        return response

    @app.teardown_request
    def rollback_on_exception(exc: BaseException | None) -> None:
        """Roll back whatever an exception left half-done."""
        if exc is not None:
            db.session.rollback()

    @app.errorhandler(Refused)
    def refused(exc: Refused) -> ResponseReturnValue:
        """Discard a refused action's changes; let its area explain it (else a 400 page)."""
        if isinstance(exc, Conflict):
            return race(exc)
        discard_changes()
        responder = _REFUSAL_RESPONDERS.get(request.blueprint or "")
        if responder is not None:
            return responder(exc)
        return render_error(400)

    def race(exc: Exception) -> ResponseReturnValue:
        """Answer a lost race with 409 (never 500); let every other database error through."""
        if not lost_race(exc):
            raise exc
        log.info("lost race on %s %s: %s", request.method, request.path, type(exc).__name__)
        return _answer_lost_race()

    app.register_error_handler(Conflict, race)
    app.register_error_handler(StaleDataError, race)
    app.register_error_handler(DBAPIError, race)


@contextmanager
def unit_of_work() -> Iterator[DbSession]:
    """Run a command-line or background job as one unit of work: commit, or roll back on error."""
    session = db.session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def run_job(session: DbSession, job: Callable[[], T], *, attempts: int = 6) -> T:
    """Run ``job`` as one unit of work on ``session``; run it again while it loses races.

    A job that lost a race (a person moved the same request while the worker applied a message)
    is rolled back and run again from the start, after a short pause with exponential backoff
    and jitter, so that nothing it did is half-kept and nothing is done twice. Any other error,
    or the last lost race, rolls back and propagates.
    """
    for attempt in range(1, attempts + 1):
        try:
            result = job()
            session.commit()
        except Exception as exc:
            session.rollback()
            if attempt == attempts or not lost_race(exc, duplicates=True):
                raise
            pause = 0.02 * 2 ** (attempt - 1) * (0.5 + random.random())  # noqa: S311 - jitter
            log.info(
                "job lost a race (%s); attempt %d in %.2fs", type(exc).__name__, attempt, pause
            )
            time.sleep(pause)
        else:
            return result
    raise AssertionError("unreachable")  # pragma: no cover
