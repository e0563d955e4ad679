"""A new learner's first session, in a real browser, without JavaScript being required."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from learn.views import message_title
from tests.browser.conftest import PASSWORD, screenshot, signed_in_page

pytestmark = pytest.mark.browser

RBAC = "RBAC and authorization"


def coverage_row(page, area: str) -> list[str]:
    row = page.locator(
        "table.coverage-table tbody tr", has=page.get_by_role("rowheader", name=area)
    )
    # all_inner_texts() does not wait: right after a click it could read the page being left.
    expect(row).to_have_count(1)
    return [cell.strip() for cell in row.locator("td").all_inner_texts()]


def test_sign_up_focus_read_and_sign_out(browser, live_server, seeded, http_settings):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(5000)
    page = context.new_page()
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up to get your queue").click()
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(live_server.url + "/")
    expect(page.get_by_role("heading", name="Up next")).to_be_visible()

    # Choose a focus: RBAC, as the main one.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Focus").click()
    expect(page.get_by_role("heading", name="My focus")).to_be_visible()
    assert coverage_row(page, RBAC)[0] == "0"
    page.get_by_label(RBAC).select_option(label="Main focus")
    page.get_by_role("button", name="Save my focus").click()
    expect(page.locator("#main").get_by_text("Focus saved")).to_be_visible()
    assert page.get_by_label(RBAC).input_value() == "1"

    # The queue now leads with RBAC reading, and says so.
    page.get_by_role("link", name="Up next").click()
    first = page.locator("ol.queue > li").first
    reasons = first.locator(".reasons").inner_text()
    assert RBAC in reasons, reasons
    title = first.locator(".card-title").inner_text().strip()
    screenshot(page, "journey-up-next-1280")

    # Done: the item leaves the queue — in place, without reloading the page (htmx; the same
    # form works without script, see tests/learn/test_pages.py); its message offers a rating.
    page.evaluate("window.kubelearnNoReload = true")
    first.get_by_role("button", name=re.compile(r"^Done")).click()
    # In #main: the same words reach the screen-reader announcer a moment later.
    messages = page.locator("#main .messages")
    expect(messages.get_by_text(f"Marked “{message_title(title)}” done.")).to_be_visible()
    messages.get_by_role("button", name="Rate it 5 of 5").click()
    rated = f"Rating of “{message_title(title)}” saved: 5 of 5."
    expect(messages.get_by_text(rated)).to_be_visible()
    assert page.evaluate("window.kubelearnNoReload === true")
    assert page.url == live_server.url + "/"
    titles = [t.strip() for t in page.locator("ol.queue .card-title").all_inner_texts()]
    assert titles and title not in titles

    # The coverage picture moves: one RBAC resource done, in the table and in the chart.
    page.get_by_role("link", name="Focus").click()
    expect(page.get_by_role("heading", name="My focus")).to_be_visible()
    assert coverage_row(page, RBAC)[0] == "1"
    desc = page.locator("svg.chart desc").text_content()
    assert "you have covered resources in " in desc and " in 0 of " not in desc
    screenshot(page, "journey-focus-1280")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.locator("#main .messages")).to_have_text("You are signed out.")
    expect(
        page.get_by_role("heading", name="Learn Kubernetes, from zero to secure.")
    ).to_be_visible()
    assert csp_errors == []
    context.close()


def test_swagger_ui_and_the_admin_work_under_the_csp(browser, live_server, http_settings, db):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10000)
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.goto(live_server.url + "/api/docs/")
    # Swagger UI renders the operations from our schema with its own (vendored) script.
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert page.locator(".swagger-ui .opblock").count() > 10
    page.goto(live_server.url + "/admin/login/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert violations == []
    context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_searching_the_catalog_with_the_filter_form(browser, live_server, seeded, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(5000)
    page = context.new_page()
    page.goto(live_server.url + "/browse/")
    page.get_by_label("Search", exact=True).fill("rbac")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r".*search=rbac.*"))
    # Only what was chosen: not "&sort=&stage=&kind=&area=&tag=&author=" (a walk-through).
    assert page.url == live_server.url + "/browse/?search=rbac"
    expect(page.get_by_label("Search", exact=True)).to_be_enabled()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator("#main").get_by_role("status")).to_contain_text("resource")
    assert page.locator(".results-count").inner_text().split()[0] != "0"
    page.get_by_label("Search", exact=True).fill("zzzzqqqq")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text("Nothing matches “zzzzqqqq”.")).to_be_visible()
    screenshot(page, f"browse-nothing-matches-{width}")
    context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_the_feed_address_can_be_copied_with_one_tap(
    browser, live_server, http_settings, db, width
):
    # On a phone the long read-only field was cut off and would not select its text.
    from learn import services
    from tests.factories import UserFactory

    learner = UserFactory(username="finn")
    feed, _ = services.queue_feed_create(user=learner)
    page = signed_in_page(browser, live_server, learner, width=width)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(live_server.url + "/account/")
    copy = page.get_by_role("button", name="Copy your feed address")
    expect(copy).to_be_visible()
    copy.click()
    expect(page.locator("button[data-copy]")).to_have_accessible_name("Copied your feed address")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith(f"/feed/{feed.key}/")
    screenshot(page, f"account-feed-copy-{width}")
    page.context.close()
