from __future__ import annotations

import django_filters

from catalog.models import Difficulty, Kind, Resource, Stage, Status


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
    needs_link = django_filters.BooleanFilter(
        field_name="url", lookup_expr="isnull", help_text="Only resources without an address."
    )

    class Meta:
        model = Resource
        fields = ["kind", "stage", "difficulty", "status", "tag", "area", "author", "path"]
