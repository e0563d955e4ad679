"""The progress actions (Done, Start, Skip, Clear) in a real browser, with htmx posting them:
busy while they post, and keyboard focus put back after <main> is replaced."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import LearningPath, Resource
from learn.selectors import spoken_day
from learn.views import LATER_TITLE_CHARS, message_title
from recommender.models import Progress
from tests.browser.conftest import screenshot, signed_in_page, signed_out_and_in_in_another_tab
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

FOCUSED = "document.activeElement"


@pytest.fixture
def learner(seeded, http_settings) -> Any:
    return UserFactory(username="erin")


@pytest.fixture
def first_step(seeded) -> int:
    return LearningPath.objects.get().steps.order_by("position")[0].resource_id


def press(page: Any, button: Any) -> None:
    """A keyboard user's click: focus the button, press Enter, wait for the new <main> (the
    old one is marked) and for focus to settle somewhere in it."""
    page.evaluate("document.getElementById('main').dataset.replaced = 'no'")
    button.focus()
    page.keyboard.press("Enter")
    page.locator("#main:not([data-replaced])").wait_for()
    # A locator, not wait_for_function: the CSP (no eval) refuses Playwright's polling script.
    page.locator("#main:focus, #main :focus").wait_for()


def not_now_open(page: Any, card: Any) -> None:
    """Open a queue card's "Not now" by keyboard."""
    card.locator(".not-now > summary").focus()
    page.keyboard.press("Enter")
    expect(card.locator(".not-now form button").first).to_be_visible()


def not_now(page: Any, card: Any, when: str) -> None:
    """Put a queue card off by keyboard: open its "Not now" and press the day's button."""
    not_now_open(page, card)
    press(page, card.get_by_role("button", name=re.compile(rf"^Back {when}\b")))


def focused_text(page: Any) -> str:
    """What the focused control is called: its aria-label, else its text."""
    return page.evaluate(f"(e => e.getAttribute('aria-label') || e.textContent)({FOCUSED})").strip()


@pytest.mark.parametrize("width", [375, 1280])
def test_an_action_disables_its_group_and_says_busy_while_it_posts(
    browser, live_server, learner, width
):
    page = signed_in_page(browser, live_server, learner, width=width)
    page.goto(live_server.url + "/")
    held: list[Any] = []
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else 0)
    page.route("**/progress/**", lambda route: held.append(route))
    item = page.locator("#queue-list > li").first
    title = item.locator(".card-title").inner_text().strip()
    group = item.locator(".actions")
    item.get_by_role("button", name=re.compile(r"^Done")).click()

    expect(group).to_have_attribute("aria-busy", "true")
    for control in group.get_by_role("button").all():
        expect(control).to_be_disabled()
    screenshot(page, f"progress-busy-{width}")
    # A second click meanwhile (the Start beside Done) sends nothing.
    item.get_by_role("button", name=re.compile(r"^Start")).click(force=True)

    held[0].continue_()
    page.unroute("**/progress/**")
    expect(
        page.locator("#main").get_by_text(f"Marked “{message_title(title)}” done.")
    ).to_be_visible()
    assert len(posts) == 1, posts
    assert Progress.objects.get(user=learner).state == "completed"
    page.context.close()


def test_while_an_action_posts_focus_stays_on_its_card(browser, live_server, learner):
    # The pressed button is disabled while it posts, and focus fell to <body>: a key pressed
    # meanwhile started from the page's top (a keyboard walk-through).
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(live_server.url + "/")
    held: list[Any] = []
    page.route("**/progress/**", lambda route: held.append(route))
    item = page.locator("#queue-list > li").first
    item.get_by_role("button", name=re.compile(r"^Done")).focus()
    page.keyboard.press("Enter")
    expect(item.locator(".actions")).to_have_attribute("aria-busy", "true")
    expect(item.locator("article")).to_be_focused()
    held[0].continue_()
    page.unroute("**/progress/**")
    page.locator("#main:focus, #main :focus").wait_for()
    assert page.evaluate("document.activeElement.tagName") != "BODY"
    page.context.close()


