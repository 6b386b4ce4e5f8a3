"""Rendering: sandboxed Jinja from plain data, the deny-by-default fetcher, PDF/A-3b, shipped fonts."""

from __future__ import annotations

import datetime as dt
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from jinja2 import UndefinedError
from jinja2.exceptions import SecurityError
from pypdf import PdfReader

from exchange.documents import rendering
from exchange.documents.rendering import TEMPLATES_DIR, DocumentError, FetchRefused
from tests.documents.listener import listening
from tests.documents.pdfs import embedded_files, pdf_fonts, pdf_text, pdfa_identification

pytest.importorskip("weasyprint")

SHIPPED_FAMILIES = ("Exchange-Serif", "Exchange-Sans")


def test_the_listener_sees_a_connection() -> None:
    """The proof of "no request made" works: a real connection to the port is counted."""
    with listening() as listener:
        with socket.create_connection(("127.0.0.1", listener.port), timeout=2):
            pass
        assert listener.connections() == 1


def test_template_version_is_a_digest_of_the_folder() -> None:
    assert len(rendering.TEMPLATE_VERSION) == 16
    assert rendering._template_version(TEMPLATES_DIR) == rendering.TEMPLATE_VERSION
    assert set(rendering.documents()) == {
        "letter",
        "acknowledgement",
        "additional_information",
        "execution_report",
        "refusal_notice",
        "case_reference_notice",
        "bundle_cover",  # the bundle's own pages (bundle.py)
        "bundle_index",
    }


def test_unknown_document_or_language_is_a_clear_error() -> None:
    with pytest.raises(DocumentError, match="unknown document 'memo'"):
        rendering.render_html("memo", "en", {})
    with pytest.raises(DocumentError, match="unknown language 'de'"):
        rendering.render_html("letter", "de", {})
    with pytest.raises(DocumentError, match="unknown document"):
        rendering.render_html("../letter", "en", {})


def test_only_plain_data_reaches_a_template(app) -> None:  # type: ignore[no-untyped-def]
    from exchange.directory.models import Authority

    rendering.assert_plain({"a": [1, "b", dt.date(2026, 1, 1), None, {"c": True}]})
    with pytest.raises(DocumentError, match=r"context\.issuer: Authority is not plain data"):
        rendering.render_html("letter", "en", {"issuer": Authority(code="X", name="Y")})
    with pytest.raises(DocumentError, match="function is not plain data"):
        rendering.assert_plain({"f": [lambda: None]})
    with pytest.raises(DocumentError, match="not a string"):
        rendering.assert_plain({1: "one"})


def test_a_missing_variable_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(UndefinedError):
        rendering.render_html("letter", "en", {"request": {"reference": "R"}})


def test_the_environment_is_sandboxed_and_escapes() -> None:
    env = rendering.environment()
    assert env.autoescape is True
    with pytest.raises(SecurityError):
        env.from_string("{{ ''.__class__.__mro__ }}").render()
    assert env.from_string("{{ x }}").render(x="<script>") == "&lt;script&gt;"


def _fetch(url: str) -> bytes:
    """Fetch ``url`` with a fresh confined fetcher."""
    response = rendering.confined_fetcher().fetch(url)
    try:
        return bytes(response.read())
    finally:
        response.close()


def test_the_fetcher_serves_data_and_the_shipped_files_only(tmp_path: Path) -> None:
    assert _fetch("data:text/plain;base64,aGk=") == b"hi"
    assert _fetch((TEMPLATES_DIR / "print.css").as_uri()).startswith(b"/*")
    assert _fetch((TEMPLATES_DIR / "fonts" / "DejaVuSans.ttf").as_uri())[:4] == b"\0\1\0\0"
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (TEMPLATES_DIR.parent / "secret-link-test").unlink(missing_ok=True)
    refused = [
        outside.as_uri(),
        "file:///etc/passwd",
        (TEMPLATES_DIR / ".." / "pyproject.toml").as_uri(),
        TEMPLATES_DIR.as_uri() + "/../pyproject.toml",
        TEMPLATES_DIR.as_uri() + "/%2e%2e/pyproject.toml",
        "file://otherhost" + (TEMPLATES_DIR / "print.css").as_posix(),
        (TEMPLATES_DIR / "fonts").as_uri(),  # a folder
        "http://127.0.0.1:9/",
        "https://example.org/x.png",
        "ftp://example.org/x",
        "gopher://example.org/",
        "javascript:alert(1)",
        "about:blank",
    ]
    for url in refused:
        fetcher = rendering.confined_fetcher()
        with pytest.raises(FetchRefused):
            fetcher.fetch(url)
        assert fetcher.refused == [url]


