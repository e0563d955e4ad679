"""Sign-in by username in any case (the web form, the admin and the API's token endpoint all
authenticate through these).

Sign-up refuses a username that differs from a taken one only by case, so a learner reads
their name as theirs in any case; but Django's ModelBackend matched it exactly, and a phone's
keyboard that capitalised "Alice" was told the password was wrong (an API client's
walk-through). django-axes counts failures per username as typed, so it is given the name
lower-cased: "Alice", "ALICE" and "alice" share one lockout.
"""

from __future__ import annotations

import math
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import QuerySet, Value
from django.db.models.functions import Upper
from django.http import HttpRequest
from rest_framework.throttling import SimpleRateThrottle


class AnyCaseUsernameBackend(ModelBackend):
    """ModelBackend, with the username matched exactly or else in any case (when only one
    account has it: accounts from before sign-up compared case may differ only by it)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        user_model = get_user_model()
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        # As sign-up stored it (NFKC): "José" typed with a combining accent is the same name.
        username = user_model.normalize_username(username)
        field = user_model.USERNAME_FIELD
        longest = getattr(user_model._meta.get_field(field), "max_length", None)
        if longest is not None and len(username) > longest:
            # No account has such a name; asked of the database, 50,000 characters made
            # SQLite's LIKE fail ("pattern too complex": a 500, a hostile-input sweep).
            user_model().set_password(password)
            return None
        matches = list(users_named(username)[:2])
        exact = [user for user in matches if getattr(user, field) == username]
        found = exact or (matches if len(matches) == 1 else [])
        if not found:
            # Run the hasher once anyway, as ModelBackend does: the time taken says nothing
            # about whether the account exists.
            user_model().set_password(password)
            return None
        user = found[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def users_named(name: str) -> QuerySet[Any]:
    """Accounts whose username is ``name`` in any case, letters beyond ASCII included. Django's
    ``iexact`` is SQL LIKE on SQLite, which folds ASCII letters only: "Zoé" and "ZOÉ" signed
    up as two accounts, sharing one lockout (a hostile-input sweep). Compared with UPPER on
    both sides instead (on SQLite, kubelearn.apps gives UPPER Python's Unicode folding)."""
    model = get_user_model()
    return model._default_manager.alias(_upper_name=Upper(model.USERNAME_FIELD)).filter(
        _upper_name=Upper(Value(name))
    )


# django-axes keeps the name in a column of 255 characters: a longer one typed at sign-in was
# a 500 on PostgreSQL ("value too long", a hostile-input sweep). No account's name is that
# long (150 at most), so failures under its first 255 characters still count as one name.
AXES_USERNAME_MAX_CHARS = 255


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The username django-axes counts failures under: as the backend reads it (NFKC, any
    case; cut to the length its table keeps). "alice" in full-width letters signs in as "alice", so
    counted apart from it each mix of full-width and plain letters would be a fresh lockout."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        typed = credentials.get(field)
    else:
        typed = getattr(request, "data", request.POST).get(field)
    name = get_user_model().normalize_username(str(typed or ""))
    return name.lower()[:AXES_USERNAME_MAX_CHARS]


class SignInFailuresThrottle(SimpleRateThrottle):
    """Failed sign-ins per client address (X-Forwarded-For trusted as for the API's limits),
    whatever the username. django-axes locks one username from one address after a few
    failures; trying one password against many usernames went unslowed through the web forms,
    130 a minute from one client where the API's token endpoint allows 10 (a penetration
    test). Only failures count: a classroom behind one address signs in at once."""

    scope = "signin_failures"

    def get_rate(self) -> str:
        # Read when asked, not when DRF's settings were first read: tests change it.
        return str(settings.SIGNIN_FAILURES_RATE)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def signin_wait(request: HttpRequest) -> int:
    """Seconds until this client may try to sign in again; 0: it may now."""
    throttle = SignInFailuresThrottle()
    allowed, period = throttle.parse_rate(throttle.get_rate())
    if allowed is None or period is None:
        return 0
    now = throttle.timer()
    history = throttle.cache.get(throttle.get_cache_key(request, None), [])
    recent = [at for at in history if at > now - period]  # newest first, as DRF keeps it
    if len(recent) < allowed:
        return 0
    return max(1, math.ceil(recent[-1] + period - now))


def signin_failure_counted(
    sender: Any, credentials: Any = None, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """Counts a failed sign-in (django.contrib.auth's user_login_failed) against its client."""
    if request is not None:
        SignInFailuresThrottle().allow_request(cast(Any, request), cast(Any, None))
