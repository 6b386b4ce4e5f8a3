"""In a real browser, issue 15: what a prosecutor and an administrator met in their first hour,
each in the language in which it showed."""

from __future__ import annotations

import pyotp
import pytest

from exchange.extensions import db
from tests.conftest import DEFAULT_PASSWORD
from tests.mla import conftest as mla_fixtures

pytestmark = pytest.mark.browser
# The request area's fixtures, for drafts to Guinea and Mali.
make_case = mla_fixtures.make_case
make_request = mla_fixtures.make_request


def sign_in(page, user, locale: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Sign ``user`` in through the forms; with ``locale``, the portal then speaks it."""
    if locale:
        user.locale = locale
        db.session.commit()
    page.goto("/login")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if user.totp_secret:
        page.wait_for_url("**/login/second-factor")
        page.get_by_label("Code").fill(pyotp.TOTP(user.totp_secret).now())
        page.keyboard.press("Enter")
    page.wait_for_url("**/")


# --- defect 6: the directory's country column is headed "country", not "the request's status" ---


@pytest.mark.parametrize(
    ("locale", "code", "country", "membership", "request_state"),
    [
        ("fr", "Code", "Pays", "Appartenance à la CEDEAO", "État de la demande"),
        ("pt", "Código", "País", "Qualidade de membro da CEDEAO", "Estado do pedido"),
    ],
)
def test_defect_06_directory_columns_say_what_they_hold(
    page, make_user, locale, code, country, membership, request_state
):
    sign_in(page, make_user("prosecutor"), locale)
    page.goto("/directory/")
    headers = page.get_by_role("columnheader").all_inner_texts()
    assert headers[:3] == [code, country, membership]
    assert request_state not in page.content()
    page.goto("/directory/states/GN")
    assert page.get_by_role("columnheader").first.inner_text() == country
    assert page.locator("dl.facts dt").first.inner_text() == membership
    page.goto("/directory/authorities/GN-CA")
    assert country in page.locator("dl.facts dt").all_inner_texts()
    assert request_state not in page.content()


# --- defect 7: the draft is checked against the languages the directory lists -------------------


def _language_choices(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.get_by_label("Língua do pedido").locator("option").all_inner_texts()


def _listed_languages(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator('dt:text-is("Línguas aceites para os pedidos") + dd').inner_text()


def test_defect_07_draft_languages_are_the_directorys_in_portuguese(page, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    to_guinea = make_request(prosecutor, to="GN-CA")
    to_mali = make_request(prosecutor, to="ML-CA")
    sign_in(page, prosecutor, "pt")

    # What the directory lists for Guinea, for a request from Senegal...
    page.goto("/directory/states/GN")
    listed = _listed_languages(page)
    assert listed.startswith("Francês;") and "Convenção da CEDEAO" in listed
    # ...is what the draft offers, and Portuguese passes because the draft rests on A/P.1/7/92.
    page.goto(f"/requests/{to_guinea.public_id}/edit/basics")
    offered = _language_choices(page)
    assert offered == ["Francês", "Inglês", "Português"]
    assert all(language in listed for language in offered)
    page.get_by_label("Língua do pedido").select_option("pt")
    page.get_by_role("button", name="Guardar e continuar").click()
    page.wait_for_url("**/edit/contents")
    assert page.locator('#checklist tr[data-key="language"]').get_attribute("class") == "ok"

    # Without the Convention, UNTOC 18(14) alone: Guinea's own language only; Portuguese is not.
    page.goto(f"/requests/{to_guinea.public_id}/edit/basics")
    page.get_by_label("Convenção da CEDEAO", exact=False).uncheck()
    page.get_by_role("button", name="Guardar e continuar").click()
    page.wait_for_url("**/edit/contents")
    row = page.locator('#checklist tr[data-key="language"]')
    assert row.get_attribute("class") == "missing"
    assert "Em falta (obrigatório)" in row.inner_text()

    # Mali left ECOWAS: the directory lists French alone, and the draft offers French alone.
    page.goto("/directory/states/ML")
    assert _listed_languages(page) == "Francês"
    page.goto(f"/requests/{to_mali.public_id}/edit/basics")
    assert _language_choices(page) == ["Francês"]


# --- defect 8: the directory saves no invalid e-mail address -------------------------------------


def test_defect_08_directory_refuses_an_invalid_email_address(page, make_user):
    keeper = make_user(("administrator", "node_admin"), authority="SN-CA")
    sign_in(page, keeper)

    page.goto("/directory/authorities/SN-CA/edit")
    page.get_by_label("E-mail address").fill("dacg at justice.sn")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "Enter a valid e-mail address." in page.locator("main form").inner_text()
    page.goto("/directory/authorities/SN-CA")
    assert "dacg at justice.sn" not in page.content()

    page.goto("/directory/authorities/SN-CA/edit")
    page.get_by_label("E-mail address").fill("dacg@justice.sn")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/directory/authorities/SN-CA")
    assert page.locator('dt:text-is("E-mail address") + dd').inner_text() == "dacg@justice.sn"

    # A new foreign entry too.
    page.goto("/directory/authorities/new")
    page.get_by_label("Code").fill("ML-PG-BAMAKO")
    page.get_by_label("Country").select_option("ML")
    page.get_by_label("Name").fill("Parquet général de Bamako")
    page.get_by_label("E-mail address").fill("<script>@x")
    page.get_by_role("button", name="Add").click()
    page.wait_for_load_state()
    assert "Enter a valid e-mail address." in page.locator("main form").inner_text()
    page.goto("/directory/authorities/ML-PG-BAMAKO")
    assert page.get_by_role("heading", level=1).inner_text() != "Parquet général de Bamako"


# --- defect 5: an administrator cannot take her authority's administration away from it --------


def test_defect_05_administrator_keeps_her_role_and_account(page, make_user):
    admin = make_user("administrator", authority="SN-CA", name="Aminata Ba")
    sign_in(page, admin)
    page.goto("/admin/users")
    page.locator("#main").get_by_role("link", name="Aminata Ba").click()
    page.wait_for_url(f"**/admin/users/{admin.public_id}")
    # Nothing on her own page offers what would be refused.
    assert page.get_by_role("button", name="Save roles").count() == 0
    assert page.get_by_role("button", name="Disable").count() == 0
    assert page.get_by_role("button", name="Reset password and second factor").count() == 0
    assert "You cannot change your own roles." in page.content()
    assert "Only another administrator of your authority can disable or reset" in page.content()

    # Sent anyway (a stale page, a crafted form), each is refused with a message.
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    url = f"/admin/users/{admin.public_id}"
    for path, data, says in (
        (url, {"roles": "prosecutor"}, "You cannot change your own roles."),
        (f"{url}/disable", {}, "You cannot disable your own account."),
        (f"{url}/reset", {}, "You cannot reset your own account."),
    ):
        answer = page.request.post(path, form={**data, "csrf_token": token})
        assert answer.ok and says in answer.text(), path
    db.session.expire_all()
    assert admin.roles == {"administrator"} and admin.active and admin.password_hash
    page.goto("/admin/users")  # still signed in, still an administrator
    assert page.locator("#main").get_by_role("link", name="Aminata Ba").count() == 1
