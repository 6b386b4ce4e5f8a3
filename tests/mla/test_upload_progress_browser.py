"""In a real browser: an annex upload shows its progress (static/upload.js, XHR upload events)
and lands on the next page with its message; a file over the limit is refused before it is
sent, in the page's language; without JavaScript the same form still uploads."""

from __future__ import annotations

import hashlib

import pytest

from exchange.extensions import db
from exchange.mla.models import MlaRequest
from tests import evidence_http
from tests.mla.conftest import sign_in

pytestmark = pytest.mark.browser

MIB = 1 << 20
# Records every value the progress bar takes (the page is replaced at the end, not the window).
WATCH = """() => {
  window.seenProgress = [];
  const bar = document.querySelector('#annex-upload progress');
  new MutationObserver(() => window.seenProgress.push(Number(bar.value)))
    .observe(bar, {attributes: true, childList: true, characterData: true, subtree: true});
}"""


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Annexes of up to 40 MiB."""
    return {"max_annex_mb": 40}


def _jpeg(tmp_path, size: int):  # type: ignore[no-untyped-def]
    path = tmp_path / "extraction.jpg"
    with open(path, "wb") as out:
        for piece in evidence_http.jpeg_pieces(size):
            out.write(piece)
    return path


def test_an_upload_shows_its_progress_and_lands_on_the_next_page(
    tab, app, make_user, make_request, tmp_path
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    db.session.commit()
    path = _jpeg(tmp_path, 30 * MIB)
    page = tab("fr")
    sign_in(page, prosecutor)
    page.goto(f"/requests/{request.public_id}/edit/annexes")
    xhr = []
    page.on("request", lambda r: xhr.append(r.method) if r.resource_type == "xhr" else None)
    page.locator("#annex-upload input[type=file]").set_input_files(str(path))
    page.evaluate(WATCH)
    page.locator("#annex-upload button[type=submit]").click()
    page.get_by_text("Ajouté.").wait_for(timeout=60_000)  # the next page, with its message
    assert xhr == ["POST", "GET"]  # the upload, then the page it leads to (followed by XHR)
    seen = page.evaluate("window.seenProgress")
    assert seen and max(seen) == 100, seen
    assert page.url.endswith(f"/requests/{request.public_id}/edit/annexes")
    db.session.expire_all()
    annex = db.session.get(MlaRequest, request.id).annexes[0]
    assert annex.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert annex.size == 30 * MIB


def test_a_file_over_the_limit_is_refused_before_it_is_sent(
    tab, app, make_user, make_request, tmp_path
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    db.session.commit()
    path = _jpeg(tmp_path, 41 * MIB)
    page = tab("pt")
    sign_in(page, prosecutor)
    page.goto(f"/requests/{request.public_id}/edit/annexes")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.locator("#annex-upload input[type=file]").set_input_files(str(path))
    page.locator("#annex-upload button[type=submit]").click()
    status = page.locator("#annex-upload [data-upload-status]")
    status.get_by_text("O ficheiro excede 40 MB, o maior tamanho que este nó aceita.").wait_for()
    assert posts == []


def test_without_javascript_the_form_still_uploads(
    browser, live_server, app, make_user, make_request, tmp_path
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    db.session.commit()
    path = _jpeg(tmp_path, 2 * MIB)
    context = browser.new_context(base_url=live_server, locale="en-GB", java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, prosecutor)
        page.goto(f"/requests/{request.public_id}/edit/annexes")
        page.locator("#annex-upload input[type=file]").set_input_files(str(path))
        page.locator("#annex-upload button[type=submit]").click()
        page.get_by_text("Added.").wait_for()
        assert page.locator("#annex-upload [data-upload-progress]").is_hidden()
    finally:
        context.close()
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).annexes[0].size == 2 * MIB
