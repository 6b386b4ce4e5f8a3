"""Error pages in the user's language, and JSON errors for the API; never a bare 500 page."""

from __future__ import annotations

import logging
import traceback

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

MESSAGES = {
    400: _l("The request could not be understood. Please check what you entered and try again."),
    401: _l("Please sign in to continue."),
    403: _l("You do not have permission to see this page."),
    404: _l("This page does not exist, or you do not have access to it."),
    405: _l("This action is not allowed here."),
    409: _l(
        "Someone else has just changed this. Nothing you sent was saved: "
        "reload the page to see it as it is now."
    ),
    413: _l("What you sent is too large."),
    429: _l("Too many attempts. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. Nothing you entered was saved; please try again."),
}

TITLES = {
    400: _l("Bad request"),
    401: _l("Sign-in required"),
    403: _l("Access refused"),
    404: _l("Not found"),
    405: _l("Not allowed"),
    409: _l("Changed in the meantime"),
    413: _l("Too large"),
    429: _l("Too many attempts"),
    500: _l("Server error"),
}


def escape_for_log(text: str) -> str:
    """Return ``text`` with line breaks and other control characters escaped, on one line.

    A path or header is the client's text: written raw, a CR or LF in it would start a forged
    log line (review finding 17).
    """
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def indented_trace(error: BaseException) -> str:
    """Return ``error``'s traceback with every line marked as a continuation of one record.

    An exception's message may quote the client's input with its line breaks; prefixed this way,
    no line of it can pass for a record of its own.
    """
    lines = "".join(traceback.format_exception(error)).splitlines()
    return "\n".join(f"  | {escape_for_log(line)}" for line in lines)


def wants_json() -> bool:
    """Tell whether the client reads JSON (the API, a peer node, a script) rather than pages."""
    return bool(
        request.blueprint in {"api", "federation"}
        or request.path.startswith("/api/v1/")
        or request.accept_mimetypes.best in ("application/json", "application/problem+json")
    )


def problem(code: int, detail: str, **extra: object) -> ResponseReturnValue:
    """Return an RFC 9457 problem details body, ``detail`` in the user's language."""
    body = {
        "type": "about:blank",
        "title": str(TITLES.get(code, TITLES[500])),
        "status": code,
        "detail": detail,
        **extra,
    }
    response = jsonify(body)
    response.status_code = code
    response.mimetype = "application/problem+json"
    return response


def render_error(code: int, message: str | None = None) -> ResponseReturnValue:
    """Render the error page, or a problem details body for JSON clients, for ``code``."""
    text = message or str(MESSAGES.get(code, MESSAGES[500]))
    if wants_json():
        return problem(code, text)
    title = str(TITLES.get(code, TITLES[500]))
    return render_template("error.html", code=code, title=title, message=text), code


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> ResponseReturnValue:
        """Explain a missing or stale form token in the user's language."""
        return render_error(
            400,
            str(
                _l(
                    "This form has expired or was not sent from this site. "
                    "Please reload the page and try again."
                )
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        """Render any HTTP error with our page."""
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> ResponseReturnValue:
        """Log an unexpected exception and answer with a plain, translated 500 page."""
        if app.testing and app.config.get("PROPAGATE_EXCEPTIONS"):
            raise error
        log.error(
            "unhandled error on %s %s\n%s",
            escape_for_log(request.method),
            escape_for_log(request.path),
            indented_trace(error),
        )
        return render_error(500)
