"""The API's content negotiation (REST_FRAMEWORK's DEFAULT_CONTENT_NEGOTIATION_CLASS).

Its own module: DRF reads the setting while `rest_framework.views` is imported, which
kubelearn.api imports."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request


class FormatNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, but `?format=` naming no format the API writes is a 406 that names
    those it does: DRF answered 404 "Not found." of an address that exists (an API client's
    walk-through)."""

    def select_renderer(self, request: Request, renderers: Any, format_suffix: Any = None) -> Any:
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except Http404:
            asked = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
            formats = ", ".join(sorted({renderer.format for renderer in renderers}))
            raise NotAcceptable(
                f"There is no format “{str(asked)[:40]}” here; ask for one of: {formats}."
            ) from None
