"""Flask-Limiter's per-request check, run only where a limit can apply.

Flask-Limiter checks limits in two places: a view's own limits (``@limiter.limit``) in the
wrapper that the decorator puts around the view, and the limits that are not a view's own
(application-wide, default, blueprint and meta limits, and the limits of decorated functions a
view calls, which it remembers as hints of the endpoint) in a ``before_request`` hook that runs
for every request. This node declares only views' own limits, so that hook resolves nothing for
any request, at some tens of microseconds each (the API's reads pay it as much as any page).

``init_app`` puts a guard in front of that hook: it runs the hook exactly when one of those
other kinds of limit exists (asked of the limiter on every request, so that a limit added at any
time counts from the next request); a view's own limits are checked by their wrappers as before.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter


def _other_limits(limiter: Limiter, endpoint: str) -> bool:
    """Tell whether a limit other than views' own is declared that may apply to ``endpoint``."""
    manager = limiter.limit_manager
    return bool(
        manager._application_limits
        or manager._default_limits
        or manager._blueprint_limits
        or limiter._meta_limits
        or limiter._in_memory_fallback
        or manager.has_hints(endpoint)
    )


def init_app(app: Flask, limiter: Limiter) -> None:
    """Run the limiter's ``before_request`` check only where a limit other than a view's own may
    apply (after ``limiter.init_app(app)``)."""
    hooks = app.before_request_funcs.setdefault(None, [])
    check = limiter._check_request_limit
    position = hooks.index(check)  # a bound method: equal to the one init_app registered

    def check_request_limit() -> None:
        """Check the application, default, blueprint and meta limits, if there are any."""
        if _other_limits(limiter, request.endpoint or ""):
            check()

    hooks[position] = check_request_limit