def test_the_fetcher_refuses_a_link_that_leaves_the_folder(tmp_path: Path) -> None:
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    link = TEMPLATES_DIR / "fonts" / "escape-test.css"
    link.symlink_to(secret)
    try:
        with pytest.raises(FetchRefused):
            rendering.confined_fetcher().fetch(link.as_uri())
    finally:
        link.unlink()


def test_the_fetcher_opens_nothing_through_the_opener() -> None:
    """The opener's handlers (http, ftp, file) are never reached: ``open`` goes to ``fetch``."""
    fetcher = rendering.confined_fetcher()
    with pytest.raises(FetchRefused):
        fetcher.open("http://127.0.0.1:9/")
    assert fetcher.refused == ["http://127.0.0.1:9/"]


HOSTILE_HTML = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="print.css">
<link rel="attachment" href="file:///etc/passwd" title="passwd">
<link rel="attachment" href="print.css" title="inside the folder">
<link rel="stylesheet" href="http://127.0.0.1:{port}/sheet.css">
<style>@import url("http://127.0.0.1:{port}/import.css"); @font-face {{ font-family: X;
src: url("http://127.0.0.1:{port}/font.ttf"); }} h1 {{ font-family: X; }}</style>
</head><body>
<h1>Hostile</h1>
<a rel="attachment" href="print.css" download="x.css">an attachment link</a>
<a rel="attachment" href="file:///etc/passwd">another</a>
<img src="http://127.0.0.1:{port}/img.png">
<img src="file:///etc/passwd">
<img src="../../../../etc/passwd">
<p style="background: url(http://127.0.0.1:{port}/bg.png)">styled</p>
<svg><image href="http://127.0.0.1:{port}/svg.png"/></svg>
<iframe src="http://127.0.0.1:{port}/frame"></iframe>
<object data="http://127.0.0.1:{port}/object"></object>
<script>fetch("http://127.0.0.1:{port}/script")</script>
<p>end</p>
</body></html>"""


def test_raw_hostile_html_embeds_nothing_and_fetches_nothing(tmp_path: Path) -> None:
    """Even HTML that escaped autoescape makes no request and embeds no file, and renders."""
    with listening() as listener:
        fetcher = rendering.confined_fetcher()
        pdf = rendering.html_to_pdf(HOSTILE_HTML.format(port=listener.port), fetcher)
        assert listener.connections() == 0
    assert embedded_files(pdf) == []
    assert any(url.startswith("http://127.0.0.1") for url in fetcher.refused)
    assert "file:///etc/passwd" in fetcher.refused
    text = pdf_text(pdf, tmp_path)
    assert "HOSTILE" in text and "end" in text  # the rendering went on


def test_attachments_inside_the_folder_are_dropped_too() -> None:
    """A <link rel=attachment> the fetcher would serve (a shipped file) is still not embedded."""
    html = (
        '<html><head><link rel="attachment" href="print.css"></head>'
        '<body><a rel="attachment" href="print.css">css</a></body></html>'
    )
    assert embedded_files(rendering.html_to_pdf(html)) == []


def test_the_pdf_is_pdf_a_3b() -> None:
    pdf = rendering.html_to_pdf('<html><head><link rel="stylesheet" href="print.css"></head>'
                                "<body><p>Un acte.</p></body></html>")  # fmt: skip
    assert pdf.startswith(b"%PDF-")
    assert pdfa_identification(pdf) == ("3", "B")
    root = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    intents = root["/OutputIntents"]
    assert intents[0].get_object()["/S"] == "/GTS_PDFA1"


def test_fonts_are_only_the_shipped_ones(tmp_path: Path) -> None:
    pdf = rendering.html_to_pdf(
        '<html><head><link rel="stylesheet" href="print.css"></head><body>'
        "<h1>Título</h1><p>Exposé des faits — <em>déposition</em> <strong>sob juramento</strong>"
        "</p></body></html>"
    )
    fonts = pdf_fonts(pdf, tmp_path)
    assert fonts, "no font embedded"
    assert all(name.startswith(SHIPPED_FAMILIES) for name in fonts), fonts


def test_rendering_needs_no_system_font(tmp_path: Path) -> None:
    """With a fontconfig that knows no font at all, the document still has its shipped fonts."""
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    out = tmp_path / "nofonts.pdf"
    script = (
        "import sys; from exchange.documents import rendering\n"
        "html = '<html><head><link rel=stylesheet href=print.css></head>"
        "<body><p>Pedido de auxílio judiciário</p></body></html>'\n"
        f"open({str(out)!r}, 'wb').write(rendering.html_to_pdf(html))\n"
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(config), "PYTHONPATH": str(TEMPLATES_DIR.parent)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
    fonts = pdf_fonts(out.read_bytes(), tmp_path)
    assert fonts and all(name.startswith(SHIPPED_FAMILIES) for name in fonts), fonts
    assert "auxílio judiciário" in pdf_text(out.read_bytes(), tmp_path)
