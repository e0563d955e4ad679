from __future__ import annotations

import django_filters

from kubelearn.api import StrictFilterSet
from recommender.models import Progress, ProgressState


class ProgressFilter(StrictFilterSet):
    """`?state=completed&state=skipped`: only progress in those states (an unknown state is a
    400 naming the choices, not an ignored filter)."""

    state = django_filters.MultipleChoiceFilter(choices=ProgressState.choices)

    class Meta:
        model = Progress
        fields = ["state"]
