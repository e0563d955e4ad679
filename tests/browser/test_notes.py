"""The note form on a resource page in a real browser: htmx posts it like the progress actions,
focus comes back to the textarea, a refused note says why, and without script it still works."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from catalog.models import Resource
from recommender.models import NOTE_MAX_CHARS, Note
from recommender.services import note_set
from tests.browser.conftest import screenshot, signed_out_and_in_in_another_tab
from tests.browser.test_progress_actions import first_step, learner, press, signed_in_page

pytestmark = pytest.mark.browser
__all__ = ["first_step", "learner"]  # fixtures, shared with the progress actions' tests


def save_note(page: Any) -> None:
    """Press the note form's Save as a learner does (htmx posts it)."""
    press(page, page.get_by_role("button", name=re.compile(r"^Save note on ")))


def saved_in_another_tab(page: Any, url: str, text: str) -> None:
    """A second tab of the same session opens `url` and saves `text` as the note."""
    other = page.context.new_page()
    other.goto(url)
    other.get_by_role("textbox", name="Your notes").fill(text)
    save_note(other)
    expect(other.locator("#main .messages .message > span")).to_have_text("Note saved.")


def test_saving_a_note_keeps_focus_in_the_textarea(browser, live_server, learner, first_step):
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(f"{live_server.url}/resources/{first_step}/")
    page.evaluate("window.notReloaded = true")
    box = page.get_by_role("textbox", name="Your notes")
    box.fill("kubectl auth can-i --list")
    save_note(page)
    expect(page.locator("#main .messages .message > span")).to_have_text("Note saved.")
    expect(page.get_by_role("textbox", name="Your notes")).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("Note saved.")
    # In sight where the learner is, above the note, not at the page's top (a walk-through).
    message = page.locator("#main .messages").bounding_box()
    note = page.get_by_role("textbox", name="Your notes").bounding_box()
    assert message["y"] >= 0 and message["y"] + message["height"] <= note["y"], (message, note)
    assert page.evaluate("window.scrollY") > 0
    assert page.evaluate("window.notReloaded") is True  # htmx swapped <main>, no reload
    assert Note.objects.get(user=learner).text == "kubectl auth can-i --list"
    expect(page.locator(".note-saved")).to_contain_text("Last saved")
    screenshot(page, "note-saved-375")
    page.context.close()


def test_a_refused_note_says_why_and_keeps_the_text(browser, live_server, learner, first_step):
    page = signed_in_page(browser, live_server, learner)
    page.goto(f"{live_server.url}/resources/{first_step}/")
    page.get_by_role("textbox", name="Your notes").fill("z" * (NOTE_MAX_CHARS + 1))
    save_note(page)
    expect(page.locator("#main .errorlist")).to_contain_text("at most 10,000 characters")
    expect(page.get_by_role("textbox", name="Your notes")).to_be_focused()
    assert len(page.get_by_role("textbox", name="Your notes").input_value()) == NOTE_MAX_CHARS + 1
    assert not Note.objects.exists()
    page.context.close()


def test_a_pasted_note_over_the_limit_is_kept_whole_and_said_to_be_too_long(
    browser, live_server, learner, first_step
):
    # A walk-through pasted 20,001 characters: maxlength kept 10,000 and "Note saved." said
    # nothing of the rest.
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(f"{live_server.url}/resources/{first_step}/")
    box = page.get_by_role("textbox", name="Your notes")
    count = page.locator(".note-count")
    box.fill("y" * 100)
    expect(count).to_be_hidden()  # far from the limit: nothing to count
    box.fill("y" * (NOTE_MAX_CHARS - 10))
    expect(count).to_have_text("9,990 of 10,000 characters")
    box.fill("ü" * (NOTE_MAX_CHARS + 50))  # pasted (fill inserts text as a paste does)
    assert len(box.input_value()) == NOTE_MAX_CHARS + 50
    expect(count).to_have_text(
        "10,050 characters: 50 over the 10,000 a note can hold. Shorten it to save it."
    )
    expect(page.locator("#announcer")).to_contain_text("50 over the 10,000")
    screenshot(page, "note-over-limit-375")
    save_note(page)
    expect(page.locator("#main .errorlist")).to_contain_text("at most 10,000 characters")
    assert len(page.get_by_role("textbox", name="Your notes").input_value()) == NOTE_MAX_CHARS + 50
    # Counted again after the swap, in numbers only: the refusal above says why, once.
    expect(page.locator(".note-count")).to_have_text("10,050 of 10,000 characters")
    assert not Note.objects.exists()
    page.context.close()


