from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from learn.models import PendingEmail
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", password="x-admin-pass-123"))
    return client


def _change_form(user: User, **changes: str) -> dict[str, str]:
    """The user change form as the admin posts it, with ``changes``."""
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": "",
        "last_name": "",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
        "pending_email-TOTAL_FORMS": "0",
        "pending_email-INITIAL_FORMS": "0",
        "pending_email-MIN_NUM_FORMS": "0",
        "pending_email-MAX_NUM_FORMS": "1",
    }
    data.update(changes)
    return data


def _save_address(client, user, email: str):
    """Staff save the user's change form with ``email`` as the address."""
    return client.post(f"/admin/auth/user/{user.pk}/change/", _change_form(user, email=email))


def test_a_users_page_shows_the_address_waiting_and_when_its_link_stops_working(
    admin_client, alice
):
    sent = timezone.now() - timedelta(hours=1)
    PendingEmail.objects.create(
        user=alice, email="alice@new.example", requested_at=sent, sent_at=sent, link_key="k"
    )
    page = admin_client.get(f"/admin/auth/user/{alice.pk}/change/").content.decode()
    assert "alice@new.example" in page
    assert "works until" in page
    assert "Address waiting for confirmation" in page


def test_a_users_page_says_when_no_link_went_out_or_it_expired(admin_client, alice, bob):
    now = timezone.now()
    PendingEmail.objects.create(user=alice, email="a@new.example", requested_at=now)
    PendingEmail.objects.create(
        user=bob, email="b@new.example", requested_at=now, sent_at=now - timedelta(days=4)
    )
    assert (
        "none went out" in admin_client.get(f"/admin/auth/user/{alice.pk}/change/").content.decode()
    )
    assert "expired" in admin_client.get(f"/admin/auth/user/{bob.pk}/change/").content.decode()


def test_staff_set_an_address_as_mail_is_delivered_to_it(admin_client, alice):
    response = _save_address(admin_client, alice, "Zoe@ZOË.org")
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "Zoe@xn--zo-ija.org"


def test_staff_cannot_give_an_address_another_account_has(admin_client, alice, bob):
    response = _save_address(admin_client, alice, "BOB@example.org")
    assert response.status_code == 200
    assert "The account bob has this address already" in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"


def test_staff_refuse_a_quoted_address(admin_client, alice):
    response = _save_address(admin_client, alice, '"bob"@example.org')
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"


def test_an_address_staff_set_ends_every_wait_for_it(admin_client, alice, bob):
    now = timezone.now()
    PendingEmail.objects.create(user=alice, email="shared@new.example", requested_at=now)
    PendingEmail.objects.create(user=bob, email="Shared@new.example", requested_at=now)
    carl = UserFactory(username="carl")
    PendingEmail.objects.create(user=carl, email="carl@new.example", requested_at=now)
    _save_address(admin_client, alice, "shared@new.example")
    assert list(PendingEmail.objects.values_list("email", flat=True)) == ["carl@new.example"]


def test_staff_cancel_a_wait_by_deleting_it(admin_client, alice):
    now = timezone.now()
    PendingEmail.objects.create(user=alice, email="a@new.example", requested_at=now)
    form = _change_form(
        alice,
        **{
            "pending_email-TOTAL_FORMS": "1",
            "pending_email-INITIAL_FORMS": "1",
            "pending_email-0-user": str(alice.pk),
            "pending_email-0-DELETE": "on",
        },
    )
    response = admin_client.post(f"/admin/auth/user/{alice.pk}/change/", form)
    assert response.status_code == 302
    assert not PendingEmail.objects.exists()


def test_a_user_with_no_waiting_address_shows_none(admin_client, alice):
    # Blank inline forms, shown read-only, read as a waiting address whose link never went
    # out on every account (a walk-through).
    page = admin_client.get(f"/admin/auth/user/{alice.pk}/change/").content.decode()
    assert "none went out" not in page
    assert 'name="pending_email-TOTAL_FORMS" value="0"' in page