def test_after_start_focus_follows_the_item_to_reading_now(browser, live_server, learner):
    page = signed_in_page(browser, live_server, learner)
    page.goto(live_server.url + "/")
    item = page.locator("#queue-list > li").first
    title = item.locator(".card-title").inner_text().strip()
    press(page, item.get_by_role("button", name=re.compile(r"^Start")))
    assert focused_text(page) == f"Done: {title}"
    assert page.evaluate(f"{FOCUSED}.closest('ul, ol').id") == "reading-list"
    page.context.close()


def test_after_done_focus_goes_to_the_item_that_took_its_place(browser, live_server, learner):
    page = signed_in_page(browser, live_server, learner)
    page.goto(live_server.url + "/")
    titles = [t.strip() for t in page.locator("#queue-list .card-title").all_inner_texts()]
    item = page.locator("#queue-list > li").first
    press(page, item.get_by_role("button", name=re.compile(r"^Done")))
    now_first = page.locator("#queue-list > li").first.locator(".card-title").inner_text().strip()
    assert now_first != titles[0]
    assert page.evaluate(f"{FOCUSED}.tagName") == "A"
    assert focused_text(page) == now_first
    page.context.close()


def test_after_done_on_the_last_card_reading_now_focus_goes_to_up_next(
    browser, live_server, learner
):
    # A keyboard walk-through: Reading now went with its last card, and focus went to <main>.
    page = signed_in_page(browser, live_server, learner)
    page.goto(live_server.url + "/")
    press(
        page,
        page.locator("#queue-list > li").first.get_by_role("button", name=re.compile(r"^Start")),
    )
    reading = page.locator("#reading-list > li")
    expect(reading).to_have_count(1)
    press(page, reading.first.get_by_role("button", name=re.compile(r"^Done")))
    expect(page.locator("#reading-list")).to_have_count(0)
    first = page.locator("#queue-list > li").first.locator(".card-title").inner_text().strip()
    assert page.evaluate(f"{FOCUSED}.closest('ul, ol')?.id") == "queue-list"
    assert focused_text(page) == first
    page.context.close()


def test_on_a_resource_page_focus_stays_with_its_actions(browser, live_server, learner, first_step):
    page = signed_in_page(browser, live_server, learner)
    page.goto(f"{live_server.url}/resources/{first_step}/")
    title = page.get_by_role("heading", level=1).inner_text().strip()
    press(page, page.get_by_role("button", name=re.compile(r"^Start")))
    assert focused_text(page) == f"Done: {title}"
    press(page, page.get_by_role("button", name=re.compile(r"^Done")))
    assert focused_text(page) == f"Save rating: {title}"
    page.context.close()


def test_the_message_of_a_background_action_reaches_the_live_region(browser, live_server, learner):
    # The "Marked … done" message arrives inside the new <main>, which screen readers do not
    # announce; the page's lasting live region must say it.
    page = signed_in_page(browser, live_server, learner)
    page.goto(live_server.url + "/")
    announcer = page.locator("#announcer")
    assert announcer.get_attribute("aria-live") == "polite"
    expect(announcer).to_have_text("")
    title = page.locator("#queue-list > li").first.locator(".card-title").inner_text().strip()
    press(
        page,
        page.locator("#queue-list > li").first.get_by_role("button", name=re.compile(r"^Done")),
    )
    message = page.locator("#main .messages .message > span").inner_text().strip()
    assert title in message
    # The message, without its buttons, and where to rate the item: focus is below, by then.
    expect(announcer).to_have_text(f"{message} {RATE_SAID}")
    page.context.close()


RATE_SAID = "Rate it from 1 to 5 with the buttons in this message, at the top of the page."


