"""In a real browser, issue 15: what a prosecutor and an administrator met in their first hour,
each in the language in which it showed."""

from __future__ import annotations

import pyotp
import pytest

from exchange.extensions import db
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


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
