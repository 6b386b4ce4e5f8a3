"""The one HTTP client of the node: it speaks only to the URL an administrator gave for a peer.

http or https only; no redirect followed (a peer that answers 3xx is an error, so a descriptor
or an inbox cannot send us to another host); a timeout on connecting and reading; the answer read
up to a size limit and refused beyond it. No proxy from the environment is used.

The worker POSTs envelopes through ``PeerConnections``: one persistent (keep-alive) connection
per peer and per sending thread, opened again when the peer closed it (a server that keeps no
connection alive answers ``Connection: close``, and the next POST opens a new one).
"""

from __future__ import annotations

import http.client
import ssl
import threading
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


class PeerConnections:
    """Keep-alive connections to peers' inboxes, one per peer and per thread (http.client).

    http.client follows no redirect and uses no proxy; a 3xx is refused as by ``_call``. A POST
    on a kept connection that the peer had closed meanwhile is sent once more on a new one: an
    envelope is the same bytes at every attempt and the inbox answers a duplicate with the
    receipt given the first time, so sending it again is safe.
    """

    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self._local = threading.local()
        self._tls = ssl.create_default_context()

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        pool: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault(
            "pool", {}
        )
        conn = pool.get((scheme, netloc))
        if conn is None:
            if scheme == "https":
                conn = http.client.HTTPSConnection(netloc, timeout=self.timeout, context=self._tls)
            else:
                conn = http.client.HTTPConnection(netloc, timeout=self.timeout)
            pool[(scheme, netloc)] = conn
        return conn

    def post(self, url: str, body: bytes, content_type: str) -> Answer:
        """POST an envelope (or its container) to a peer's inbox; return its answer."""
        parts = urlsplit(base_url(url) + INBOX_PATH)
        headers = {"Content-Type": content_type, "Accept": "application/jose"}
        for attempt in (1, 2):
            conn = self._connection(parts.scheme, parts.netloc)
            reused = conn.sock is not None
            try:
                conn.request("POST", parts.path, body=body, headers=headers)
                return self._read(conn.getresponse())
            except FederationError:
                conn.close()
                raise
            except (http.client.HTTPException, OSError, ValueError) as exc:
                conn.close()
                if attempt == 1 and reused:
                    continue  # the peer had closed the kept connection: once more, afresh
                raise FederationError("unreachable", str(exc)[:150] or type(exc).__name__) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _read(response: http.client.HTTPResponse) -> Answer:
        status = response.status
        if 300 <= status < 400:
            raise FederationError(
                "redirected", f"the peer answered {status}; redirects are refused"
            )
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > MAX_RECEIPT_BYTES:
            raise FederationError(
                "answer_too_large", f"the answer exceeds {MAX_RECEIPT_BYTES} bytes"
            )
        body = response.read(MAX_RECEIPT_BYTES + 1)
        if len(body) > MAX_RECEIPT_BYTES:
            raise FederationError(
                "answer_too_large", f"the answer exceeds {MAX_RECEIPT_BYTES} bytes"
            )
        if not response.isclosed():
            response.read()  # the rest (nothing, by Content-Length), so the connection is reusable
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return Answer(status, content_type, body)