@pytest.mark.parametrize("width", [375, 1280])
def test_a_rating_from_the_done_message_keeps_focus_in_the_page(
    browser, live_server, learner, width
):
    # A walk-through rated from the message with the keyboard: focus fell to <body>, and the
    # next Tab reached the footer.
    page = signed_in_page(browser, live_server, learner, width=width)
    page.goto(live_server.url + "/")
    cards = page.locator("#queue-list > li")
    title = cards.first.locator(".card-title").inner_text().strip()
    press(page, cards.first.get_by_role("button", name=re.compile(r"^Done")))
    following = cards.first.locator(".card-title").inner_text().strip()
    rate = page.locator("#main .messages").get_by_role("group", name="Rate it, 1 to 5")
    press(page, rate.get_by_role("button", name="Rate it 4 of 5"))
    expect(page.locator("#announcer")).to_have_text(
        f"Rating of “{message_title(title)}” saved: 4 of 5."
    )
    assert focused_text(page) == following  # back at the queue's first card
    assert Progress.objects.get(user=learner).rating == 4
    page.context.close()


def test_after_done_on_a_resource_page_a_rating_from_the_message_returns_to_its_actions(
    browser, live_server, learner, first_step
):
    page = signed_in_page(browser, live_server, learner)
    page.goto(f"{live_server.url}/resources/{first_step}/")
    title = page.get_by_role("heading", level=1).inner_text().strip()
    press(page, page.get_by_role("button", name=re.compile(r"^Done")))
    press(page, page.locator("#main .messages").get_by_role("button", name="Rate it 2 of 5"))
    assert focused_text(page) == f"Save rating: {title}"
    expect(page.get_by_label(f"Rating for {title}")).to_have_value("2")
    page.context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_saving_from_browse_keeps_the_place_and_offers_to_take_it_back(
    browser, live_server, learner, width
):
    page = signed_in_page(browser, live_server, learner, width=width)
    page.goto(live_server.url + "/browse/")
    # A card far down the page: the page must not jump to the top, away from where focus is.
    card = page.locator(".card-list > li").nth(8)
    card.scroll_into_view_if_needed()
    title = card.locator(".card-title").inner_text().strip()
    press(page, card.get_by_role("button", name=re.compile(r"^Save for later")))
    assert focused_text(page) == f"Remove from saved: {title}"
    expect(page.locator("#main :focus")).to_be_in_viewport()
    expect(page.locator("#announcer")).to_contain_text(f"Saved “{message_title(title)}” for later")
    screenshot(page, f"browse-saved-{width}")
    assert Progress.objects.get(user=learner).state == "planned"
    page.context.close()


def test_htmx_actions_log_no_console_errors(browser, live_server, learner):
    # Left to itself htmx adds its indicator rules as an inline <style>, which the CSP refuses
    # with a console error; base.html turns that off and the stylesheet has the rules.
    page = signed_in_page(browser, live_server, learner)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url + "/browse/")
    card = page.locator(".card-list > li").first
    title = card.locator(".card-title").inner_text().strip()
    press(page, card.get_by_role("button", name=re.compile(r"^Save for later")))
    expect(page.locator("#announcer")).to_contain_text(f"Saved “{message_title(title)}” for later")
    page.goto(live_server.url + "/")
    press(
        page, page.locator("#queue-list > li").first.get_by_role("button", name=re.compile("^Done"))
    )
    expect(page.locator("#main .messages")).to_contain_text("done.")
    assert errors == []
    page.context.close()


