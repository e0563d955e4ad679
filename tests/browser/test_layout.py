"""Layout problems only a browser shows: controls too narrow for their words, forms that push
the results off a phone's first screen."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import screenshot, signed_in_page
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

# Each select's width beside the width it takes when free to fit its longest option (a clone,
# absolutely placed so no grid or flex layout stretches or squeezes it). A select's scrollWidth
# does not grow with its text, so it cannot tell a cut option.
SELECT_WIDTHS = """() => [...document.querySelectorAll("#main select")].map((select) => {
  const free = select.cloneNode(true);
  free.removeAttribute("id");
  free.style.position = "absolute";
  free.style.width = "max-content";
  free.style.maxWidth = "none";
  document.body.appendChild(free);
  const needed = free.offsetWidth;
  free.remove();
  return {name: select.name, width: select.offsetWidth, needed: needed};
})"""


@pytest.fixture
def learner(seeded, http_settings) -> Any:
    return UserFactory(username="erin")


@pytest.mark.parametrize("width", [375, 1280])
def test_focus_selects_are_wide_enough_for_their_options(browser, live_server, learner, width):
    page = signed_in_page(browser, live_server, learner, width=width)
    page.goto(live_server.url + "/focus/")
    selects = page.evaluate(SELECT_WIDTHS)
    assert {select["name"] for select in selects} >= {"level", "area__rbac"}
    cut = [select for select in selects if select["width"] < select["needed"]]
    assert cut == []
    screenshot(page, f"focus-selects-{width}")
    page.context.close()
