"""Admin for learner data, and the recommender's contribution to the curators' review queue."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from catalog import services as catalog_services
from catalog.admin import ReviewQueueExtension, review_queue_extend
from catalog.models import Resource
from recommender import queue
from recommender.models import FittedModel, FocusArea, LearnerProfile, Progress
from recommender.suggestions import suggestions_apply


@admin.display(description="suggested labels")
def suggested_labels(obj: Resource) -> str:
    """Labels suggested from the entry's nearest approved neighbours."""
    suggestion = queue.resource_suggestions(resource=obj)
    if not suggestion:
        return "-"
    rows = []
    if suggestion.get("stage"):
        rows.append(("stage", suggestion["stage"][0]))
    if suggestion.get("areas"):
        rows.append(("areas", ", ".join(slug for slug, _ in suggestion["areas"][:3])))
    if suggestion.get("tags"):
        rows.append(("tags", ", ".join(slug for slug, _ in suggestion["tags"][:4])))
    return format_html_join("", "<div><b>{}</b>: {}</div>", rows) if rows else "-"


@admin.action(description="Apply suggested labels and approve selected", permissions=["change"])
def apply_suggestions_and_approve(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Resource]
) -> None:
    labelled = suggestions_apply(resources=list(queryset))
    approved = catalog_services.resources_approve(resources=queryset, by=request.user)
    modeladmin.message_user(
        request,
        f"Labels applied to {labelled} and {approved} resource(s) approved.",
        messages.SUCCESS,
    )


review_queue_extend(
    ReviewQueueExtension(
        columns=(suggested_labels,),
        actions=(apply_suggestions_and_approve,),
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
    list_display = ["id", "catalog_version", "documents", "fit_seconds", "created_at"]
    fields = readonly_fields = ("catalog_version", "documents", "fit_seconds", "created_at")

    def has_add_permission(self, request) -> bool:
        return False
