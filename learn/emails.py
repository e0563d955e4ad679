"""Mail to learners: queueing a message for a worker, and the signed links that confirm an
e-mail address.

A confirmation link carries the account, the key of the send it came from and a keyed digest
of the address (not the address: links end up in proxies' and servers' logs), signed with
SECRET_KEY and dated. It works until EMAIL_CONFIRM_TIMEOUT, and only while it is the newest
link sent for the address waiting on that account: sending again, cancelling, asking for
another address or confirming ends every earlier link.

Addresses are kept as mail is delivered to them (`mailbox_address`): the domain in the ASCII
form Django's mail code sends to, in lower case. Two spellings of one mailbox ("straße.de"
and "strasse.de", "ZOË.org" and "xn--zo-ija.org") are then one address for every check, on
SQLite (whose case-insensitive match is ASCII only) as on PostgreSQL. Quoted local parts and
address literals are refused (`deliverable_address_check`): each mailbox has endless quoted
spellings, which would slip past the per-address limit and the one-account check.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.template import loader
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import punycode
from rest_framework.throttling import SimpleRateThrottle

from learn.tasks import mail_send

logger = logging.getLogger(__name__)

CONFIRM_SALT = "learn.email-confirm"


def mail_configured() -> bool:
    """Whether this server can send mail: an SMTP relay is named, or another backend is set
    (the console in development, memory in tests)."""
    return bool(settings.EMAIL_HOST) or not settings.EMAIL_BACKEND.endswith(".smtp.EmailBackend")


class MailUnavailable(Exception):
    """This server cannot send mail, or the task queue could not take the message; nothing
    was sent."""


def mail_queue(*, template: str, context: dict[str, Any], to: str) -> None:
    """Render `<template>_subject.txt` and `<template>_email.txt` and hand the message to a
    worker: a request never waits on the mail relay."""
    subject = "".join(loader.render_to_string(f"{template}_subject.txt", context).splitlines())
    body = loader.render_to_string(f"{template}_email.txt", context)
    if not mail_configured():
        raise MailUnavailable("no mail relay is configured")
    try:
        mail_send.delay(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    except Exception as exc:  # kombu raises several types when Redis is gone
        logger.error("Could not queue an e-mail (%s): %s", template, exc)
        raise MailUnavailable(str(exc)) from exc


UNDELIVERABLE = (
    "Give an address of the usual form, name@example.org: this one is quoted, an IP address "
    "in brackets, or a domain mail cannot be sent to."
)


def mailbox_address(email: str) -> str:
    """The address as mail is delivered to it: the domain as Django's mail code encodes it
    (IDNA 2003, as `django.core.mail.message.sanitize_address`), in lower case. ValueError
    for one that cannot be."""
    local, at, domain = email.strip().rpartition("@")
    if not (local and at and domain) or local.startswith('"') or domain.startswith("["):
        raise ValueError(UNDELIVERABLE)
    try:
        domain = punycode(domain)
    except UnicodeError as exc:
        raise ValueError(UNDELIVERABLE) from exc
    return f"{local}@{domain.lower()}"


def deliverable_address_check(email: str) -> None:
    """A validator for the forms' and the API's address fields, after Django's own (an
    address that one refuses gets its message alone)."""
    try:
        validate_email(email)
    except ValidationError:
        return
    try:
        mailbox_address(email)
    except ValueError as exc:
        raise ValidationError(UNDELIVERABLE, code="undeliverable") from exc


def same_address(first: str, second: str) -> bool:
    return bool(first) and first.lower() == second.lower()


def address_digest(email: str) -> str:
    """The address, keyed with SECRET_KEY: in any case the same, and not to be guessed back
    from a list of likely addresses."""
    return salted_hmac(CONFIRM_SALT, email.lower(), algorithm="sha256").hexdigest()[:32]


def new_link_key() -> str:
    return secrets.token_urlsafe(16)


def confirmation_token(*, user_id: int, email: str, key: str) -> str:
    return signing.dumps(
        {"user": user_id, "key": key, "address": address_digest(email)}, salt=CONFIRM_SALT
    )


@dataclass(frozen=True)
class ConfirmationLink:
    user_id: int
    key: str
    digest: str

    def is_for(self, email: str) -> bool:
        return bool(email) and constant_time_compare(self.digest, address_digest(email))

    def is_newest_for(self, email: str, key: str) -> bool:
        return bool(key) and constant_time_compare(self.key, key) and self.is_for(email)


class ConfirmationLinkInvalid(Exception):
    """The link is expired, altered or not one of ours; the message says which for a person."""


def confirmation_read(token: str) -> ConfirmationLink:
    try:
        value = signing.loads(token, salt=CONFIRM_SALT, max_age=settings.EMAIL_CONFIRM_TIMEOUT)
    except signing.SignatureExpired as exc:
        raise ConfirmationLinkInvalid(
            f"This link has expired: links work for {confirm_days()} days. Send a new one "
            "from your account page."
        ) from exc
    except signing.BadSignature as exc:
        raise ConfirmationLinkInvalid(
            "This is not a link we sent, or part of it is missing: copy the whole address "
            "from the e-mail, or send a new one from your account page."
        ) from exc
    if not (
        isinstance(value, dict)
        and isinstance(value.get("user"), int)
        and isinstance(value.get("key"), str)
        and isinstance(value.get("address"), str)
    ):
        raise ConfirmationLinkInvalid("This is not a link we sent.")
    return ConfirmationLink(user_id=value["user"], key=value["key"], digest=value["address"])


class AbsoluteUriBuilder(Protocol):
    def build_absolute_uri(self, location: str | None = None) -> str: ...


def link_for(request: AbsoluteUriBuilder) -> Callable[[str], str]:
    """Confirmation links point at the host the learner used, as password-reset links do
    (a page's request or the API's)."""
    return lambda token: request.build_absolute_uri(reverse("learn:email-confirm", args=[token]))


def confirm_days() -> int:
    return max(1, settings.EMAIL_CONFIRM_TIMEOUT // (24 * 3600))


class SendThrottle(SimpleRateThrottle):
    """Mails about an address sent per account, and per address whatever the account (or
    new accounts would flood one mailbox): in the cache, as DRF's limits are."""

    scope = "email_confirm"

    def __init__(self, ident: str) -> None:
        super().__init__()
        self.ident = ident

    @classmethod
    def for_account(cls, user_id: int) -> SendThrottle:
        return cls(f"account-{user_id}")

    @classmethod
    def for_address(cls, email: str) -> SendThrottle:
        return cls(f"address-{address_digest(email)}")

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}

    def allow(self) -> bool:
        """Count one send, if the limit allows it (DRF's check, without a request)."""
        return self.allow_request(cast(Any, None), cast(Any, None))

    def minutes_to_wait(self) -> int:
        return max(1, round((self.wait() or 60) / 60))
