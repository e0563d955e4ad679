"""Repeated failed sign-ins lock one account from one client (django-axes), everywhere."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from tests.factories import UserFactory, full_width

pytestmark = pytest.mark.django_db

RIGHT = "correct horse battery staple"


def fail_enough(client: Client, url: str, **extra: str) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": "alice", "password": "wrong guess"}, **extra)


def test_web_sign_in_locks_after_repeated_failures(client, alice):
    fail_enough(client, "/signin/")
    response = client.post("/signin/", {"username": "alice", "password": RIGHT})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "Try again in 1 h," in response.content.decode()  # the configured cool-off
    # Per account and network address, which a fresh browser on the same one shares.
    assert "locked for sign-ins from your network" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_page_leads_to_a_password_reset_which_unlocks(client, alice):
    fail_enough(client, "/signin/")
    body = client.post("/signin/", {"username": "alice", "password": RIGHT}).content.decode()
    assert 'href="/password-reset/"' in body
    assert "a new password unlocks the account" in body


def test_the_lockout_is_per_account_and_client(client, alice, bob):
    fail_enough(client, "/signin/")
    # Another client may still sign in as alice, and this client as bob.
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert other.post("/signin/", {"username": "alice", "password": RIGHT}).status_code == 302
    assert client.post("/signin/", {"username": "bob", "password": RIGHT}).status_code == 302


def test_a_success_before_the_limit_resets_the_count(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/signin/", {"username": "alice", "password": "wrong guess"})
    assert client.post("/signin/", {"username": "alice", "password": RIGHT}).status_code == 302
    client.post("/signout/")
    client.post("/signin/", {"username": "alice", "password": "wrong guess"})
    assert client.post("/signin/", {"username": "alice", "password": RIGHT}).status_code == 302


def test_the_admin_sign_in_locks_too(client, admin_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "admin", "password": "wrong guess"})
    response = client.post("/admin/login/", {"username": "admin", "password": "password"})
    assert response.status_code == 429


def test_the_api_token_endpoint_locks_too(api, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.post("/api/auth/token/", {"username": "alice", "password": "wrong guess"})
    response = api.post("/api/auth/token/", {"username": "alice", "password": RIGHT})
    assert response.status_code == 429
    assert "token" not in response.json()
    assert response.json()["detail"].endswith("retry in 1 hour.")
    assert response["Retry-After"] == "3600"


def test_axes_reset_unlocks(client, alice):
    fail_enough(client, "/signin/")
    assert client.post("/signin/", {"username": "alice", "password": RIGHT}).status_code == 429
    call_command("axes_reset")
    assert client.post("/signin/", {"username": "alice", "password": RIGHT}).status_code == 302


@pytest.mark.parametrize("typed", ["ALICE", "Alice"])
def test_a_username_signs_in_in_any_case(client, alice, typed):
    # Sign-up refuses "ALICE" beside "alice"; sign-in refused it too, as a wrong password
    # (a phone's keyboard capitalises the first letter).
    response = client.post("/signin/", {"username": typed, "password": RIGHT})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_the_api_token_takes_a_username_in_any_case(client, alice):
    response = client.post("/api/auth/token/", {"username": "ALICE", "password": RIGHT})
    assert response.status_code == 200 and response.json()["token"]


def test_failures_in_several_cases_count_as_one_username(client, alice):
    for typed in ("alice", "Alice", "ALICE", "aLice", "alicE")[: settings.AXES_FAILURE_LIMIT]:
        client.post("/signin/", {"username": typed, "password": "wrong guess"})
    response = client.post("/signin/", {"username": "ALiCE", "password": RIGHT})
    assert response.status_code == 429


def test_full_width_letters_sign_in_as_the_name_and_count_as_it(api, alice):
    # Normalised as sign-up normalises names (NFKC), "alice" in full-width letters is "alice":
    # each mix of full-width and plain letters must not be a fresh count of failures.
    typed = [full_width("alice"), "a" + full_width("l") + "ice", "ALI" + full_width("CE")]
    typed += ["alic" + full_width("e"), full_width("a") + "lice", "alIce"]
    for name in typed[: settings.AXES_FAILURE_LIMIT]:
        api.post("/api/auth/token/", {"username": name, "password": "wrong guess"})
    assert api.post("/api/auth/token/", {"username": "alice", "password": RIGHT}).status_code == (
        429
    )


def test_a_full_width_username_signs_in(api, alice):
    response = api.post("/api/auth/token/", {"username": full_width("alice"), "password": RIGHT})
    assert response.status_code == 200 and response.json()["token"]


def test_an_exact_username_wins_over_one_that_differs_only_by_case(client, alice):
    # Accounts made before sign-up compared case may differ only by it.
    other = UserFactory(username="Alice")
    response = client.post("/signin/", {"username": "Alice", "password": RIGHT})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)


def test_a_failed_sign_in_says_when_few_attempts_are_left_before_the_lock(client, alice):
    # A walk-through met the lock with no warning, then the right password was refused.
    said = []
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        page = client.post("/signin/", {"username": "alice", "password": "wrong guess"})
        said.append(page.content.decode())
    assert "more failed attempt" not in said[0]
    assert "2 more failed attempts will lock this account for an hour" in said[-2]
    assert "One more failed attempt will lock this account" in said[-1]
    assert "Reset it below" in said[-1] and 'href="/password-reset/"' in said[-1]


def test_the_sign_in_page_says_the_lock_is_per_network_not_per_device(client, db):
    page = client.get("/signin/").content.decode()
    assert "for sign-ins from that network" in page and "on that device" not in page


# --- Failed usernames per client (kubelearn.signin) -------------------------------------------


@pytest.fixture
def three_names(settings):
    settings.SIGNIN_FAILURES_RATE = "3/min"


def spray(client: Client, url: str, names: list[str], **extra: str) -> list[int]:
    """One wrong password tried against several usernames, as a password spray does."""
    return [
        client.post(url, {"username": name, "password": "Winter2026!"}, **extra).status_code
        for name in names
    ]


def test_a_password_spray_across_usernames_is_paused_for_the_client(client, alice, three_names):
    # Axes locks one name from one address; one password against many names went unslowed,
    # 130 a minute from one client (a penetration test).
    assert spray(client, "/signin/", ["bob", "carol", "dave"]) == [400, 400, 400]
    response = client.post("/signin/", {"username": "alice", "password": RIGHT})
    assert response.status_code == 429  # a right guess gets no further than a wrong one
    body = " ".join(response.content.decode().split())
    assert "Too many different usernames have failed to sign in from your network" in body
    assert "Your password was not checked" in body and "password-reset" not in body
    wait = int(response["Retry-After"])
    assert 0 < wait <= 60 and f"Try again in {wait} second" in body
    assert "_auth_user_id" not in client.session
    # Another address signs in; the form itself still opens here.
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert other.post("/signin/", {"username": "alice", "password": RIGHT}).status_code == 302
    assert client.get("/signin/").status_code == 200


def test_typos_count_once_per_username(client, alice, bob, three_names):
    # A few students' typos paused a whole class behind one address, and one script retrying
    # a locked account kept it paused (a classroom walk-through).
    for _ in range(4):
        spray(client, "/signin/", ["bob", "carol"])
    assert client.post("/signin/", {"username": "alice", "password": RIGHT}).status_code == 302


@pytest.mark.parametrize("url", ["/admin/login/", "/api-auth/login/"])
def test_the_admin_and_api_sign_in_forms_share_the_pause(client, alice, three_names, url):
    spray(client, "/signin/", ["bob", "carol"])
    spray(client, url, ["dave"])
    response = client.post(url, {"username": "alice", "password": RIGHT})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_api_token_endpoint_shares_the_pause_and_says_so_in_json(api, alice, three_names):
    for name in ("bob", "carol", "dave"):
        api.post("/api/auth/token/", {"username": name, "password": "x"}, format="json")
    response = api.post("/api/auth/token/", {"username": "alice", "password": RIGHT})
    assert response.status_code == 429
    assert "No password was checked" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0


def test_a_successful_sign_in_is_not_counted_against_the_client(client, alice, three_names):
    # A classroom behind one address signs in at once.
    for _ in range(5):
        assert client.post("/signin/", {"username": "alice", "password": RIGHT}).status_code == 302
        client.post("/signout/")


def test_a_lockouts_hour_counts_from_its_start_not_from_the_last_try(client, alice):
    # Each try during a lockout started its hour again: a student's script retrying every few
    # seconds kept the account locked all day (a classroom walk-through).
    fail_enough(client, "/signin/")
    locked_at = AccessAttempt.objects.get().attempt_time
    for _ in range(3):
        assert client.post("/signin/", {"username": "alice", "password": RIGHT}).status_code == 429
    assert AccessAttempt.objects.get().attempt_time == locked_at
