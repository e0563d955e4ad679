from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from catalog import selectors
from catalog.models import (
    AuthorUpdate,
    Difficulty,
    FlagState,
    Kind,
    LinkStatus,
    Resource,
    Stage,
    StalenessFlag,
    Status,
    needs_link_q,
)
from kubelearn.api import IdFilter, StrictFilterSet, StrictOrderingFilter


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0); anything else is an error, not a silently ignored filter."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise ValidationError("Use true or false.", code="invalid")

    def validate(self, value) -> None:
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs) -> None:
        # A plain text widget hands the raw value to the field; the select widgets map
        # anything unknown to None, which would silently drop the filter.
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class ResourceFilter(StrictFilterSet):
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    stage = django_filters.ChoiceFilter(choices=Stage.choices)
    difficulty = django_filters.TypedChoiceFilter(choices=Difficulty.choices, coerce=int)
    status = django_filters.ChoiceFilter(
        choices=Status.choices, help_text="Curators only see other statuses than approved."
    )
    tag = django_filters.CharFilter(field_name="tags__slug", distinct=True, help_text="Tag slug.")
    area = django_filters.CharFilter(
        field_name="security_areas__slug", distinct=True, help_text="Security area slug."
    )
    author = django_filters.CharFilter(
        field_name="authors__slug", distinct=True, help_text="Author slug."
    )
    path = django_filters.CharFilter(
        field_name="path_steps__path__slug", distinct=True, help_text="Learning path slug."
    )
    needs_link = StrictBooleanFilter(
        method="filter_needs_link",
        help_text="Only resources without an address (true), or only those with one or "
        "served here (false). A resource kubelearn serves itself (`read_here`) needs none.",
    )

    link_status = django_filters.ChoiceFilter(
        choices=LinkStatus.choices,
        method="filter_link_status",
        help_text="The address's health (unchecked includes resources never checked).",
    )
    stale = StrictBooleanFilter(
        method="filter_stale",
        help_text="Only resources with (true) or without (false) a staleness flag.",
    )

    class Meta:
        model = Resource
        fields = ["kind", "stage", "difficulty", "status", "tag", "area", "author", "path"]

    def is_valid(self) -> bool:
        # django-filter ignores `?kind=` (given but empty); an empty value is no choice and
        # no boolean, so it is an error rather than "no filter" (slugs are free text).
        valid = super().is_valid()
        getlist = getattr(self.data, "getlist", None)
        for name, declared in self.filters.items():
            if isinstance(declared, django_filters.CharFilter) and not isinstance(
                declared, django_filters.ChoiceFilter
            ):
                continue
            if getlist is not None and name in self.data and "" in getlist(name):
                self.form.add_error(name, "Give a value, or leave the parameter out.")
                valid = False
        # Only curators see other statuses: for anyone else such a filter is an error, not a
        # silently empty list (a walk-through read "nothing pending" signed out).
        status = self.form.cleaned_data.get("status") if valid else None
        if (
            status
            and status != Status.APPROVED
            and not selectors.request_user_is_curator(self.request)
        ):
            self.form.add_error(
                "status", "Only curators see pending and rejected resources; sign in as one."
            )
            valid = False
        return valid

    def filter_link_status(
        self, queryset: QuerySet[Resource], name: str, value: str
    ) -> QuerySet[Resource]:
        if value == LinkStatus.UNCHECKED:
            return queryset.filter(Q(link__isnull=True) | Q(link__status=value))
        return queryset.filter(link__status=value)

    def filter_needs_link(
        self, queryset: QuerySet[Resource], name: str, value: bool
    ) -> QuerySet[Resource]:
        return queryset.filter(needs_link_q() if value else ~needs_link_q())

    def filter_stale(
        self, queryset: QuerySet[Resource], name: str, value: bool
    ) -> QuerySet[Resource]:
        # The schema's type comes from `value`'s hint (drf-spectacular): a boolean.
        flagged = Exists(
            StalenessFlag.objects.filter(resource=OuterRef("pk")).exclude(state=FlagState.DISMISSED)
        )
        return queryset.filter(flagged if value else ~flagged)


class ResourceSearchFilter(BaseFilterBackend):
    """`?search=words`: the database's full-text search (catalog.search), not column scans."""

    search_param = "search"

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        text = request.query_params.get(self.search_param, "")
        if not text.strip():
            return queryset
        # A curator's list holds pending and rejected resources too (selectors.resource_list).
        return selectors.resource_search(
            resources=queryset,
            text=text,
            approved_only=not selectors.request_user_is_curator(request),
        )

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.search_param,
                "required": False,
                "in": "query",
                "description": (
                    "Words to find in the title, summary, tags, security areas and authors "
                    "(all must match; English stemming on PostgreSQL). Results come best "
                    "match first unless `ordering` is given."
                ),
                "schema": {"type": "string"},
            }
        ]


class ResourceOrderingFilter(StrictOrderingFilter):
    """`?ordering=`; without it a search is ordered by rank, anything else by the view's order."""

    def get_default_ordering(self, view: Any) -> list[str] | None:
        if self.get_search_text(view):
            return list(selectors.SEARCH_ORDERING)
        ordering = super().get_default_ordering(view)
        return list(ordering) if ordering is not None else None

    def get_search_text(self, view: Any) -> str:
        request = getattr(view, "request", None)
        if request is None:
            return ""
        return request.query_params.get(ResourceSearchFilter.search_param, "").strip()


class AuthorUpdateFilter(StrictFilterSet):
    state = django_filters.ChoiceFilter(
        choices=AuthorUpdate.State.choices,
        help_text="waiting (for a curator's decision), taken or kept.",
    )
    resource = IdFilter(field_name="resource_id", help_text="A resource's id.")
    feed = IdFilter(
        field_name="resource__feed_id", help_text="A feed's id: the edits its author made."
    )

    class Meta:
        model = AuthorUpdate
        fields = ["state", "resource", "feed"]
