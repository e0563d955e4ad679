"""Project-wide REST framework pieces: pagination, permissions, and error handling."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import permissions
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from catalog.selectors import user_is_curator


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


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus Django model validation errors turned into field-by-field 400s."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = ValidationError(detail=detail)
    return drf_exception_handler(exc, context)
