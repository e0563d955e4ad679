"""Forgotten passwords: a one-time link by e-mail, sent from a task, rate-limited."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-77"


def reset_link(message: mail.EmailMessage) -> str:
    found = re.search(r"https?://[^/\s]+(/password-reset/[^\s]+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_sign_in_links_to_the_password_reset(client):
    body = client.get("/signin/").content.decode()
    assert 'href="/password-reset/"' in body and "Forgot your password?" in body


def test_the_reset_page_opens_with_focus_in_its_address_box(client):
    body = client.get("/password-reset/").content.decode()
    box = re.search(r'<input type="email" name="email"[^>]*>', body)
    assert box and " autofocus" in box.group(), body


def test_a_reset_link_by_email_sets_a_new_password_that_signs_in(client, alice):
    response = client.post("/password-reset/", {"email": "alice@example.org"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert "Check your e-mail" in client.get(response["Location"]).content.decode()
    (message,) = mail.outbox
    assert message.to == ["alice@example.org"]
    assert message.subject == "Reset your kubelearn password"
    assert "Hello alice" in message.body and "within 2 hours" in message.body
    form = client.get(reset_link(message), follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302 and done["Location"] == "/password-reset/done/"
    signed_in = client.post("/signin/", {"username": "alice", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302


def test_a_reset_link_works_only_once(client, alice):
    client.post("/password-reset/", {"email": "alice@example.org"})
    link = reset_link(mail.outbox[0])
    form = client.get(link, follow=True)
    set_url = form.redirect_chain[-1][0]
    client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = client.get(link, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, alice):
    response = client.post("/password-reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert mail.outbox == []


@pytest.mark.parametrize("email", ["", "not-an-address", "a" * 300 + "@example.org"])
def test_a_malformed_address_is_a_400_with_the_form(client, email):
    response = client.post("/password-reset/", {"email": email})
    assert response.status_code == 400
    assert "Send me a reset link" in response.content.decode()
    assert mail.outbox == []


def test_reset_links_to_one_address_are_limited_whoever_asks(client, alice):
    for _ in range(3):
        assert client.post("/password-reset/", {"email": "alice@example.org"}).status_code == 302
    elsewhere = Client(REMOTE_ADDR="192.0.2.7")
    response = elsewhere.post("/password-reset/", {"email": "ALICE@example.org "})
    assert response.status_code == 429
    assert "Reset links have been asked for this address several times lately" in (
        " ".join(response.content.decode().split())
    )
    assert 0 < int(response["Retry-After"]) <= 3600
    assert len(mail.outbox) == 3


def test_reset_requests_are_limited_per_client_address_as_a_classrooms(client, alice, bob):
    # 5 an hour per address left a walk-through's class, behind one address, without resets
    # for most of its lab: each student's own address is limited apart.
    for n in range(18):
        client.post("/password-reset/", {"email": f"student{n}@example.org"})
    for email in ("alice@example.org", "bob@example.org"):
        assert client.post("/password-reset/", {"email": email}).status_code == 302
    response = client.post("/password-reset/", {"email": "carol@example.org"})
    assert response.status_code == 429
    assert "Too many reset requests from your network" in response.content.decode()


def test_a_reset_lifts_the_sign_in_lockout_of_that_account(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/signin/", {"username": "alice", "password": "wrong"})
    assert AccessAttempt.objects.filter(username="alice").exists()
    locked = client.post(
        "/signin/", {"username": "alice", "password": "correct horse battery staple"}
    )
    assert "Too many failed sign-ins" in locked.content.decode()
    client.post("/password-reset/", {"email": "alice@example.org"})
    form = client.get(reset_link(mail.outbox[0]), follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    signed_in = client.post("/signin/", {"username": "alice", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302


def test_a_server_that_cannot_send_mail_says_so_instead_of_pretending(client, alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = ""
    for response in (
        client.get("/password-reset/"),
        client.post("/password-reset/", {"email": "alice@example.org"}),
    ):
        assert response.status_code == 503
        assert "cannot send e-mail" in response.content.decode()
    assert mail.outbox == []


def test_a_broker_that_is_down_gives_a_clear_error_and_no_500(client, alice, monkeypatch):
    from learn import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("Redis is gone")

    monkeypatch.setattr(tasks.mail_send, "delay", broker_down)
    response = client.post("/password-reset/", {"email": "alice@example.org"})
    assert response.status_code == 503
    assert "could not send the e-mail just now" in response.content.decode()


def test_the_reset_page_says_where_to_write_when_the_server_names_an_address(client, settings):
    # "Ask a curator to reset your password" named no way to reach one (walk-through).
    assert (
        "Ask the people who run this kubelearn" in client.get("/password-reset/").content.decode()
    )
    settings.SUPPORT_EMAIL = "help@kubelearn.example"
    body = client.get("/password-reset/").content.decode()
    assert 'Write to <a href="mailto:help@kubelearn.example">help@kubelearn.example</a>' in body
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = ""  # no mail at all: the page that says so names it too
    response = client.get("/password-reset/")
    assert response.status_code == 503
    assert "mailto:help@kubelearn.example" in response.content.decode()


def _focused_password(body: str) -> str:
    (focused,) = re.findall(r'<input type="password"[^>]*autofocus[^>]*>', body)
    return focused


def test_new_passwords_that_do_not_match_are_said_where_focus_comes_back(client, alice):
    # As at sign-up: focus in the first box, the mismatch the confirmation's error.
    client.post("/password-reset/", {"email": "alice@example.org"})
    form = client.get(reset_link(mail.outbox[0]), follow=True)
    refused = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": "other"}
    )
    focused = _focused_password(refused.content.decode())
    assert 'name="new_password1"' in focused and 'aria-invalid="true"' in focused
    assert 'aria-describedby="id_new_password2_error' in focused


def test_a_password_change_that_does_not_match_is_said_where_focus_comes_back(alice_web):
    refused = alice_web.post(
        "/account/password/",
        {
            "old_password": "correct horse battery staple",
            "new_password1": NEW_PASSWORD,
            "new_password2": "other",
        },
    )
    focused = _focused_password(refused.content.decode())
    assert 'name="old_password"' in focused  # every box comes back empty: the first again
    assert 'aria-describedby="id_new_password2_error' in focused
    assert "aria-invalid" not in focused  # it was right: "Old password, invalid" misled


def test_a_new_password_signs_the_api_clients_out(client, alice, alice_web):
    # A token never expired: a lost phone's app kept working through a new password.
    changed = Token.objects.create(user=alice).key
    alice_web.post(
        "/account/password/",
        {
            "old_password": "correct horse battery staple",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert not Token.objects.filter(key=changed).exists()
    reset = Token.objects.create(user=alice).key
    client.post("/password-reset/", {"email": "alice@example.org"})
    form = client.get(reset_link(mail.outbox[-1]), follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD + "x", "new_password2": NEW_PASSWORD + "x"},
    )
    assert not Token.objects.filter(key=reset).exists()


def test_a_weak_new_password_is_said_with_the_mismatch_in_one_go(alice_web):
    # "Too common" came only on the second try, once the confirmation matched.
    refused = alice_web.post(
        "/account/password/",
        {
            "old_password": "correct horse battery staple",
            "new_password1": "password",
            "new_password2": "passwort",
        },
    )
    errors = refused.context["form"].errors
    assert "This password is too common." in errors["new_password1"]
    assert [e.code for e in errors.as_data()["new_password2"]] == ["password_mismatch"]


def test_a_weak_new_password_is_said_under_it_not_under_its_confirmation(client, alice):
    client.post("/password-reset/", {"email": "alice@example.org"})
    form = client.get(reset_link(mail.outbox[0]), follow=True)
    refused = client.post(
        form.redirect_chain[-1][0], {"new_password1": "password", "new_password2": "password"}
    )
    errors = refused.context["form"].errors
    assert "This password is too common." in errors["new_password1"]
    assert "new_password2" not in errors
