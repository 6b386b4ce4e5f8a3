"""In a real browser: the liaison officer finds a transmitted request on the desk, builds its
bundle, watches the progress bar fill as the worker builds, downloads the PDF and records the
dispatch; without script the job page refreshes itself until the bundle is ready."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from exchange.documents import jobs
from exchange.documents.models import BundleJob
from exchange.extensions import db
from tests.mla.conftest import sign_in

pytestmark = pytest.mark.browser
SERIOUS = ("serious", "critical")


def _serious(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in SERIOUS]


def test_build_watch_download_and_dispatch(
    tab, app, make_user, transmitted, bundle_builder, monkeypatch
):
    liaison = make_user("liaison_officer", "SN-CA", name="Ibrahima Fall")
    request = transmitted()
    public_id = request.public_id
    page = tab("en-GB")
    sign_in(page, liaison)
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Paper desk"
    ).click()
    page.wait_for_url("**/paper/")
    assert _serious(page) == []
    page.locator(f"tr[data-request='{public_id}'] a").click()
    page.wait_for_url(f"**/paper/requests/{public_id}")
    assert _serious(page) == []
    assert page.locator("#build-form select[name=lang]").input_value() == "en"
    page.locator("#build-form select[name=lang]").select_option("fr")
    page.locator("#build-form button[type=submit]").click()
    page.wait_for_url("**/paper/bundles/*")
    page.locator("#bundle-state").filter(has_text="Waiting for the worker").wait_for()
    assert page.locator("#bundle-download").is_hidden()

    # The worker builds in its own thread; halfway it waits, so the page shows the halfway bar.
    halfway, go_on = threading.Event(), threading.Event()

    def paced(session, req, *, lang, progress=None):  # type: ignore[no-untyped-def]
        progress(2, 4)
        halfway.set()
        assert go_on.wait(30)
        return bundle_builder(session, req, lang=lang, progress=progress)

    monkeypatch.setattr(jobs, "REPORT_EVERY", 0.0)
    outcome: dict[str, int] = {}

    def worker() -> None:
        with app.app_context():
            try:
                folder = Path(app.instance_path) / "bundles"
                outcome.update(jobs.run_pass(db.session, bundles_dir=folder, builder=paced))
            finally:
                db.session.remove()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert halfway.wait(30)
        page.locator("#bundle-state").filter(has_text="2/4").wait_for()
        assert page.locator("#bundle-progress").get_attribute("value") in ("50", None)
        assert page.evaluate("document.getElementById('bundle-progress').value") == 50
    finally:
        go_on.set()
        thread.join(60)
    assert outcome == {"built": 1}
    page.locator("#bundle-state").filter(has_text="Ready.").wait_for()
    with page.expect_download() as caught:
        page.locator("#bundle-download a").click()
    download = caught.value
    assert download.suggested_filename.endswith("-fr.pdf")
    assert Path(download.path()).read_bytes().startswith(b"%PDF")

    page.get_by_role("link", name="Record the dispatch").click()
    form = page.locator("#dispatch-form")
    form.locator("select[name=channel]").select_option("diplomatic_pouch")
    form.locator("input[name=reference]").fill("NV/SN/2026/118")
    form.locator("button[type=submit]").click()
    page.locator(".flash").filter(has_text="The dispatch is recorded").wait_for()
    assert "NV/SN/2026/118" in page.locator("#dispatches").inner_text()
    page.goto("/paper/")
    assert page.locator(f"tr[data-request='{public_id}']").count() == 0
    assert "NV/SN/2026/118" in page.locator("#receipts").inner_text()


def test_without_script_the_job_page_refreshes_until_the_bundle_is_ready(
    browser, live_server, app, make_user, transmitted, bundle_builder
):
    liaison = make_user("liaison_officer", "SN-CA")
    request = transmitted()
    job = jobs.queue_bundle(db.session, liaison, request, lang="en")
    db.session.commit()
    job_id = job.public_id
    context = browser.new_context(base_url=live_server, locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_in(page, liaison)
        page.goto(f"/paper/bundles/{job_id}")
        assert "Waiting for the worker" in page.locator("#bundle-state").inner_text()
        assert page.locator("#bundle-refresh a").is_visible()  # a plain link as well
        jobs.run_pass(
            db.session, bundles_dir=Path(app.instance_path) / "bundles", builder=bundle_builder
        )
        assert db.session.scalar(select(BundleJob.state)) == "done"
        page.locator("#bundle-state").filter(has_text="Ready.").wait_for()  # refreshed itself
        assert page.locator("#bundle-download a").is_visible()
    finally:
        context.close()
