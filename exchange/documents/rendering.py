"""Official documents rendered from ``document_templates/``: sandboxed Jinja, then WeasyPrint.

A document is a folder ``document_templates/<document>/`` with one template per language
(``en.html``, ``fr.html``, ``pt.html``), each written in its own legal register. Templates render
in a sandboxed Jinja environment with autoescape and ``StrictUndefined`` from a context of plain
data only (dicts, lists, strings, numbers, dates): no ORM object reaches a template, and a missing
variable is an error, not an empty string.

The PDF is PDF/A-3b. WeasyPrint fetches through ``ConfinedFetcher``, which serves ``data:`` URLs
and the files under ``document_templates/`` (resolved, so ``..`` and symbolic links cannot leave
it) and refuses everything else — no network, no other ``file:``, no redirect. A refusal is a
warning WeasyPrint logs, never an aborted rendering. No file is ever embedded in the PDF:
attachments that ``<link rel=attachment>`` or ``<a rel=attachment>`` would add are dropped before
the PDF is written, and ``attachments=`` stays empty.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import mimetypes
import re
import threading
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

#: The folder of the official documents, their print stylesheet, fonts and emblems.
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "document_templates"

#: The languages every document is written in.
LANGUAGES = ("en", "fr", "pt")

#: The one print stylesheet, under ``document_templates/``.
PRINT_CSS = "print.css"
_PRINT_LINK = re.compile(r'<link rel="stylesheet" href="print\.css">')

#: The PDF variant of every official document.
PDF_VARIANT = "pdf/a-3b"

_PLAIN_SCALARS = (str, int, float, bool, Decimal, dt.date, dt.datetime, dt.time, type(None))

log = logging.getLogger(__name__)


class DocumentError(ValueError):
    """A document cannot be rendered: unknown document or language, or a context not plain data."""


class FetchRefused(ValueError):
    """The fetcher refused a URL (WeasyPrint logs it and renders without the resource)."""


def _template_version(root: Path) -> str:
    """Return a short SHA-256 over the relative paths and contents of the files under ``root``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if "__pycache__" in relative:
            continue
        digest.update(relative.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


#: The version of ``document_templates/`` a document was made with (recorded beside each bundle).
TEMPLATE_VERSION = _template_version(TEMPLATES_DIR)


def documents() -> tuple[str, ...]:
    """Return the names of the documents, each a folder with a template per language."""
    return tuple(
        sorted(
            path.name
            for path in TEMPLATES_DIR.iterdir()
            if path.is_dir()
            and not path.name.startswith(("_", "."))
            and (path / "en.html").is_file()
        )
    )


def template_name(document: str, lang: str) -> str:
    """Return the loader name of a document's template in a language, or raise ``DocumentError``."""
    if lang not in LANGUAGES:
        raise DocumentError(f"unknown language {lang!r}; one of: {', '.join(LANGUAGES)}")
    if document not in documents():
        raise DocumentError(f"unknown document {document!r}; one of: {', '.join(documents())}")
    return f"{document}/{lang}.html"


def assert_plain(value: Any, where: str = "context") -> None:
    """Raise ``DocumentError`` unless ``value`` is plain data (no ORM object, no callable)."""
    if isinstance(value, _PLAIN_SCALARS):
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise DocumentError(f"{where}: key {key!r} is not a string")
            assert_plain(item, f"{where}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            assert_plain(item, f"{where}[{index}]")
        return
    raise DocumentError(f"{where}: {type(value).__name__} is not plain data")


def _date(value: Any, lang: str = "en") -> str:
    """Format a date (or an ISO date string) the way the language's legal documents write it."""
    from babel.dates import format_date

    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    # English legal documents of West Africa write the day first (2 December 2026).
    return format_date(value, format="long", locale="en_GB" if lang == "en" else lang)


def _environment() -> SandboxedEnvironment:
    """Return the sandboxed environment the official documents render in."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["longdate"] = _date
    return env


_ENV = _environment()


def environment() -> SandboxedEnvironment:
    """Return the (shared) sandboxed environment of the official documents."""
    return _ENV


def _render(document: str, lang: str, context: Mapping[str, Any], *, embedded: bool) -> str:
    """Render one language's template (a whole document, or its section alone if embedded)."""
    name = template_name(document, lang)
    assert_plain(context)
    try:
        template = _ENV.get_template(name)
    except TemplateNotFound as exc:
        raise DocumentError(f"no template {name}") from exc
    return template.render(dict(context), document=document, lang=lang, embedded=embedded)


def render_html(document: str, lang: str, context: Mapping[str, Any]) -> str:
    """Render a document's template in a language from a plain-data context, as HTML."""
    return _render(document, lang, context, embedded=False)


def render_parts_html(document: str, parts: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """Render a document in several languages, one part after the other (each on a new page).

    The first part is the original (the requested state's language, for a letter); the others
    follow it in the same HTML document, each from its own context in its own language.
    """
    if not parts:
        raise DocumentError("no language to render")
    first_lang, first_context = parts[0]
    html = _render(document, first_lang, first_context, embedded=False)
    extra = "".join(_render(document, lang, ctx, embedded=True) for lang, ctx in parts[1:])
    head, body_end, tail = html.rpartition("</body>")
    return head + extra + body_end + tail


def _confined_path(url: str) -> Path:
    """Return the file under ``document_templates/`` a ``file:`` URL names, or raise."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise FetchRefused(f"refused {url!r}: a file URL names a host")
    path = Path(url2pathname(unquote(parts.path))).resolve()
    root = TEMPLATES_DIR.resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise FetchRefused(f"refused {url!r}: not a file of document_templates/")
    return path


def _fetcher_class() -> type:
    """Build the fetcher class (WeasyPrint is imported on first rendering, not at start-up)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ConfinedFetcher(URLFetcher):
        """Serve ``data:`` and the files of ``document_templates/``; refuse everything else.

        No redirect is followed and nothing reaches the network: ``fetch`` never calls the
        opener for anything but a ``data:`` URL. Each refusal is kept in ``refused``.
        """

        def __init__(self) -> None:
            super().__init__(
                allowed_protocols=("data", "file"), allow_redirects=False, fail_on_errors=False
            )
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            """Return the resource at ``url`` if it is allowed; raise ``FetchRefused`` otherwise."""
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            try:
                if scheme == "data":
                    return super().fetch(url, headers)
                if scheme == "file":
                    path = _confined_path(url)
                    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(
                        path.as_uri(), path.read_bytes(), {"Content-Type": mime}
                    )
                raise FetchRefused(f"refused {url[:200]!r}: only data: and document_templates/")
            except FetchRefused:
                self.refused.append(url)
                log.warning("document fetcher refused %s", url[:200])
                raise

        def open(self, url: Any, data: Any = None, timeout: Any = None) -> Any:
            """Fetch through ``fetch`` only (never the opener's handlers)."""
            full = getattr(url, "full_url", url)
            return self.fetch(full)

    return ConfinedFetcher


_FETCHER_CLASS: type | None = None


def confined_fetcher() -> Any:
    """Return a new deny-by-default URL fetcher for WeasyPrint."""
    global _FETCHER_CLASS
    if _FETCHER_CLASS is None:
        _FETCHER_CLASS = _fetcher_class()
    return _FETCHER_CLASS()


def _drop_attachments(document: Any) -> None:
    """Remove every file attachment a rendered WeasyPrint document would embed."""
    document.metadata.attachments = []
    for page in document.pages:
        page.links[:] = [link for link in page.links if link[0] != "attachment"]


_OUTPUT_INTENT = "exchange-srgb"


def _srgb_profile() -> Any:
    """Return WeasyPrint's sRGB profile, read once and closed (PDF/A needs an output intent).

    WeasyPrint 70 opens the profile itself for ``output_intent="srgb"`` and never closes the
    file; handing it the profile under our own name leaves no file open.
    """
    global _SRGB_PROFILE
    if _SRGB_PROFILE is None:
        from importlib.resources import files

        from weasyprint.css import ColorProfile

        data = (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()
        _SRGB_PROFILE = ColorProfile(
            io.BytesIO(data), "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"])
        )
    return _SRGB_PROFILE


_SRGB_PROFILE: Any = None


class _Shared:
    """The print stylesheet, parsed once, and the fonts its ``@font-face`` rules load.

    Parsing the stylesheet and loading the shipped fonts is a third of a short letter's cost;
    they do not change while the node runs. WeasyPrint and Pango are not thread-safe: one
    rendering at a time (``lock``).
    """

    lock = threading.Lock()
    stylesheet: Any = None
    font_config: Any = None

    @classmethod
    def get(cls) -> tuple[Any, Any]:
        """Return the parsed print stylesheet and its font configuration (loaded on first use)."""
        if cls.stylesheet is None:
            from weasyprint import CSS
            from weasyprint.text.fonts import FontConfiguration

            cls.font_config = FontConfiguration()
            path = TEMPLATES_DIR / PRINT_CSS
            cls.stylesheet = CSS(
                string=path.read_text(encoding="utf-8"),
                base_url=path.as_uri(),
                url_fetcher=confined_fetcher(),
                font_config=cls.font_config,
            )
        return cls.stylesheet, cls.font_config


def html_to_pdf(html: str, fetcher: Any = None) -> bytes:
    """Render HTML to PDF/A-3b bytes with the print stylesheet (``print.css``) applied.

    Relative URLs resolve against ``document_templates/``. A ``<link>`` to ``print.css`` in the
    HTML (for a browser's preview) is not fetched again: the stylesheet parsed once is used.
    """
    from weasyprint import HTML

    fetcher = fetcher if fetcher is not None else confined_fetcher()
    options: dict[str, Any] = {
        "presentational_hints": False,
        "pdf_variant": PDF_VARIANT,
        "output_intent": _OUTPUT_INTENT,
    }
    with _Shared.lock:
        stylesheet, font_config = _Shared.get()
        document = HTML(
            string=_PRINT_LINK.sub("", html),
            base_url=TEMPLATES_DIR.as_uri() + "/",
            url_fetcher=fetcher,
        )
        rendered = document.render(
            stylesheets=[stylesheet],
            font_config=font_config,
            color_profiles={_OUTPUT_INTENT: _srgb_profile()},
            **options,
        )
        _drop_attachments(rendered)
        return bytes(rendered.write_pdf(attachments=[], **options))


def render_pdf(document: str, lang: str, context: Mapping[str, Any]) -> bytes:
    """Render a document in a language from a plain-data context, as PDF/A-3b bytes."""
    return html_to_pdf(render_html(document, lang, context))


def render_parts_pdf(document: str, parts: Sequence[tuple[str, Mapping[str, Any]]]) -> bytes:
    """Render a document in several languages, one part after the other, as PDF/A-3b bytes."""
    return html_to_pdf(render_parts_html(document, parts))
