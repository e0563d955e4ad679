"""A curator's review session in a real browser: one pending entry reviewed on its own page
(suggestions seen, a label edited, approved), then a path step moved up — at 1280 px, with
no horizontal scrolling and no request leaving 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, screenshot

pytestmark = pytest.mark.browser

NO_SIDEWAYS_SCROLL = """() => {
  const page = document.documentElement.scrollWidth <= window.innerWidth;
  const tables = [...document.querySelectorAll('.results, #result_list')]
    .every(el => el.scrollWidth <= el.clientWidth + 1);
  return page && tables;
}"""


@pytest.fixture
def curator(transactional_db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("carol", password=PASSWORD)


@pytest.fixture
def pending_post(seeded):
    from catalog.models import Feed, Resource, Status

    feed = Feed.objects.create(url="https://blog.example.org/feed.xml", title="Example blog")
    return Resource.objects.create(
        title="Kubernetes RBAC: roles, cluster roles and least-privilege bindings",
        summary="How RBAC authorization controls who can do what against the Kubernetes API.",
        content_html='<p>Roles and bindings.</p><img src="https://blog.example.org/a.png">',
        url="https://blog.example.org/rbac/",
        feed=feed,
        status=Status.PENDING,
        # A date in the review queue's column: on one line it pushed the suggested labels
        # past the table's edge at 1280 px (a walk-through).
        published_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
    )


def test_curator_reviews_an_entry_on_its_page_and_reorders_a_path_step(
    browser, live_server, curator, pending_post, http_settings
):
    from catalog.models import LearningPath, Resource, Status

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(8000)
    outside: list[str] = []

    def only_loopback(route):
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()

    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # The review queue: suggested labels visible, the table fits the screen.
    page.goto(live_server.url + "/admin/catalog/pendingresource/")
    expect(page.get_by_text("1 item to review")).to_be_visible()
    expect(page.locator("td.field-suggested_labels .kl-label-applied").first).to_be_visible()
    screenshot(page, "admin-review-queue-1280")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    # The entry's own page: suggestions, pre-filled labels; add one more area and approve.
    page.get_by_role("link", name=pending_post.title, exact=True).click()
    expect(page.get_by_role("button", name="Save and approve")).to_be_visible()
    rbac = page.get_by_role("checkbox", name="RBAC and authorization")
    expect(rbac).to_be_checked()  # pre-filled from the suggestions
    page.get_by_role("checkbox", name="Audit logging").check()
    screenshot(page, "admin-review-item-1280")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.get_by_role("button", name="Save and approve").click()
    expect(page.get_by_text("approved")).to_be_visible()
    pending_post.refresh_from_db()
    assert pending_post.status == Status.APPROVED
    areas = set(pending_post.security_areas.values_list("slug", flat=True))
    assert {"rbac", "audit-logging"} <= areas

    # Reorder the path: move the third step up.
    path = LearningPath.objects.get()
    third = path.steps.get(position=3).resource.title
    page.goto(live_server.url + f"/admin/catalog/learningpath/{path.pk}/change/")
    page.get_by_role("link", name="Reorder steps").click()
    page.get_by_role("button", name=f"Move “{third}” up").click()
    expect(page.get_by_text(f"Moved “{third}” up.")).to_be_visible()
    assert path.steps.get(position=2).resource.title == third
    screenshot(page, "admin-path-reorder-1280")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    # The other wide admin lists fit too.
    for listing in ("resource", "feed"):
        page.goto(live_server.url + f"/admin/catalog/{listing}/")
        screenshot(page, f"admin-{listing}-list-1280")
        assert page.evaluate(NO_SIDEWAYS_SCROLL), listing

    assert Resource.objects.filter(status=Status.PENDING).count() == 0
    assert outside == [], outside
    context.close()


def test_review_queue_stacks_each_item_on_a_phone_with_its_preview_and_labels_in_sight(
    browser, live_server, curator, pending_post, http_settings
):
    context = browser.new_context(viewport={"width": 375, "height": 800})
    context.set_default_timeout(8000)
    page = context.new_page()
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # A title with no spaces wraps inside the item instead of running off the screen.
    type(pending_post).objects.filter(pk=pending_post.pk).update(title="kube-" * 30)
    page.goto(live_server.url + "/admin/catalog/pendingresource/")
    expect(page.get_by_text("1 item to review")).to_be_visible()
    expect(page.get_by_role("heading", name="Items to review", level=1)).to_be_visible()
    screenshot(page, "admin-review-queue-375")
    title = page.locator("#result_list tbody th.field-title")
    assert title.evaluate("cell => cell.scrollWidth <= cell.clientWidth")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    # What a decision needs lies within the screen's width, not off to the right.
    for cell in ("th.field-title", "td.field-preview", "td.field-suggested_labels"):
        box = page.locator(f"#result_list tbody {cell}").first.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, (cell, box)
    feed_label = page.locator("td.field-feed").evaluate(
        "cell => getComputedStyle(cell, '::before').content"
    )
    assert feed_label == '"Feed: "'
    # The item can still be selected for a bulk action.
    page.locator("#result_list tbody input.action-select").check()
    expect(page.get_by_text("1 of 1 selected")).to_be_visible()
    context.close()