def test_an_action_after_resizing_the_note_box_logs_no_csp_error(
    browser, live_server, learner, first_step
):
    # A resized textarea carries an inline style; htmx used to copy it while settling the new
    # page, which the CSP (style-src-attr) refused with a console error.
    page = signed_in_page(browser, live_server, learner)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server.url + f"/resources/{first_step}/")
    box = page.locator("textarea").first
    box.evaluate("node => { node.style.height = '300px'; }")  # what dragging its corner does
    press(page, page.get_by_role("button", name=re.compile(r"^Done")))
    expect(page.locator("#main .messages")).to_contain_text("done.")
    assert errors == []
    page.context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_undo_stays_in_sight_after_an_action_far_down_the_queue(
    browser, live_server, learner, width
):
    page = signed_in_page(browser, live_server, learner, width=width)
    page.goto(live_server.url + "/")
    card = page.locator("#queue-list > li").nth(5)
    card.scroll_into_view_if_needed()
    title = card.locator(".card-title").inner_text().strip()
    press(page, card.get_by_role("button", name=re.compile(r"^Skip")))
    undo = page.locator("#main .messages").get_by_role("button", name="Undo")
    expect(undo).to_be_in_viewport()
    # The announcement is the message, not the button's name.
    expect(page.locator("#announcer")).to_have_text(f"Skipped “{message_title(title)}”.")
    screenshot(page, f"undo-in-sight-{width}")
    undo.click()
    expect(page.locator("#main .messages")).to_contain_text(
        f"Undone: “{message_title(title)}” is back"
    )
    assert not Progress.objects.filter(user=learner).exists()
    page.context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_a_stale_csrf_token_says_the_action_did_not_go_through(
    browser, live_server, learner, width
):
    # Signing out and in again in another tab rotates the CSRF token; this tab's forms still
    # carry the old one, the server answers 403 and htmx swaps nothing.
    page = signed_in_page(browser, live_server, learner, width=width)
    page.goto(live_server.url + "/")
    signed_out_and_in_in_another_tab(page, live_server, learner)

    done = page.locator("#queue-list > li").first.get_by_role("button", name=re.compile(r"^Done"))
    done.click()
    alert = page.locator("#main").get_by_role("alert")
    expect(alert).to_have_text(
        "That did not go through: the page is out of date. Reload the page and try again."
    )
    expect(alert).to_be_in_viewport()
    expect(done).to_be_focused()
    assert not Progress.objects.filter(user=learner).exists()
    screenshot(page, f"progress-stale-csrf-{width}")
    page.context.close()


def test_a_path_action_that_reloads_the_page_is_announced_and_focus_stays_at_its_step(
    browser, live_server, learner
):
    # The Path page's Done is a plain form: the page reloads. A keyboard walk-through found
    # focus back at <body> and nothing announced.
    page = signed_in_page(browser, live_server, learner)
    page.goto(live_server.url + "/path/")
    title = LearningPath.objects.get().steps.get(position=3).resource.title
    page.locator("#step-3").get_by_role("button", name=re.compile(r"^Done")).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#announcer")).to_have_text(
        f"Marked “{message_title(title)}” done. {RATE_SAID}"
    )
    expect(page.locator("#step-3")).to_be_focused()
    page.keyboard.press("Tab")  # on from the step the learner was at, not from the page's top
    assert page.evaluate(f"{FOCUSED}.closest('li')?.id") == "step-3"
    page.context.close()


def test_the_undo_message_takes_little_of_a_phone_and_can_be_put_away(
    browser, live_server, learner
):
    # It stuck to the top of a 375 px screen, 158 px tall, with no way to close it.
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(live_server.url + "/")
    card = page.locator("#queue-list > li").nth(3)
    card.scroll_into_view_if_needed()
    press(page, card.get_by_role("button", name=re.compile(r"^Start")))
    messages = page.locator("#main .messages")
    undo = messages.get_by_role("button", name="Undo")
    expect(undo).to_be_in_viewport()
    assert messages.bounding_box()["height"] <= 110  # four lines, a sixth of a 667 px screen
    # A tap target, as the dismiss button beside it is (it measured 42 x 23 px).
    box = undo.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44, box
    screenshot(page, "undo-message-375")
    messages.get_by_role("button", name="Dismiss this message").click()
    expect(page.locator("#main .messages")).to_have_count(0)
    expect(page.locator("#main")).to_be_focused()
    assert Progress.objects.filter(user=learner).count() == 1  # put away, not undone
    page.context.close()


def test_escape_puts_the_undo_message_away_and_leaves_focus_where_it_was(
    browser, live_server, learner
):
    # A walk-through found only the x to close it.
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(live_server.url + "/")
    press(
        page,
        page.locator("#queue-list > li").first.get_by_role("button", name=re.compile(r"^Start")),
    )
    expect(page.locator("#main .messages")).to_have_count(1)
    focused = page.evaluate(f"{FOCUSED}.outerHTML")
    page.keyboard.press("Escape")
    expect(page.locator("#main .messages")).to_have_count(0)
    assert page.evaluate(f"{FOCUSED}.outerHTML") == focused
    assert Progress.objects.filter(user=learner).count() == 1  # put away, not undone
    page.context.close()


