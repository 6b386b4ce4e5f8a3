"""The node's public URL: where the enrolment links it hands out point, and whether that is where
people reach the portal.

An enrolment link is read on another machine, days later: it must carry the address people use
(``EXCHANGE_PUBLIC_URL``), never the address a request happened to arrive on (a ``Host`` header
is the client's to choose). Unset, links fall back to ``EXCHANGE_NODE_URL`` (the address peers
reach, ``http://127.0.0.1:5000`` by default) and the administration pages and the start-up
output say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from exchange.settings import Settings

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int] | None:
    """Return the (scheme, host, port) of an absolute http(s) URL, or None if it is not one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def links_base(settings: Settings) -> str:
    """Return the address enrolment links are built on, without its final slash."""
    return (settings.public_url or settings.node_url).rstrip("/")


@dataclass(frozen=True)
class LinkCheck:
    """Whether the links handed out point where the portal is being used."""

    links_to: str
    in_use: str
    unset: bool  # EXCHANGE_PUBLIC_URL is not set: links fall back to the node URL
    elsewhere: bool  # links and the address in use differ (scheme, host or port)

    @property
    def ok(self) -> bool:
        """Tell whether there is nothing to warn about."""
        return not (self.unset or self.elsewhere)


def check(settings: Settings, in_use: str) -> LinkCheck:
    """Compare where enrolment links point with ``in_use``, the address a page is served at."""
    links_to = links_base(settings)
    return LinkCheck(
        links_to=links_to,
        in_use=in_use.rstrip("/"),
        unset=not settings.public_url,
        elsewhere=origin(links_to) != origin(in_use),
    )


def startup_message(settings: Settings, listening: str | None = None) -> str | None:
    """Return what a starting node should tell its operator about enrolment links, or None.

    ``listening`` is the address a server started from the command line listens on; behind a
    proxy it differs from the public URL, and rightly so, hence a note and not an error.
    """
    base = links_base(settings)
    if not settings.public_url:
        where = f", not {listening}" if listening and origin(listening) != origin(base) else ""
        return (
            f"EXCHANGE_PUBLIC_URL is not set: enrolment links will point to {base} "
            f"(EXCHANGE_NODE_URL){where}. Set EXCHANGE_PUBLIC_URL to the address people use "
            "to reach the portal."
        )
    if listening and origin(listening) != origin(base):
        return (
            f"enrolment links point to {base} (EXCHANGE_PUBLIC_URL); this server listens "
            f"on {listening}: right only if a proxy serves {base} and forwards to it."
        )
    return None
