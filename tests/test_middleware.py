"""kubelearn.middleware: request hygiene before the views."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError

from kubelearn.api import json_server_error
from recommender.models import Progress
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

STRONG = "a long unusual passphrase 2026"


def test_an_api_post_without_the_trailing_slash_is_served_not_redirected(api, settings):
    settings.DEBUG = True  # where Django's own answer is a 500 (it cannot redirect a POST)
    response = api.post(
        "/api/auth/register", {"username": "dana", "password": STRONG}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["token"]


def test_an_api_put_without_the_trailing_slash_stores_the_progress(alice_api, alice):
    resource = ResourceFactory()
    response = alice_api.put(
        f"/api/me/progress/{resource.pk}", {"state": "completed"}, format="json"
    )
    assert response.status_code in (200, 201)
    assert Progress.objects.get(user=alice, resource=resource).state == "completed"


def test_an_api_get_without_the_trailing_slash_answers_at_once(alice_api):
    response = alice_api.get("/api/me/profile")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")


def test_an_unknown_api_address_without_a_slash_stays_a_404(alice_api):
    assert alice_api.get("/api/no-such-thing").status_code == 404


def test_a_page_without_the_trailing_slash_still_redirects_to_its_real_address(client):
    response = client.get("/browse")
    assert response.status_code == 301
    assert response["Location"] == "/browse/"


@pytest.mark.parametrize("address", ["/nothing-here/", "/resources/999999/", "/resources/abc/"])
def test_with_debug_on_a_missing_page_gets_the_sites_404_page(client, settings, address):
    settings.DEBUG = True  # `make run`: learners use the development server too
    response = client.get(address)
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    assert b"URLconf" not in response.content  # not Django's technical page


def test_with_debug_on_a_missing_api_address_is_json(api, settings):
    settings.DEBUG = True
    response = api.get("/api/nothing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_with_debug_on_an_oversized_api_body_is_a_json_413(alice_api, settings):
    settings.DEBUG = True
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = alice_api.generic(
        "PATCH", "/api/me/profile/", "{" + '"x": 1,' * 400 + '"y": 1}', "application/json"
    )
    assert response.status_code == 413
    assert response.json()["detail"] == "Request body too large (the limit is 1 KiB)."


def test_an_api_answer_to_a_token_is_private_and_revalidated(api, alice):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=alice)
    response = api.get("/api/me/queue/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-cache"} <= directives


def test_a_signed_in_page_is_private(client, alice):
    client.force_login(alice)
    response = client.get("/browse/")
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]


def test_a_signed_out_catalog_answer_gets_no_private_header(api):
    response = api.get("/api/resources/")
    assert response.status_code == 200
    assert "private" not in response.get("Cache-Control", "")


def test_a_views_own_cache_control_is_kept_for_a_signed_in_learner(client, alice):
    client.force_login(alice)
    response = client.get("/manifest.webmanifest")
    assert response["Cache-Control"] == "public, max-age=3600"


def test_a_form_of_too_many_fields_is_a_400_saying_so_not_a_413(alice_api, db):
    # A 7 KB form of 1,001 fields was told "Request body too large (the limit is 2560 KiB)".
    response = alice_api.generic(
        "POST",
        "/api/auth/token/",
        "&".join(["text=a"] * 1001),
        "application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many fields (the limit is 1,000)."}


@pytest.mark.parametrize(
    "address", ["/api/resources/99999/", "/api/paths/nope/", "/api/tags/nope/", "/api/nothing/"]
)
def test_a_missing_object_is_the_same_404_body_everywhere(api, db, address):
    # "No LearningPath matches the given query." named a model, and an address with no route
    # answered {"detail": "Not found."} spaced otherwise (an API walk-through).
    response = api.get(address)
    assert response.status_code == 404
    assert response.content == b'{"detail":"Not found."}'


@pytest.mark.parametrize("address", ["/api/resources/?page_size=5", "/api/tags/", "/browse/"])
def test_a_read_has_an_etag_and_holding_it_answers_304(client, db, address):
    ResourceFactory()
    first = client.get(address)
    assert first.status_code == 200 and first["ETag"]
    again = client.get(address, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert client.get(address, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_a_format_the_api_does_not_write_is_a_406_naming_those_it_does(api):
    # DRF answered 404 "Not found." of an address that exists (an API client's walk-through).
    response = api.get("/api/resources/", {"format": "xml"})
    assert response.status_code == 406
    assert response.json() == {
        "detail": "There is no format “xml” here; ask for one of: api, json."
    }
    assert api.get("/api/resources/", {"format": "json"}).status_code == 200


# --- The database out of reach (kubelearn.api.database_unavailable) ---------------------------


@pytest.fixture
def database_gone(monkeypatch):
    """The catalog's and the welcome page's queries fail as a dropped connection does."""

    def unreachable(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr("catalog.selectors.resource_list", unreachable)
    monkeypatch.setattr("learn.views.selectors.path_view", unreachable)


@pytest.mark.parametrize("debug", [False, True])
def test_the_api_says_503_with_retry_after_while_the_database_is_unreachable(
    client, db, settings, database_gone, debug
):
    # Every read and write answered a 500 (a traceback page with DEBUG on) while the database
    # was away (an operator's walk-through).
    settings.DEBUG = debug
    response = client.get("/api/resources/")
    assert response.status_code == 503
    assert response.json() == {
        "detail": "The database is unavailable for a moment; try again shortly."
    }
    assert response["Retry-After"] == "30"


@pytest.mark.parametrize("debug", [False, True])
def test_a_page_says_back_in_a_moment_while_the_database_is_unreachable(
    client, db, settings, database_gone, debug
):
    settings.DEBUG = debug
    response = client.get("/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "cannot reach its database just now" in response.content.decode()


def test_a_database_error_outside_any_view_is_a_503_too(rf):
    # Raised in a middleware (the session's, the user's), it reaches handler500.
    try:
        raise InterfaceError("connection already closed")
    except InterfaceError:
        response = json_server_error(rf.get("/api/me/next/"))
    assert response.status_code == 503 and response["Retry-After"] == "30"