@pytest.mark.parametrize(
    ("width", "height", "done_at"),
    [
        (375, 900, 120),
        (375, 560, 120),
        (1280, 900, 120),
        (375, 800, "foot"),
        (375, 400, "foot"),
        (1280, 900, "foot"),
    ],
)
def test_after_done_far_down_the_queue_the_next_title_is_not_under_the_message(
    browser, live_server, learner, width, height, done_at
):
    # On a phone the next card's title got focus at the very top, under the sticky message
    # (a browser counts an element under it as in view, so focus() did not scroll). On a short
    # screen, where the whole card does not fit below the message, its badges stayed under it.
    page = signed_in_page(browser, live_server, learner, width=width)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(live_server.url + "/")
    card = page.locator("#queue-list > li").nth(2)
    done = card.get_by_role("button", name=re.compile(r"^Done"))
    # Read down to the card's buttons: its title has scrolled off the top of the screen. With
    # the buttons at the screen's foot the next card takes the done one's place above the
    # screen (a walk-through's phone showed its title clear of the message, its badges under).
    offset = height - 150 if done_at == "foot" else done_at
    page.evaluate(f"top => window.scrollBy(0, top - {offset})", done.bounding_box()["y"])
    page.evaluate("document.getElementById('main').dataset.replaced = 'no'")
    done.click()
    page.locator("#main:not([data-replaced]) .messages").wait_for()
    page.wait_for_timeout(300)  # the scroll that follows focus runs on the next frame
    message = page.locator("#main .messages").bounding_box()
    focused = page.evaluate(f"{FOCUSED}.getBoundingClientRect().top")
    assert page.evaluate(f"{FOCUSED}.classList.contains('card-title')") or page.evaluate(
        f"!!{FOCUSED}.closest('.card-title')"
    )
    assert focused >= message["y"] + message["height"], (focused, message)
    # And the card's badges above the title (stage, kind, length) with it.
    meta = page.evaluate(
        f"{FOCUSED}.closest('.card').querySelector('.card-meta').getBoundingClientRect().top"
    )
    assert meta >= message["y"] + message["height"], (meta, message)
    screenshot(page, f"done-far-down-{width}x{height}-{done_at}")
    page.context.close()


def test_on_a_phone_the_started_cards_title_is_not_under_the_message(browser, live_server, learner):
    # A walk-through: after Start on a phone, focus went to the card's Done button under
    # Reading now, and the sticky message covered the card's title and link above it.
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(live_server.url + "/")
    card = page.locator("#queue-list > li").nth(1)
    start = card.get_by_role("button", name=re.compile(r"^Start"))
    page.evaluate("top => window.scrollBy(0, top - 500)", start.bounding_box()["y"])
    press(page, start)
    page.wait_for_timeout(300)  # the scroll that follows focus runs on the next frame
    assert page.evaluate(f"{FOCUSED}.closest('ul, ol').id") == "reading-list"
    message = page.locator("#main .messages").bounding_box()
    top = page.evaluate(
        f"{FOCUSED}.closest('.card').querySelector('.card-title').getBoundingClientRect().top"
    )
    screenshot(page, "started-card-375")
    assert top >= message["y"] + message["height"], (top, message)
    # And the heading over it: the first card of Reading now comes with "Reading now".
    heading = page.locator("#reading-now-title").bounding_box()
    assert heading["y"] >= message["y"] + message["height"], (heading, message)
    page.context.close()


@pytest.fixture
def long_title(first_step) -> str:
    """The first step's title made long: messages name an item by a shortened title."""
    title = "Deploying and Scaling Microservices with Docker and Kubernetes, the long way"
    Resource.objects.filter(pk=first_step).update(title=title, updated_at=timezone.now())
    return title


