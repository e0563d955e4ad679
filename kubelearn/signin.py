"""Sign-in by username in any case (the web form, the admin and the API's token endpoint all
authenticate through these).

Sign-up refuses a username that differs from a taken one only by case, so a learner reads
their name as theirs in any case; but Django's ModelBackend matched it exactly, and a phone's
keyboard that capitalised "Alice" was told the password was wrong (an API client's
walk-through). django-axes counts failures per username as typed, so it is given the name
lower-cased: "Alice", "ALICE" and "alice" share one lockout.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

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
    """Usernames that failed to sign in from one client address (X-Forwarded-For trusted as
    for the API's limits). django-axes locks one username from one address after a few
    failures; trying one password against many usernames went unslowed through the web forms,
    130 a minute from one client (a penetration test). Each username counts once in the window,
    however often it fails: a classroom behind one address was paused for everyone by a few
    students' typos, and by one script retrying a locked account (a classroom walk-through).
    Only failures count, so a class signing in at once is not held up."""

    scope = "signin_failures"

    def get_rate(self) -> str:
        # Read when asked, not when DRF's settings were first read: tests change it.
        return str(settings.SIGNIN_FAILURES_RATE)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def window(self, request: HttpRequest) -> tuple[str, float, int, float, list[Any]]:
        """(cache key, now, how many names, period in seconds, [(when, name), …] newest
        first, within the period)."""
        allowed, period = self.parse_rate(self.get_rate())
        key = self.get_cache_key(request, None)
        now = self.timer()
        if allowed is None or period is None:
            return key, now, 0, 0.0, []
        history = [
            entry
            for entry in self.cache.get(key, [])
            if isinstance(entry, tuple) and len(entry) == 2 and entry[0] > now - period
        ]
        return key, now, allowed, float(period), history


def signin_wait(request: HttpRequest) -> int:
    """Seconds until this client may try to sign in again; 0: it may now."""
    _, now, allowed, period, history = SignInFailuresThrottle().window(request)
    if not allowed or len(history) < allowed:
        return 0
    return max(1, math.ceil(history[-1][0] + period - now))


def signin_failure_counted(
    sender: Any, credentials: Any = None, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """Counts a failed sign-in (django.contrib.auth's user_login_failed) against its client,
    once per username in the window (a second failure of a name moves it to now)."""
    if request is None:
        return
    throttle = SignInFailuresThrottle()
    key, now, allowed, period, history = throttle.window(request)
    if not allowed:
        return
    name = hashlib.sha256(axes_username(request, credentials).encode()).hexdigest()[:16]
    history = [(now, name), *(entry for entry in history if entry[1] != name)]
    throttle.cache.set(key, history, int(period))
