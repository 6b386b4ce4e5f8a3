"""The pages' layout, in a real browser, in English, French and Portuguese, on a laptop (1366 px)
and on a phone (390 px): the drafting steps read as separate numbered steps, a checkbox sits on
the line of its label, the request's label column leaves the width to the values, and nothing
scrolls sideways on a phone (issue 12).

Set ``EXCHANGE_SCREENSHOTS`` to a folder to keep a screenshot of each page looked at.
"""

from __future__ import annotations

import os
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tests.mla.conftest import sign_in

pytestmark = pytest.mark.browser

WIDTHS = (1366, 390)
SHOTS = os.environ.get("EXCHANGE_SCREENSHOTS", "")
STEP_NAMES = {
    "en": ("1. Requested authority and language", "2. The case and the assistance sought"),
    "fr": ("1. Autorité requise et langue", "2. L'affaire et l'entraide sollicitée"),
    "pt": ("1. Autoridade requerida e língua", "2. O processo e o auxílio solicitado"),
}


PROBE = """document.querySelector("main").insertAdjacentHTML("beforeend",
  '<div class="field"><input type="checkbox" id="probe-box"> <label for="probe-box">Box</label></div>'
  + '<div class="field"><input type="radio" id="probe-radio"> <label for="probe-radio">' +
  'A radio button whose label is long enough to wrap on a phone, and must wrap beside it</label></div>')"""


def _shot(page: Any, lang: str, width: int, name: str) -> None:
    """Keep a screenshot of the page when asked to."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{lang}-{width}-{name}.png"), full_page=True)


def _box(locator: Any) -> dict[str, float]:
    """Return an element's bounding box, failing if it is not shown."""
    box = locator.bounding_box()
    assert box is not None, locator
    return box


def _no_sideways_scroll(page: Any, where: str) -> None:
    """Fail if the page is wider than the window (a phone would scroll sideways)."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (where, widths)


def _steps_read_apart(page: Any, lang: str, width: int) -> None:
    """The steps: each numbered in its own text, apart from the next, one per line on a phone."""
    items = page.locator("nav ol.steps > li")
    assert items.count() == 6
    links = page.locator("nav ol.steps > li > a")
    names = [links.nth(i).inner_text().strip() for i in range(6)]
    assert tuple(names[:2]) == STEP_NAMES[lang]
    assert [n.split(".")[0] for n in names] == ["1", "2", "3", "4", "5", "6"]
    # Read as text (a screen reader's browse mode, a copy), the steps are separate lines.
    assert page.locator("nav ol.steps").inner_text().splitlines() == names
    assert page.get_by_role("link", name=STEP_NAMES[lang][0]).get_attribute("aria-current") == (
        "step"
    )
    boxes = [_box(items.nth(i)) for i in range(6)]
    for before, after in pairwise(boxes):
        if abs(before["y"] - after["y"]) < 2:  # on one line: a clear gap between them
            assert after["x"] >= before["x"] + before["width"] + 12, (before, after)
        else:
            assert after["y"] >= before["y"] + before["height"] - 1, (before, after)
    if width < 500:
        assert len({round(b["x"]) for b in boxes}) == 1  # one under the other


def _on_the_line_of_its_label(page: Any, box_id: str) -> None:
    """A checkbox and its label: the box first, on the label's first line."""
    box = _box(page.locator(f"#{box_id}"))
    label = _box(page.locator(f"label[for='{box_id}']"))
    first_line = min(label["height"], 28)
    assert label["x"] >= box["x"] + box["width"], (box_id, box, label)
    assert abs((box["y"] + box["height"] / 2) - (label["y"] + first_line / 2)) < 8, (
        box_id,
        box,
        label,
    )


def _label_column(page: Any, width: int) -> None:
    """The request's facts: a narrow label column on a laptop, the label above on a phone."""
    for dl in (page.locator("dl.facts").first, page.locator("#contents-h + dl.facts")):
        whole = _box(dl)
        dts, dds = dl.locator(":scope > dt"), dl.locator(":scope > dd")
        assert dts.count() >= 5
        for i in range(dts.count()):
            dt, dd = _box(dts.nth(i)), _box(dds.nth(i))
            if width > 1000:
                assert dt["width"] < 0.4 * whole["width"], (dt, whole)
                assert dd["x"] >= dt["x"] + dt["width"] and dd["width"] > 0.55 * whole["width"]
            else:
                assert dd["y"] >= dt["y"] + dt["height"] - 1 and abs(dd["x"] - dt["x"]) < 2


@pytest.mark.parametrize("lang", ["en", "fr", "pt"])
def test_pages_read_well_on_a_laptop_and_a_phone(tab, make_user, make_case, make_request, lang):
    user = make_user(("prosecutor", "administrator"), authority="SN-TGI-TAMBA")
    case = make_case(user)
    draft = make_request(user, case=case)
    page = tab(lang)
    sign_in(page, user)
    base = f"/requests/{draft.public_id}"
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/edit/basics")
        assert page.locator("html").get_attribute("lang") == lang
        _shot(page, lang, width, "basics")
        _steps_read_apart(page, lang, width)
        for box_id in ("urgent", "confidential", "legal_basis-0", "legal_basis-1"):
            _on_the_line_of_its_label(page, box_id)
        _no_sideways_scroll(page, "basics")
        page.goto("/requests/")
        _shot(page, lang, width, "dashboard")
        for box_id in ("urgent", "overdue", "mine"):
            _on_the_line_of_its_label(page, box_id)
        # A box written straight into a field, as some pages write theirs, sits on its line too.
        page.evaluate(PROBE)
        for box_id in ("probe-box", "probe-radio"):
            _on_the_line_of_its_label(page, box_id)
        _no_sideways_scroll(page, "dashboard")
        page.goto("/admin/users/new")
        _shot(page, lang, width, "new-user")
        for box_id in ("roles-0", "roles-1"):
            _on_the_line_of_its_label(page, box_id)
        _no_sideways_scroll(page, "new user")
        page.goto(base)
        _shot(page, lang, width, "view")
        _label_column(page, width)
        if width > 1000:
            continue  # what follows would scroll sideways only on a phone
        for path in (
            f"{base}/edit/contents",
            f"{base}/edit/persons",
            f"{base}/edit/review",
            f"/requests/new?case={case.public_id}",
            f"/cases/{case.public_id}",
            "/admin/users",
        ):
            page.goto(path)
            _shot(page, lang, width, path.strip("/").replace("/", "-").split("?")[0])
            _no_sideways_scroll(page, path)
