"""A new e-mail address is confirmed by its owner before password resets go to it."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from learn import emails, services
from learn.models import PendingEmail
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


def confirm_link(message: mail.EmailMessage) -> str:
    found = re.search(r"https?://[^/\s]+(/account/email/confirm/[^\s]+/)", message.body)
    assert found, message.body
    return found.group(1)


def ask_for(web: Client, email: str, typed: str = "") -> str:
    """Ask for `email` (typed as `typed`) on the account page; the path of the link mailed
    to it."""
    mail.outbox.clear()
    response = web.post("/account/email/", {"email": typed or email, "password": PASSWORD})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == [email]
    return confirm_link(message)


def reset_mail_to(client: Client, email: str) -> list[str]:
    mail.outbox.clear()
    client.post("/password-reset/", {"email": email})
    return [address for message in mail.outbox for address in message.to]


def test_opening_the_link_shows_a_button_and_changes_nothing_until_it_is_pressed(alice, alice_web):
    link = ask_for(alice_web, "new@example.org")
    page = alice_web.get(link)  # what a mail scanner that follows links does
    assert page.status_code == 200
    body = page.content.decode()
    assert "Confirm this address</button>" in body and ">new@example.org</strong>" in body
    assert "<strong>alice</strong>" in body
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"
    done = alice_web.post(link)
    assert done.status_code == 200
    assert "Address confirmed" in done.content.decode()
    alice.refresh_from_db()
    assert alice.email == "new@example.org"
    assert not PendingEmail.objects.exists()


def test_after_confirming_resets_go_to_the_new_address_and_the_old_one_is_told(
    alice, alice_web, client
):
    link = ask_for(alice_web, "new@example.org")
    assert reset_mail_to(client, "new@example.org") == []  # not confirmed yet
    assert reset_mail_to(client, "alice@example.org") == ["alice@example.org"]
    mail.outbox.clear()
    alice_web.post(link)
    (notice,) = mail.outbox
    assert notice.to == ["alice@example.org"]
    assert notice.subject == "Your kubelearn account has a new e-mail address"
    assert "now sends its password-reset links to new@example.org" in notice.body
    assert reset_mail_to(client, "new@example.org") == ["new@example.org"]
    assert reset_mail_to(client, "alice@example.org") == []


def test_the_link_works_without_signing_in_and_shows_neither_address_nor_account(
    alice, alice_web, client
):
    # A link may be read from a proxy's log: opening it must not tell whose address it is.
    link = ask_for(alice_web, "new@example.org")
    for body in (client.get(link).content.decode(), client.post(link).content.decode()):
        assert "new@example.org" not in body and "alice" not in body
    done = client.get(link)
    assert "Address confirmed" in done.content.decode()
    assert 'href="/signin/?next=/account/"' in done.content.decode()
    alice.refresh_from_db()
    assert alice.email == "new@example.org"


def test_a_link_opened_while_signed_in_as_another_account_says_that_one_is_unchanged(
    alice, alice_web, bob
):
    link = ask_for(alice_web, "new@example.org")
    bob_web = Client()
    bob_web.force_login(bob)
    page = bob_web.get(link).content.decode()
    assert "That is not the account you are signed in as, <strong>bob</strong>" in page
    assert "new@example.org" not in page
    done = bob_web.post(link).content.decode()
    assert "nothing of it changed" in done and 'href="/">Back to kubelearn' in done
    bob.refresh_from_db()
    assert bob.email == "bob@example.org"


def test_a_link_opened_again_says_it_is_done_and_changes_nothing(alice, alice_web):
    link = ask_for(alice_web, "new@example.org")
    alice_web.post(link)
    mail.outbox.clear()
    for again in (alice_web.get(link), alice_web.post(link)):
        assert again.status_code == 200
        assert "Address confirmed" in again.content.decode()
    assert mail.outbox == []  # no second notice


def test_an_expired_link_says_so_and_confirms_nothing(alice, alice_web, settings):
    link = ask_for(alice_web, "new@example.org")
    settings.EMAIL_CONFIRM_TIMEOUT = -1  # every link is older than that
    for response in (alice_web.get(link), alice_web.post(link)):
        assert response.status_code == 400
        assert "This link has expired" in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "eyJ1c2VyIjoxfQ:1abcde:not-the-signature",
        "a" * 5000,
        "%E2%80%AEgnp.exe",
        # Signed with our key but not a confirmation link (another salt, another shape).
        signing.dumps({"user": 1, "address": "0" * 32}, salt="something-else"),
        signing.dumps(["eve@example.net"], salt=emails.CONFIRM_SALT),
        signing.dumps({"user": "1", "address": "0" * 32}, salt=emails.CONFIRM_SALT),
        signing.dumps({"user": 1, "email": "eve@example.net"}, salt=emails.CONFIRM_SALT),
    ],
)
def test_a_forged_or_broken_link_is_a_400_that_says_what_to_do(client, alice, token):
    for response in (
        client.get(f"/account/email/confirm/{token}/"),
        client.post(f"/account/email/confirm/{token}/"),
    ):
        assert response.status_code == 400
        assert "This link cannot confirm an address" in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"


def test_a_link_for_an_address_nobody_asked_for_confirms_nothing(client, alice):
    # A link signed for Alice's account and Eve's address: only what waits can be confirmed.
    token = emails.confirmation_token(user_id=alice.pk, email="eve@example.net", key="k")
    response = client.post(f"/account/email/confirm/{token}/")
    assert response.status_code == 400
    assert "This link no longer works" in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"


def test_asking_for_another_address_ends_the_earlier_link(alice, alice_web):
    first = ask_for(alice_web, "first@example.org")
    second = ask_for(alice_web, "second@example.org")
    refused = alice_web.post(first)
    assert refused.status_code == 400
    assert "another address was asked for since" in refused.content.decode()
    assert alice_web.post(second).status_code == 200
    alice.refresh_from_db()
    assert alice.email == "second@example.org"


def test_cancelling_before_any_link_went_out_does_not_speak_of_one(alice, alice_web, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = ""
    alice_web.post("/account/email/", {"email": "new@example.org", "password": PASSWORD})
    response = alice_web.post("/account/email/pending/", {"action": "cancel"}, follow=True)
    assert "Cancelled: new@example.org no longer waits." in response.content.decode()


def test_removing_with_only_a_waiting_address_says_what_was_dropped(client):
    dana = UserFactory(username="dana", email="")
    client.force_login(dana)
    client.post("/account/email/", {"email": "dana@example.org", "password": PASSWORD})
    page = client.get("/account/").content.decode()
    assert "You have no confirmed e-mail address yet" in page
    response = client.post("/account/email/", {"email": "", "password": PASSWORD}, follow=True)
    assert "Nothing waits for confirmation now. You have no e-mail address" in (
        response.content.decode()
    )


def test_cancelling_ends_the_link(alice, alice_web):
    link = ask_for(alice_web, "new@example.org")
    response = alice_web.post("/account/email/pending/", {"action": "cancel"}, follow=True)
    assert "Cancelled: the link we sent no longer works." in response.content.decode()
    assert alice_web.post(link).status_code == 400
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"


def test_send_again_mails_a_link_that_works_and_ends_the_one_before(alice, alice_web):
    first = ask_for(alice_web, "new@example.org")
    mail.outbox.clear()
    response = alice_web.post("/account/email/pending/", {"action": "resend"}, follow=True)
    assert "We sent a link to new@example.org" in response.content.decode()
    (message,) = mail.outbox
    refused = alice_web.post(first)
    assert refused.status_code == 400
    assert "a newer one was sent" in refused.content.decode()
    assert alice_web.post(confirm_link(message)).status_code == 200
    alice.refresh_from_db()
    assert alice.email == "new@example.org"


def test_a_cancelled_link_stays_dead_when_the_address_is_asked_for_again(alice, alice_web):
    # A walk-through: "Cancelled: the link we sent no longer works", and the link came back
    # to life once the same address was asked for again.
    cancelled = ask_for(alice_web, "typo@exmaple.com")
    alice_web.post("/account/email/pending/", {"action": "cancel"})
    ask_for(alice_web, "right@example.com")
    newest = ask_for(alice_web, "typo@exmaple.com")
    assert alice_web.get(cancelled).status_code == 400
    assert alice_web.post(cancelled).status_code == 400
    assert alice_web.post(newest).status_code == 200


@pytest.mark.parametrize("payload", [{}, {"action": "confirm"}, {"action": "resend; cancel"}])
def test_a_bad_pending_action_is_a_400(alice_web, payload):
    assert alice_web.post("/account/email/pending/", payload).status_code == 400


def test_the_pending_actions_need_sign_in(client):
    response = client.post("/account/email/pending/", {"action": "resend"})
    assert response.status_code == 302 and "/signin/" in response["Location"]


def test_links_are_limited_per_account_and_a_limited_one_loses_nothing(alice, alice_web):
    # Saving an address over and over must not make us mail-bomb it.
    for _ in range(5):
        alice_web.post("/account/email/pending/", {"action": "resend"})  # nothing waits yet
    assert mail.outbox == []
    for n in range(5):
        alice_web.post("/account/email/", {"email": f"n{n}@example.org", "password": PASSWORD})
    assert len(mail.outbox) == 5
    response = alice_web.post(
        "/account/email/", {"email": "victim@example.org", "password": PASSWORD}, follow=True
    )
    body = response.content.decode()
    assert "victim@example.org waits for confirmation, but no link went out" in body
    assert "no link has gone out yet" in body and ">Send the link</button>" in body
    assert len(mail.outbox) == 5
    assert PendingEmail.objects.get(user=alice).email == "victim@example.org"


def test_at_the_limit_the_address_asked_for_again_keeps_the_link_it_had(alice, alice_web):
    # A walk-through: after five links, saving the same address again read "no link has
    # gone out yet", and the links already sent still worked.
    link = ask_for(alice_web, "new@example.org")
    for _ in range(4):
        alice_web.post("/account/email/pending/", {"action": "resend"})
    links = [confirm_link(message) for message in mail.outbox]
    response = alice_web.post(
        "/account/email/", {"email": "NEW@example.org", "password": PASSWORD}, follow=True
    )
    body = response.content.decode()
    assert "no link went out" in body
    assert "we sent it a link <time" in body and "no link has gone out yet" not in body
    assert alice_web.post(link).status_code == 400  # sent again since
    assert alice_web.post(links[-1]).status_code == 200


def test_links_are_limited_per_address_whatever_the_account(client):
    # A walk-through: three new accounts each signed up with one victim's address, and each
    # started again at five links.
    for n in range(7):
        client.post(
            "/signup/",
            {
                "username": f"flood{n}",
                "email": "victim@example.org",
                "password1": "a-long-passphrase-42",
                "password2": "a-long-passphrase-42",
            },
        )
        client.post("/signout/")
    assert get_user_model().objects.filter(username__startswith="flood").count() == 7
    assert len(mail.outbox) == 5


def test_two_spellings_of_one_mailbox_are_one_address(alice, alice_web, bob):
    # A walk-through: "x@straße.de" and "x@strasse.de" were two addresses here, and Django's
    # mail code delivers both to strasse.de (IDNA 2003), so one mailbox confirmed both.
    get_user_model().objects.filter(pk=bob.pk).update(email="bob@strasse.de")
    response = alice_web.post(
        "/account/email/", {"email": "BOB@Straße.de", "password": PASSWORD}, follow=True
    )
    assert "We sent a link to BOB@strasse.de" in response.content.decode()
    (notice,) = mail.outbox
    assert notice.to == ["BOB@strasse.de"] and "/account/email/confirm/" not in notice.body


def test_an_international_domain_is_kept_as_mail_is_delivered_to_it(alice, alice_web, client):
    # SQLite matches case in ASCII only: "zoe@ZOË.org" and "zoe@zoë.org" were confirmed on
    # two accounts there, both delivered to one mailbox.
    link = ask_for(alice_web, "zoe@xn--zo-ija.org", typed="zoe@ZOË.org")
    alice_web.post(link)
    alice.refresh_from_db()
    assert alice.email == "zoe@xn--zo-ija.org"
    assert reset_mail_to(client, "ZOE@zoë.org") == ["zoe@xn--zo-ija.org"]


def test_without_mail_the_address_waits_and_the_page_says_no_link_went_out(
    alice, alice_web, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = ""
    response = alice_web.post(
        "/account/email/", {"email": "new@example.org", "password": PASSWORD}, follow=True
    )
    assert "this server cannot send mail right now" in response.content.decode()
    pending = PendingEmail.objects.get(user=alice)
    assert pending.email == "new@example.org" and pending.sent_at is None


def test_a_broker_that_is_down_loses_nothing_and_no_500(alice, alice_web, monkeypatch):
    from learn import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("Redis is gone")

    monkeypatch.setattr(tasks.mail_send, "delay", broker_down)
    response = alice_web.post(
        "/account/email/", {"email": "new@example.org", "password": PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert "no link went out" in response.content.decode()
    assert PendingEmail.objects.get(user=alice).email == "new@example.org"


def test_an_address_that_only_waits_does_not_keep_its_owner_from_signing_up(
    alice, alice_web, client
):
    # Eve asks for Carol's address: it waits on Eve's account, unconfirmed. Carol signs up
    # with it, confirms it, and Eve's link then confirms nothing.
    eve_link = ask_for(alice_web, "carol@example.org")
    mail.outbox.clear()
    signed_up = client.post(
        "/signup/",
        {
            "username": "carol",
            "email": "carol@example.org",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert signed_up.status_code == 302
    carol = get_user_model().objects.get(username="carol")
    assert carol.email == ""
    (message,) = mail.outbox
    assert client.post(confirm_link(message)).status_code == 200
    carol.refresh_from_db()
    assert carol.email == "carol@example.org"
    # Eve's address stopped waiting when Carol confirmed it, and her link stopped working.
    assert not PendingEmail.objects.filter(user=alice).exists()
    refused = alice_web.post(eve_link)
    assert refused.status_code == 400
    assert "This link no longer works" in refused.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"


def test_sign_up_with_an_address_says_a_link_went_out(client):
    response = client.post(
        "/signup/",
        {
            "username": "dana",
            "email": "dana@example.org",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
        follow=True,
    )
    body = response.content.decode()
    assert "Welcome to kubelearn!" in body
    assert "We sent a link to dana@example.org" in body
    assert "Until then, you cannot reset your password by e-mail." in body
    (message,) = mail.outbox
    assert message.subject == "Confirm your e-mail address for kubelearn"
    assert 'account "dana"' in message.body and "works for 3 days" in message.body
    # The link names the account, not the address: links end up in servers' logs.
    assert "dana@example.org" not in confirm_link(message)
    assert (
        "dana@example.org"
        not in signing.b64_decode(
            confirm_link(message).split("/")[-2].split(":")[0].encode()
        ).decode()
    )


def test_a_link_for_a_deleted_account_says_so(client):
    dana = UserFactory(username="dana", email="")
    PendingEmail.objects.create(
        user=dana, email="dana@example.org", requested_at=timezone.now(), link_key="k"
    )
    token = emails.confirmation_token(user_id=dana.pk, email="dana@example.org", key="k")
    dana.delete()
    response = client.get(f"/account/email/confirm/{token}/")
    assert response.status_code == 400
    page = response.content.decode()
    assert "no longer exists" in page
    # Not "Go to your account page": there is none (a walk-through was offered it).
    assert "Go to your account page" not in page and "Back to kubelearn" in page


def test_an_expired_link_still_leads_to_the_account_page(alice, client):
    response = client.get("/account/email/confirm/not-a-token/")
    assert response.status_code == 400
    assert "Go to your account page" in response.content.decode()


def test_the_account_page_says_when_the_link_sent_has_expired(alice, alice_web):
    sent = timezone.now() - timedelta(days=4)
    PendingEmail.objects.create(
        user=alice, email="new@example.org", requested_at=sent, sent_at=sent
    )
    body = alice_web.get("/account/").content.decode()
    assert "has expired, so send it again. Until then, reset links go to alice@example.org" in body
    PendingEmail.objects.filter(user=alice).update(sent_at=timezone.now())
    assert "open it within 3 days" in alice_web.get("/account/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_accounts_confirming_one_address_at_once_give_it_to_one(alice, bob):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite runs one write transaction at a time)")
    now = timezone.now()
    for user in (alice, bob):
        PendingEmail.objects.create(
            user=user, email="carol@example.org", requested_at=now, link_key="k"
        )
    alice_link, bob_link = (
        emails.confirmation_read(
            emails.confirmation_token(user_id=u.pk, email="carol@example.org", key="k")
        )
        for u in (alice, bob)
    )
    # Alice's confirmation is under way (its locks taken, her address set, not committed) when
    # Bob's starts: Bob's must wait for it, then find the address taken.
    results: dict[str, object] = {}
    bob_started = threading.Event()

    def bob_confirms() -> None:
        bob_started.set()
        try:
            results["bob"] = services.email_confirm(link=bob_link)
        except services.EmailNotConfirmed as exc:
            results["bob"] = exc
        finally:
            connection.close()

    with transaction.atomic():
        list(PendingEmail.objects.select_for_update().filter(email__iexact="carol@example.org"))
        get_user_model().objects.filter(pk=alice.pk).update(email="carol@example.org")
        PendingEmail.objects.filter(user=alice).delete()
        thread = threading.Thread(target=bob_confirms)
        thread.start()
        bob_started.wait(5)
        thread.join(0.5)
        assert thread.is_alive()  # waiting for Alice's locks
    thread.join(10)
    assert isinstance(results["bob"], services.EmailNotConfirmed)
    bob.refresh_from_db()
    assert bob.email == "bob@example.org"
    alice.refresh_from_db()
    assert alice.email == "carol@example.org"
    assert services.email_confirm(link=alice_link).already
