"""Request hygiene applied before any view runs."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.urls import get_urlconf, is_valid_path, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject, empty

from kubelearn.api import (
    DATABASE_UNREACHABLE,
    ApiJsonResponse,
    database_unavailable,
    is_api_request,
    json_bad_request,
    json_not_found,
)
from kubelearn.signin import signin_wait

NUL_PROBLEM = "The address contains a NUL character, which is not allowed."


class ApiTrailingSlashMiddleware:
    """An API address typed without its trailing slash (``/api/me/profile``) is served as
    the address with it.

    Django's answer is a redirect to the slash address, which an API client follows as a GET
    (so a POST, PUT or PATCH loses its body and meets a 405), and with DEBUG on it is a 500.
    Placed before CommonMiddleware, which then finds the path valid and leaves it be. Pages
    keep the redirect: a browser's address bar should show the real address.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if (
            is_api_request(request)
            and not path.endswith("/")
            and not is_valid_path(path, get_urlconf())
            and is_valid_path(f"{path}/", get_urlconf())
        ):
            request.path_info = f"{path}/"
            request.path = f"{request.path}/"
        return self.get_response(request)


class RejectBadAddressesMiddleware:
    """Answer 400 when the path or query string carries a NUL character, or the query string
    more parameters than Django reads (``DATA_UPLOAD_MAX_NUMBER_FIELDS``).

    PostgreSQL cannot store or compare NUL in text, so a `?search=%00` would otherwise
    reach the database and fail as a 500. No legitimate client sends one. Too many
    parameters raise in the first read of ``request.GET``: in a page that is Django's 400,
    but DRF reads it while choosing a renderer and then failed without one, a 500 on every
    API address, signed in or not (a walk-through). API clients get JSON; a person gets the
    site's page (so this sits after the session, user and CSP middleware: the page has its
    header and its policy).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = _address_problem(request)
        if problem:
            if is_api_request(request):
                return ApiJsonResponse({"detail": problem}, status=400)
            return render(request, "learn/bad_address.html", {"problem": problem}, status=400)
        return self.get_response(request)


class SignInThrottleMiddleware:
    """A sign-in (the learners' form, the admin's, the browsable API's, the API's token
    endpoint) from a client whose failed usernames are over the limit is a 429, before any
    password is checked: a correct guess among many tries gets no further than a wrong one
    (kubelearn.signin.SignInFailuresThrottle). The API gets JSON, a person the page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @functools.cached_property
    def sign_in_paths(self) -> frozenset[str]:
        names = ("learn:signin", "admin:login", "rest_framework:login", "auth-token")
        return frozenset(reverse(name) for name in names)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path in self.sign_in_paths:
            wait = signin_wait(request)
            if wait:
                return _sign_ins_paused(request, wait)
        return self.get_response(request)


def _sign_ins_paused(request: HttpRequest, wait: int) -> HttpResponse:
    # "1 minute" was said of a 5-second wait (a classroom walk-through).
    when = f"{wait} second{pluralize(wait)}" if wait < 90 else f"about {round(wait / 60)} minutes"
    response: HttpResponse
    if is_api_request(request):
        response = ApiJsonResponse(
            {
                "detail": "Too many usernames failed to sign in from your network (every "
                f"device that shares its internet address) lately: sign-ins from it are "
                f"paused. No password was checked. Try again in {when}."
            },
            status=429,
        )
    else:
        response = render(request, "learn/signin_throttled.html", {"when": when}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _address_problem(request: HttpRequest) -> str:
    query = request.META.get("QUERY_STRING", "")
    if "\x00" in request.path or "%00" in query or "\x00" in query:
        return NUL_PROBLEM
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    # Counted as Django counts them (parse_qsl: one more than the separators).
    if limit is not None and query and query.count("&") + 1 > limit:
        return f"The address has more than {limit:,} query parameters, which is not allowed."
    return ""


API_PRECONDITION_FAILED = (
    "The resource is not the version your If-Match (or If-Unmodified-Since) header names: "
    "nothing was done. Read it again for its current ETag."
)


class ApiPreconditionBodyMiddleware:
    """Django's ConditionalGetMiddleware answers a GET whose If-Match names another version
    with an empty 412 (text/html, no body); under /api/ every error is JSON that says what
    happened (a hostile-input sweep). Outside ConditionalGetMiddleware, to see its answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 412 or not is_api_request(request) or response.content:
            return response
        answer = ApiJsonResponse({"detail": API_PRECONDITION_FAILED}, status=412)
        for header in ("ETag", "Last-Modified", "Cache-Control", "Vary"):
            if header in response:
                answer[header] = response[header]
        return answer


class MethodNotAllowedPageMiddleware:
    """A person who opens the address of a button (``/progress/7/``, a link shared from the
    address bar) gets a page that says what happened, not the browser's own error page:
    Django's 405 has no body. API answers stay as they are."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code != 405
            or is_api_request(request)
            or request.path.startswith("/admin/")
            or response.streaming
            or response.content
        ):
            return response
        page = render(request, "learn/method_not_allowed.html", status=405)
        page["Allow"] = response.get("Allow", "")
        return page


