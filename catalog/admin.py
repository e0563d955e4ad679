from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from catalog import services
from catalog.addresses import InvalidAddress
from catalog.models import Author, LearningPath, PathStep, Resource, SecurityArea, Tag


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
