import pytest
from exchange.extensions import db
from exchange.mla import services
from tests.mla.conftest import sign_in

pytestmark = pytest.mark.browser

def test_explore(tab, make_user, make_case, make_request):
    user = make_user(("prosecutor", "central_authority_officer", "administrator"), authority="SN-CA")
    case = make_case(user)
    draft = make_request(user, case=case)
    for lang in ("en", "fr"):
        page = tab(lang)
        sign_in(page, user)
        for w in (1366, 390):
            page.set_viewport_size({"width": w, "height": 900})
            for name, path in [("basics", f"/requests/{draft.public_id}/edit/basics"), ("persons", f"/requests/{draft.public_id}/edit/persons"), ("view", f"/requests/{draft.public_id}"), ("new", f"/requests/new?case={case.public_id}"), ("review", f"/requests/{draft.public_id}/edit/review"), ("admin", "/admin/users/new")]:
                page.goto(path)
                page.screenshot(path=f"/tmp/shots/{lang}-{w}-{name}.png", full_page=True)
        print(page.locator("ol.steps").inner_text())
        print(page.evaluate("document.querySelector('nav ol.steps') && document.querySelector('nav ol.steps').textContent"))
