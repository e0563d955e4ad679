from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle

from kubelearn.apps import unicode_upper_for_sqlite
from tests.factories import ResourceFactory, full_width

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


def test_register_rejects_a_taken_username_in_compatibility_characters(api, db):
    # "jose" in full-width letters was checked as typed, then stored as "jose" beside "Jose".
    assert api.post("/api/auth/register/", {"username": "Jose", "password": STRONG}).status_code
    response = api.post("/api/auth/register/", {"username": full_width("jose"), "password": STRONG})
    assert response.status_code == 400
    assert "taken" in response.json()["username"][0]
    assert list(User.objects.values_list("username", flat=True)) == ["Jose"]


def test_a_username_typed_with_a_combining_accent_is_the_composed_name(api, db):
    decomposed = "Jose\u0301"
    response = api.post("/api/auth/register/", {"username": decomposed, "password": STRONG})
    assert response.status_code == 201
    assert response.json()["username"] == "Jos\u00e9"
    signed_in = api.post("/api/auth/token/", {"username": decomposed, "password": STRONG})
    assert signed_in.status_code == 200
    composed = api.post("/api/auth/token/", {"username": "jos\u00e9", "password": STRONG})
    assert composed.status_code == 200


def test_register_rejects_a_taken_username_differing_by_a_non_ascii_letters_case(api, db):
    # On SQLite, `iexact` folded ASCII only: "ZOÉ" signed up beside "Zoé".
    assert api.post("/api/auth/register/", {"username": "Zoé", "password": STRONG}).status_code
    response = api.post("/api/auth/register/", {"username": "ZOÉ", "password": STRONG})
    assert response.status_code == 400
    assert "taken" in response.json()["username"][0]
    assert list(User.objects.values_list("username", flat=True)) == ["Zoé"]


def test_web_sign_up_refuses_a_username_differing_by_a_non_ascii_letters_case(client, db):
    User.objects.create_user("Ärne", password=STRONG)
    response = client.post(
        "/signup/", {"username": "ärne", "password1": STRONG, "password2": STRONG}
    )
    assert response.status_code == 400
    assert "A user with that username already exists." in response.content.decode()
    assert User.objects.count() == 1


def test_a_username_signs_in_in_any_case_beyond_ascii(api, db):
    User.objects.create_user("Zoé", password=STRONG)
    response = api.post("/api/auth/token/", {"username": "ZOÉ", "password": STRONG})
    assert response.status_code == 200 and response.json()["username"] == "Zoé"


def test_sqlite_connections_fold_letters_beyond_ascii_in_upper():
    # The embedded database's UPPER() folded ASCII only; kubelearn.apps gives it Python's.
    raw = sqlite3.connect(":memory:")
    unicode_upper_for_sqlite(None, SimpleNamespace(vendor="sqlite", connection=raw))
    assert raw.execute("select upper('zoé'), upper(null)").fetchone() == ("ZOÉ", None)
    raw.close()


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


def test_answers_carrying_a_token_are_kept_by_no_cache(api, alice):
    signed_in = api.post("/api/auth/token/", {"username": "alice", "password": PASSWORD})
    registered = api.post(
        "/api/auth/register/", {"username": "dana", "password": STRONG}, format="json"
    )
    assert signed_in["Cache-Control"] == registered["Cache-Control"] == "no-store"


def test_revoking_the_token_signs_every_client_out_and_signing_in_makes_a_new_one(api, alice):
    old = api.post("/api/auth/token/", {"username": "alice", "password": PASSWORD}).json()
    api.credentials(HTTP_AUTHORIZATION=f"Token {old['token']}")
    assert api.delete("/api/auth/token/").status_code == 204
    assert api.get("/api/me/profile/").status_code == 401
    api.credentials()
    new = api.post("/api/auth/token/", {"username": "alice", "password": PASSWORD}).json()
    assert new["token"] != old["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {new['token']}")
    assert api.get("/api/me/profile/").status_code == 200


def test_revoking_a_token_needs_one(api, db):
    assert api.delete("/api/auth/token/").status_code == 401