class ProductErrorsWithDebugMiddleware:
    """With DEBUG on (``make run``), a missing page or API address, and a body over the size
    limit, get the answers they get in production (kubelearn.api's handlers: the site's 404
    page, JSON for the API), not Django's technical pages: learners and API clients use the
    development server too. Errors in the code keep Django's traceback page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and getattr(request, "resolver_match", None) is None
        ):
            return json_not_found(request, Http404())  # no URL matched the address
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_UNREACHABLE):
            return database_unavailable(request)  # as handler500 says it, with DEBUG on too
        if not settings.DEBUG:
            return None  # the URLconf's handlers answer
        if isinstance(exception, Http404):
            return json_not_found(request, exception)
        if isinstance(exception, SuspiciousOperation):  # a body over the limit, among others
            # As Django answers it without DEBUG: handler400 (json_bad_request tells them apart).
            return json_bad_request(request, exception)
        return None


class PrivateAnswersMiddleware:
    """An answer to a signed-in request is the learner's own: ``Cache-Control: private,
    no-cache`` unless the view said otherwise. No shared cache (a company proxy, a CDN) may
    keep a queue, a progress list or a note and hand it to someone else, and the browser asks
    again before showing a stored copy, so a queue read before a Done is not shown after it.
    The API's answers had no Cache-Control at all (an API client's walk-through).

    Outermost of the project's middleware but inside authentication: DRF authenticates a token
    in the view and sets the request's user, so it is known here on the way out.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _known_user_signed_in(request) and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_cache=True)
        return response


def _known_user_signed_in(request: HttpRequest) -> bool:
    """Whether the request's user, if the request has looked it up, is signed in. An answer
    that never asked who was there (a private feed by its secret address) is no one's in
    particular: looking now would cost a session and a user query (tests/learn/
    test_query_counts.py caught them)."""
    user = vars(request).get("user")
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return False
    return user is not None and bool(user.is_authenticated)


#: The cookie the pages' script sets to the browser's time zone (learn/static/learn/kubelearn.js).
TIME_ZONE_COOKIE = "tz"


@functools.cache
def _time_zone_names() -> frozenset[str]:
    # Read once per process from the system's and tzdata's lists (a few milliseconds).
    return frozenset(zoneinfo.available_timezones())


class LearnerTimeZoneMiddleware:
    """Dates and times in the learner's own time zone, as their browser names it.

    Every date was the server's UTC: at 20:18 on a Saturday in Los Angeles, "Not now,
    tomorrow" said it "returns to your queue on Mon 7 Dec", and a note written that evening
    said Sunday (a learner's walk-through). The pages' script keeps the browser's zone name
    in a cookie; a name that is not a known zone is ignored (the cookie is the client's to
    write), and so is a missing one: UTC, as before.

    Pages only: the API writes every moment in UTC ("Z"). A browser's cookie sent along with
    an API call had turned its moments into "+09:00", and the shared catalog page cached that
    for every later client (an API client's walk-through).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = request.COOKIES.get(TIME_ZONE_COOKIE, "")
        if name and len(name) <= 64 and name in _time_zone_names() and not is_api_request(request):
            timezone.activate(zoneinfo.ZoneInfo(name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
