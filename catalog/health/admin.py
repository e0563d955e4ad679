"""Curators' view of catalog health: link health (broken first, with the last error) and its
actions, the deprecations table, and staleness flags to confirm or dismiss.

Registered by catalog.admin (which adds the filters below to the resource list).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from catalog import services as catalog_services
from catalog.health import staleness, tasks
from catalog.health.models import (
    LINK_STATUS_URGENCY,
    Deprecation,
    FlagState,
    LinkCheck,
    LinkStatus,
    ResourceLink,
    StalenessFlag,
)
from catalog.health.services import (
    NothingProposed,
    link_accept_proposed,
    links_recheck,
    resources_retire,
)
from kubelearn.admin_site import GoesWithItsResource
from kubelearn.wording import counted


class LinkStatusFilter(admin.SimpleListFilter):
    title = "link health"
    parameter_name = "link_status"

    def lookups(self, request, model_admin):
        return LinkStatus.choices

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == LinkStatus.UNCHECKED:
            return queryset.filter(link__isnull=True) | queryset.filter(link__status=value)
        return queryset.filter(link__status=value)


class StaleFilter(admin.SimpleListFilter):
    title = "outdated advice"
    parameter_name = "stale"

    def lookups(self, request, model_admin):
        return [("yes", "Flagged"), ("no", "Not flagged")]

    def queryset(self, request, queryset):
        shown = StalenessFlag.objects.exclude(state=FlagState.DISMISSED).values("resource_id")
        if self.value() == "yes":
            return queryset.filter(pk__in=shown)
        if self.value() == "no":
            return queryset.exclude(pk__in=shown)
        return queryset


class LinkCheckInline(admin.TabularInline):
    model = LinkCheck
    extra = 0
    can_delete = False
    fields = ["checked_at", "outcome", "http_status", "final_url", "error", "elapsed_ms"]
    readonly_fields = ["checked_at", "outcome", "http_status", "final_url", "error", "elapsed_ms"]
    ordering = ["-checked_at", "-id"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ResourceLink)
class LinkHealthAdmin(GoesWithItsResource):
    """Every checked address, broken first, with the last error and what to do about it."""

    list_display = [
        "resource_link",
        "status",
        "last_error_short",
        "consecutive_failures",
        "failing_since",
        "proposed_url",
        "checked_at",
        "next_check_at",
    ]
    list_filter = ["status"]
    search_fields = ["resource__title", "checked_url", "final_url", "proposed_url", "host"]
    list_select_related = ["resource"]
    readonly_fields = [field.name for field in ResourceLink._meta.fields]
    actions = ["recheck_now", "accept_proposed", "retire"]
    inlines = [LinkCheckInline]
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[ResourceLink]:
        urgency = Case(
            *[When(status=s, then=Value(n)) for n, s in enumerate(LINK_STATUS_URGENCY)],
            output_field=IntegerField(),
        )
        return (
            super()
            .get_queryset(request)
            .annotate(urgency=urgency)
            .order_by("urgency", "-consecutive_failures", "resource__title")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        # Before the first check the list read "0 link health" and nothing more: a
        # walk-through's curator could not tell whether checking was broken or not started.
        if request.method == "GET" and not ResourceLink.objects.exclude(checked_at=None).exists():
            self.message_user(
                request,
                "No address has been checked yet. The worker checks a share of the catalog "
                f"every minute, all of it every {settings.LINK_CHECK_INTERVAL_DAYS} days; "
                "to check the due ones now, run manage.py check_links "
                '(make manage ARGS="check_links").',
                messages.INFO,
            )
        return super().changelist_view(request, extra_context)

    @admin.display(description="resource", ordering="resource__title")
    def resource_link(self, obj: ResourceLink) -> str:
        url = reverse("admin:catalog_resource_change", args=[obj.resource_id])
        return format_html('<a href="{}">{}</a>', url, obj.resource.title)

    @admin.display(description="last error")
    def last_error_short(self, obj: ResourceLink) -> str:
        return obj.last_error[:120]

    @admin.action(description="Re-check now", permissions=["change"])
    def recheck_now(self, request: HttpRequest, queryset: QuerySet[ResourceLink]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        links_recheck(resource_ids=ids)
        for pk in ids:
            tasks.link_check_now.delay_on_commit(pk)
        self.message_user(
            request, f"{counted(len(ids), 'link')} queued for a check.", messages.SUCCESS
        )

    @admin.action(description="Accept the proposed address", permissions=["change"])
    def accept_proposed(self, request: HttpRequest, queryset: QuerySet[ResourceLink]) -> None:
        accepted = nothing = 0
        for link in queryset:
            try:
                link_accept_proposed(link=link, by=request.user)
                accepted += 1
            except NothingProposed:
                nothing += 1
                continue
            except catalog_services.DuplicateAddress as exc:
                self.message_user(
                    request,
                    f"Not accepted for resource {link.resource_id}: resource "
                    f"{exc.existing.pk} (“{exc.existing.title}”) already has that address.",
                    messages.ERROR,
                )
        if nothing:
            # "0 address(es) accepted." gave no reason (a curator's walk-through).
            self.message_user(
                request,
                f"{nothing} of the links chosen had no proposed address: one is proposed when "
                "the address redirects for good (the “Proposed address” column).",
                messages.WARNING,
            )
        if accepted or not nothing:
            self.message_user(request, f"{accepted} address(es) accepted.", messages.SUCCESS)

    @admin.action(
        description="Retire the resource (hide it, stop checking)", permissions=["change"]
    )
    def retire(self, request: HttpRequest, queryset: QuerySet[ResourceLink]) -> None:
        count = resources_retire(
            resource_ids=list(queryset.values_list("pk", flat=True)), by=request.user
        )
        self.message_user(request, f"{counted(count, 'resource')} retired.", messages.SUCCESS)


@admin.register(Deprecation)
class DeprecationAdmin(admin.ModelAdmin):
    list_display = ["what", "removal", "removed_on", "successor", "successor_resource"]
    search_fields = ["what", "patterns", "successor"]
    prepopulated_fields = {"slug": ["what"]}
    autocomplete_fields = ["successor_resource"]

    def save_model(self, request: HttpRequest, obj: Deprecation, form: Any, change: bool) -> None:
        staleness.deprecation_save(deprecation=obj, by=request.user)

    def delete_model(self, request: HttpRequest, obj: Deprecation) -> None:
        staleness.deprecations_delete(deprecations=[obj], by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Deprecation]) -> None:
        staleness.deprecations_delete(deprecations=list(queryset), by=request.user)


@admin.register(StalenessFlag)
class StalenessFlagAdmin(admin.ModelAdmin):
    list_display = ["resource", "deprecation", "state", "sentence", "raised_at"]
    list_filter = ["state", "deprecation"]
    list_select_related = ["resource", "deprecation"]
    search_fields = ["resource__title", "sentence"]
    readonly_fields = ["resource", "deprecation", "sentence", "matched", "raised_at", "reviewed_at"]
    fields = [*readonly_fields[:4], "state", "raised_at", "reviewed_at"]
    actions = ["confirm", "dismiss"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: StalenessFlag, form: Any, change: bool) -> None:
        staleness.flags_review(flag_ids=[obj.pk], state=obj.state, by=request.user)

    @admin.action(description="Confirm: the advice is outdated", permissions=["change"])
    def confirm(self, request: HttpRequest, queryset: QuerySet[StalenessFlag]) -> None:
        self._review(request, queryset, FlagState.CONFIRMED, "confirmed")

    @admin.action(description="Dismiss: not outdated (stays dismissed)", permissions=["change"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet[StalenessFlag]) -> None:
        self._review(request, queryset, FlagState.DISMISSED, "dismissed")

    def _review(
        self, request: HttpRequest, queryset: QuerySet[StalenessFlag], state: str, done: str
    ) -> None:
        changed = staleness.flags_review(
            flag_ids=list(queryset.values_list("pk", flat=True)), state=state, by=request.user
        )
        self.message_user(request, f"{counted(changed, 'flag')} {done}.", messages.SUCCESS)
