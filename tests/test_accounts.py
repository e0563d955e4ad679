from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

STRONG = "kube-learner-Xy7!q"


def test_register_returns_a_working_token(api):
    response = api.post(
        "/api/auth/register/", {"username": "dana", "password": STRONG}, format="json"
    )
    assert response.status_code == 201
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    resource = ResourceFactory()
    # A learner token authenticates (a write then fails with 403, not 401).
    assert api.delete(f"/api/resources/{resource.pk}/").status_code == 403


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "danaskywalker"])
def test_register_rejects_weak_passwords_with_a_field_message(api, password):
    response = api.post("/api/auth/register/", {"username": "danaskywalker", "password": password})
    assert response.status_code == 400
    assert response.json()["password"]


def test_register_rejects_a_password_like_the_username(api):
    response = api.post(
        "/api/auth/register/", {"username": "kubernetes", "password": "kubernetes1"}
    )
    assert response.status_code == 400
    assert "similar" in response.json()["password"][0]


def test_register_rejects_a_taken_username_case_insensitively(api, alice):
    response = api.post("/api/auth/register/", {"username": "ALICE", "password": STRONG})
    assert response.status_code == 400
    assert "taken" in response.json()["username"][0]


def test_register_rejects_missing_fields(api):
    response = api.post("/api/auth/register/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_token_endpoint_exchanges_credentials_for_a_token(api, alice):
    response = api.post(
        "/api/auth/token/", {"username": "alice", "password": "correct horse battery staple"}
    )
    assert response.status_code == 200
    assert len(response.json()["token"]) == 40


def test_token_endpoint_refuses_wrong_password(api, alice):
    response = api.post("/api/auth/token/", {"username": "alice", "password": "nope"})
    assert response.status_code == 400


@pytest.fixture
def tight_rates(monkeypatch):
    """Throttle classes read their rates once at import; patch them for one test."""

    def apply(**rates: str) -> None:
        monkeypatch.setattr(
            SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, **rates}
        )
        cache.clear()

    yield apply
    cache.clear()


def test_login_attempts_are_throttled(api, alice, tight_rates):
    tight_rates(auth="3/min")
    codes = [
        api.post("/api/auth/token/", {"username": "alice", "password": "guess"}).status_code
        for _ in range(4)
    ]
    assert codes == [400, 400, 400, 429]


def test_registrations_are_throttled(api, tight_rates):
    tight_rates(auth="2/min")
    codes = [
        api.post("/api/auth/register/", {"username": f"u{n}", "password": "x"}).status_code
        for n in range(3)
    ]
    assert codes == [400, 400, 429]


def test_anonymous_reads_are_throttled(api, tight_rates):
    tight_rates(anon="2/min")
    codes = [api.get("/api/tags/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_spoofed_forwarded_for_does_not_escape_the_login_throttle(api, alice, tight_rates):
    tight_rates(auth="3/min")
    codes = [
        api.post(
            "/api/auth/token/",
            {"username": "alice", "password": "guess"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        ).status_code
        for n in range(5)
    ]
    assert codes == [400, 400, 400, 429, 429]


def test_spoofed_forwarded_for_does_not_escape_the_anonymous_read_throttle(api, tight_rates):
    tight_rates(anon="2/min")
    codes = [
        api.get("/api/tags/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(3)
    ]
    assert codes == [200, 200, 429]


def test_behind_one_trusted_proxy_each_client_address_has_its_own_budget(
    api, tight_rates, settings
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    tight_rates(anon="1/min")
    # The proxy appends the address it saw; anything before it is the client's own claim.
    first = api.get("/api/tags/", HTTP_X_FORWARDED_FOR="1.1.1.1, 192.0.2.10")
    again = api.get("/api/tags/", HTTP_X_FORWARDED_FOR="9.9.9.9, 192.0.2.10")
    other = api.get("/api/tags/", HTTP_X_FORWARDED_FOR="192.0.2.11")
    assert [first.status_code, again.status_code, other.status_code] == [200, 429, 200]
