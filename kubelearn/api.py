"""Project-wide REST framework pieces: pagination, permissions, and error handling."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import permissions
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from catalog.selectors import user_is_curator


def learner(request: Request) -> User:
    """The signed-in user of a request to a view behind IsAuthenticated.

    Typed as a real account (never anonymous), so services need not accept AnonymousUser;
    raises NotAuthenticated (401) should a view forget its permission class.
    """
    user = request.user
    if isinstance(user, AnonymousUser):
        raise NotAuthenticated
    return user


class StandardPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    # A cap, so nobody can ask for the whole catalog in one response.
    max_page_size = 100


class IsCuratorOrReadOnly(permissions.BasePermission):
    """Anyone may read; only curators (staff or the `curators` group) may write."""

    message = "Only curators may change the catalog."

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return user_is_curator(request.user)


class IsCurator(permissions.BasePermission):
    message = "Only curators may do this."

    def has_permission(self, request, view) -> bool:
        return user_is_curator(request.user)


def json_not_found(request, exception=None) -> HttpResponse:
    """handler404: API clients get JSON, people browsing get Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus Django model validation errors turned into field-by-field 400s."""
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = ValidationError(detail=detail)
    return drf_exception_handler(exc, context)


_ERROR_SCHEMA = {
    "type": "object",
    "description": "`detail` for request-level errors; one list of messages per field for 400s.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
_ERROR_DESCRIPTIONS = {
    "400": "Invalid input: a message per field (or `non_field_errors`).",
    "401": "Missing or invalid credentials (`Authorization: Token <key>`).",
    "403": "Signed in, but not allowed to do this.",
    "404": "No such object (or not visible to you).",
    "429": "Too many requests; retry after the `Retry-After` seconds.",
}


def document_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular hook: document the error responses DRF really returns.

    Every operation can meet throttling (429) and a bad token (401, 403); operations
    on one object can answer 404; operations with a body or query filters can answer 400.
    """
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", _ERROR_SCHEMA)
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = ["401", "403", "429"]
            parameters = operation.get("parameters", [])
            has_query = any(p.get("in") == "query" for p in parameters)
            # One object's operations can miss; paginated lists answer 404 past the last page.
            if "{" in path or any(p.get("name") == "page" for p in parameters):
                codes.append("404")
            if method in {"post", "put", "patch"} or has_query:
                codes.append("400")
            responses = operation.setdefault("responses", {})
            for code in codes:
                existing = responses.get(code)
                if existing is None or "content" not in existing:
                    responses[code] = {
                        "description": (existing or {}).get("description")
                        or _ERROR_DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": ref}},
                    }
    return result
