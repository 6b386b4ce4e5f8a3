"""In a real browser, in French: beside the legal basis of a draft to Mali, why the ECOWAS
Convention is not offered and which instruments both states are party to; the checklist cites
no ECOWAS article; a node administrator adds Mali to the Budapest Convention's parties on the
instrument administration page, and a draft to Mali for preservation of data is then offered it."""

from __future__ import annotations

import pytest

from exchange.extensions import db
from exchange.mla import services
from tests.browser.test_accessibility import _violations
from tests.mla.conftest import sign_in

pytestmark = pytest.mark.browser


def test_finding_02_20_basis_explained_and_instruments_administered_in_french(
    tab, make_user, make_request
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA", name="Awa Ndiaye")
    keeper = make_user("node_admin", "SN-CA", name="Khady Diop")
    draft = make_request(prosecutor, to="ML-CA", complete=False)
    preservation = make_request(
        prosecutor, to="ML-CA", request_type="digital_preservation", complete=False
    )

    page = tab("fr-FR")
    sign_in(page, prosecutor)
    page.goto(f"/requests/{draft.public_id}/edit/basics")
    why = page.locator("#basis-why")
    why.get_by_role("heading", name="Pourquoi ce fondement juridique").wait_for()
    text = why.inner_text()
    assert "Les deux États sont liés par : CNUCTO art. 18; Protocole de Palerme" in text
    assert "Non proposé : Mali a quitté la CEDEAO le 29 janvier 2025" in text
    assert "Sénégal et Mali y sont tous deux liés, et il prévoit cette mesure." in text
    assert "Réciprocité" not in text or "à choisir vous-même" in text
    # The Convention is not among the choices; reciprocity is, unticked.
    assert (
        page.get_by_label("Convention de la CEDEAO relative à l'entraide", exact=False).count() == 0
    )
    reciprocity = page.get_by_label("Réciprocité, selon la loi nationale de l'État requis")
    assert not reciprocity.is_checked()
    assert page.get_by_label(
        "Convention des Nations Unies contre la criminalité", exact=False
    ).is_checked()
    # The checklist cites the instruments chosen: UNTOC, and no ECOWAS article; it asks for
    # the elements of UNTOC's scope, which is the only basis.
    checklist = page.locator("table").filter(has_text="CNUCTO 18(15)(a)").first.inner_text()
    assert "CEDEAO" not in checklist
    assert "CNUCTO, art. 2 a), 3 et 18, par. 1" in checklist
    assert _violations(page) == []

    # A node administrator records Mali as a party to the Budapest Convention, to be verified.
    admin = tab("fr-FR")
    sign_in(admin, keeper)
    admin.goto("/directory/instruments")
    admin.get_by_role(
        "link", name="Convention du Conseil de l'Europe sur la cybercriminalité", exact=False
    ).click()
    admin.get_by_role("link", name="Modifier").click()
    assert _violations(admin) == []
    admin.locator("#parties-set").get_by_label("Mali", exact=True).check()
    admin.locator("#unverified_parties-set").get_by_label("Mali", exact=True).check()
    admin.get_by_role("button", name="Enregistrer").click()
    admin.get_by_text("L'instrument a été enregistré.").wait_for()
    facts = admin.locator("dl.facts").inner_text()
    assert "Mali (ratification à vérifier)" in facts
    assert "Khady Diop (SN-CA)" in admin.locator("table").inner_text()

    # The prosecutor's preservation draft to Mali is now offered the Convention, to be verified.
    db.session.expire_all()
    hints = services.suggest(db.session, "SN", "ML", "digital_preservation")
    assert "BUDAPEST" in hints.legal_basis
    page.goto(f"/requests/{preservation.public_id}/edit/basics")
    text = page.locator("#basis-why").inner_text()
    assert "Ratification par Sénégal et Mali à vérifier." in text
    assert (
        page.get_by_label(
            "Convention du Conseil de l'Europe sur la cybercriminalité", exact=False
        ).count()
        == 1
    )
