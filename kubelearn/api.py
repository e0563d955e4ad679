"""Project-wide REST framework pieces: pagination, permissions, and error handling."""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import django_filters
from django import forms
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.http import parse_etags
from django.views.defaults import bad_request, page_not_found, permission_denied, server_error
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework import permissions, serializers
from rest_framework.exceptions import NotAuthenticated, NotFound, ValidationError
from rest_framework.filters import BaseFilterBackend, OrderingFilter, SearchFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from catalog.selectors import request_user_is_curator
from kubelearn.converters import ID_MAX
from kubelearn.search_bounds import SEARCH_MAX_CHARS, SEARCH_TOO_LONG, search_too_long
from kubelearn.wording import spoken_size


def etag(version: str) -> str:
    """The strong entity tag of a representation whose version string is `version`."""
    return f'"{version}"'


def etag_precondition(request: Request) -> Callable[[str], bool] | None:
    """The request's If-Match / If-None-Match as a test of the version the target has now
    ("" when it does not exist), or None when the request sets neither (RFC 9110, 13.1).

    The service applies the test under its row lock, so two clients that read the same
    version cannot both write over it. If-Match compares strongly (a weak tag never matches);
    If-None-Match weakly; "*" matches any existing target.
    """
    if_match = request.headers.get("If-Match")
    if_none_match = request.headers.get("If-None-Match")
    if if_match is None and if_none_match is None:
        return None
    match = parse_etags(if_match) if if_match is not None else None
    none_match = (
        [tag.removeprefix("W/") for tag in parse_etags(if_none_match)]
        if if_none_match is not None
        else None
    )
    # A header that names no entity tag (`If-Match: garbage`, the ETag without its quotes) is
    # the client's mistake, not a change on our side: a 412 said the row "was changed or
    # removed since you read it" of an untouched row (a hostile-input sweep).
    for header, tags in (("If-Match", match), ("If-None-Match", none_match)):
        if tags == []:
            raise ValidationError(
                {header: [f'{header} takes one or more entity tags in quotes ("…"), or *.']}
            )

    def holds(version: str) -> bool:
        current = etag(version) if version else None
        if match is not None and (current is None or (match != ["*"] and current not in match)):
            return False
        return not (
            none_match is not None
            and current is not None
            and (none_match == ["*"] or current in none_match)
        )

    return holds


def precondition_refusal(
    request: Request, version: str, what: str, kept: str = "Nothing was changed"
) -> str:
    """Why the request's If-Match / If-None-Match refused a write to ``what`` (e.g. "the
    profile") at ``version`` ("" when there is none), in the client's terms, then ``kept``
    (what was not done). A sweep's weak If-Match, and an If-None-Match naming the version as
    it is, were both told the target "changed since you read it", which it had not."""
    current = etag(version) if version else None
    if_match = request.headers.get("If-Match")
    if if_match is not None:
        tags = parse_etags(if_match)
        if current is None:
            why = f"There is no {what.removeprefix('the ')} now, and your If-Match names one."
        elif tags != ["*"] and current not in tags:
            if all(tag.startswith("W/") for tag in tags):
                why = (
                    'If-Match compares entity tags strongly, so a weak one (W/"…") never '
                    "matches: send the ETag as it came."
                )
            else:
                why = f"{what.capitalize()} changed since you read it: your If-Match names "
                why += "another version."
        else:
            why = ""
        if why:
            return f"{why} {kept}; 'current' is {what} as it is now."
    none_match = request.headers.get("If-None-Match", "")
    if parse_etags(none_match) == ["*"]:
        why = f"{what.capitalize()} exists, and your If-None-Match: * asks that it not."
    else:
        why = f"{what.capitalize()} is the version your If-None-Match names."
    return f"{why} {kept}; 'current' is {what} as it is now."


