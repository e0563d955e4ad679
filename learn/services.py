"""Writes the learner pages own: the private queue feed's secret address, the account's
e-mail address (asked for, confirmed by a mailed link), and deleting an account."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework.authtoken.models import Token

from catalog import selectors as catalog_selectors
from learn import emails, selectors
from learn.models import PendingEmail, QueueFeed, new_feed_key

logger = logging.getLogger(__name__)


def queue_feed_create(*, user: User) -> tuple[QueueFeed, bool]:
    """The learner's feed address, made if they have none; and whether it was made now. An
    address made since (a second tab's "Create") is kept: it may be in a reader already."""
    return QueueFeed.objects.get_or_create(user=user)


def queue_feed_renew(*, user: User, replacing: str | None = None) -> QueueFeed | None:
    """Give the learner a new secret feed address; any previous address stops working.

    ``replacing``: the address's key as the learner's page showed it. If the feed has another
    one now (renewed since, in another tab or on another device), nothing changes and None is
    returned: that newer address may be in a reader already. With no feed (turned off since),
    one is made: the address the page showed works no more either way."""
    with transaction.atomic():
        feed, created = QueueFeed.objects.select_for_update().get_or_create(user=user)
        if not created:
            if replacing is not None and feed.key != replacing:
                return None
            feed.key = new_feed_key()
            feed.save(update_fields=["key"])
    return feed


def queue_feed_revoke(*, user: User) -> bool:
    """Delete the learner's feed address. Returns whether there was one."""
    deleted, _ = QueueFeed.objects.filter(user=user).delete()
    return bool(deleted)


def api_token_revoke(*, user: User) -> bool:
    """Sign every API client of the learner's out: their token stops working, and signing in
    at /api/auth/token/ makes a new one. Returns whether there was one.

    Called for `DELETE /api/auth/token/` and when the password changes (on the Account page
    or from a reset link): a token never expired, so a lost phone's app kept working through a
    new password (an API walk-through)."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)


# Builds the absolute address of a confirmation link from its token (learn.emails.link_for).
LinkBuilder = Callable[[str], str]


class EmailOutcome(enum.Enum):
    REMOVED = "removed"  # no address any more, none waiting
    KEPT = "kept"  # the confirmed address again: any waiting one is dropped
    SENT = "sent"  # waiting, and a link is on its way
    LIMITED = "limited"  # waiting; no link: too many sent in the last hour
    UNSENT = "unsent"  # waiting; no link: this server cannot send mail now


@dataclass(frozen=True)
class EmailChange:
    outcome: EmailOutcome
    email: str = ""
    minutes_to_wait: int = 0


def account_email_request(*, user: User, email: str, link_for: LinkBuilder) -> EmailChange:
    """Ask for `email` as the account's password-reset address.

    Empty removes the address at once (and any waiting one). The confirmed address, in any
    case, stays and drops any waiting one. Anything else waits for its owner to open the
    link mailed to it; until then resets still go to the confirmed address, if any. Asking
    again for the waiting address sends its link again.

    An address another account has confirmed is answered as any other (whether an address
    has an account is not told, as the password-reset page does not tell it); its owner is
    mailed a notice instead of a link, and it can never be confirmed here.
    """
    email = emails.mailbox_address(email) if email.strip() else ""
    if not email:
        previous = user.email
        with transaction.atomic():
            PendingEmail.objects.filter(user=user).delete()
            user.email = ""
            user.save(update_fields=["email"])
        return EmailChange(EmailOutcome.REMOVED, previous)
    if emails.same_address(user.email, email):
        PendingEmail.objects.filter(user=user).delete()
        if email != user.email:
            user.email = email
            user.save(update_fields=["email"])
        return EmailChange(EmailOutcome.KEPT, email)
    waiting = PendingEmail.objects.filter(user=user).first()
    if waiting is None or not emails.same_address(waiting.email, email):
        PendingEmail.objects.update_or_create(
            user=user,
            defaults={
                "email": email,
                "requested_at": timezone.now(),
                "sent_at": None,
                "link_key": "",
            },
        )
    return email_confirmation_send(user=user, link_for=link_for)


def email_confirmation_send(*, user: User, link_for: LinkBuilder) -> EmailChange:
    """Mail the link confirming the account's waiting address, within the limits per
    account and per address; it ends every earlier link. A link that cannot go out now
    loses nothing: the address waits, and the learner can send it again."""
    pending = PendingEmail.objects.filter(user=user).first()
    if pending is None:
        return (
            EmailChange(EmailOutcome.KEPT, user.email)
            if user.email
            else EmailChange(EmailOutcome.REMOVED)
        )
    for throttle in (
        emails.SendThrottle.for_account(user.pk),
        emails.SendThrottle.for_address(pending.email),
    ):
        if not throttle.allow():
            return EmailChange(EmailOutcome.LIMITED, pending.email, throttle.minutes_to_wait())
    key = emails.new_link_key()
    taken = selectors.email_in_use(email=pending.email, besides=user)
    context = {
        "username": user.get_username(),
        "email": pending.email,
        "days": emails.confirm_days(),
        "current_email": user.email,
        "link": ""
        if taken
        else link_for(emails.confirmation_token(user_id=user.pk, email=pending.email, key=key)),
    }
    template = "learn/email_taken" if taken else "learn/email_confirm"
    try:
        emails.mail_queue(template=template, context=context, to=pending.email)
    except emails.MailUnavailable:
        return EmailChange(EmailOutcome.UNSENT, pending.email)
    PendingEmail.objects.filter(pk=pending.pk).update(sent_at=timezone.now(), link_key=key)
    return EmailChange(EmailOutcome.SENT, pending.email)


def email_change_message(change: EmailChange, *, user: User, resend_where: str) -> str:
    """What happened, for a person: where reset links go now and what to do next (the
    account page's message, the API's `detail`). `resend_where` says where to send again."""
    outcome = change.outcome
    if outcome is EmailOutcome.REMOVED:
        if change.email:
            return "E-mail address removed: a curator can reset your password if you forget it."
        return (
            "Nothing waits for confirmation now. You have no e-mail address: a curator can "
            "reset your password if you forget it."
        )
    if outcome is EmailOutcome.KEPT:
        return f"Your address stays {change.email}; no other is waiting."
    if outcome is EmailOutcome.SENT:
        until = (
            f"reset links go to {user.email}, as before."
            if user.email
            else "you cannot reset your password by e-mail."
        )
        return (
            f"We sent a link to {change.email}: open it within {emails.confirm_days()} days "
            f"to confirm the address. Until then, {until}"
        )
    if outcome is EmailOutcome.LIMITED:
        minutes = change.minutes_to_wait
        return (
            f"{change.email} waits for confirmation, but no link went out: we have sent as "
            f"many as we send for now. Send it again from {resend_where} in {minutes} "
            f"minute{'' if minutes == 1 else 's'}."
        )
    return (
        f"{change.email} waits for confirmation, but this server cannot send mail right now, "
        f"so no link went out. Send it again later from {resend_where}."
    )


def email_confirmation_cancel(*, user: User) -> PendingEmail | None:
    """Drop the waiting address (its links stop working). Returns what waited, if anything."""
    pending = PendingEmail.objects.filter(user=user).first()
    if pending is not None:
        PendingEmail.objects.filter(pk=pending.pk).delete()
    return pending


class EmailNotConfirmed(Exception):
    """The link cannot confirm anything any more; the message says why, for a person."""


class EmailAccountGone(EmailNotConfirmed):
    """The link's account was deleted: nothing is left to confirm or to go back to."""


# At confirmation, for the mailbox's owner only: the address was refused without a word at
# the request (learn.services.account_email_request).
EMAIL_TAKEN = (
    "Another account has confirmed this address: each address resets one account's password. "
    "Ask for another on your account page, or leave it empty."
)


@dataclass(frozen=True)
class EmailConfirmed:
    user: User
    email: str
    already: bool = False  # the link was opened before: nothing changed this time


def _link_account(users: QuerySet[User], link: emails.ConfirmationLink) -> User:
    user = users.filter(pk=link.user_id).first()
    if user is None:
        raise EmailAccountGone("The account this link was for no longer exists.")
    return user


def _confirmable(user: User, link: emails.ConfirmationLink) -> PendingEmail | None:
    """The waiting address the link confirms; None when it was confirmed before (the
    address is the account's already). EmailNotConfirmed when it can confirm nothing."""
    pending = PendingEmail.objects.filter(user=user).first()
    if pending is not None and link.is_newest_for(pending.email, pending.link_key):
        if selectors.email_in_use(email=pending.email, besides=user):
            raise EmailNotConfirmed(EMAIL_TAKEN)
        return pending
    if link.is_for(user.email):
        return None
    raise EmailNotConfirmed(
        "This link no longer works: a newer one was sent, another address was asked for "
        "since, or the change was cancelled. Only the newest link we sent works."
    )


def email_confirmation_check(*, link: emails.ConfirmationLink) -> EmailConfirmed:
    """What pressing the link's button would do, changing nothing (the page before it)."""
    user = _link_account(User.objects.all(), link)
    pending = _confirmable(user, link)
    return EmailConfirmed(user, pending.email if pending else user.email, already=not pending)


def email_confirm(*, link: emails.ConfirmationLink) -> EmailConfirmed:
    """Make the link's address the account's reset address, if it is still the one waiting
    and no other account has confirmed it meanwhile; the address it replaces is told, and
    other accounts waiting for it stop waiting (it can no longer be theirs)."""
    with transaction.atomic():
        # Two accounts confirming one address at once: the second waits here for the first
        # to commit, then finds the address taken (auth_user has no unique index on it).
        waiting = PendingEmail.objects.filter(user_id=link.user_id).values_list("email").first()
        rivals: list[int] = []
        if waiting:
            rivals = list(
                PendingEmail.objects.select_for_update()
                .filter(email__iexact=waiting[0])
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        user = _link_account(User.objects.select_for_update(), link)
        pending = _confirmable(user, link)
        if pending is None:
            return EmailConfirmed(user, user.email, already=True)
        previous = user.email
        user.email = pending.email
        user.save(update_fields=["email"])
        PendingEmail.objects.filter(pk__in=[*rivals, pending.pk]).delete()
    if previous:
        _email_changed_tell(user=user, previous=previous)
    return EmailConfirmed(user, user.email)


def email_set_by_staff(*, user: User, previous: str) -> None:
    """After staff set the account's address in the admin (they vouch for it, so it is not
    mailed a link): no account waits for that address any more, as after a confirmation."""
    if user.email and not emails.same_address(user.email, previous):
        PendingEmail.objects.filter(email__iexact=user.email).delete()


def _email_changed_tell(*, user: User, previous: str) -> None:
    """Tell the replaced address: if someone else changed it (a browser left signed in), its
    owner hears of it while they can still act."""
    context = {
        "username": user.get_username(),
        "email": user.email,
        "support_email": settings.SUPPORT_EMAIL,
    }
    try:
        emails.mail_queue(template="learn/email_changed", context=context, to=previous)
    except emails.MailUnavailable:
        logger.warning("Could not tell %s's previous address of the change", user.pk)


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
