"""A request's bundle from the database: its letter, its annexes decrypted from the blob store,
signed by the central authority that transmits it; ``exchange bundle build`` writes the same."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from exchange.documents.bundle import build_request_bundle
from exchange.documents.verify import trust_roots, verify_pdf
from exchange.envelopes.stores import key_store
from exchange.extensions import db
from exchange.mla import services
from tests import files
from tests.documents.bundles import annex_pdf

STATEMENT = annex_pdf(5, "Procès-verbal d’audition")
PHOTO = files.png()


@pytest.fixture
def transmitted(app, make_user, make_request):  # type: ignore[no-untyped-def]
    """Return an approved, transmitted request with a 5-page PDF annex and a PNG annex."""
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA", name="Aminata Diallo")
    officer = make_user("central_authority_officer", "SN-CA")
    request = make_request(prosecutor)
    blobs = Path(app.instance_path) / "blobs"
    for name, data in (("audition.pdf", STATEMENT), ("scene.png", PHOTO)):
        services.add_annex(
            db.session,
            prosecutor,
            request,
            filename=name,
            data=data,
            kind="supporting",
            blobs_dir=blobs,
            max_bytes=10 << 20,
        )
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    db.session.commit()
    return request


def test_request_bundle_is_signed_by_the_central_authority_and_lists_its_annexes(
    app, transmitted, tmp_path
):
    seen: list[tuple[int, int]] = []
    built = build_request_bundle(
        db.session,
        transmitted,
        lang="fr",
        output=tmp_path / "bundle.pdf",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert built.signer == "SN-CA" and built.path.exists()
    assert built.sha256 == hashlib.sha256(built.path.read_bytes()).hexdigest()
    assert built.template_version and built.parameters["lang"] == "fr"
    assert built.parameters["annexes"] == [
        hashlib.sha256(STATEMENT).hexdigest(),
        hashlib.sha256(PHOTO).hexdigest(),
    ]
    assert seen[-1][0] == seen[-1][1]

    verdict = verify_pdf(built.path.read_bytes(), trust_roots(key_store()))
    assert verdict.valid and verdict.authority == "SN-CA"
    names = [(i["name"], i["sha256"]) for i in verdict.items]
    assert names[1:] == [
        ("audition.pdf", hashlib.sha256(STATEMENT).hexdigest()),
        ("scene.png", hashlib.sha256(PHOTO).hexdigest()),
    ]
    _letter, annex, photo = verdict.items
    assert annex["last_page"] - annex["first_page"] == 4 and photo["first_page"] is None
    text = subprocess.run(
        ["pdftotext", str(built.path), "-"], capture_output=True, text=True
    ).stdout
    assert "DOSSIER DE TRANSMISSION" in text and "BORDEREAU DES PIÈCES" in text
    assert transmitted.reference in text
    assert "Procès-verbal d’audition page 5 of 5" in text


def test_without_a_file_the_bundle_comes_back_in_memory_and_nothing_stays_on_disk(app, transmitted):
    before = sorted(p for p in Path(app.instance_path).rglob("*") if p.is_file())
    built = build_request_bundle(db.session, transmitted, lang="en")
    assert built.path is None and built.pdf.startswith(b"%PDF-")
    assert hashlib.sha256(built.pdf).hexdigest() == built.sha256
    assert verify_pdf(built.pdf, trust_roots(key_store())).valid
    after = sorted(p for p in Path(app.instance_path).rglob("*") if p.is_file())
    assert [p for p in after if p not in before and p.suffix == ".pdf"] == []


def test_bundle_build_and_verify_commands(app, runner, transmitted, tmp_path):
    out = tmp_path / "cli.pdf"
    result = runner.invoke(
        args=["bundle", "build", "--request", transmitted.reference, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "signed by SN-CA" in result.output and out.exists()
    result = runner.invoke(args=["verify", str(out)])
    assert result.exit_code == 0 and result.output.startswith("valid"), result.output
    assert "audition.pdf" in result.output

    result = runner.invoke(args=["bundle", "build", "--request", "NO-SUCH", "--out", str(out)])
    assert result.exit_code == 1 and "no request" in result.output


def test_keys_certificate_issues_and_exports_the_node_ca(app, runner, tmp_path):
    ca = tmp_path / "ca.pem"
    result = runner.invoke(args=["keys", "certificate", "NG-CA", "--ca-out", str(ca)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("NG-CA pdf ES256 ")
    assert ca.read_bytes() == key_store().ca_certificate_pem()
    key_files = list((Path(key_store().root) / "NG-CA").glob("*.key.pem"))
    assert key_files and all(b"ENCRYPTED PRIVATE KEY" in p.read_bytes() for p in key_files)