class StrictOrderingFilter(OrderingFilter):
    """`?ordering=` that refuses what it cannot do: DRF drops unknown fields without a word, so
    `ordering=bogus` answered 200 in the order the client did not ask for (walk-through). The
    schema gives the allowed fields as a pattern, so clients and the schema tests know them."""

    def remove_invalid_fields(
        self, queryset: QuerySet[Any], fields: Iterable[str], view: APIView, request: Request
    ) -> list[str]:
        asked = list(fields)
        valid = super().remove_invalid_fields(queryset, asked, view, request)
        if len(valid) != len(asked):  # an unknown field, or an empty one ("title,,")
            allowed = ", ".join(self._names(view))
            raise ValidationError(
                {
                    self.ordering_param: [
                        f"Order by one or more of {allowed}, comma-separated "
                        "(a leading - reverses one)."
                    ]
                }
            )
        return valid

    @staticmethod
    def _names(view: Any) -> list[str]:
        return [str(field) for field in getattr(view, "ordering_fields", None) or []]

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        names = self._names(view)
        if not names:
            return []
        # DRF strips the spaces around each field, so the pattern allows them.
        one = r"\s*-?(" + "|".join(re.escape(name) for name in names) + r")\s*"
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": f"Order by one or more of {', '.join(names)}, comma-separated; "
                "a leading - reverses one.",
                # Empty: the default order (an HTML form's unset field sends it).
                "schema": {"type": "string", "pattern": f"^({one}(,{one})*)?$"},
            }
        ]


class UnknownParametersRefused(BaseFilterBackend):
    """First of a list's filter backends: a query parameter the list does not take is a 400
    naming the ones it does. DRF and django-filter ignore it, so a misspelt filter
    (`?estimated_minutes__gt=5`, `?are=rbac`) answered the whole list as if filtered (a
    walk-through)."""

    ALWAYS = frozenset({"format"})  # DRF's format override (?format=json, the browsable API)

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        if getattr(view, "action", "list") != "list":
            return queryset  # one object (its filters only find it): nothing to narrow
        takes = set(self.ALWAYS)
        for backend_class in getattr(view, "filter_backends", ()):
            backend = backend_class()
            if isinstance(backend, DjangoFilterBackend):
                filterset_class = backend.get_filterset_class(view, queryset)
                if filterset_class is not None:
                    takes.update(filterset_class.base_filters)
            for attribute in ("search_param", "ordering_param"):
                if isinstance(getattr(backend, attribute, None), str):
                    takes.add(getattr(backend, attribute))
        paginator = getattr(view, "paginator", None)
        for attribute in ("page_query_param", "page_size_query_param"):
            if isinstance(getattr(paginator, attribute, None), str):
                takes.add(getattr(paginator, attribute))
        unknown = sorted(set(request.query_params) - takes)
        if unknown:
            listed = ", ".join(sorted(takes - self.ALWAYS)) or "none"
            raise ValidationError(
                {name: [f"Not a parameter here. This takes: {listed}."] for name in unknown}
            )
        return queryset


class StrictFilterSet(django_filters.FilterSet):
    """The project's FilterSet.

    - A one-value filter refuses a repeated parameter: `?kind=article&kind=book` kept the last
      value without a word, while the schema says one (walk-through).
    - Each instance builds its form fields afresh: generating the API schema builds the
      class's own filters' fields, before any model names them, and every later instance
      copied those (the Browse page then called a refused stage "None" instead of "Stage",
      once anyone had opened /api/docs/).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for filter_ in self.filters.values():
            filter_.__dict__.pop("_field", None)

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            if isinstance(filter_, MULTIPLE_VALUE_FILTERS):
                continue
            if len(self.data.getlist(name)) > 1:
                self.form.add_error(name, "Give this parameter once.")
                valid = False
        return valid


class BoundedSearchFilter(SearchFilter):
    """DRF's `?search=`, refused with a 400 past kubelearn.search_bounds' bounds (a 500 on
    SQLite before)."""

    def get_search_terms(self, request: Request) -> list[str]:
        text = request.query_params.get(self.search_param, "")
        if search_too_long(text):
            raise ValidationError({self.search_param: [SEARCH_TOO_LONG]})
        return super().get_search_terms(request)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["maxLength"] = SEARCH_MAX_CHARS
        return parameters


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": ID_MAX})
class IdFilter(django_filters.NumberFilter):
    """A row's id: a whole number from 1 to ID_MAX, as in addresses. A NumberFilter takes
    any decimal (`?feed=1.5`), and its schema said "number" without bounds, so a client
    reading it could send 1e141 and get a 400 the schema did not foretell."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


MULTIPLE_VALUE_FILTERS = (
    django_filters.MultipleChoiceFilter,
    django_filters.filters.BaseCSVFilter,
)


