"""A clerk scans the QR code, lands on /verify in French, uploads the bundle and reads the verdict."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.documents.bundles import annex_pdf, build, flip_byte_in_signed_content, source

pytestmark = pytest.mark.browser


def test_scanned_code_then_upload_shows_verdict_signer_and_index(
    browser, live_server, identity, tmp_path
):
    bundle = tmp_path / "dossier.pdf"
    result = build(identity, bundle, [source("audition.pdf", annex_pdf(2, "Audition"))], lang="fr")
    query = result.qr_payload.split("?", 1)[1]
    context = browser.new_context(base_url=live_server, locale="fr-FR")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"/verify?{query}")
        assert page.locator("h1").inner_text() == "Vérifier un dossier"
        assert result.content_digest in page.locator(".claims").inner_text()
        violations = [
            v["id"]
            for v in Axe().run(page).response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert violations == []

        page.set_input_files("input[type=file]", str(bundle))
        page.get_by_role("button", name="Vérifier").click()
        verdict = page.locator("[data-verdict]")
        assert verdict.get_attribute("data-verdict") == "valid"
        text = verdict.inner_text()
        assert "Valide : le dossier est intact" in text and "SN-CA" in text
        assert "audition.pdf" in text and "Le fichier correspond au code lu." in text

        tampered = flip_byte_in_signed_content(bundle, tmp_path / "altere.pdf")
        page.set_input_files("input[type=file]", str(tampered))
        page.get_by_role("button", name="Vérifier").click()
        assert page.locator("[data-verdict]").get_attribute("data-verdict") == "tampered"
        assert "Altéré" in page.locator("[data-verdict]").inner_text()
    finally:
        context.close()
