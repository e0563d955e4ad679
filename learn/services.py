"""Writes the learner pages own: the private queue feed's secret address, the account's
e-mail address, and deleting an account."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from catalog import selectors as catalog_selectors
from learn.models import QueueFeed, new_feed_key


def queue_feed_renew(*, user: User) -> QueueFeed:
    """Give the learner a new secret feed address; any previous address stops working."""
    with transaction.atomic():
        feed, created = QueueFeed.objects.select_for_update().get_or_create(user=user)
        if not created:
            feed.key = new_feed_key()
            feed.save(update_fields=["key"])
    return feed


def queue_feed_revoke(*, user: User) -> bool:
    """Delete the learner's feed address. Returns whether there was one."""
    deleted, _ = QueueFeed.objects.filter(user=user).delete()
    return bool(deleted)


def account_email_set(*, user: User, email: str) -> None:
    """Set (or, empty, remove) the address password-reset links go to."""
    user.email = email.strip()
    user.save(update_fields=["email"])


class AccountNotDeletable(Exception):
    """Curator accounts are removed by another curator in the admin, not from the learner page."""


def account_delete(*, user: User) -> None:
    """Delete the learner and everything that is theirs: progress, notes, focus, feed address
    and API token all go with the user row (on_delete=CASCADE)."""
    if user.is_superuser or catalog_selectors.user_is_curator(user):
        raise AccountNotDeletable(
            "Curator accounts are removed by another curator in the admin, so the catalog "
            "never loses its last curator by accident."
        )
    user.delete()
