"""Hostile request bodies get a clear JSON 4xx from every API endpoint, never a 500 or HTML."""

from __future__ import annotations

import json

import pytest

from tests.factories import ResourceFactory

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
