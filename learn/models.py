"""What the learner pages store themselves: the secret address of a private feed, and an
e-mail address waiting to be confirmed."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


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


class PendingEmail(models.Model):
    """An address a learner asked for, waiting for its owner to open the link we mailed.

    Password-reset links go only to `User.email`, the confirmed address, which stays as it
    was until the link is opened: an address nobody confirmed would let anyone send another
    person's mailbox links for their account, and would keep that person from signing up.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="pending_email",
    )
    email = models.EmailField(max_length=254)
    requested_at = models.DateTimeField()
    # When the last link went out; empty while none could be sent (limit reached, no mail).
    sent_at = models.DateTimeField(null=True, blank=True)
    # New with every link sent, and in it: only the newest link works (one sent again, or one
    # for an address cancelled and then asked for again, ends the ones before).
    link_key = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        # Not the account: the admin names a deleted row after deleting it, when its primary
        # key, the account, is already unset (and its heading says what the row is).
        return self.email

    @property
    def link_expired(self) -> bool:
        """Whether the last link sent has stopped working (learn.emails.confirmation_read)."""
        return (
            self.sent_at is not None
            and (timezone.now() - self.sent_at).total_seconds() > settings.EMAIL_CONFIRM_TIMEOUT
        )
