"""Hostile request bodies get a clear JSON 4xx from every API endpoint, never a 500 or HTML;
and the attacks of a hostile-input sweep on searches, sign-in names, ids, passwords and
precondition headers."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User

from catalog.models import Resource
from recommender import services
from recommender.models import Note, Progress
from tests.factories import ResourceFactory, SecurityAreaFactory, UserFactory

NESTED = "[" * 1000 + "]" * 1000


def _post_raw(api, path: str, body: str, method: str = "post"):
    return getattr(api, method)(path, body, content_type="application/json")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/auth/token/", "/api/auth/register/"])
def test_deeply_nested_json_is_a_400_with_a_message(api, path):
    response = _post_raw(api, path, '{"username": ' + NESTED + ', "password": "x"}')
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_deeply_nested_profile_patch_is_a_400(alice_api):
    response = _post_raw(alice_api, "/api/me/profile/", '{"focus": ' + NESTED + "}", "patch")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_moderately_nested_json_within_the_limit_still_reaches_validation(alice_api):
    body = json.dumps({"focus": [[[["rbac"]]]]})
    response = _post_raw(alice_api, "/api/me/profile/", body, "patch")
    assert response.status_code == 400
    assert "focus" in response.json()


def test_lone_surrogate_in_progress_state_is_a_400(alice_api):
    resource = ResourceFactory()
    response = _post_raw(
        alice_api, f"/api/me/progress/{resource.pk}/", '{"state": "\\ud800"}', "put"
    )
    assert response.status_code == 400
    assert "surrogate" in response.json()["detail"]


def test_lone_surrogate_in_a_focus_area_key_is_a_400(alice_api):
    body = '{"focus": [{"\\udfff": "rbac"}]}'
    response = _post_raw(alice_api, "/api/me/profile/", body, "patch")
    assert response.status_code == 400
    assert "surrogate" in response.json()["detail"]


def test_lone_surrogate_in_a_resource_kind_is_a_400(curator_api):
    body = '{"title": "x", "kind": "\\ud83d", "stage": "basics"}'
    response = _post_raw(curator_api, "/api/resources/", body)
    assert response.status_code == 400
    assert "surrogate" in response.json()["detail"]


def test_proper_surrogate_pairs_are_ordinary_text(alice_api):
    resource = ResourceFactory()
    # "\ud83d\ude80" is one emoji, written as a JSON surrogate pair: valid input.
    response = _post_raw(
        alice_api, f"/api/me/progress/{resource.pk}/", '{"state": "\\ud83d\\ude80"}', "put"
    )
    assert response.status_code == 400
    assert "state" in response.json()  # a field error: the text itself was fine


@pytest.mark.django_db
def test_oversized_body_is_a_json_413(api):
    response = _post_raw(api, "/api/auth/register/", "x" * (10 * 1024 * 1024))
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "too large" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/nope", "/api/nope/", "/api/resources/999999/", "/api/a/b"])
def test_unknown_api_addresses_are_json_404s(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_patch_focus_item_without_an_area_is_a_400(alice_api):
    response = alice_api.patch("/api/me/profile/", {"focus": [{"weight": 1.0}]}, format="json")
    assert response.status_code == 400
    assert "area" in str(response.json()["focus"])


# Beyond 64 bits: SQLite cannot even bind such a number (OverflowError), PostgreSQL's bigint
# cannot hold it. Every address that takes an id answers 404, on either database.
HUGE_ID = "9215266392968355687432192"


@pytest.mark.parametrize(
    "path",
    [
        f"/api/me/progress/{HUGE_ID}/",
        f"/api/resources/{HUGE_ID}/",
        f"/api/resources/{HUGE_ID}/similar/",
    ],
)
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_ids_beyond_64_bits_are_404s_not_overflows(alice_api, path, method):
    response = getattr(alice_api, method)(path, {"state": "done"}, format="json")
    # 403: a learner may not edit resources at all; 405: no such method there.
    assert response.status_code in (403, 404, 405)
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("path", [f"/resources/{HUGE_ID}/", f"/progress/{HUGE_ID}/"])
def test_learner_pages_with_ids_beyond_64_bits_are_404s(client, alice, path):
    client.force_login(alice)
    assert client.get(path).status_code == 404
    assert client.post(path, {"state": "done"}).status_code == 404


def test_a_compressed_json_body_is_a_415_saying_to_send_it_uncompressed(alice_api):
    import gzip

    response = alice_api.generic(
        "PATCH",
        "/api/me/profile/",
        gzip.compress(b'{"level": 2}'),
        "application/json",
        HTTP_CONTENT_ENCODING="gzip",
    )
    assert response.status_code == 415
    assert response.json() == {
        "detail": "A body with Content-Encoding “gzip” is not read; send it uncompressed."
    }
    assert alice_api.get("/api/me/profile/").json()["level"] is None
    plain = alice_api.generic(
        "PATCH",
        "/api/me/profile/",
        b'{"level": 2}',
        "application/json",
        HTTP_CONTENT_ENCODING="identity",
    )
    assert plain.status_code == 200


# --- The hostile-input sweep of 2026-12-06 ---------------------------------------------------

LONG_SEARCHES = [" ".join(["a"] * 1000), "x" * 60_000, " ".join(["k8s"] * 21)]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/tags/", "/api/authors/", "/api/security-areas/"])
@pytest.mark.parametrize("search", LONG_SEARCHES, ids=["1000-words", "60k-chars", "21-words"])
def test_a_search_past_its_bounds_is_a_400_saying_them(api, path, search):
    # 1,000 words or 60,000 characters were a 500 on SQLite ("Expression tree is too large",
    # "LIKE or GLOB pattern too complex"), answered with Django's HTML error page.
    response = api.get(path, {"search": search})
    assert response.status_code == 400
    assert response.json() == {"search": ["Search for at most 20 words and 200 characters."]}


@pytest.mark.django_db
def test_a_search_within_its_bounds_still_searches(api):
    response = api.get("/api/tags/", {"search": " ".join(["docker"] * 20)})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/feeds/", "/api/author-updates/"])
def test_a_curators_list_search_past_its_bounds_is_a_400(curator_api, path):
    assert curator_api.get(path, {"search": "x" * 60_000}).status_code == 400


@pytest.mark.parametrize("model", ["tag", "resource", "feed", "pendingresource"])
def test_an_admin_search_past_its_bounds_comes_back_shortened(client, carol, model):
    client.force_login(carol)
    url = f"/admin/catalog/{model}/"
    response = client.get(url, {"q": " ".join(["word"] * 1000)})
    assert response.status_code == 302
    assert response["Location"] == f"{url}?q=" + "+".join(["word"] * 20)
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Search for at most 20 words and 200 characters. Your search was shortened." in (
        page.content.decode()
    )


@pytest.mark.django_db
@pytest.mark.parametrize("length", [300, 50_001])
def test_signing_in_with_a_very_long_name_is_refused_not_a_500(api, client, length):
    # username__iexact on 50,001 characters was a 500 on SQLite, on all three sign-ins; on
    # PostgreSQL, django-axes's record of the failure was, past 255 characters.
    UserFactory(username="dana")
    name = "u" * length
    response = api.post("/api/auth/token/", {"username": name, "password": "x"}, format="json")
    assert response.status_code == 400
    page = client.post("/signin/", {"username": name, "password": "x"})
    assert page.status_code in (200, 400) and "Sign in" in page.content.decode()
    admin = client.post("/admin/login/", {"username": name, "password": "x"})
    assert admin.status_code == 200


@pytest.mark.parametrize(
    "spelling", ["+28", "%2028", "28%0A", "2_8", "%EF%BC%92%EF%BC%98", "%D9%A2%D9%A8"]
)
def test_a_resource_is_named_by_its_ascii_digits_only(curator_api, spelling):
    # Python's int() reads all of these as 28, and the router's default pattern let a DELETE
    # through a full-width id remove a resource.
    resource = ResourceFactory(pk=28)
    path = f"/api/resources/{spelling}/"
    assert curator_api.get(path).status_code == 404
    assert curator_api.delete(path).status_code == 404
    assert curator_api.post(path.rstrip("/") + "/approve/").status_code == 404
    assert Resource.objects.filter(pk=resource.pk).exists()
    assert curator_api.get(f"/api/resources/{resource.pk}/").status_code == 200


@pytest.mark.django_db
def test_sign_up_refuses_a_password_longer_than_the_api_takes(client):
    # 100,000 characters were taken on the web; the API's account writes take 128, so the
    # account could never change its address or be deleted there.
    long = "correct horse battery staple " * 5  # 145 characters
    page = client.post(
        "/signup/", {"username": "zz", "password1": long, "password2": long}, follow=True
    )
    assert "This password is too long: use at most 128 characters." in page.content.decode()
    assert not UserFactory._meta.model.objects.filter(username="zz").exists()


def test_a_progress_put_with_a_stale_if_match_changes_nothing(alice, alice_api):
    resource = ResourceFactory()
    read = alice_api.put(f"/api/me/progress/{resource.pk}/", {"state": "planned"}, format="json")[
        "ETag"
    ]
    # Another device starts reading it and rates it.
    services.progress_set(user=alice, resource=resource, state="in_progress", rating=4)
    response = alice_api.put(
        f"/api/me/progress/{resource.pk}/", {"state": "skipped"}, format="json", HTTP_IF_MATCH=read
    )
    assert response.status_code == 412
    assert response.json()["current"]["state"] == "in_progress"
    assert Progress.objects.get(user=alice, resource=resource).rating == 4
    fresh = response["ETag"]
    response = alice_api.put(
        f"/api/me/progress/{resource.pk}/", {"state": "skipped"}, format="json", HTTP_IF_MATCH=fresh
    )
    assert response.status_code == 200 and response.json()["state"] == "skipped"


@pytest.mark.parametrize("header", ["garbage", "", "3f2a"])
def test_an_if_match_without_an_entity_tag_is_a_400_and_writes_nothing(alice, alice_api, header):
    resource = ResourceFactory()
    alice_api.put(f"/api/me/notes/{resource.pk}/", {"text": "kept"}, format="json")
    response = alice_api.put(
        f"/api/me/notes/{resource.pk}/", {"text": "new"}, format="json", HTTP_IF_MATCH=header
    )
    assert response.status_code == 400
    assert "If-Match" in response.json()
    assert alice_api.get(f"/api/me/notes/{resource.pk}/").json()["text"] == "kept"


@pytest.mark.django_db
def test_a_get_with_a_stale_if_match_is_a_json_412(api):
    # Django's ConditionalGetMiddleware answered an empty text/html 412.
    response = api.get("/api/resources/", HTTP_IF_MATCH='"zz"')
    assert response.status_code == 412
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("The resource is not the version your If-Match")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"\xef\xbb\xbf{}", "the body starts with a byte order mark: send it without one."),
        (b'{"a": "\xff\xfe"}', "the body is not UTF-8 text (byte 0xff at position 7)"),
    ],
)
def test_a_json_body_that_is_not_plain_utf8_is_a_400_in_the_clients_words(api, body, said):
    # Python's own words came through: "Unexpected UTF-8 BOM (decode using utf-8-sig)",
    # "'utf-8' codec can't decode byte 0xff in position 6".
    response = api.post("/api/auth/token/", body, content_type="application/json")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert said in detail and "codec" not in detail and "utf-8-sig" not in detail


def test_a_refused_choice_is_echoed_without_a_direction_override(alice_api):
    resource = ResourceFactory()
    response = alice_api.put(
        f"/api/me/progress/{resource.pk}/", {"state": "\u202eabc"}, format="json"
    )
    assert response.status_code == 400
    message = response.json()["state"][0]
    assert message.startswith("“abc” is not one of:") and "\u202e" not in message


def test_a_form_body_that_is_not_utf8_is_a_400_and_saves_nothing(alice_api):
    # Django decodes the bytes as replacement characters: the note was saved as "a��".
    resource = ResourceFactory()
    response = alice_api.put(
        f"/api/me/notes/{resource.pk}/",
        "text=a%ff%fe",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("The form body is not utf-8 text")
    assert alice_api.get(f"/api/me/notes/{resource.pk}/").status_code == 404


def test_a_form_body_in_utf8_is_still_read(alice_api):
    resource = ResourceFactory()
    response = alice_api.put(
        f"/api/me/notes/{resource.pk}/",
        "text=caf%C3%A9+au+lait",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (200, 201) and response.json()["text"] == "café au lait"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/tags/docker/", {"nmae": "Docker"}),
        ("/api/authors/julia/", {"homepgae": "https://example.org/"}),
        ("/api/security-areas/rbac/", {"descripton": "x"}),
        ("/api/resources/{resource}/", {"titel": "A better title"}),
        ("/api/feeds/{feed}/", {"trsuted": True}),
    ],
)
def test_a_curators_typo_is_a_400_naming_the_fields_it_takes(curator_api, path, body):
    # A PATCH with "titel" answered 200 and changed nothing.
    from catalog.models import Author, Feed, SecurityArea, Tag

    Tag.objects.create(slug="docker", name="Docker")
    Author.objects.create(slug="julia", name="Julia")
    SecurityArea.objects.create(slug="rbac", name="RBAC")
    resource = ResourceFactory(title="Kept")
    feed = Feed.objects.create(url="http://127.0.0.1:9/feed.xml")
    response = curator_api.patch(
        path.format(resource=resource.pk, feed=feed.pk), body, format="json"
    )
    assert response.status_code == 400
    [(field, [message])] = response.json().items()
    assert field == next(iter(body)) and message.startswith("Not a field here. This takes: ")
    resource.refresh_from_db()
    assert resource.title == "Kept"


def test_a_curators_get_body_sent_back_with_a_change_is_taken(curator_api):
    resource = ResourceFactory(title="Old")
    read = curator_api.get(f"/api/resources/{resource.pk}/").json()
    # (Taxonomy is read as objects and written as slugs.)
    echoed = {k: v for k, v in read.items() if k not in {"tags", "authors", "security_areas"}}
    response = curator_api.patch(
        f"/api/resources/{resource.pk}/", {**echoed, "title": "New"}, format="json"
    )
    assert response.status_code == 200, response.json()
    resource.refresh_from_db()
    assert resource.title == "New"


@pytest.mark.django_db
def test_a_multipart_body_without_a_boundary_is_a_400_in_the_clients_words(api):
    # Django's own words came through: "Invalid boundary in multipart: None".
    response = api.post("/api/auth/register/", b"username=x", content_type="multipart/form-data")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "names no usable boundary" in detail and "None" not in detail


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "told"),
    [
        (["x"], "Give the username as text."),
        ({"name": "x"}, "Give the username as text."),
        (True, "Give this as text (in quotes), not true or false."),
        (1234, "Give this as text (in quotes), not a number."),
    ],
)
def test_a_username_that_is_not_text_is_told_so(api, username, told):
    # A list was told "Use letters, digits and @/./+/-/_ only."
    response = api.post(
        "/api/auth/register/",
        {"username": username, "password": "correct horse battery staple"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["username"] == [told]
    assert not User.objects.exists()


def test_true_for_a_number_is_refused_not_taken_as_one(alice_api, alice):
    SecurityAreaFactory(slug="rbac")
    # DRF took `"weight": true` as a weight of 1.0 and `"level": true` as level 1.
    weight = alice_api.patch(
        "/api/me/profile/", {"focus": [{"area": "rbac", "weight": True}]}, format="json"
    )
    level = alice_api.patch("/api/me/profile/", {"level": True}, format="json")
    assert weight.status_code == level.status_code == 400
    assert weight.json()["focus"] == {"0": {"weight": ["Give a number here, not true or false."]}}
    assert level.json()["level"] == ["Give a number here, not true or false."]
    profile = alice_api.get("/api/me/profile/").json()
    assert profile["focus"] == [] and profile["level"] is None


def test_a_number_for_text_is_refused_not_stored_as_its_digits(alice_api, alice):
    resource = ResourceFactory()
    response = alice_api.put(f"/api/me/notes/{resource.pk}/", {"text": 123}, format="json")
    assert response.status_code == 400
    assert response.json()["text"] == ["Give this as text (in quotes), not a number."]
    assert not Note.objects.filter(user=alice).exists()


def test_digits_in_quotes_for_a_number_are_still_a_number(alice_api, alice):
    # What a form sends: every value is text. Only JSON's own wrong types are refused.
    response = alice_api.patch("/api/me/profile/", {"level": "2"}, format="json")
    assert response.status_code == 200
    assert response.json()["level"] == 2


def test_a_focus_longer_than_the_areas_is_one_error_before_any_lookup(
    alice_api, alice, django_assert_max_num_queries
):
    SecurityAreaFactory(slug="rbac")
    SecurityAreaFactory(slug="secrets")
    # 100,000 unknown areas were 100,000 queries and 100,000 errors in the answer.
    with django_assert_max_num_queries(8):
        response = alice_api.patch("/api/me/profile/", {"focus": ["nope"] * 100_000}, format="json")
    assert response.status_code == 400
    assert response.json() == {"focus": ["At most 2 items: there are 2 areas, each given once."]}


def test_a_forged_choice_on_a_page_is_refused_without_repeating_it(client, alice):
    resource = ResourceFactory()
    client.force_login(alice)
    forged = "x" * 10_000
    response = client.post(f"/progress/{resource.pk}/", {"state": "skipped", "shown": forged})
    assert response.status_code == 400
    page = response.content.decode()
    assert "That is not one of the choices offered here." in page
    assert "x" * 100 not in page
    assert not Progress.objects.filter(user=alice).exists()


@pytest.mark.parametrize("focus", ["rbac", {"area": "rbac"}, None, 3])
def test_a_focus_that_is_not_a_list_is_told_to_be_one(alice_api, alice, focus):
    SecurityAreaFactory(slug="rbac")
    response = alice_api.patch("/api/me/profile/", {"focus": focus}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "focus": ['Give a list of areas, such as ["rbac"] ([] for no focus).']
    }
