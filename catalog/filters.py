from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from catalog.models import Difficulty, Kind, Resource, Stage, Status


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


class ResourceFilter(django_filters.FilterSet):
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
        field_name="url", lookup_expr="isnull", help_text="Only resources without an address."
    )

    class Meta:
        model = Resource
        fields = ["kind", "stage", "difficulty", "status", "tag", "area", "author", "path"]
