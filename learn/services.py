"""Writes the learner pages own: the private queue feed's secret address."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

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
