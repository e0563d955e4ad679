"""Layout problems only a browser shows: controls too narrow for their words, forms that push
the results off a phone's first screen."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import PathStep
from learn import emails
from learn.models import PendingEmail
from recommender import services
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


def test_on_a_phone_each_areas_select_shares_a_line_with_its_name(browser, live_server, learner):
    # Name, description and select on lines of their own made the Focus page 5,400 px tall at
    # 375 px (a walk-through).
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(live_server.url + "/focus/")
    rows = page.evaluate(
        """() => [...document.querySelectorAll('.focus-form fieldset .field')].map((f) => ({
          label: f.querySelector('label').getBoundingClientRect(),
          select: f.querySelector('select').getBoundingClientRect(),
          help: f.querySelector('.helptext').getBoundingClientRect(),
        }))"""
    )
    assert len(rows) >= 10
    for row in rows:
        assert row["select"]["top"] < row["label"]["bottom"], row
        assert row["select"]["left"] > row["label"]["left"], row
        assert row["help"]["top"] >= max(row["label"]["bottom"], row["select"]["bottom"]) - 1, row
    page.context.close()


def test_on_a_phone_the_focus_form_starts_with_level_and_time_and_save_stays_in_sight(
    browser, live_server, learner
):
    # A walk-through's beginner scrolled past thirteen areas to reach her level and time
    # budget, then to the page's foot to save them.
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(live_server.url + "/focus/")
    # The fields a learner sees (not the form's hidden token and version).
    names = page.eval_on_selector_all(
        ".focus-form select, .focus-form input:not([type=hidden])", "els => els.map(e => e.name)"
    )
    assert names[:3] == [
        "level",
        "minutes_budget",
        "area__container-hardening",
    ]
    save = page.get_by_role("button", name="Save my focus")
    # Tab through every field: each lands in sight and clear of Save, which stays in sight.
    page.locator("select[name=level]").focus()
    for _ in range(len(names) - 1):
        field = page.evaluate("document.activeElement.getBoundingClientRect().bottom")
        button = save.bounding_box()
        assert button["y"] + button["height"] <= 900
        if page.evaluate("document.activeElement.name") != "":
            assert field <= button["y"], (page.evaluate("document.activeElement.name"), field)
        page.keyboard.press("Tab")
    screenshot(page, "focus-form-save-375")
    page.context.close()


# The element a tap lands on at each quarter of a field's width, halfway down: a covered
# field answers with whatever covers it.
TAPPED = """(selector) => {
  const box = document.querySelector(selector).getBoundingClientRect();
  const y = box.top + box.height / 2;
  return [0.25, 0.5, 0.75].map((share) => {
    const hit = document.elementFromPoint(box.left + box.width * share, y);
    return hit && hit.closest(selector) ? "field" : hit ? hit.outerHTML.slice(0, 60) : "nothing";
  });
}"""


@pytest.mark.parametrize("height", [640, 740, 900])
def test_on_a_phones_first_screen_save_covers_neither_level_nor_time_budget(
    browser, live_server, learner, height
):
    # A walk-through's beginner tapped his time budget at 375 x 740 and saved the form: Save,
    # kept in sight at the screen's foot, lay over the field's left half.
    page = signed_in_page(browser, live_server, learner, width=375)
    page.set_viewport_size({"width": 375, "height": height})
    page.goto(live_server.url + "/focus/")
    for selector in ("select[name=level]", "input[name=minutes_budget]"):
        if page.locator(selector).bounding_box()["y"] < height - 48:  # on the first screen
            assert page.evaluate(TAPPED, selector) == ["field"] * 3, (selector, height)
    screenshot(page, f"focus-first-screen-375x{height}")
    page.context.close()


# Per row of the coverage chart: the room between the area's name and its "N of M".
CHART_GAPS = """() => {
  const texts = [...document.querySelectorAll("svg.chart text")];
  const gaps = [];
  for (let i = 0; i < texts.length; i += 2) {
    const name = texts[i].getBoundingClientRect(), count = texts[i + 1].getBoundingClientRect();
    gaps.push(count.left - name.right);
  }
  return gaps;
}"""


@pytest.mark.parametrize("width", [320, 375, 1280])
def test_the_coverage_chart_fills_its_panel_and_names_never_touch_their_counts(
    browser, live_server, learner, width
):
    # On a laptop the chart stopped at 60% of its panel (a phone's drawing, capped in width).
    services.profile_update(user=learner, focus={"multi-tenancy": 1.0})
    page = signed_in_page(browser, live_server, learner, width=width)
    page.goto(live_server.url + "/focus/")
    chart = page.locator("svg.chart").bounding_box()
    panel = page.locator("#main .panel", has=page.locator("svg.chart"))
    inner = panel.evaluate(
        "(e) => e.clientWidth - parseFloat(getComputedStyle(e).paddingLeft)"
        " - parseFloat(getComputedStyle(e).paddingRight)"
    )
    assert chart["width"] >= inner - 1, (chart, inner)
    gaps = page.evaluate(CHART_GAPS)
    assert gaps and min(gaps) >= 8, gaps
    screenshot(page, f"focus-chart-{width}")
    page.context.close()


def test_historys_links_start_at_the_pages_edge_on_a_phone(browser, live_server, learner):
    # After the totals, each sat indented by its margin when the line wrapped before it.
    resource = PathStep.objects.order_by("position").first().resource
    services.progress_set(user=learner, resource=resource, state="completed", rating=None)
    services.note_set(user=learner, resource=resource, text="Read again before the exam.")
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(live_server.url + "/history/")
    edge = page.locator("#main h1").bounding_box()["x"]
    for name in ("Download all your progress (CSV)", "Your notes (1)"):
        assert page.get_by_role("link", name=name).bounding_box()["x"] == edge, name
    page.context.close()


def visitor_page(browser: Any, *, width: int, height: int = 900) -> Any:
    """A page with script off: the filters must fold and unfold without it."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, java_script_enabled=False
    )
    context.set_default_timeout(5000)
    return context.new_page()


