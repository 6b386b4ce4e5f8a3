"""The one HTTP client of the node: it speaks only to the URL an administrator gave for a peer.

http or https only; no redirect followed (a peer that answers 3xx is an error, so a descriptor
or an inbox cannot send us to another host); a timeout on connecting and reading; the answer read
up to a size limit and refused beyond it. No proxy from the environment is used.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from exchange.federation.errors import FederationError

DESCRIPTOR_PATH = "/federation/v1/node"
INBOX_PATH = "/federation/v1/inbox"
MAX_DESCRIPTOR_BYTES = 1 << 20
MAX_RECEIPT_BYTES = 64 << 10
TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Answer:
    """A peer's answer: HTTP status, media type and body (already size-checked)."""

    status: int
    content_type: str
    body: bytes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse every redirect: we fetch only the URL we were given."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def,unused-ignore]
        """Follow nothing (urllib then raises the 3xx as an HTTPError)."""
        return None


_OPENER = urllib.request.build_opener(
    urllib.request.ProxyHandler({}),  # never a proxy from the environment
    _NoRedirect(),
)


def base_url(url: str) -> str:
    """Return a peer's base URL (scheme, host, port, path prefix), or refuse an unusable one."""
    text = url.strip()
    if len(text) > 300:
        raise FederationError("bad_url", "a peer URL is at most 300 characters")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FederationError("bad_url", "a peer URL starts with http:// or https:// and a host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise FederationError("bad_url", "a peer URL carries no user, query or fragment")
    path = parts.path.rstrip("/")
    if path.endswith(DESCRIPTOR_PATH):
        path = path[: -len(DESCRIPTOR_PATH)]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _call(request: urllib.request.Request, max_bytes: int, timeout: float) -> Answer:
    """Send one request and read the answer up to ``max_bytes``."""
    try:
        # The URL is built by base_url from an administrator's http(s) URL: no file: or ftp:.
        response = _OPENER.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        response = exc  # a 4xx/5xx answer still carries a body (a rejected receipt)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FederationError("unreachable", str(getattr(exc, "reason", exc))[:150]) from exc
    with response:
        status = response.status if hasattr(response, "status") else response.code
        if 300 <= status < 400:
            raise FederationError(
                "redirected", f"the peer answered {status}; redirects are refused"
            )
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            raise FederationError("answer_too_large", f"the answer exceeds {max_bytes} bytes")
        try:
            body = response.read(max_bytes + 1)
        except (OSError, ValueError) as exc:
            raise FederationError("unreachable", str(exc)[:150]) from exc
        if len(body) > max_bytes:
            raise FederationError("answer_too_large", f"the answer exceeds {max_bytes} bytes")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    return Answer(status, content_type, body)


def fetch_descriptor(url: str, *, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """GET a peer's signed node descriptor from its base URL."""
    request = urllib.request.Request(  # noqa: S310 - scheme checked by base_url
        base_url(url) + DESCRIPTOR_PATH, headers={"Accept": "application/jose"}
    )
    answer = _call(request, MAX_DESCRIPTOR_BYTES, timeout)
    if answer.status != 200:
        raise FederationError("bad_answer", f"the peer answered {answer.status}")
    return answer.body


def post_envelope(
    url: str, body: bytes, content_type: str, *, timeout: float = TIMEOUT_SECONDS
) -> Answer:
    """POST an envelope (or its container) to a peer's inbox; return its answer."""
    request = urllib.request.Request(  # noqa: S310 - scheme checked by base_url
        base_url(url) + INBOX_PATH,
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "Accept": "application/jose"},
    )
    return _call(request, MAX_RECEIPT_BYTES, timeout)