# A write serializer that refuses a field it does not know, or a JSON value of the wrong type,
# with a 400 that says so. DRF drops unknown fields without a word: a typo (`minute_budget`)
# answered 200 and changed nothing (a walk-through). And DRF coerces: `"weight": true` was a
# weight of 1.0 and `"text": 123` the note "123" (a hostile-input sweep).
#
# ``echoed`` names fields of the endpoint's answer that a client may send back unchanged (a
# GET's body, edited and PUT): those are ignored, as before. So is what a browser's form adds
# to what it posts (the browsable API's forms).
#
# Only types no form can send are refused: a form's values are all text, so "2" for a number
# stays accepted (from JSON too), while true for a number or 123 for text can only be JSON.
#
# A comment, not a docstring: drf-spectacular describes a serializer by the first docstring
# in its classes, and the API's docs showed this one as what a client sends (a walk-through).
class StrictInputSerializer(serializers.Serializer):
    echoed: frozenset[str] = frozenset()
    FORM_EXTRAS: frozenset[str] = frozenset({"csrfmiddlewaretoken"})

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields) - self.echoed - self.FORM_EXTRAS)
            if unknown:
                takes = ", ".join(name for name, f in self.fields.items() if not f.read_only)
                raise ValidationError(
                    {name: [f"Not a field here. This takes: {takes}."] for name in unknown}
                )
            mistyped = {
                name: [problem]
                for name, field in self.fields.items()
                if name in data and (problem := _json_type_problem(field, data[name]))
            }
            if mistyped:
                raise ValidationError(mistyped)
        return super().to_internal_value(data)


_NUMBER_FIELDS = (serializers.IntegerField, serializers.FloatField, serializers.DecimalField)


def _json_type_problem(field: serializers.Field, value: Any) -> str:
    """Why `value` cannot be what `field` takes, for the types DRF would coerce; "" if it can."""
    if field.read_only:
        return ""
    if isinstance(field, _NUMBER_FIELDS) and isinstance(value, bool):
        return "Give a number here, not true or false."
    if isinstance(field, serializers.CharField) and isinstance(value, bool | int | float):
        kind = "true or false" if isinstance(value, bool) else "a number"
        return f"Give this as text (in quotes), not {kind}."
    return ""


def _printable(text: str) -> str:
    """Text to echo in a message without the characters that change how the rest reads:
    controls and formatting characters (a right-to-left override "\u202eabc" reversed the
    list of choices after it: a hostile-input sweep)."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))


class ClearChoiceField(serializers.ChoiceField):
    """A choice refused with the choices there are. DRF's '"3" is not a valid choice.' named
    none, and showed an object as Python's repr ('"{'x': 1}" is not a valid choice.')."""

    def to_internal_value(self, data: Any) -> Any:
        if data == "" and self.allow_blank:
            return ""
        if isinstance(data, str | int) and not isinstance(data, bool):
            value = self.choice_strings_to_values.get(str(data))
            if value is not None:
                return value
            given = f"“{_printable(str(data)[:80])}”"
        else:
            given = "That"
        raise ValidationError(f"{given} is not one of: {', '.join(self.choice_strings_to_values)}.")


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

    def get_page_size(self, request: Request) -> int:
        # DRF quietly falls back to the default (or the cap) on a bad page_size; a client
        # asking for 1000 rows or "ten" should learn why it got 20 instead.
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        value = values[0]
        if len(values) > 1 or not (value.isascii() and value.isdigit()):
            raise ValidationError({"page_size": [self._page_size_bounds()]})
        size = int(value)
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"page_size": [self._page_size_bounds()]})
        return size

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        # DRF answers 404 "Invalid page." for `?page=abc`, `0` and `-1` alike, and takes
        # `?page=` as page 1. Like page_size (and every other parameter), a page that is no
        # number is a 400 that says what is; a number past the end is a 404 that names the
        # last page (a walk-through's client could not tell the two apart).
        values = request.query_params.getlist(self.page_query_param)
        if not values:
            return 1
        value = values[0]
        if value in self.last_page_strings and len(values) == 1:
            return paginator.num_pages
        if len(values) > 1 or not (value.isascii() and value.isdigit()) or int(value) < 1:
            raise ValidationError(
                {self.page_query_param: ["A whole number from 1 (or “last”), given once."]}
            )
        number = int(value)
        if number > paginator.num_pages:
            raise NotFound(f"There is no page {number}: the last is {paginator.num_pages}.")
        return number

    def _page_size_bounds(self) -> str:
        return f"A whole number from 1 to {self.max_page_size}, given once."

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size, default=20)
            elif parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


class IsCuratorOrReadOnly(permissions.BasePermission):
    """Anyone may read; only curators (staff or the `curators` group) may write."""

    # Read by AutoSchema below: the schema documents reads as open to anonymous clients.
    open_for_reads = True

    message = "Only curators may change the catalog."

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return request_user_is_curator(request)


