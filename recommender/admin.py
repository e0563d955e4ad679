"""Admin for learner data, and the recommender's contribution to the curators' review queue."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from catalog.admin import (
    ReviewQueueExtension,
    resources_decided,
    review_queue_extend,
    without_near_duplicates,
)
from catalog.models import Resource, SecurityArea, Tag
from recommender.models import FittedModel, FocusArea, LearnerProfile, Progress
from recommender.suggestions import MIN_SHARE, suggestions_applicable, suggestions_apply


@admin.display(description="suggested labels (✓ = applied by one click)")
def suggested_labels(obj: Resource) -> str:
    """Labels suggested from the entry's nearest approved neighbours, each with its share of
    the vote; the ones at or above MIN_SHARE (which the one-click action applies) are ticked."""
    # Imported on first use: the queue brings the engine (numpy, scipy) and the API's
    # serializers, which every process starting Django (the poller, commands) would pay for.
    from recommender import queue

    suggestion = queue.resource_suggestions(resource=obj)
    if not suggestion:
        return "-"
    rows = []
    stage = suggestion.get("stage")
    if stage:
        rows.append(("stage", _labels([stage])))
    if suggestion.get("areas"):
        rows.append(("areas", _labels(_shown(suggestion["areas"], AREAS_SHOWN))))
    if suggestion.get("tags"):
        rows.append(("tags", _labels(_shown(suggestion["tags"], TAGS_SHOWN))))
    return format_html_join("", "<div><b>{}</b>: {}</div>", rows) if rows else "-"


# The column shows at least this many suggestions of each kind (the strongest first).
AREAS_SHOWN, TAGS_SHOWN = 3, 4


def _shown(pairs: list[tuple[str, float]], at_least: int) -> list[tuple[str, float]]:
    """Every label the one click applies (the column promises to show them all), then the
    strongest of the others up to ``at_least`` in all."""
    applied = [pair for pair in pairs if pair[1] >= MIN_SHARE]
    others = [pair for pair in pairs if pair[1] < MIN_SHARE]
    return applied + others[: max(0, at_least - len(applied))]


def _labels(pairs: list[tuple[str, float]]) -> str:
    return format_html_join(
        ", ",
        '<span class="{}" title="{}">{} ({}%)</span>',
        (
            (
                "kl-label-applied" if share >= MIN_SHARE else "kl-label-skipped",
                "applied" if share >= MIN_SHARE else f"not applied: under {MIN_SHARE:.0%}",
                slug,
                round(share * 100),
            )
            for slug, share in pairs
        ),
    )


def suggested_initial(obj: Resource) -> dict[str, Any]:
    """The item page's form, pre-filled: its own labels plus the suggestions that apply."""
    from recommender import queue

    suggestion = queue.resource_suggestions(resource=obj)
    if not suggestion:
        return {}
    labels = suggestions_applicable(suggestion)
    initial: dict[str, Any] = {
        "tags": sorted(
            {t.pk for t in obj.tags.all()}
            | set(Tag.objects.filter(slug__in=labels.tags).values_list("pk", flat=True))
        ),
        "security_areas": sorted(
            {a.pk for a in obj.security_areas.all()}
            | set(SecurityArea.objects.filter(slug__in=labels.areas).values_list("pk", flat=True))
        ),
    }
    if labels.stage:
        initial["stage"] = labels.stage
    return initial


@admin.action(description="Apply suggested labels and approve selected", permissions=["change"])
def apply_suggestions_and_approve(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Resource]
) -> None:
    queryset = without_near_duplicates(modeladmin, request, queryset)
    labelled = suggestions_apply(resources=list(queryset))
    approved = resources_decided(
        request, queryset, approve=True, where="with its suggested labels, from the review list"
    )
    if not approved:
        return
    modeladmin.message_user(
        request,
        _applied_message(labelled, approved),
        messages.SUCCESS,
    )


def _applied_message(labelled: int, approved: int) -> str:
    """What "Apply suggested labels and approve" did, in words ("Labels applied to 1 and 1
    resource(s) approved." read as a sum, a walk-through found)."""
    what = f"Approved {approved} resource{'' if approved == 1 else 's'}"
    if labelled == 0:
        return f"{what}; none had suggested labels to add."
    if labelled == approved:
        return f"{what}, {'with its' if approved == 1 else 'each with its'} suggested labels."
    return f"{what}; suggested labels added to {labelled} of them."


review_queue_extend(
    ReviewQueueExtension(
        columns=(suggested_labels,),
        actions=(apply_suggestions_and_approve,),
        initial=(suggested_initial,),
        # suggested_labels reads each entry's tags and areas.
        prefetch=("tags", "security_areas"),
    )
)


class FocusInline(admin.TabularInline):
    model = FocusArea
    extra = 0
    autocomplete_fields = ["area"]


@admin.register(LearnerProfile)
class LearnerProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "level", "minutes_budget", "updated_at"]
    search_fields = ["user__username"]
    inlines = [FocusInline]


@admin.register(Progress)
class ProgressAdmin(admin.ModelAdmin):
    list_display = ["user", "resource", "state", "rating", "updated_at"]
    list_filter = ["state"]
    search_fields = ["user__username", "resource__title"]
    raw_id_fields = ["user", "resource"]


@admin.register(FittedModel)
class FittedModelAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "catalog_version",
        "documents",
        "fit_seconds",
        "stored_bytes",
        "created_at",
    ]
    fields = readonly_fields = (
        "catalog_version",
        "documents",
        "fit_seconds",
        "stored_bytes",
        "created_at",
    )

    def has_add_permission(self, request) -> bool:
        return False
