"""The one thing the learner pages store themselves: the secret address of a private feed."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def new_feed_key() -> str:
    return secrets.token_urlsafe(32)


class QueueFeed(models.Model):
    """A learner's reading queue as an Atom feed, at an address only they know.

    The key is the only credential a feed reader can send, so it is long and random, and
    the learner can replace it (revoking the old address) or delete it at any time.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_feed"
    )
    key = models.CharField(max_length=64, unique=True, default=new_feed_key)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"queue feed of {self.user}"