def test_browse_filters_fold_away_on_a_phone_and_open_from_the_keyboard(
    browser, live_server, seeded
):
    page = visitor_page(browser, width=375, height=812)
    page.goto(live_server.url + "/browse/")
    # The first result is on the first screen, below search and a closed "Filters".
    expect(page.locator(".card-list > li").first.locator(".card-title")).to_be_in_viewport()
    stage = page.get_by_label("Stage")
    expect(stage).to_be_hidden()
    screenshot(page, "browse-filters-folded-375")

    page.get_by_label("Search", exact=True).focus()
    page.keyboard.press("Tab")  # the order, which stays in sight
    assert page.evaluate("document.activeElement.id") == "f-sort"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Enter")
    expect(stage).to_be_visible()
    stage.select_option(label="Security")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r".*stage=security.*"))
    # The results come first again: the summary says how many filters are in use, and a
    # line above the results says which, each removable.
    expect(page.locator(".filter-more > summary")).to_have_text("Filters (1 in use)")
    expect(page.get_by_label("Stage")).to_be_hidden()
    expect(page.locator(".narrowed-by")).to_contain_text("Stage: Security")
    expect(page.locator(".card-list > li").first.locator(".card-title")).to_be_in_viewport()
    page.context.close()


def test_a_topic_link_on_a_phone_leads_to_results_saying_what_narrows_them(
    browser, live_server, seeded
):
    # It opened on a screen of selects: the first result ~1,060 px down.
    page = visitor_page(browser, width=375, height=812)
    page.goto(live_server.url + "/browse/?area=rbac")
    expect(page.locator(".card-list > li").first.locator(".card-title")).to_be_in_viewport()
    narrowed = page.get_by_role("list", name="Narrowed by")
    expect(narrowed).to_contain_text("Security area: RBAC and authorization")
    screenshot(page, "browse-narrowed-375")
    narrowed.get_by_role("link", name=re.compile("^Remove")).click()
    page.wait_for_url(live_server.url + "/browse/?")
    expect(page.locator(".narrowed-by")).to_have_count(0)
    page.context.close()