def test_token_endpoint_names_a_field_it_does_not_take(api, alice):
    response = api.post(
        "/api/auth/token/", {"username": "alice", "pasword": PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["pasword"] == ["Not a field here. This takes: username, password."]


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


def test_anonymous_reads_do_not_use_up_sign_in_or_registration(api, alice, tight_rates):
    # A class behind one address browsed the API anonymously, and then nobody in the room
    # could get a token or register (a classroom walk-through).
    tight_rates(anon="2/min")
    assert [api.get("/api/tags/").status_code for _ in range(3)] == [200, 200, 429]
    token = api.post("/api/auth/token/", {"username": "alice", "password": PASSWORD})
    assert token.status_code == 200
    registered = api.post(
        "/api/auth/register/", {"username": "zoe", "password": "a-long-passphrase-42"}
    )
    assert registered.status_code == 201


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


# --- The account itself: /api/me/account/ --------------------------------------------------

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


def test_a_learner_reads_their_account(alice_api, alice):
    response = alice_api.get("/api/me/account/")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert response.json()["email"] == "alice@example.org"
    assert "password" not in response.json()


def test_the_account_needs_a_signed_in_learner(api):
    assert api.get("/api/me/account/").status_code == 401
    assert api.delete("/api/me/account/", {"password": PASSWORD}, format="json").status_code == 401


def test_a_new_reset_address_waits_for_the_link_mailed_to_it(alice_api, alice):
    response = alice_api.patch(
        "/api/me/account/", {"email": "dana@example.net", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "alice@example.org"  # until the link is opened
    assert body["email_pending"] == "dana@example.net"
    assert body["email_pending_sent_at"] is not None
    assert body["detail"].startswith("We sent a link to dana@example.net")
    (message,) = mail.outbox
    assert message.to == ["dana@example.net"]
    assert alice_api.get("/api/me/account/").json()["email_pending"] == "dana@example.net"
    # The waiting address again sends its link again.
    resend = alice_api.patch(
        "/api/me/account/", {"email": "dana@example.net", "password": PASSWORD}, format="json"
    )
    assert resend.status_code == 200 and len(mail.outbox) == 2
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"


def test_the_confirmed_address_again_drops_the_waiting_one(alice_api, alice):
    answer = alice_api.patch(
        "/api/me/account/", {"email": "dana@example.net", "password": PASSWORD}, format="json"
    ).json()
    # The answer sent back as it is: its `email` is the confirmed address.
    response = alice_api.patch("/api/me/account/", {**answer, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert response.json()["email_pending"] is None
    assert response.json()["detail"] == "Your address stays alice@example.org; no other is waiting."


def test_register_with_an_address_mails_it_a_link_and_leaves_email_empty(api):
    response = api.post(
        "/api/auth/register/",
        {"username": "dana", "password": STRONG, "email": "dana@example.net"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["email_pending"] == "dana@example.net"
    assert response.json()["detail"].startswith("We sent a link to dana@example.net")
    assert User.objects.get(username="dana").email == ""
    (message,) = mail.outbox
    assert message.to == ["dana@example.net"]


def test_an_empty_reset_address_removes_it(alice_api, alice):
    response = alice_api.patch(
        "/api/me/account/", {"email": "", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.email == ""


def test_another_accounts_address_is_answered_alike_and_never_confirmed(alice_api, alice, bob):
    response = alice_api.patch(
        "/api/me/account/", {"email": "Bob@Example.org", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["email_pending"] == "Bob@example.org"
    assert response.json()["detail"].startswith("We sent a link to Bob@example.org")
    (notice,) = mail.outbox
    assert notice.to == ["Bob@example.org"] and "/account/email/confirm/" not in notice.body
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"


def test_register_with_an_address_another_account_has_is_answered_alike(api, alice):
    response = api.post(
        "/api/auth/register/",
        {"username": "eve", "password": STRONG, "email": "ALICE@EXAMPLE.ORG"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["email_pending"] == "ALICE@example.org"
    assert User.objects.get(username="eve").email == ""


@pytest.mark.parametrize(
    "email", ['"victim"@example.com', '"v\\ictim"@example.com', "victim@[127.0.0.1]"]
)
def test_a_quoted_or_bracketed_address_is_refused_it_has_endless_spellings(alice_api, alice, email):
    # A walk-through sent more than the per-address limit to one mailbox by quoting it.
    response = alice_api.patch(
        "/api/me/account/", {"email": email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert "usual form" in response.json()["email"][0]
    assert mail.outbox == []


def test_an_address_django_refuses_gets_its_message_alone(api):
    response = api.post(
        "/api/auth/register/",
        {"username": "h4", "password": STRONG, "email": "zoe@" + "ä" * 70 + ".org"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["email"] == ["Enter a valid email address."]


def test_register_refuses_an_address_longer_than_the_column_and_creates_nothing(api):
    # A walk-through: a 306-character address answered 500 on PostgreSQL, after the account
    # had been created.
    response = api.post(
        "/api/auth/register/",
        {"username": "rlong", "password": STRONG, "email": "a" * 300 + "@example.org"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["email"] == ["Ensure this field has no more than 254 characters."]
    assert not User.objects.filter(username="rlong").exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "mallory@example.net"},  # no password: a token alone is not enough
        {"email": "mallory@example.net", "password": "guess"},
        {"email": "not an address", "password": PASSWORD},
        {"email": ["a@example.net"], "password": PASSWORD},
        {"password": PASSWORD},
    ],
)
def test_the_reset_address_is_not_changed_by_a_bad_request(alice_api, alice, payload):
    response = alice_api.patch("/api/me/account/", payload, format="json")
    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"


def test_a_learner_deletes_their_account_and_their_token_stops_working(api, alice):
    from rest_framework.authtoken.models import Token

    from recommender.models import Progress

    token = Token.objects.create(user=alice)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    resource = ResourceFactory()
    progress = api.put(f"/api/me/progress/{resource.pk}/", {"state": "completed"}, format="json")
    assert progress.status_code in (200, 201), progress.content
    response = api.delete("/api/me/account/", {"password": PASSWORD}, format="json")
    assert response.status_code == 204
    assert not type(alice).objects.filter(username="alice").exists()
    assert not Progress.objects.filter(resource=resource).exists()
    assert api.get("/api/me/account/").status_code == 401


def test_an_account_is_deleted_with_a_post_for_clients_that_send_no_delete_body(alice_api, alice):
    assert alice_api.post("/api/me/account/delete/", {}, format="json").status_code == 400
    assert type(alice).objects.filter(pk=alice.pk).exists()
    response = alice_api.post("/api/me/account/delete/", {"password": PASSWORD}, format="json")
    assert response.status_code == 204
    assert not type(alice).objects.filter(pk=alice.pk).exists()


def test_the_schema_describes_the_account_delete_posts_body(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    body = schema["paths"]["/api/me/account/delete/"]["post"]["requestBody"]
    assert body["required"] is True
    assert "application/json" in body["content"]


@pytest.mark.parametrize("payload", [{}, {"password": "guess"}, ["password"], {"password": None}])
def test_an_account_is_not_deleted_without_its_password(alice_api, alice, payload):
    response = alice_api.delete("/api/me/account/", payload, format="json")
    assert response.status_code == 400
    assert type(alice).objects.filter(pk=alice.pk).exists()


def test_a_curator_account_is_not_deleted_from_the_api(curator_api, carol):
    response = curator_api.delete("/api/me/account/", {"password": PASSWORD}, format="json")
    assert response.status_code == 403
    assert "another curator" in response.json()["detail"]
    assert type(carol).objects.filter(pk=carol.pk).exists()


def test_password_checks_on_the_account_are_throttled_like_sign_in(alice_api, tight_rates):
    tight_rates(auth="2/min")
    codes = [
        alice_api.delete("/api/me/account/", {"password": "guess"}, format="json").status_code
        for _ in range(3)
    ]
    assert codes == [400, 400, 429]
    # Reading the account checks no password and is not counted.
    assert alice_api.get("/api/me/account/").status_code == 200


@pytest.mark.parametrize(
    "header", ["Basic YWxpY2U6Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==", "Bearer abc", "Basic"]
)
def test_credentials_the_api_does_not_take_are_a_401_that_says_how_to_authenticate(
    api, alice, header
):
    # A curator's `curl -u` was served as anonymous: an empty list of pending resources, and
    # a wrong password answered 200.
    response = api.get("/api/resources/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "Authorization: Token" in response.json()["detail"]
    assert "/api/auth/token/" in response.json()["detail"]


def test_a_token_sent_without_its_scheme_is_a_401_that_does_not_repeat_it(api, alice):
    # A walk-through sent its token alone and read half of it back, as if it were a scheme.
    token = Token.objects.create(user=alice).key
    response = api.get("/api/me/profile/", HTTP_AUTHORIZATION=token)
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert token[:8] not in detail
    assert detail.startswith("The Authorization header needs a scheme.")
    assert "“Authorization: Token <your token>”" in detail


def test_a_token_and_no_authorization_at_all_still_work(api, alice):
    assert api.get("/api/resources/").status_code == 200
    token = api.post(
        "/api/auth/token/", {"username": "alice", "password": "correct horse battery staple"}
    ).json()["token"]
    response = api.get("/api/me/profile/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