class IsCurator(permissions.BasePermission):
    message = "Only curators may do this."

    def has_permission(self, request, view) -> bool:
        return request_user_is_curator(request)


class ApiJsonResponse(JsonResponse):
    """An error answered before DRF runs, written as DRF writes its own (no spaces): a client
    comparing bodies found two spellings of `{"detail":"Not found."}` (an API walk-through)."""

    def __init__(self, data: Any, **kwargs: Any) -> None:
        super().__init__(data, json_dumps_params={"separators": (",", ":")}, **kwargs)


def is_api_request(request: HttpRequest) -> bool:
    """Whether the request is the API's (JSON answers) rather than a page's."""
    return request.path.startswith("/api/")


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: API clients get JSON, people browsing get Django's page."""
    if is_api_request(request):
        return ApiJsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def json_bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: errors Django raises before DRF runs (an oversized body) are JSON for the API."""
    if not is_api_request(request):
        return bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return ApiJsonResponse(
            {"detail": f"Request body too large (the limit is {spoken_size(limit)})."}, status=413
        )
    # Not a size: a 7 KB form of 1,001 fields was told its body was over 2,560 KiB.
    if isinstance(exception, TooManyFieldsSent):
        fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return ApiJsonResponse(
            {"detail": f"Too many fields (the limit is {fields:,})."}, status=400
        )
    if isinstance(exception, TooManyFilesSent):
        files = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return ApiJsonResponse({"detail": f"Too many files (the limit is {files:,})."}, status=400)
    return ApiJsonResponse({"detail": "Bad request."}, status=400)


def json_permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: JSON for the API."""
    if is_api_request(request):
        return ApiJsonResponse({"detail": "You do not have permission to do this."}, status=403)
    return permission_denied(request, exception)


def json_server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a bug is still a bug, but an API client gets JSON it can parse. The
    database out of reach is not a bug: a 503 that says to retry (database_unavailable)."""
    if isinstance(sys.exc_info()[1], DATABASE_UNREACHABLE):
        return database_unavailable(request)
    if is_api_request(request):
        return ApiJsonResponse({"detail": "Internal server error; it has been logged."}, status=500)
    return server_error(request)


# What a database connection raises when the server is down, refuses or drops it.
DATABASE_UNREACHABLE = (OperationalError, InterfaceError)
DATABASE_RETRY_AFTER_SECONDS = 30


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After, JSON for the API: every read and write answered a 500 while the
    database was away (an operator's walk-through). No template needing the request: the
    signed-in page would ask the database for its user."""
    response: HttpResponse
    if is_api_request(request):
        response = ApiJsonResponse(
            {"detail": "The database is unavailable for a moment; try again shortly."},
            status=503,
        )
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus Django model validation errors turned into field-by-field 400s."""
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = ValidationError(detail=detail)
    elif isinstance(exc, Http404) and _DJANGO_NOT_FOUND.fullmatch(str(exc)):
        # get_object_or_404's "No SecurityArea matches the given query." named the model
        # inside (an API walk-through): the same words as every other missing object.
        exc = NotFound()
    return drf_exception_handler(exc, context)


_DJANGO_NOT_FOUND = re.compile(r"No \w+ matches the given query\.")


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
    "413": "The body is over 2.5 MiB; nothing was read.",
    "415": "The body is in a format the API does not read (send JSON, or a form).",
    "406": "The `Accept` header asks for a format the API does not write (ask for JSON).",
    "412": "Your `If-Match` names another version than the current one: nothing was done.",
}

# Every read answers with an ETag (ConditionalGetMiddleware), and 304 to a client that holds it.
_NOT_MODIFIED = {
    "description": "Not modified: your `If-None-Match` is the current `ETag`. No body.",
    "headers": {"ETag": {"description": "The current version.", "schema": {"type": "string"}}},
}


_RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 0},
}


def document_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular hook: document the error responses DRF really returns.

    Every operation can meet throttling (429) and a bad token (401, 403); operations
    on one object can answer 404; operations with a body or query filters can answer 400;
    a body can be too large (413) or not JSON (415).
    """
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", _ERROR_SCHEMA)
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = ["401", "403", "429", "406"]  # 406: DRF's content negotiation
            parameters = operation.get("parameters", [])
            has_query = any(p.get("in") == "query" for p in parameters)
            # One object's operations can miss; paginated lists answer 404 past the last page.
            if "{" in path or any(p.get("name") == "page" for p in parameters):
                codes.append("404")
            if method in {"post", "put", "patch"} or has_query:
                codes.append("400")
            if method in {"post", "put", "patch"}:
                codes += ["413", "415"]  # kubelearn.parsers and the body size limit
            if method == "get":
                codes.append("412")  # a stale If-Match (kubelearn.middleware)
            for parameter in parameters:
                _no_nul_in_query_text(parameter)
            responses = operation.setdefault("responses", {})
            # An error declared without a body has one all the same: "No response body" was
            # documented for 400s and 404s that carry {"detail": …} (an API client's walk-
            # through).
            codes += [
                code
                for code in responses
                if code.startswith("4") and code not in codes and "content" not in responses[code]
            ]
            if method == "get":
                responses.setdefault("304", _NOT_MODIFIED)
            for code in codes:
                existing = responses.get(code)
                if existing is None or "content" not in existing:
                    said = (existing or {}).get("description")
                    responses[code] = {
                        # drf-spectacular's words for a response declared as None
                        "description": said
                        if said and said != "No response body"
                        else _ERROR_DESCRIPTIONS.get(code, "An error; `detail` says what."),
                        "content": {"application/json": {"schema": ref}},
                    }
            if "429" in responses:
                # Sent with every 429 (DRF's throttles, the sign-in lock); the docs did not
                # say so (an API walk-through).
                responses["429"].setdefault("headers", {})["Retry-After"] = _RETRY_AFTER
    return result