def test_a_refused_note_is_announced_not_the_last_saved_ones_message(
    browser, live_server, learner, first_step
):
    page = signed_in_page(browser, live_server, learner)
    page.goto(f"{live_server.url}/resources/{first_step}/")
    page.get_by_role("textbox", name="Your notes").fill("Read the RBAC part again.")
    save_note(page)
    expect(page.locator("#announcer")).to_have_text("Note saved.")
    page.get_by_role("textbox", name="Your notes").fill("z" * (NOTE_MAX_CHARS + 1))
    save_note(page)
    expect(page.locator("#announcer")).to_contain_text("at most 10,000 characters")
    page.context.close()


def page_without_script(
    browser: Any, live_server: Any, learner: Any, *, width: int = 1280, height: int = 720
) -> Any:
    """A page with script off, signed in as ``learner`` (the session's cookie set by hand)."""
    client = Client()
    client.force_login(learner)
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": width, "height": height}
    )
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context.new_page()


def test_a_note_is_saved_without_javascript(browser, live_server, learner, first_step):
    page = page_without_script(browser, live_server, learner)
    context = page.context
    page.goto(f"{live_server.url}/resources/{first_step}/")
    page.get_by_role("textbox", name="Your notes").fill("line one\nline two")
    page.get_by_role("button", name=re.compile(r"^Save note on ")).click()
    expect(page.locator("#main .messages .message > span")).to_have_text("Note saved.")
    assert Note.objects.get(user=learner).text == "line one\nline two"
    # The page opens at the note, under the message that stays in sight.
    assert page.url.endswith("#notes") and page.evaluate("window.scrollY") > 0
    message = page.locator("#main .messages").bounding_box()
    heading = page.get_by_role("heading", name="Your notes").bounding_box()
    assert message["y"] + message["height"] <= heading["y"] < 667, (message, heading)
    context.close()


def test_a_note_refused_without_javascript_opens_the_page_at_the_note_and_its_error(
    browser, live_server, learner, first_step
):
    # A walk-through's phone without script saved 12,000 characters: the refused page opened
    # at its top, the error a thousand pixels below, and looked like any other.
    page = page_without_script(browser, live_server, learner, width=375, height=740)
    context = page.context
    page.goto(f"{live_server.url}/resources/{first_step}/")
    page.get_by_role("textbox", name="Your notes").fill("z" * (NOTE_MAX_CHARS + 1))
    page.get_by_role("button", name=re.compile(r"^Save note on ")).click()
    error = page.locator("#main .errorlist")
    expect(error).to_contain_text("at most 10,000 characters")
    assert page.url.endswith("#notes")
    expect(error).to_be_in_viewport()
    assert not Note.objects.exists()
    context.close()


def test_unsaved_note_text_survives_a_progress_action_on_the_same_page(
    browser, live_server, learner, first_step
):
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(f"{live_server.url}/resources/{first_step}/")
    page.get_by_role("textbox", name="Your notes").fill("Half a thought about RoleBindings")
    press(page, page.get_by_role("button", name=re.compile(r"^Done")))
    expect(page.locator("#main .messages")).to_contain_text("done")
    box = page.get_by_role("textbox", name="Your notes")
    expect(box).to_have_value("Half a thought about RoleBindings")
    expect(page.locator(".note-unsaved")).to_contain_text("not saved yet")
    screenshot(page, "note-unsaved-kept-375")
    assert not Note.objects.exists()  # kept in the page, not saved behind the learner's back
    # Saving it clears the kept copy: the line goes, and a later visit shows the saved text.
    save_note(page)
    expect(page.locator("#main .messages .message > span")).to_have_text("Note saved.")
    expect(page.locator(".note-unsaved")).to_have_count(0)
    page.goto(f"{live_server.url}/resources/{first_step}/")
    expect(page.locator(".note-unsaved")).to_have_count(0)
    assert Note.objects.get(user=learner).text == "Half a thought about RoleBindings"
    page.context.close()


def test_note_typed_before_the_session_ended_is_back_on_its_page_after_signing_in(
    browser, live_server, learner, first_step
):
    page = signed_in_page(browser, live_server, learner)
    page.goto(f"{live_server.url}/resources/{first_step}/")
    page.get_by_role("textbox", name="Your notes").fill("Typed while signed out elsewhere")
    # The session ended (signed out in another tab); the CSRF cookie stays, as it does then.
    page.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)
    page.get_by_role("button", name=re.compile(r"^Save note on ")).click()
    page.wait_for_url(re.compile(r".*/signin/.*"))
    page.get_by_label("Username").fill(learner.username)
    page.get_by_label("Password:", exact=True).fill("correct horse battery staple")  # UserFactory's
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/resources/{first_step}/")
    expect(page.get_by_role("textbox", name="Your notes")).to_have_value(
        "Typed while signed out elsewhere"
    )
    expect(page.locator(".note-unsaved")).to_be_visible()
    page.context.close()


