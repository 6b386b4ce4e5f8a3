"""One unit of work per request: views and services flush, only this module commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, Response, g

from exchange.db import DbSession
from exchange.extensions import db


def keep_changes_on_error() -> None:
    """Commit this request's changes even though it answers with an error (a failed login count)."""
    g.keep_changes_on_error = True


def init_app(app: Flask) -> None:
    """Commit after a successful response, roll back after an error or an exception."""

    @app.after_request
    def commit_unit_of_work(response: Response) -> Response:
        """Commit the request's changes if the response is a success or a redirect."""
        if response.status_code < 400 or g.pop("keep_changes_on_error", False):
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def rollback_on_exception(exc: BaseException | None) -> None:
        """Roll back whatever an exception left half-done."""
        if exc is not None:
            db.session.rollback()


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