def test_on_a_phone_the_not_now_message_names_the_item_and_the_day_it_comes_back(
    browser, live_server, learner, long_title
):
    # Cut to two lines, it read "Back in your queue on Friday 11 December: “So I Heard…", with
    # no sign of which item was put off; then, title first, a long title hid the day. A long
    # title is now shortened in the message (the card had it whole).
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(live_server.url + "/")
    card = page.locator("#queue-list > li").first
    expect(card.locator(".card-title")).to_have_text(long_title)
    not_now(page, card, "in a week")
    span = page.locator("#main .message-sticky > span")
    expect(span).to_contain_text(
        f"\u201c{message_title(long_title, LATER_TITLE_CHARS)}\u201d returns to your queue"
    )
    back = timezone.localtime(Progress.objects.get(user=learner).later_until)
    day = f"{spoken_day(back)}."
    # The day's last character lies inside what the clamp shows.
    hidden_below = page.evaluate(
        """([day]) => {
            const span = document.querySelector('#main .message-sticky > span');
            const text = span.firstChild.nodeType === 3 ? span.firstChild : span.childNodes[0];
            const end = text.textContent.indexOf(day) + day.length;
            if (end < day.length) return 'not found';
            const range = document.createRange();
            range.setStart(text, end - 1);
            range.setEnd(text, end);
            return range.getBoundingClientRect().bottom - span.getBoundingClientRect().bottom;
        }""",
        [day],
    )
    screenshot(page, "not-now-message-375")
    assert hidden_below != "not found", span.inner_text()
    assert hidden_below <= 0, (hidden_below, span.inner_text(), span.bounding_box())
    # And where the item is meanwhile: the whole message fits (it was cut before "History").
    expect(span).to_contain_text("It waits in Saved.")
    assert span.evaluate("(e) => e.scrollHeight <= e.clientHeight + 1"), span.bounding_box()
    page.context.close()


@pytest.mark.parametrize(
    "title",
    [
        "Deploying and Scaling Microservices with Docker and Kubernetes, the long way",
        # A walk-through's: its message lost "queue in its turn." under the clamp.
        "Datacenter Orchestration Security and Insecurity: Assessing Kubernetes, Mesos, and "
        "Docker at Scale",
    ],
)
def test_on_a_phone_the_saved_for_later_message_is_shown_whole(
    browser, live_server, learner, first_step, title
):
    Resource.objects.filter(pk=first_step).update(title=title, updated_at=timezone.now())
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(f"{live_server.url}/browse/?search={title.split()[0]}")
    card = page.locator("#main .card").filter(has_text=title).first
    press(page, card.get_by_role("button", name=re.compile(r"^Save for later")))
    span = page.locator("#main .message-sticky > span")
    expect(span).to_contain_text("for later. It waits in Saved.")
    assert span.evaluate("(e) => e.scrollHeight <= e.clientHeight + 1"), span.inner_text()
    page.context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_not_now_opens_three_days_side_by_side_and_puts_the_item_off_until_the_one_pressed(
    browser, live_server, learner, first_step, width
):
    page = signed_in_page(browser, live_server, learner, width=width)
    page.goto(live_server.url + "/")
    card = page.locator("#queue-list > li").first
    days = card.locator(".not-now form button")
    expect(days.first).to_be_hidden()  # one quiet "Not now" until it is opened
    not_now_open(page, card)
    expect(days).to_have_count(3)
    tops = {round(box["y"]) for box in (day.bounding_box() for day in days.all()) if box}
    screenshot(page, f"not-now-open-{width}")
    assert len(tops) == 1, tops  # one row, also on a phone
    for day in days.all():
        box = day.bounding_box()
        assert box and box["height"] >= 40, box  # a finger's tap
    press(page, card.get_by_role("button", name=re.compile(r"^Back tomorrow\b")))
    later_until = Progress.objects.get(user=learner, resource_id=first_step).later_until
    assert later_until is not None
    assert 0 < (later_until - timezone.now()).total_seconds() <= 24 * 3600
    back = timezone.localtime(later_until)
    span = page.locator("#main .message-sticky > span")
    expect(span).to_contain_text(f"returns to your queue on {spoken_day(back)}.")
    # Whole, also on a phone: with the seed's first title (39 characters) it lost "History."
    expect(span).to_contain_text("It waits in Saved.")
    assert span.evaluate("(e) => e.scrollHeight <= e.clientHeight + 1"), span.inner_text()
    page.context.close()


