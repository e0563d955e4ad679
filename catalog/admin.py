from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from catalog import services
from catalog.addresses import InvalidAddress
from catalog.feeds import services as feed_services
from catalog.feeds.sanitise import sanitize_html
from catalog.models import (
    Author,
    Feed,
    FeedPoll,
    LearningPath,
    PathStep,
    PendingResource,
    Resource,
    SecurityArea,
    Status,
    Tag,
)


class ResourceAdminForm(forms.ModelForm):
    # No Meta: ModelAdmin supplies the model and fieldsets.

    def clean_url(self) -> str | None:
        # Compare canonical forms, so a second spelling of a stored address is caught here
        # with a message instead of failing on the unique index.
        try:
            canonical = services.address_normalise(self.cleaned_data.get("url"))
        except InvalidAddress as exc:
            raise forms.ValidationError(str(exc)) from exc
        owner = services.address_owner(canonical, exclude_pk=self.instance.pk)
        if owner is not None:
            raise forms.ValidationError(f"“{owner.title}” (#{owner.pk}) already has this address.")
        return canonical


class NeedsLinkFilter(admin.SimpleListFilter):
    title = "address"
    parameter_name = "needs_link"

    def lookups(self, request, model_admin):
        return [("yes", "Needs a link"), ("no", "Has a link")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(url__isnull=True)
        if self.value() == "no":
            return queryset.filter(url__isnull=False)
        return queryset


class PathStepInline(admin.TabularInline):
    model = PathStep
    extra = 0
    autocomplete_fields = ["resource"]
    fields = ["position", "resource", "note"]
    ordering = ["position"]


class ResourcePathStepInline(admin.TabularInline):
    model = PathStep
    extra = 0
    fields = ["path", "position", "note"]
    verbose_name = "place in a learning path"
    verbose_name_plural = "places in learning paths"


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    form = ResourceAdminForm
    list_display = [
        "title",
        "kind",
        "stage",
        "difficulty",
        "status",
        "origin",
        "has_link",
        "updated_at",
    ]
    list_filter = [
        "status",
        "stage",
        "kind",
        "origin",
        NeedsLinkFilter,
        ("tags", admin.RelatedOnlyFieldListFilter),
        ("security_areas", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["title", "summary", "url", "tags__name", "authors__name"]
    autocomplete_fields = ["tags", "authors"]
    filter_horizontal = ["security_areas"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["status", "reviewed_at", "reviewed_by", "created_at", "updated_at"]
    actions = ["approve_selected", "reject_selected"]
    inlines = [ResourcePathStepInline]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["title", "slug", "url", "kind", "summary"]}),
        (
            "Classification",
            {"fields": ["stage", "difficulty", "tags", "security_areas", "authors"]},
        ),
        ("Details", {"fields": ["estimated_minutes", "published_at", "origin", "content_html"]}),
        (
            "Review",
            {"fields": ["status", "reviewed_at", "reviewed_by", "created_at", "updated_at"]},
        ),
    ]

    @admin.display(boolean=True, description="link", ordering="url")
    def has_link(self, obj: Resource) -> bool:
        return bool(obj.url)

    @admin.action(description="Approve selected resources", permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Resource]) -> None:
        changed = services.resources_approve(resources=queryset, by=request.user)
        self.message_user(request, f"{changed} resource(s) approved.", messages.SUCCESS)

    @admin.action(description="Reject selected resources", permissions=["change"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Resource]) -> None:
        changed = services.resources_reject(resources=queryset, by=request.user)
        self.message_user(request, f"{changed} resource(s) rejected.", messages.SUCCESS)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        services.catalog_changed_notify()


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "homepage"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(SecurityArea)
class SecurityAreaAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "description"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(LearningPath)
class LearningPathAdmin(admin.ModelAdmin):
    list_display = ["title", "slug"]
    search_fields = ["title"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [PathStepInline]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        services.catalog_changed_notify()


class FeedHealthFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [("failing", "Failing"), ("inactive", "Inactive"), ("ok", "Healthy")]

    def queryset(self, request, queryset):
        if self.value() == "failing":
            return queryset.filter(active=True, consecutive_failures__gt=0)
        if self.value() == "inactive":
            return queryset.filter(active=False)
        if self.value() == "ok":
            return queryset.filter(active=True, consecutive_failures=0)
        return queryset


class FeedPollInline(admin.TabularInline):
    model = FeedPoll
    extra = 0
    max_num = 0
    can_delete = False
    fields = readonly_fields = [
        "started_at",
        "outcome",
        "http_status",
        "new",
        "updated",
        "unchanged",
        "skipped",
        "error",
        "warning",
    ]
    ordering = ["-started_at"]


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "author",
        "health_badge",
        "trusted",
        "last_polled_at",
        "last_status",
        "consecutive_failures",
        "next_poll_at",
    ]
    list_filter = [FeedHealthFilter, "trusted", "active"]
    search_fields = ["url", "title", "site_url"]
    autocomplete_fields = ["author"]
    actions = ["poll_now", "trust", "distrust", "deactivate", "export_opml"]
    inlines = [FeedPollInline]
    readonly_fields = [
        *Feed.HEALTH_FIELDS,
        "claimed_until",
        "etag",
        "last_modified",
        "created_at",
    ]
    change_list_template = "admin/catalog/feed/change_list.html"

    @admin.display(description="health")
    def health_badge(self, obj: Feed) -> str:
        if obj.health == "failing":
            return format_html(
                '<span style="color:#ba2121" title="{}">failing x{}</span>',
                obj.last_error,
                obj.consecutive_failures,
            )
        return obj.health

    def get_urls(self):
        extra = [
            path(
                "import-opml/",
                self.admin_site.admin_view(self.import_opml_view),
                name="catalog_feed_import_opml",
            )
        ]
        return extra + super().get_urls()

    @admin.action(description="Poll now")
    def poll_now(self, request: HttpRequest, queryset: QuerySet[Feed]) -> None:
        try:
            queued, busy = feed_services.feeds_poll_enqueue(
                feed_ids=list(queryset.values_list("pk", flat=True))
            )
        except feed_services.QueueUnavailable as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        note = f" ({busy} already being polled)" if busy else ""
        self.message_user(request, f"{queued} feed poll(s) queued{note}.", messages.SUCCESS)

    @admin.action(description="Trust (approve their entries at once)")
    def trust(self, request: HttpRequest, queryset: QuerySet[Feed]) -> None:
        count = feed_services.feed_set_trusted(
            feed_ids=list(queryset.values_list("pk", flat=True)), trusted=True
        )
        self.message_user(request, f"{count} feed(s) trusted.", messages.SUCCESS)

    @admin.action(description="Stop trusting (entries wait for review)")
    def distrust(self, request: HttpRequest, queryset: QuerySet[Feed]) -> None:
        count = feed_services.feed_set_trusted(
            feed_ids=list(queryset.values_list("pk", flat=True)), trusted=False
        )
        self.message_user(request, f"{count} feed(s) no longer trusted.", messages.SUCCESS)

    @admin.action(description="Deactivate")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Feed]) -> None:
        count = feed_services.feed_deactivate(
            feed_ids=list(queryset.values_list("pk", flat=True)),
            reason=f"Deactivated by {request.user} in the admin.",
        )
        self.message_user(request, f"{count} feed(s) deactivated.", messages.SUCCESS)

    @admin.action(description="Export as OPML")
    def export_opml(self, request: HttpRequest, queryset: QuerySet[Feed]) -> HttpResponse:
        response = HttpResponse(
            feed_services.feeds_export_opml(feeds=queryset), content_type="text/x-opml"
        )
        response["Content-Disposition"] = 'attachment; filename="kubelearn-feeds.opml"'
        return response

    def import_opml_view(self, request: HttpRequest) -> HttpResponse:
        form = OpmlImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = feed_services.feeds_import_opml(
                    content=form.cleaned_data["file"].read(), trusted=form.cleaned_data["trusted"]
                )
            except feed_services.OpmlError as exc:
                form.add_error("file", str(exc))
            else:
                self.message_user(request, result.summary(), messages.SUCCESS)
                return redirect("admin:catalog_feed_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": "Import feeds from OPML",
            "opts": self.model._meta,
        }
        return render(request, "admin/catalog/feed/import_opml.html", context)