_BLANK_STRING = {"type": "string", "maxLength": 0}


def blank_allowed_as_any_of(result: dict, generator, request, public) -> dict:
    """drf-spectacular hook: a text field that may be blank is described as `oneOf` a URL
    (or an e-mail address) and the empty string. A validator that does not check formats,
    as most don't by default, finds "" matching both and refuses every author list (an API
    walk-through); `anyOf` says the same and accepts it."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            branches = node.get("oneOf")
            if isinstance(branches, list) and _BLANK_STRING in branches:
                node["anyOf"] = node.pop("oneOf")
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(result)
    return result


def _no_nul_in_query_text(parameter: dict[str, Any]) -> None:
    """Say what every address refuses (kubelearn.middleware): a NUL character, which no
    database column can hold. A free-text query parameter gets it as a pattern; schemathesis
    found a schema-valid `?area=…%00…` refused with a 400."""
    schema = parameter.get("schema", {})
    free_text = schema.get("type") == "string" and not {"pattern", "enum", "format"} & set(schema)
    if parameter.get("in") == "query" and free_text:
        schema["pattern"] = "^[^\\u0000]*$"


class ApiRootView(APIView):
    """The API's front door: every endpoint family, so the browsable API can be explored."""

    permission_classes = [permissions.AllowAny]
    # Listed here and not in the schema: it is a table of contents, not an operation.
    schema = None

    # (label, URL name): catalog, learner, account and documentation.
    ENTRIES: tuple[tuple[str, str], ...] = (
        ("resources", "resource-list"),
        ("tags", "tag-list"),
        ("authors", "author-list"),
        ("security-areas", "securityarea-list"),
        ("paths", "path-list"),
        ("feeds", "feed-list"),
        ("author-updates", "authorupdate-list"),
        ("me/next", "me-next"),
        ("me/queue", "me-queue"),
        ("me/progress", "me-progress"),
        ("me/profile", "me-profile"),
        ("me/notes", "me-notes"),
        ("me/account", "me-account"),
        ("auth/register", "auth-register"),
        ("auth/token", "auth-token"),
        ("schema", "schema"),
        ("docs", "api-docs"),
        ("redoc", "api-redoc"),
    )

    def get_view_name(self) -> str:
        return "kubelearn API"

    #: Entries for curators only: a signed-in learner is not shown a door that answers 403
    #: (an API client's walk-through followed "feeds" there). Signed out, everything is
    #: listed: whoever reads it may sign in as a curator.
    CURATORS_ONLY = frozenset({"feeds", "author-updates"})

    def get(self, request: Request, format: str | None = None) -> Response:
        refused = (
            self.CURATORS_ONLY
            if request.user.is_authenticated and not request_user_is_curator(request)
            else frozenset()
        )
        return Response(
            {
                label: reverse(name, request=request, format=format)
                for label, name in self.ENTRIES
                if label not in refused
            }
        )
