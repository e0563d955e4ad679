from __future__ import annotations

from datetime import UTC

import django_filters

from kubelearn.api import StrictFilterSet
from recommender.models import Progress, ProgressState


class ProgressFilter(StrictFilterSet):
    """`?state=completed&state=skipped`: only progress in those states (an unknown state is a
    400 naming the choices, not an ignored filter)."""

    state = django_filters.MultipleChoiceFilter(choices=ProgressState.choices)
    # Pages shift while the learner clicks elsewhere (a walk-through's client read one item
    # twice and missed another between page 1 and 2): a client that syncs asks for what
    # changed since its last read instead.
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gt",
        help_text="Only progress changed after this moment (ISO 8601, e.g. "
        "2026-12-01T09:30:00Z): give the newest `updated_at` you hold to sync. Cleared "
        "progress is not listed: compare the ids you hold with a full read for that.",
    )

    class Meta:
        model = Progress
        fields = ["state", "updated_since"]

    def is_valid(self) -> bool:
        valid = super().is_valid()
        # Empty, the form would drop the filter and list everything: the schema says a moment
        # (schemathesis sent `?updated_since=`), and a client's empty value is a bug to hear of.
        if "updated_since" in self.data and not str(self.data["updated_since"]).strip():
            self.form.add_error("updated_since", "Give a moment, e.g. 2026-12-01T09:30:00Z.")
            valid = False
        moment = self.form.cleaned_data.get("updated_since") if valid else None
        if moment is not None:
            # 0001-01-01T00:00:00+05:00 is before the first moment the database can store in
            # UTC (and 9999-12-31T23:59:59-05:00 after the last): the query's conversion
            # raised OverflowError, a 500 (an API client's walk-through).
            try:
                moment.astimezone(UTC)
            except OverflowError:
                self.form.add_error(
                    "updated_since", "Give a moment between the years 1 and 9999 in UTC."
                )
                valid = False
        return valid