def test_browse_filters_are_always_shown_on_a_wide_screen(browser, live_server, seeded):
    page = visitor_page(browser, width=1280)
    page.goto(live_server.url + "/browse/")
    expect(page.locator(".filter-more > summary")).to_be_hidden()
    for label in ("Stage", "Kind", "Security area", "Topic", "Author"):
        expect(page.get_by_label(label, exact=True)).to_be_visible()
    page.get_by_label("Stage").select_option(label="Security")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r".*stage=security.*"))
    page.context.close()


LONG_NAME = ("kubernetes-operator-" * 8)[:150]  # valid: 150 characters, no space


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("path", ["/", "/account/", "/account/delete/", "/signout/"])
def test_a_150_character_username_fits_without_sideways_scrolling(
    browser, live_server, seeded, http_settings, path, width
):
    user = UserFactory(username=LONG_NAME)
    page = signed_in_page(browser, live_server, user, width=width)
    page.goto(live_server.url + path)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_in_viewport()
    # Cut on screen, whole for a screen reader and on hover.
    name = page.get_by_role("link", name=f"Account: {LONG_NAME}")
    expect(name).to_have_attribute("title", LONG_NAME)
    page.context.close()


@pytest.mark.parametrize(
    "path", ["/", "/path/", "/focus/", "/browse/", "/history/", "/notes/", "/account/"]
)
def test_learner_pages_reflow_at_320_px_without_sideways_scrolling(
    browser, live_server, seeded, http_settings, path
):
    # WCAG 1.4.10 (reflow): 320 CSS pixels wide. The Focus page's coverage table was 332 px.
    page = signed_in_page(browser, live_server, UserFactory(), width=320)
    page.goto(live_server.url + path)
    screenshot(page, f"reflow-320-{path.strip('/') or 'up-next'}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
    page.context.close()


@pytest.mark.parametrize(
    "path", ["/", "/path/", "/focus/", "/browse/", "/history/", "/notes/", "/account/"]
)
def test_learner_pages_reflow_with_text_at_200_percent_on_a_phone(
    browser, live_server, seeded, http_settings, path
):
    # WCAG 1.4.4 (resize text): a reader who sets a 32 px default font. A walk-through found
    # Up next 470 px wide at 375 (cards cut off mid-word), Focus 489, History 449, Path 407.
    learner = UserFactory()
    first, second, third = (step.resource for step in PathStep.objects.order_by("position")[:3])
    services.progress_set(user=learner, resource=first, state="completed", rating=4)
    services.progress_set(user=learner, resource=second, state="planned", rating=None)
    services.progress_set(user=learner, resource=third, state="skipped", rating=None)
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(live_server.url + path)
    # What a browser's font-size setting does to rem and % sizes (the page's :root is 100%);
    # set through the CSSOM, which the page's CSP allows (a <style> it refuses).
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    screenshot(page, f"text-200-375-{path.strip('/') or 'up-next'}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
    page.context.close()


def test_a_refused_account_address_puts_focus_on_the_field_in_sight(
    browser, live_server, seeded, http_settings
):
    # "me@mycompany" passes the browser's check and not the server's: the page came back at
    # its top with focus on <body>, the error 980 px down, and looked as if it had saved.
    page = signed_in_page(browser, live_server, UserFactory(), width=375)
    page.goto(live_server.url + "/account/")
    page.get_by_role("textbox", name="E-mail address").fill("me@mycompany")
    page.get_by_label("Your password").fill("correct horse battery staple")
    page.get_by_role("button", name="Save address").click()
    page.wait_for_load_state()
    field = page.get_by_role("textbox", name="E-mail address")
    expect(field).to_be_focused()
    expect(field).to_be_in_viewport()
    expect(page.locator(".field-error .errorlist")).to_be_visible()
    page.context.close()


# 254 characters, the most an address has: a local part of 64 and labels of 60.
LONG_EMAIL = "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "c" * 6


def test_a_long_waiting_address_fits_the_account_and_confirm_pages_at_320_px(
    browser, live_server, seeded, http_settings
):
    user = UserFactory()
    now = timezone.now()
    PendingEmail.objects.create(
        user=user, email=LONG_EMAIL, requested_at=now, sent_at=now, link_key="k"
    )
    token = emails.confirmation_token(user_id=user.pk, email=LONG_EMAIL, key="k")
    page = signed_in_page(browser, live_server, user, width=320)
    for path, name in (
        ("/account/", "account-pending"),
        (f"/account/email/confirm/{token}/", "email-confirm"),
    ):
        page.goto(live_server.url + path)
        screenshot(page, f"long-address-320-{name}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
    page.context.close()


def test_the_coverage_table_fits_a_phone_with_every_column_in_sight(
    browser, live_server, seeded, http_settings
):
    # A walk-through's phone (375 px, a focus on five areas) scrolled the table sideways to see
    # "Offered": "RBAC and authorization" beside "Completed", "Known" and "Offered" was 353 px.
    learner = UserFactory()
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(live_server.url + "/focus/")
    for area, choice in (("rbac", "Main focus"), ("network-policy", "A lot"), ("secrets", "Some")):
        page.locator(f"select[name='area__{area}']").select_option(label=choice)
    page.get_by_role("button", name="Save my focus").click()
    expect(page.get_by_text("Focus saved: ")).to_be_visible()
    table = page.locator("table.coverage-table")
    fits = table.evaluate("table => table.scrollWidth <= table.parentElement.clientWidth")
    assert fits, table.evaluate("table => [table.scrollWidth, table.parentElement.clientWidth]")
    headers = page.locator("table.coverage-table thead th").all_inner_texts()
    assert [text.strip() for text in headers[1:]] == ["Done", "Known", "Offered"]
    screenshot(page, "focus-coverage-375")
    page.context.close()


def test_a_stage_behind_the_learner_folds_and_a_link_to_one_of_its_steps_opens_it(
    browser, live_server, seeded, http_settings
):
    page = signed_in_page(browser, live_server, UserFactory(), width=375)
    page.goto(live_server.url + "/path/")
    page.get_by_role("button", name=re.compile(r"^I know these.*Getting started")).click()
    fold = page.locator("details.stage-fold")
    expect(fold).to_have_count(1)
    expect(fold).not_to_have_attribute("open", "")
    expect(page.locator("#step-3")).to_be_hidden()
    screenshot(page, "path-stage-folded-375")
    page.goto(live_server.url + "/path/#step-3")
    expect(page.locator("#step-3")).to_be_visible()
    page.context.close()


def test_a_cards_read_it_link_is_a_tap_target_of_at_least_24_px_on_a_phone(
    browser, live_server, learner
):
    # A walk-through measured "Read it on <site> ↗" 17 px tall, on a line of its own.
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(live_server.url + "/")
    links = page.locator("#queue-list .card-open a")
    assert links.count() > 0
    for index in range(links.count()):
        box = links.nth(index).bounding_box()
        assert box and box["height"] >= 24, box
    page.context.close()


@pytest.mark.parametrize("width", [320, 1280])
def test_the_guides_tables_keep_field_names_whole_and_scroll_inside_themselves(
    browser, live_server, seeded, width
):
    # A walk-through read "allowP / rivile / geEsca / lation" on a phone, and
    # "capabilities.dro / p" at 1280 px.
    page = visitor_page(browser, width=width)
    page.goto(live_server.url + "/guides/kubelearn-on-kubernetes/")
    screenshot(page, f"guide-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    heights = page.evaluate(
        "() => [...document.querySelectorAll('.guide-body table code')].map((code) =>"
        " [code.textContent, code.getClientRects().length])"
    )
    assert heights and all(lines == 1 for _, lines in heights), heights
    page.context.close()


@pytest.mark.parametrize("width", [360, 375])
def test_the_main_menus_six_entries_sit_on_one_line_on_a_phone(
    browser, live_server, learner, width
):
    # Saved joined the menu (a walk-through could not find what it saved); History went to a
    # line of its own at 375 px, and at 360 px (a common Android phone's width) until the
    # entries' padding shrank.
    page = signed_in_page(browser, live_server, learner, width=width)
    page.goto(live_server.url + "/")
    tops = page.evaluate(
        "() => [...document.querySelectorAll('.main-nav li')].map((e) => e.offsetTop)"
    )
    assert len(tops) == 6 and len(set(tops)) == 1, tops
    page.context.close()


@pytest.mark.parametrize("width", [360, 375])
@pytest.mark.parametrize("username", ["erin", "learner1", "kubernetes_learner_2026"])
def test_on_a_phone_the_account_and_sign_out_share_the_logos_line(
    browser, live_server, seeded, http_settings, width, username
):
    # From an eight-character name on they took a line of their own at 375 px: the header was
    # 131 px tall, three lines, on every page. A longer name is cut (its title keeps it whole).
    page = signed_in_page(browser, live_server, UserFactory(username=username), width=width)
    page.goto(live_server.url + "/")
    brand = page.locator(".site-header .brand").bounding_box()
    sign_out = page.get_by_role("banner").get_by_role("button", name="Sign out").bounding_box()
    assert brand is not None and sign_out is not None
    assert sign_out["y"] < brand["y"] + brand["height"], (brand, sign_out)
    expect(page.get_by_role("link", name=f"Account: {username}")).to_have_attribute(
        "title", username
    )
    page.context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_sign_ins_forgotten_password_link_is_a_tap_target_of_at_least_24_px(
    browser, live_server, db, width
):
    # A keyboard walk-through's axe run (WCAG 2.2 target size): "Forgot your password?" was
    # 17 px tall.
    page = visitor_page(browser, width=width)
    page.goto(live_server.url + "/signin/")
    # (A link inside a sentence, "New here? Create an account", is exempt: WCAG's inline case.)
    box = page.get_by_role("link", name="Forgot your password?").bounding_box()
    assert box and box["height"] >= 24, box
    page.context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_a_search_sent_from_the_keyboard_lands_on_the_results_count(
    browser, live_server, seeded, width
):
    # A keyboard walk-through: after Enter in Search the page came back with focus at its
    # top, nothing read out, the header and seven filters between the learner and a result.
    context = browser.new_context(viewport={"width": width, "height": 800})
    context.set_default_timeout(5000)
    page = context.new_page()
    page.goto(live_server.url + "/browse/")
    page.get_by_label("Search", exact=True).fill("rbac")
    page.get_by_label("Search", exact=True).press("Enter")
    page.wait_for_url("**search=rbac**")
    count = page.locator("#main .results-count")
    expect(count).to_be_focused()
    expect(count).to_be_in_viewport()
    # A link to Browse is not a search: the page starts at its top, as any page does.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Browse").click()
    page.wait_for_url(live_server.url + "/browse/")
    expect(count).not_to_be_focused()
    context.close()


def test_the_pages_tell_the_server_the_browsers_time_zone(browser, live_server, transactional_db):
    # Dates were the server's UTC (a walk-through in Los Angeles read "tomorrow" as the day
    # after); the script keeps the browser's zone in the cookie the server reads.
    context = browser.new_context(timezone_id="America/Los_Angeles")
    page = context.new_page()
    page.goto(live_server.url + "/browse/")
    cookies = {cookie["name"]: cookie["value"] for cookie in context.cookies()}
    assert cookies.get("tz") == "America/Los_Angeles"
    context.close()


@pytest.mark.parametrize("width", [320, 360, 375])
def test_on_a_phone_the_header_takes_two_lines(browser, live_server, seeded, width):
    # At 320 px it took three: the account under the logo, History on a line of its own.
    page = signed_in_page(browser, live_server, UserFactory(username="erinmarie"), width=width)
    page.goto(live_server.url + "/")
    tops = page.evaluate(
        "['.brand', '.account-nav', '.main-nav li'].flatMap(s => [...document.querySelectorAll(s)]"
        ".map(e => Math.round(e.getBoundingClientRect().top)))"
    )
    brand, account, *entries = tops
    assert len(entries) == 6 and len(set(entries)) == 1, tops  # the menu on one line
    assert abs(brand - account) < 16 and entries[0] > brand, tops  # the account beside the logo
    page.context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_a_password_can_be_shown_while_typed_and_is_sent_as_a_password(
    browser, live_server, db, width
):
    # A phone keyboard's typo in a hidden password sent the whole form back, emptied.
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(live_server.url + "/signup/")
    box = page.locator("#id_password1")
    box.fill("a-long-passphrase-42")
    show = page.get_by_role("button", name="Show password").first
    field = box.bounding_box()
    button = show.bounding_box()
    assert field and button
    assert abs(field["y"] - button["y"]) < 4, (field, button)  # on the box's line
    assert field["width"] > button["width"] * 2
    show.click()
    assert box.get_attribute("type") == "text"
    assert page.get_by_role("button", name="Hide password").count() == 1
    assert page.evaluate("document.activeElement.id") == "id_password1"
    screenshot(page, f"signup-password-shown-{width}")
    page.locator("#id_username").fill("shown")
    page.locator("#id_password2").fill("a-long-passphrase-42")
    # Sent, but kept on the page to look at the box the browser submitted.
    box.evaluate(
        "box => { box.form.addEventListener('submit', e => e.preventDefault());"
        " box.form.requestSubmit(); }"
    )
    assert box.get_attribute("type") == "password"
    page.close()


def test_a_password_page_opens_with_focus_in_its_first_box(browser, live_server, db):
    # Each box's Show button moved the box, which took the page's autofocus away: a keyboard's
    # first Tab skipped "Old password" (a screen-reader walk-through).
    learner = UserFactory(username="aisha")
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(live_server.url + "/account/password/")
    expect(page.locator("#id_old_password")).to_be_focused()
    assert page.title() == "Change password · kubelearn"
    page.context.close()


def test_a_refused_sign_up_says_so_in_its_title_and_puts_focus_on_the_field_at_fault(
    browser, live_server, db
):
    # The page came back with focus on <body>, 500 px down, under the same title: nothing told
    # a screen-reader user it had failed.
    page = browser.new_page(viewport={"width": 375, "height": 900})
    page.goto(live_server.url + "/signup/")
    page.locator("#id_username").fill("aisha")
    page.locator("#id_password1").fill("short")
    page.locator("#id_password2").fill("different1")
    page.locator("#id_password2").press("Enter")
    page.wait_for_load_state()
    expect(page).to_have_title(re.compile(r"^Error: Sign up"))
    focused = page.locator(":focus")
    expect(focused).to_have_attribute("aria-invalid", "true")
    expect(focused).to_have_attribute("type", "password")
    screenshot(page, "signup-refused-375")
    page.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_browses_added_labels_are_not_covered_by_the_card_above(
    browser, live_server, seeded, width
):
    # Each card filled its grid row, so the one above ran over the next card's "Added" label.
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(live_server.url + "/browse/?sort=added")
    boxes = page.evaluate(
        "[...document.querySelectorAll('.card-list > li')].slice(0, 6).map(li => {"
        " const label = li.querySelector('.history-when').getBoundingClientRect();"
        " const card = li.querySelector('.card').getBoundingClientRect();"
        " return [label.top, label.bottom, card.top, card.bottom, card.left]; })"
    )
    for _, label_bottom, card_top, _, _ in boxes:
        assert label_bottom <= card_top + 1, boxes
    for above in boxes:
        for below in boxes:
            if abs(above[4] - below[4]) < 1 and below[0] > above[0]:  # lower in its column
                assert above[3] <= below[0] + 1, (above, below)
    screenshot(page, f"browse-added-{width}")
    page.close()
