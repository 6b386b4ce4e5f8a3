"""The public verification page ``/verify``: upload a bundle, read the verdict.

No login (``exchange.security.PUBLIC_ENDPOINTS``): a foreign court clerk holding a bundle has
no account here. The page shows only the verdict, the signing authority and the bundle's own
index — nothing from the database, so it tells a stranger nothing they did not bring. The form
is CSRF-protected, the upload bounded in size and the POST rate-limited like the sign-in form;
the file is read in the request and never stored. The QR code of a bundle points here with the
bundle id, content digest and key thumbprint in the query, which the page compares with what
the signed file says.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue

from exchange.envelopes.stores import key_store
from exchange.extensions import limiter

from .verify_forms import VerifyForm

bp = Blueprint("verify", __name__, template_folder="templates")

# A bundle carries several annexes, each within the upload limit: allow a few of them.
BUNDLE_UPLOAD_FACTOR = 4
_CLAIM = re.compile(r"^[A-Za-z0-9_\-]{1,100}$")


def _verify_limit() -> str:
    """Return the rate limit of the verification form (the sign-in forms' limit)."""
    return str(current_app.config["EXCHANGE"].login_rate_limit)


def max_bundle_bytes() -> int:
    """Return the largest bundle the page accepts."""
    return int(current_app.config["EXCHANGE"].max_upload_mb) * 1024 * 1024 * BUNDLE_UPLOAD_FACTOR


@bp.before_request
def _bound_upload() -> None:
    """Raise this page's upload limit above a single annex's (Flask 3.1 per-request limit)."""
    request.max_content_length = max_bundle_bytes()


def _claims() -> dict[str, str]:
    """Return what the scanned QR code says (bundle id, digest, key), if well-formed."""
    claims = {}
    for key, name in (("b", "bundle_id"), ("d", "content_digest"), ("k", "key_thumbprint")):
        value = request.args.get(key, "")
        if _CLAIM.match(value):
            claims[name] = value
    return claims


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(_verify_limit, methods=["POST"])
def verify() -> ResponseReturnValue:
    """Show the upload form; on a submitted PDF, show the verdict, signer and index."""
    form = VerifyForm()
    claims = _claims()
    verdict = None
    matches = None
    if form.validate_on_submit():
        upload = form.file.data
        # pyHanko (about 19 MiB resident) is imported by the first verification, not at start-up.
        from .verify import trust_roots, verify_pdf

        verdict = verify_pdf(upload.stream, trust_roots(key_store()))
        if verdict.valid and claims:
            said = {
                "bundle_id": verdict.manifest.get("bundle_id"),
                "content_digest": verdict.manifest.get("content_digest"),
                "key_thumbprint": verdict.key_thumbprint,
            }
            matches = all(said[k] == v for k, v in claims.items())
    status = 200 if verdict is None or verdict.valid else 422
    return (
        render_template(
            "documents/verify.html", form=form, verdict=verdict, claims=claims, matches=matches
        ),
        status,
    )