def test_escape_closes_an_open_not_now_and_puts_focus_back_on_it(browser, live_server, learner):
    # A walk-through's keyboard learner opened "Not now", changed her mind, and found Escape
    # left the three days open.
    page = signed_in_page(browser, live_server, learner)
    page.goto(live_server.url + "/")
    card = page.locator("#queue-list > li").first
    not_now_open(page, card)
    page.keyboard.press("Tab")  # onto "tomorrow"
    page.keyboard.press("Escape")
    expect(card.locator(".not-now form button").first).to_be_hidden()
    assert page.evaluate("document.activeElement.matches('.not-now > summary')")
    assert Progress.objects.filter(user=learner).count() == 0  # nothing was put off
    page.context.close()


def test_on_a_phone_the_message_stops_following_once_the_learner_reads_on(
    browser, live_server, learner
):
    # A walk-through: after each Done the message stuck to the top of a phone's screen and
    # covered card headings, however far she read on, until she closed it.
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(live_server.url + "/")
    done = page.locator("#queue-list > li").first.get_by_role("button", name=re.compile(r"^Done"))
    page.evaluate("document.getElementById('main').dataset.replaced = 'no'")
    done.click()
    page.locator("#main:not([data-replaced]) .messages").wait_for()
    page.wait_for_timeout(400)  # where it started is taken once focus has settled

    def message_top() -> float:
        return page.evaluate(
            "document.querySelector('#main .messages').getBoundingClientRect().top"
        )

    screen = page.evaluate("window.innerHeight")
    page.evaluate("window.scrollBy(0, 200)")
    page.wait_for_timeout(100)
    assert message_top() >= 0  # near where she acted, it is still in sight
    page.evaluate("h => window.scrollBy(0, h)", screen)
    page.wait_for_timeout(100)
    assert message_top() < 0  # a screen further on, it stays at the top of the page
    page.evaluate("window.scrollTo(0, 0)")
    expect(page.locator("#main .message-sticky")).to_be_visible()  # and is there to go back to
    page.context.close()


def test_an_action_on_a_page_that_is_itself_refused_goes_through_and_says_so(
    browser, live_server, learner
):
    # A walk-through pressed Done on Up next opened as /?minutes=0 (a 400 page that says the
    # budget is unusable): the page after the action is that 400 again, and the script called
    # the action failed, "error 400, try again", though the item was done.
    page = signed_in_page(browser, live_server, learner)
    response = page.goto(live_server.url + "/?minutes=0")
    assert response is not None and response.status == 400
    done = page.locator("#main").get_by_role("button", name=re.compile(r"^Done")).first
    press(page, done)
    expect(page.locator("#main .messages")).to_contain_text("done")
    expect(page.locator("#request-error")).to_have_count(0)
    assert Progress.objects.filter(user=learner, state="completed").count() == 1
    page.context.close()


@pytest.mark.parametrize("button", ["Start", "Stop reading", "Skip", "Done"])
def test_an_actions_message_about_a_long_title_is_not_cut_at_375_px(
    browser, live_server, learner, button
):
    # "Stopped reading “Securing a Cluster (Kubernetes…”: it is back in your queue wh…": the
    # four lines a phone gives the message beside Undo cut it mid-word (a walk-through).
    longest = max(Resource.objects.all(), key=lambda resource: len(resource.title))
    if button in ("Stop reading", "Done"):
        Progress.objects.create(user=learner, resource=longest, state="in_progress")
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(f"{live_server.url}/resources/{longest.pk}/")
    press(page, page.locator("#main").get_by_role("button", name=re.compile(rf"^{button}\b")).first)
    said = page.locator("#main .message-sticky > span").first
    expect(said).to_be_visible()
    height = said.evaluate("span => [span.scrollHeight, span.clientHeight]")
    screenshot(page, f"long-title-{button}")
    assert height[0] <= height[1], (button, said.text_content(), height)
    page.context.close()
