"""In a real browser: sign in with password and TOTP, then read the portal in French and Portuguese."""

from __future__ import annotations

import pyotp
import pytest

from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def test_officer_signs_in_with_totp_and_switches_language(page, make_user):
    officer = make_user("central_authority_officer", authority="SN-CA", name="Fatou Sarr")
    page.goto("/")
    assert page.url.endswith("/login?next=/")
    page.get_by_label("E-mail address").fill(officer.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login/second-factor")
    page.get_by_label("Code").fill(pyotp.TOTP(officer.totp_secret).now())
    page.keyboard.press("Enter")  # usable by keyboard: Enter submits
    page.wait_for_url("**/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Fatou Sarr"

    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change language").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", level=1).inner_text() == "Bienvenue, Fatou Sarr"
    assert page.get_by_text("Agent de l'autorité centrale").count() >= 1

    page.get_by_label("Langue").select_option("pt")
    page.get_by_role("button", name="Changer de langue").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "pt"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Bem-vindo")
    assert page.get_by_text("Funcionário da autoridade central").count() >= 1

    # The choice is remembered: after signing out and in again the portal is still in Portuguese.
    page.get_by_role("button", name="Terminar sessão").click()
    page.wait_for_url("**/login")
    assert page.get_by_role("heading", level=1).inner_text() == "Iniciar sessão"


def test_wrong_code_keeps_the_door_shut(page, make_user):
    officer = make_user("central_authority_officer", authority="SN-CA")
    page.goto("/login")
    page.get_by_label("E-mail address").fill(officer.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login/second-factor")
    page.get_by_label("Code").fill(
        "123456" if pyotp.TOTP(officer.totp_secret).now() != "123456" else "654321"
    )
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("alert").first.inner_text().startswith("This code is not valid")
    page.goto("/account")
    assert "/login" in page.url
