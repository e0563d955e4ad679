"""The account page: the reset address, and deleting the account with everything in it."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone
from rest_framework.authtoken.models import Token

from learn.models import PendingEmail, QueueFeed
from recommender.models import LearnerProfile, Note, Progress
from tests.factories import CuratorFactory, ResourceFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


def test_a_new_address_waits_for_its_link_and_resets_still_go_to_the_old_one(alice, alice_web):
    assert "alice@example.org" in alice_web.get("/account/").content.decode()
    response = alice_web.post(
        "/account/email/", {"email": " new@example.org ", "password": PASSWORD}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"
    assert PendingEmail.objects.get(user=alice).email == "new@example.org"
    (message,) = mail.outbox
    assert message.to == ["new@example.org"]
    assert "/account/email/confirm/" in message.body
    body = alice_web.get("/account/").content.decode()
    assert "We sent a link to new@example.org" in body
    assert "reset links go to alice@example.org, as before" in body
    waiting = "new@example.org</strong> waits for you to confirm it: we sent it a link <time"
    assert waiting in body


def test_changing_the_address_asks_the_password(alice, alice_web):
    # A browser left signed in must not be enough to send the account's resets elsewhere.
    for password in ("", "wrong"):
        response = alice_web.post(
            "/account/email/", {"email": "mallory@example.net", "password": password}
        )
        assert response.status_code == 400
        assert "Your password" in response.content.decode()
    assert not PendingEmail.objects.exists()
    assert mail.outbox == []


def test_an_empty_address_removes_it_and_says_what_that_means(alice, alice_web):
    PendingEmail.objects.create(user=alice, email="new@example.org", requested_at=timezone.now())
    alice_web.post("/account/email/", {"email": "", "password": PASSWORD})
    alice.refresh_from_db()
    assert alice.email == ""
    assert not PendingEmail.objects.exists()
    body = alice_web.get("/account/").content.decode()
    assert "a curator can reset your password" in body
    assert "cannot reset a forgotten password yourself" in body


@pytest.mark.parametrize("email", ["not-an-address", "a" * 300 + "@example.org"])
def test_a_malformed_address_is_a_400_on_the_account_page_and_keeps_the_old_one(
    alice, alice_web, email
):
    response = alice_web.post("/account/email/", {"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Your account" in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"
    assert not PendingEmail.objects.exists()


def test_an_address_another_account_has_is_answered_alike_and_its_owner_told_instead(
    alice, alice_web, bob
):
    # A walk-through's "eve" put a stranger's address on her account, then had reset mail
    # for her account sent to the stranger. Now it can never be confirmed here, and the
    # page does not tell whether the address has an account (the reset page does not).
    response = alice_web.post(
        "/account/email/", {"email": " BOB@example.org ", "password": PASSWORD}, follow=True
    )
    assert "We sent a link to BOB@example.org" in response.content.decode()
    (notice,) = mail.outbox
    assert notice.to == ["BOB@example.org"]
    assert notice.subject == "Your e-mail address was asked for on another kubelearn account"
    assert "/account/email/confirm/" not in notice.body
    assert 'the kubelearn account "alice"' in notice.body and "nothing changed" in notice.body
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"


def test_the_own_address_in_another_case_is_saved_at_once(alice, alice_web, bob):
    response = alice_web.post(
        "/account/email/", {"email": "Alice@Example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "Alice@example.org"  # the domain as mail is delivered to it
    assert mail.outbox == []


def test_sign_up_with_an_address_another_account_has_says_nothing_of_it(client, alice):
    response = client.post(
        "/signup/",
        {
            "username": "eve",
            "email": "ALICE@example.org",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
        follow=True,
    )
    assert "We sent a link to ALICE@example.org" in response.content.decode()
    assert get_user_model().objects.get(username="eve").email == ""
    (notice,) = mail.outbox
    assert notice.to == ["ALICE@example.org"] and "/account/email/confirm/" not in notice.body


def test_deleting_the_account_takes_everything_of_it_and_signs_out(alice, alice_web, bob):
    resource = ResourceFactory()
    Progress.objects.create(user=alice, resource=resource, state="completed")
    Progress.objects.create(user=bob, resource=resource, state="completed")
    LearnerProfile.objects.create(user=alice, level=2)
    QueueFeed.objects.create(user=alice)
    Token.objects.create(user=alice)
    Note.objects.create(user=alice, resource=resource, text="kubectl auth can-i")
    page = alice_web.get("/account/delete/")
    assert page.status_code == 200 and "It cannot be undone" in page.content.decode()
    response = alice_web.post("/account/delete/", {"password": PASSWORD}, follow=True)
    assert "Your account and everything in it are deleted" in response.content.decode()
    assert not get_user_model().objects.filter(username="alice").exists()
    assert not Progress.objects.filter(user_id=alice.pk).exists()
    assert not LearnerProfile.objects.filter(user_id=alice.pk).exists()
    assert not QueueFeed.objects.filter(user_id=alice.pk).exists()
    assert not Token.objects.filter(user_id=alice.pk).exists()
    assert not Note.objects.filter(user_id=alice.pk).exists()
    assert Progress.objects.filter(user=bob).count() == 1  # nobody else's data
    assert alice_web.get("/account/").status_code == 302  # signed out


def test_a_click_on_a_page_left_open_after_the_deletion_says_the_account_is_gone(alice, alice_web):
    # It said "You were signed out … Sign in and you are back where you were" (a walk-through's
    # second tab, left open on Up next while the first deleted the account).
    resource = ResourceFactory()
    alice_web.post("/account/delete/", {"password": PASSWORD})
    response = alice_web.post(f"/progress/{resource.pk}/", {"state": "completed"}, follow=True)
    page = response.content.decode()
    assert "the account this page was made for is deleted" in page
    assert "you are back where you were" not in page
    assert response.redirect_chain[-1][0] == "/"
    assert not Progress.objects.exists()


def test_a_click_after_signing_out_still_says_to_sign_in(alice, alice_web):
    resource = ResourceFactory()
    alice_web.post("/signout/")
    response = alice_web.post(f"/progress/{resource.pk}/", {"state": "completed"}, follow=True)
    assert "Sign in and you are back where you were" in response.content.decode()


@pytest.mark.parametrize("password", ["", "wrong"])
def test_a_wrong_password_deletes_nothing(alice, alice_web, password):
    response = alice_web.post("/account/delete/", {"password": password})
    assert response.status_code == 400
    assert get_user_model().objects.filter(pk=alice.pk).exists()


def test_a_curator_account_is_not_deleted_from_the_learner_page(client):
    curator = CuratorFactory(username="cora")
    client.force_login(curator)
    response = client.post("/account/delete/", {"password": PASSWORD})
    assert response.status_code == 400
    assert "removed by another curator in the admin" in response.content.decode()
    assert get_user_model().objects.filter(pk=curator.pk).exists()


@pytest.mark.parametrize("url", ["/account/delete/"])
def test_deleting_needs_sign_in(client, url):
    response = client.post(url, {"password": PASSWORD})
    assert response.status_code == 302 and "/signin/" in response["Location"]


def test_the_account_page_leads_with_signing_in_and_the_feed_comes_after(alice_web):
    # A walk-through: "Create my feed address" was the page's first, primary button and the
    # password a link in its introduction.
    body = alice_web.get("/account/").content.decode()
    order = [body.index(f'id="{name}-title"') for name in ("password", "email", "feed", "delete")]
    assert order == sorted(order)
    assert '<a class="btn" href="/account/password/">Change your password</a>' in body
    assert "btn-primary" not in body


def test_the_password_page_leads_back_to_the_account(alice_web):
    body = alice_web.get("/account/password/").content.decode()
    assert '<a href="/account/">Back to your account</a>' in body


def test_the_link_sent_to_a_waiting_address_is_said_to_have_gone_today(alice, alice_web):
    # "we sent it a link on 6 Dec 2026, 18:04" of a link sent a minute ago.
    alice_web.post(
        "/account/email/",
        {"email": "new@example.org", "password": PASSWORD},
    )
    body = alice_web.get("/account/").content.decode()
    assert re.search(r"we sent it a link <time [^>]+>today at \d\d:\d\d</time>", body)