class OpmlImportForm(forms.Form):
    file = forms.FileField(help_text="An OPML file exported from a feed reader.")
    trusted = forms.BooleanField(required=False, help_text="Approve these feeds' entries at once.")


@admin.register(PendingResource)
class ReviewQueueAdmin(admin.ModelAdmin):
    """Pending resources with a sanitised preview; approve or reject in bulk."""

    list_display = ["title", "feed", "published_at", "preview"]
    list_filter = [("feed", admin.RelatedOnlyFieldListFilter), "origin"]
    search_fields = ["title", "summary", "url"]
    actions = ["approve_selected", "reject_selected"]
    list_per_page = 25
    ordering = ["-published_at", "-created_at"]
    fields = ["title", "url", "summary", "preview", "feed", "published_at"]
    readonly_fields = ["preview"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=Status.PENDING).select_related("feed")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="preview")
    def preview(self, obj: Resource) -> str:
        # Stored HTML was sanitised at fetch time; sanitise again at display (defence in depth).
        html = sanitize_html(obj.content_html) if obj.content_html else ""
        link = format_html(
            '<a href="{}" rel="noopener noreferrer nofollow">open</a>', obj.url or "#"
        )
        return format_html(
            '<div style="max-width:40em;max-height:12em;overflow:auto">{}<p>{}</p>{}</div>',
            obj.summary[:400],
            mark_safe(html[:4000]),  # noqa: S308 - sanitised by nh3 just above
            link,
        )

    approve_selected = ResourceAdmin.approve_selected
    reject_selected = ResourceAdmin.reject_selected
