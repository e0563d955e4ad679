"""Request hygiene applied before any view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse


class RejectNullBytesMiddleware:
    """Answer 400 when the path or query string carries a NUL character.

    PostgreSQL cannot store or compare NUL in text, so a `?search=%00` would otherwise
    reach the database and fail as a 500. No legitimate client sends one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return JsonResponse(
                {"detail": "The address contains a NUL character, which is not allowed."},
                status=400,
            )
        return self.get_response(request)
