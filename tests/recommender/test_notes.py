"""Private notes on resources: the rules of note_set, and /api/me/notes/."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services as catalog_services
from catalog.models import Status
from recommender import services
from recommender.models import NOTE_MAX_CHARS, Note, Progress
from tests.factories import ResourceFactory, TagFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def resource(db):
    return ResourceFactory(title="RBAC, good practices")


def url(resource_id: int) -> str:
    return f"/api/me/notes/{resource_id}/"


# --- note_set ------------------------------------------------------------------------------


def test_note_set_drops_blank_lines_around_the_text_and_keeps_it_as_typed(alice, resource):
    note, created = services.note_set(user=alice, resource=resource, text=f"  \n{SCRIPT}\n ")
    assert created
    assert note is not None
    assert Note.objects.get().text == SCRIPT


def test_note_set_keeps_the_first_lines_indentation(alice, resource):
    # A pasted RBAC rule lost its "  - " (a walk-through read it back through the API).
    rule = '  - apiGroups: [""]\n    verbs: [get, list]'
    services.note_set(user=alice, resource=resource, text=f"\r\n \r\n{rule}\r\n\t\r\n")
    assert Note.objects.get().text == rule


def test_note_set_stores_browser_line_breaks_as_one_character(alice, resource):
    services.note_set(user=alice, resource=resource, text="kubectl auth can-i\r\n--list\rdone")
    assert Note.objects.get().text == "kubectl auth can-i\n--list\ndone"


def test_note_set_replaces_the_note_instead_of_adding_one(alice, resource):
    services.note_set(user=alice, resource=resource, text="first")
    _, created = services.note_set(user=alice, resource=resource, text="second")
    assert not created
    assert list(Note.objects.values_list("text", flat=True)) == ["second"]


def test_note_set_with_empty_text_deletes_the_note(alice, resource):
    services.note_set(user=alice, resource=resource, text="something")
    assert services.note_set(user=alice, resource=resource, text=" \r\n\t ") == (None, False)
    assert not Note.objects.exists()


def test_note_set_accepts_exactly_the_limit(alice, resource):
    services.note_set(user=alice, resource=resource, text="x" * NOTE_MAX_CHARS)
    assert len(Note.objects.get().text) == NOTE_MAX_CHARS


def test_note_set_refuses_a_note_over_the_limit_and_keeps_the_earlier_one(alice, resource):
    services.note_set(user=alice, resource=resource, text="kept")
    with pytest.raises(ValidationError) as error:
        services.note_set(user=alice, resource=resource, text="x" * (NOTE_MAX_CHARS + 1))
    assert "10,000 characters" in str(error.value)
    assert list(Note.objects.values_list("text", flat=True)) == ["kept"]


def test_note_set_refuses_a_nul_character(alice, resource):
    with pytest.raises(ValidationError):
        services.note_set(user=alice, resource=resource, text="a\x00b")
    assert not Note.objects.exists()


def test_a_note_leaves_progress_alone_and_clearing_progress_keeps_the_note(alice, resource):
    services.progress_set(user=alice, resource=resource, state="completed", rating=4)
    services.note_set(user=alice, resource=resource, text="remember: verbs")
    progress = Progress.objects.get()
    assert (progress.state, progress.rating) == ("completed", 4)
    services.progress_forget(user=alice, resource_id=resource.pk)
    assert Note.objects.get().text == "remember: verbs"


def test_notes_go_with_their_resource_and_their_learner(alice, bob, resource):
    other = ResourceFactory()
    services.note_set(user=alice, resource=resource, text="on the first")
    services.note_set(user=bob, resource=other, text="bob's")
    catalog_services.resource_delete(resource=resource, by=None, learners_data_too=True)
    assert list(Note.objects.values_list("text", flat=True)) == ["bob's"]
    bob.delete()
    assert not Note.objects.exists()


# --- the API -------------------------------------------------------------------------------


def test_notes_need_a_signed_in_user(api, resource):
    assert api.get("/api/me/notes/").status_code == 401
    assert api.get(url(resource.pk)).status_code == 401
    assert api.put(url(resource.pk), {"text": "x"}, format="json").status_code == 401
    assert api.delete(url(resource.pk)).status_code == 401
    assert not Note.objects.exists()


def test_put_note_creates_then_updates(alice_api, resource):
    first = alice_api.put(url(resource.pk), {"text": "one"}, format="json")
    again = alice_api.put(url(resource.pk), {"text": "two"}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["text"] == "two"
    assert again.json()["resource"]["title"] == "RBAC, good practices"
    assert alice_api.get(url(resource.pk)).json()["text"] == "two"


def test_put_empty_note_deletes_it_and_answers_204(alice_api, resource):
    alice_api.put(url(resource.pk), {"text": "one"}, format="json")
    response = alice_api.put(url(resource.pk), {"text": "   "}, format="json")
    assert response.status_code == 204
    assert alice_api.get(url(resource.pk)).status_code == 404


def test_put_too_long_note_is_a_400_naming_the_limit(alice_api, resource):
    response = alice_api.put(url(resource.pk), {"text": "x" * (NOTE_MAX_CHARS + 1)}, format="json")
    assert response.status_code == 400
    assert "10,000 characters" in response.json()["text"][0]
    assert not Note.objects.exists()


def test_put_note_without_text_is_a_400(alice_api, resource):
    response = alice_api.put(url(resource.pk), {}, format="json")
    assert response.status_code == 400
    assert "text" in response.json()


def test_notes_on_unknown_or_hidden_resources_are_404(alice_api, resource):
    pending = ResourceFactory(status=Status.PENDING)
    for resource_id in (pending.pk, 999_999):
        assert alice_api.put(url(resource_id), {"text": "x"}, format="json").status_code == 404
        assert alice_api.get(url(resource_id)).status_code == 404
    assert not Note.objects.exists()


def test_a_note_on_a_withdrawn_resource_is_neither_listed_nor_read(alice, alice_api, resource):
    services.note_set(user=alice, resource=resource, text="x")
    catalog_services.resource_reject(resource=resource, by=None)
    assert alice_api.get("/api/me/notes/").json()["count"] == 0
    assert alice_api.get(url(resource.pk)).status_code == 404


def test_learners_never_read_list_or_change_each_others_notes(alice_api, bob_api, resource):
    alice_api.put(url(resource.pk), {"text": "alice's secret"}, format="json")
    assert bob_api.get("/api/me/notes/").json()["count"] == 0
    assert bob_api.get(url(resource.pk)).status_code == 404
    assert bob_api.delete(url(resource.pk)).status_code == 404
    # Bob's PUT writes bob's own note, never alice's.
    assert bob_api.put(url(resource.pk), {"text": "bob's"}, format="json").status_code == 201
    assert bob_api.put(url(resource.pk), {"text": ""}, format="json").status_code == 204
    assert alice_api.get(url(resource.pk)).json()["text"] == "alice's secret"


def test_delete_note(alice_api, resource):
    alice_api.put(url(resource.pk), {"text": "one"}, format="json")
    assert alice_api.delete(url(resource.pk)).status_code == 204
    assert alice_api.delete(url(resource.pk)).status_code == 404


def test_note_list_is_newest_first_with_cards(alice, alice_api):
    older, newer = ResourceFactory(title="Older"), ResourceFactory(title="Newer")
    services.note_set(user=alice, resource=older, text="a")
    services.note_set(user=alice, resource=newer, text="b")
    body = alice_api.get("/api/me/notes/").json()
    assert [(row["resource"]["title"], row["text"]) for row in body["results"]] == [
        ("Newer", "b"),
        ("Older", "a"),
    ]
    assert {"id", "url", "tags"} <= set(body["results"][0]["resource"])


def test_note_list_query_count_does_not_grow_with_the_notes(alice, alice_api):
    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert alice_api.get("/api/me/notes/").status_code == 200
        return len(context.captured_queries)

    tags = [TagFactory(), TagFactory()]
    services.note_set(user=alice, resource=ResourceFactory(tags=tags), text="a")
    few = queries()
    for _ in range(5):
        services.note_set(user=alice, resource=ResourceFactory(tags=tags), text="b")
    assert queries() == few


# --- conditional writes: ETag, If-Match, If-None-Match ------------------------------------


def _put(client, resource, text, **headers):
    return client.put(url(resource.pk), {"text": text}, format="json", headers=headers)


def test_get_note_answers_with_its_etag_and_a_write_answers_with_the_new_one(alice_api, resource):
    created = _put(alice_api, resource, "one")
    read = alice_api.get(url(resource.pk))
    assert read["ETag"] == created["ETag"] == f'"{services.note_version("one")}"'
    assert _put(alice_api, resource, "two")["ETag"] == f'"{services.note_version("two")}"'


def test_put_with_the_etag_read_writes(alice_api, resource):
    tag = _put(alice_api, resource, "one")["ETag"]
    response = _put(alice_api, resource, "two", if_match=tag)
    assert response.status_code == 200
    assert Note.objects.get().text == "two"


def test_put_over_a_note_changed_since_it_was_read_is_a_412_that_writes_nothing(
    alice_api, resource
):
    tag = _put(alice_api, resource, "read by the phone")["ETag"]
    _put(alice_api, resource, "written on the laptop")  # another client, after the read
    response = _put(alice_api, resource, "the phone's edit", if_match=tag)
    assert response.status_code == 412
    assert response.json()["detail"] == (
        "The note changed since you read it: your If-Match names another version. Nothing "
        "was changed; 'current' is the note as it is now."
    )
    assert response.json()["current"]["text"] == "written on the laptop"
    assert response["ETag"] == f'"{services.note_version("written on the laptop")}"'
    assert Note.objects.get().text == "written on the laptop"


def test_put_over_a_note_removed_since_it_was_read_is_a_412_with_no_current_note(
    alice_api, resource
):
    tag = _put(alice_api, resource, "one")["ETag"]
    alice_api.delete(url(resource.pk))
    response = _put(alice_api, resource, "two", if_match=tag)
    assert response.status_code == 412
    assert response.json()["current"] is None
    assert response.json()["detail"].startswith(
        "There is no note now, and your If-Match names one."
    )
    assert not Note.objects.exists()


def test_if_match_star_writes_only_over_an_existing_note(alice_api, resource):
    assert _put(alice_api, resource, "one", if_match="*").status_code == 412
    assert not Note.objects.exists()
    _put(alice_api, resource, "one")
    assert _put(alice_api, resource, "two", if_match="*").status_code == 200


def test_if_none_match_star_only_creates(alice_api, resource):
    assert _put(alice_api, resource, "first", if_none_match="*").status_code == 201
    response = _put(alice_api, resource, "second", if_none_match="*")
    assert response.status_code == 412
    assert response.json()["detail"].startswith(
        "The note exists, and your If-None-Match: * asks that it not."
    )
    assert Note.objects.get().text == "first"


def test_a_weak_etag_never_passes_if_match(alice_api, resource):
    tag = _put(alice_api, resource, "one")["ETag"]
    response = _put(alice_api, resource, "two", if_match=f"W/{tag}")
    assert response.status_code == 412
    # Said as it is: the note did not change since it was read (a sweep was told it had).
    assert response.json()["detail"].startswith("If-Match compares entity tags strongly")
    assert Note.objects.get().text == "one"


def test_if_match_takes_a_list_of_etags(alice_api, resource):
    tag = _put(alice_api, resource, "one")["ETag"]
    assert _put(alice_api, resource, "two", if_match=f'"other", {tag}').status_code == 200


def test_delete_with_a_stale_etag_is_a_412_and_keeps_the_note(alice_api, resource):
    stale = _put(alice_api, resource, "one")["ETag"]
    fresh = _put(alice_api, resource, "two")["ETag"]
    response = alice_api.delete(url(resource.pk), headers={"if_match": stale})
    assert response.status_code == 412
    assert Note.objects.get().text == "two"
    assert alice_api.delete(url(resource.pk), headers={"if_match": fresh}).status_code == 204
    assert not Note.objects.exists()


def test_get_with_the_etag_held_answers_304_until_the_note_changes(alice_api, resource):
    tag = _put(alice_api, resource, "one")["ETag"]
    unchanged = alice_api.get(url(resource.pk), headers={"if_none_match": tag})
    assert unchanged.status_code == 304
    assert unchanged["ETag"] == tag
    assert not unchanged.content
    _put(alice_api, resource, "two")
    assert alice_api.get(url(resource.pk), headers={"if_none_match": tag}).status_code == 200


def test_note_set_only_if_refuses_without_writing(alice, resource):
    services.note_set(user=alice, resource=resource, text="kept")
    with pytest.raises(services.NoteChanged) as changed:
        services.note_set(user=alice, resource=resource, text="same", only_if=lambda v: False)
    assert changed.value.current is not None
    assert changed.value.current.text == "kept"
    assert Note.objects.get().text == "kept"


def test_reading_and_deleting_a_missing_note_say_the_same(alice_api, resource):
    # GET said "No Note matches the given query." where DELETE said "No note on this resource."
    for response in (alice_api.get(url(resource.pk)), alice_api.delete(url(resource.pk))):
        assert response.status_code == 404
        assert response.json() == {"detail": "No note on this resource."}