def test_a_note_refused_as_out_of_date_says_its_text_comes_back_after_a_reload(
    browser, live_server, learner, first_step
):
    # A walk-through signed out and in again in another tab, typed a note here and pressed Save
    # twice: two identical "Reload the page" banners, and nothing said the text would survive.
    page = signed_in_page(browser, live_server, learner)
    url = f"{live_server.url}/resources/{first_step}/"
    page.goto(url)
    signed_out_and_in_in_another_tab(page, live_server, learner)

    page.get_by_role("textbox", name="Your notes").fill("Written after signing in again")
    save = page.get_by_role("button", name=re.compile(r"^Save note on "))
    save.click()  # refused: htmx swaps nothing, so no new <main> to wait for
    alert = page.locator("#main").get_by_role("alert")
    expect(alert).to_contain_text("Your note is not saved yet")
    expect(alert).to_contain_text("your text is kept in this tab")
    save.click()
    expect(alert).to_contain_text("(Refused again.)")
    assert not Note.objects.filter(user=learner).exists()
    page.reload()
    expect(page.get_by_role("textbox", name="Your notes")).to_have_value(
        "Written after signing in again"
    )
    save_note(page)
    expect(page.locator("#main .messages .message > span")).to_have_text("Note saved.")
    assert Note.objects.get(user=learner).text == "Written after signing in again"
    page.context.close()


# How many unsaved note drafts this tab keeps (kubelearn.js's DRAFT_PREFIX).
DRAFTS_KEPT = (
    "Object.keys(sessionStorage).filter((key) => key.startsWith('kubelearn-note:')).length"
)


def test_signing_out_forgets_unsaved_note_text(browser, live_server, learner, first_step):
    page = signed_in_page(browser, live_server, learner)
    page.goto(f"{live_server.url}/resources/{first_step}/")
    page.get_by_role("textbox", name="Your notes").fill("Private thought")
    assert page.evaluate(DRAFTS_KEPT) == 1
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert page.evaluate(DRAFTS_KEPT) == 0
    page.context.close()


def test_deleting_the_account_forgets_unsaved_note_text(browser, live_server, learner, first_step):
    # A walk-through found a draft kept in the tab after its account was deleted.
    page = signed_in_page(browser, live_server, learner)
    page.goto(f"{live_server.url}/resources/{first_step}/")
    page.get_by_role("textbox", name="Your notes").fill("Private thought")
    assert page.evaluate(DRAFTS_KEPT) == 1
    page.goto(f"{live_server.url}/account/delete/")
    page.get_by_label("Your password").fill("correct horse battery staple")
    page.get_by_role("button", name="Delete my account and everything in it").click()
    expect(page.locator(".messages")).to_contain_text("Goodbye")
    assert page.evaluate(DRAFTS_KEPT) == 0
    page.context.close()


def test_a_note_saved_in_another_tab_is_not_overwritten_unseen(
    browser, live_server, learner, first_step
):
    here = signed_in_page(browser, live_server, learner, width=375)
    here.goto(f"{live_server.url}/resources/{first_step}/")
    saved_in_another_tab(here, here.url, "Written in the other tab")

    here.get_by_role("textbox", name="Your notes").fill("Written here")
    save_note(here)
    expect(here.locator("#main .errorlist")).to_contain_text("changed in another tab")
    expect(here.locator(".note-elsewhere")).to_contain_text("Written in the other tab")
    box = here.get_by_role("textbox", name="Your notes")
    expect(box).to_be_focused()
    expect(box).to_have_value("Written here")
    expect(here.locator("#announcer")).to_contain_text("changed in another tab")
    screenshot(here, "note-changed-elsewhere-375")
    assert Note.objects.get(user=learner).text == "Written in the other tab"
    # Having seen the other text, Save again replaces it.
    save_note(here)
    expect(here.locator("#main .messages .message > span")).to_have_text("Note saved.")
    assert Note.objects.get(user=learner).text == "Written here"
    here.context.close()


def test_unsaved_text_put_back_after_another_tab_saved_is_not_saved_over_it_unseen(
    browser, live_server, learner, first_step
):
    here = signed_in_page(browser, live_server, learner)
    here.goto(f"{live_server.url}/resources/{first_step}/")
    here.get_by_role("textbox", name="Your notes").fill("Kept in this tab")
    saved_in_another_tab(here, here.url, "Saved in the other tab")
    # This tab comes back to the page: its unsaved text is put back, over the other tab's.
    here.reload()
    expect(here.get_by_role("textbox", name="Your notes")).to_have_value("Kept in this tab")
    save_note(here)
    expect(here.locator(".note-elsewhere")).to_contain_text("Saved in the other tab")
    assert Note.objects.get(user=learner).text == "Saved in the other tab"
    here.context.close()


def test_searching_the_notes_marks_what_matched(browser, live_server, learner, first_step):
    for resource in Resource.objects.order_by("pk")[:3]:
        note_set(user=learner, resource=resource, text=f"Notes on {resource.title}")
    note_set(
        user=learner,
        resource=Resource.objects.get(pk=first_step),
        text="Remember: kubectl auth can-i --list\nthen check the RoleBindings.",
    )
    for width, scheme in ((375, "light"), (1280, "light"), (375, "dark")):
        page = signed_in_page(browser, live_server, learner, width=width, color_scheme=scheme)
        page.goto(f"{live_server.url}/notes/")
        page.get_by_role("searchbox", name="Search your notes").fill("rolebindings")
        page.keyboard.press("Enter")
        expect(page.locator("#notes-found")).to_have_text(re.compile("1 note mentions"))
        expect(page.locator(".note-text mark")).to_have_text("RoleBindings")
        screenshot(page, f"notes-search-{width}-{scheme}")
        page.context.close()


def test_a_note_ending_with_a_line_break_is_saved_not_unsaved_and_saves_again(
    browser, live_server, learner, first_step
):
    # The server drops trailing whitespace; the kept draft still had the line break, so the
    # page said "not saved yet" beside "Note saved." and the next Save was a false conflict.
    page = signed_in_page(browser, live_server, learner)
    page.goto(f"{live_server.url}/resources/{first_step}/")
    box = page.get_by_role("textbox", name="Your notes")
    box.click()
    page.keyboard.type("  - Check audit policy levels")
    page.keyboard.press("Enter")
    save_note(page)
    expect(page.locator("#main .messages .message > span")).to_have_text("Note saved.")
    expect(page.locator(".note-unsaved")).to_have_count(0)
    page.get_by_role("textbox", name="Your notes").press("End")
    page.keyboard.type("\nthen the webhook backend")
    save_note(page)
    expect(page.locator("#main .messages .message > span")).to_have_text("Note saved.")
    assert Note.objects.get(user=learner).text == (
        "  - Check audit policy levels\nthen the webhook backend"
    )
    page.context.close()


def test_a_long_note_is_folded_on_the_notes_list_and_unfolds(
    browser, live_server, learner, first_step
):
    # A 9,000-character note filled many phone screens of the notes list (a walk-through).
    resource = Resource.objects.get(pk=first_step)
    note_set(user=learner, resource=resource, text="\n".join(f"line {n}" for n in range(200)))
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(f"{live_server.url}/notes/")
    text = page.locator(".note-text")
    button = page.get_by_role("button", name="Show the whole note")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    folded = text.bounding_box()["height"]
    assert folded < 300, folded
    screenshot(page, "notes-folded-375")
    button.click()  # on the page, no request
    expect(page.get_by_role("button", name="Show less")).to_have_attribute("aria-expanded", "true")
    assert text.bounding_box()["height"] > 5 * folded
    expect(page.get_by_text("line 199")).to_be_visible()
    page.context.close()


# How far a piece of text inside an element sits from the element's left and right edges.
LINE_EDGES = """(element, text) => {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(text);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + text.length);
    const line = range.getBoundingClientRect(), box = element.getBoundingClientRect();
    return {left: line.left - box.left, right: box.right - line.right};
  }
  return null;
}"""


def test_a_right_to_left_line_of_a_note_reads_from_the_right(
    browser, live_server, learner, first_step
):
    # A learner's note in Hebrew sat left-aligned, its full stop on the wrong end; an English
    # line under it stays on the left.
    hebrew, english = "לקרוא שוב את החלק על RBAC.", "Then try kubectl auth can-i."
    note_set(
        user=learner, resource=Resource.objects.get(pk=first_step), text=f"{hebrew}\n{english}"
    )
    page = signed_in_page(browser, live_server, learner, width=375)
    page.goto(f"{live_server.url}/notes/")
    text = page.locator(".note-text").first
    hebrew_edges = text.evaluate(LINE_EDGES, hebrew)
    english_edges = text.evaluate(LINE_EDGES, english)
    assert hebrew_edges["right"] < 2 < hebrew_edges["left"], hebrew_edges
    assert english_edges["left"] < 2 < english_edges["right"], english_edges
    # The box it is edited in reads the same way.
    page.goto(f"{live_server.url}/resources/{first_step}/")
    box = page.get_by_role("textbox", name="Your notes")
    assert box.get_attribute("dir") == "auto"
    assert box.evaluate("e => getComputedStyle(e).unicodeBidi") == "plaintext"
    screenshot(page, "note-right-to-left-375")
    page.context.close()
