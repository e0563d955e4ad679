from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from catalog import selectors, services
from catalog.addresses import InvalidAddress
from catalog.feeds import services as feed_services
from catalog.feeds.sanitise import images_as_links, limit_html, sanitised_text, sanitize_html
from catalog.health.admin import LinkStatusFilter, StaleFilter
from catalog.health.models import FlagState, LinkStatus, ResourceLink, StalenessFlag
from catalog.history import CHANGED, history_add
from catalog.models import (
    FEED_FIELDS,
    RESOURCE_MINUTES_MAX,
    Author,
    AuthorUpdate,
    Difficulty,
    Feed,
    FeedPoll,
    FeedState,
    LearningPath,
    Origin,
    PathStep,
    PendingResource,
    Resource,
    SecurityArea,
    Stage,
    Status,
    Tag,
    needs_link_q,
)
from kubelearn.admin_site import GoesWithItsResource
from kubelearn.wording import counted

# A resource's page saved after the resource changed (in another tab, by another curator, by a
# poll or an approval) would write the page's old values over the change, without a word: a
# walk-through's second tab put back the title the first had just changed.
EDITED_SINCE = (
    "Not saved: this resource was changed after this page was loaded (in another tab, by "
    "another curator, or by a poll of its feed). Your changes are still in the form below; "
    "open the resource again to see it as it is now, then make them there."
)


# Said on the delete page of a resource learners have used (ResourceAdmin.get_deleted_objects).
LEARNERS_DATA_KEPT = (
    "learners' progress and notes on it (they are the learners', and stay: reject the resource "
    "instead, which takes it out of the catalog and keeps their history)"
)


class ResourceAdminForm(forms.ModelForm):
    # No Meta: ModelAdmin supplies the model and fieldsets.

    # Text, checked by clean_url alone (catalog.services.address_check): Django's URL field
    # answered "Enter a valid URL." to file:///etc/passwd and javascript:, where the API says
    # what is wrong (a walk-through), as the feed form does.
    url = forms.CharField(label="Address", max_length=2000, required=False)
    # The model's bounds, said once: its PositiveIntegerField answered -3 with "greater than or
    # equal to 0" and then 0 with "greater than or equal to 1" (a walk-through).
    estimated_minutes = forms.IntegerField(
        label="Estimated minutes",
        required=False,
        min_value=1,
        max_value=RESOURCE_MINUTES_MAX,
        help_text=Resource._meta.get_field("estimated_minutes").help_text,
    )

    # The resource's updated_at when the page was made (ResourceWritesAdmin puts it on the
    # page); a save is refused when it has moved since.
    loaded_version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            # Bound too: a save from an up-to-date page then does not count it as changed.
            self.fields["loaded_version"].initial = self.instance.updated_at.isoformat()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        loaded = cleaned.get("loaded_version")
        # ModelAdmin read the instance afresh for this POST: its updated_at is the row's now.
        # A page without the field (made before it, or a script's POST) is not checked.
        if (
            loaded
            and self.instance.pk is not None
            and loaded != self.instance.updated_at.isoformat()
        ):
            raise forms.ValidationError(EDITED_SINCE, code="edited_since")
        return cleaned

    def clean_url(self) -> str | None:
        # Compare canonical forms, so a second spelling of a stored address is caught here
        # with a message instead of failing on the unique index.
        try:
            return services.address_check(
                self.cleaned_data.get("url"), resource_pk=self.instance.pk
            )
        except InvalidAddress as exc:
            raise forms.ValidationError(str(exc)) from exc
        except services.DuplicateAddress as exc:
            owner = exc.existing
            raise forms.ValidationError(
                f"“{owner.title}” (#{owner.pk}) already has this address."
            ) from exc


class FeedAdminForm(forms.ModelForm):
    # Text, checked by clean_url alone: Django's URL field answered "Enter a valid URL." to
    # file:///etc/passwd first, where the API says what is wrong (a walk-through).
    url = forms.CharField(label="Feed address", max_length=2000)

    def clean_url(self) -> str:
        # The same rules as the API's feed add (http(s), no credentials, a valid host; an IP
        # literal or localhost the fetch policy forbids), so the admin never stores an
        # address no poll could fetch, and a refused one is a message on the form, not a 500.
        try:
            address = feed_services.feed_address_check(self.cleaned_data.get("url") or "")
            feed_services.feed_address_policy_check(address)
        except feed_services.FeedAddError as exc:
            raise forms.ValidationError(str(exc)) from exc
        # Named, as a resource's address is: the unique index's "Feed with this Feed address
        # already exists." said neither which feed nor where (a walk-through).
        other = Feed.objects.filter(url=address).exclude(pk=self.instance.pk).first()
        if other is not None:
            raise forms.ValidationError(f"“{other}” (#{other.pk}) already follows this address.")
        return address


class CatalogWritesAdmin(admin.ModelAdmin):
    """Saves and deletes (one row, or the bulk delete action) go through the services
    (catalog.services, catalog.feeds.services); catalog.services tell the recommender the
    catalog changed. Forms' many-to-many fields and inlines are
    saved afterwards in the same transaction, so the notification (sent on commit) covers them.
    """

    def service_save(self, obj: Any, by: Any) -> None:
        raise NotImplementedError

    def service_delete(self, queryset: QuerySet[Any], by: Any) -> None:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.service_save(obj, request.user)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.service_delete(self.model._default_manager.filter(pk=obj.pk), request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self.service_delete(queryset, request.user)


def resources_decided(
    request: HttpRequest, queryset: QuerySet[Resource], *, approve: bool, where: str
) -> int:
    """Approve or reject through the service, and put the decision in each changed resource's
    History, as an edit is (a bulk approval left no trace there: who published it, and when?).
    Returns how many changed."""
    status = Status.APPROVED if approve else Status.REJECTED
    ids = list(queryset.exclude(status=status).values_list("pk", flat=True))
    decide = services.resources_approve if approve else services.resources_reject
    changed = decide(resources=Resource.objects.filter(pk__in=ids), by=request.user)
    if changed:
        history_add(
            by=request.user,
            resource_ids=Resource.objects.filter(pk__in=ids, status=status).values_list(
                "pk", flat=True
            ),
            flag=CHANGED,
            message=f"{'Approved' if approve else 'Rejected'} {where}.",
        )
    return changed


def address_twin_said(twin: Resource) -> str:
    # What to do, too: "the same page?" alone left a walk-through's curator guessing.
    advice = (
        " If it is, reject this one: learners have that one already."
        if twin.status == Status.APPROVED
        else ""
    )
    return format_html(
        'Nearly the same address as <a href="{}">resource #{}</a> ({}), “{}” at {}: the same '
        "page?{}",
        reverse("admin:catalog_resource_change", args=[twin.pk]),
        twin.pk,
        Status(twin.status).label.lower(),
        twin.title,
        twin.url,
        advice,
    )


def without_near_duplicates(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Resource]
) -> QuerySet[Resource]:
    """A bulk approval's items but those at nearly the address of an approved resource, which
    stay waiting, said by name: the review list pointed them out, and a bulk approval took
    them all the same, so learners met the same page twice (a walk-through)."""
    twins = selectors.address_twins(list(queryset))
    held = {pk: twin for pk, twin in twins.items() if twin.status == Status.APPROVED}
    if not held:
        return queryset
    titles = dict(Resource.objects.filter(pk__in=held).values_list("pk", "title"))
    modeladmin.message_user(
        request,
        format_html(
            "Left waiting, at nearly the address of a resource learners have: {}. Reject "
            "{} if it is the same page, or approve {} on {} own page if it is not.",
            format_html_join(
                ", ",
                '“{}” (like <a href="{}">#{}</a>)',
                (
                    (
                        titles[pk],
                        reverse("admin:catalog_resource_change", args=[twin.pk]),
                        twin.pk,
                    )
                    for pk, twin in held.items()
                ),
            ),
            "it" if len(held) == 1 else "each",
            "it" if len(held) == 1 else "one",
            "its",
        ),
        messages.WARNING,
    )
    return queryset.exclude(pk__in=held)


def _decided_since(object_id: str | None) -> Resource | None:
    """The resource a review page was for, if it is no longer pending (approved or rejected)."""
    # An id as the addresses take it (at most 18 digits: kubelearn.converters), else none.
    if object_id is None or not (object_id.isascii() and object_id.isdigit()):
        return None
    if len(object_id) > 18:
        return None
    return Resource.objects.exclude(status=Status.PENDING).filter(pk=int(object_id)).first()


def with_loaded_version(fieldsets: list[Any], obj: Any) -> list[Any]:
    """A resource page's fieldsets with the hidden version field last (a new one has none)."""
    if obj is None or not fieldsets:
        return fieldsets
    name, options = fieldsets[-1]
    return [*fieldsets[:-1], (name, {**options, "fields": [*options["fields"], "loaded_version"]})]


class ResourceWritesAdmin(CatalogWritesAdmin):
    """A resource's admin: the service hears which fields the curator changed (a feed's
    resource they edited keeps their version; catalog.services.resource_save). Its page
    carries the version it was made from (ResourceAdminForm.loaded_version)."""

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return with_loaded_version(list(super().get_fieldsets(request, obj)), obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.resource_save(
            resource=obj, by=request.user, edited=form.changed_data if change else ()
        )
        twin = selectors.address_twins([obj]).get(obj.pk) if not change else None
        if twin is not None:
            # Kept (some sites do differ), but said: the same page was added twice otherwise.
            self.message_user(request, address_twin_said(twin), messages.WARNING)

    def service_delete(self, queryset: QuerySet[Resource], by: Any) -> None:
        # The delete page refused resources learners used (ResourceAdmin.get_deleted_objects);
        # the service refuses too, if one got this far.
        services.resources_delete(resources=queryset, by=by)


class NeedsLinkFilter(admin.SimpleListFilter):
    title = "address"
    parameter_name = "needs_link"

    def lookups(self, request, model_admin):
        return [("yes", "Needs a link"), ("no", "Has a link")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(needs_link_q())
        if self.value() == "no":
            return queryset.exclude(needs_link_q())
        return queryset


class AuthorUpdateFilter(admin.SimpleListFilter):
    title = "author's update"
    parameter_name = "author_update"

    def lookups(self, request, model_admin):
        return [("waiting", "Waiting for a curator")]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(author_update__state=AuthorUpdate.State.WAITING)
        return queryset


class PathStepInline(admin.TabularInline):
    model = PathStep
    extra = 0
    autocomplete_fields = ["resource"]
    fields = ["position", "resource", "note", "one_of"]
    ordering = ["position"]


class ResourcePathStepInline(admin.TabularInline):
    model = PathStep
    extra = 0
    fields = ["path", "position", "note", "one_of"]
    verbose_name = "place in a learning path"
    verbose_name_plural = "places in learning paths"


@admin.register(Resource)
class ResourceAdmin(ResourceWritesAdmin):
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
        LinkStatusFilter,
        StaleFilter,
        AuthorUpdateFilter,
        ("tags", admin.RelatedOnlyFieldListFilter),
        ("security_areas", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["title", "summary", "url", "tags__name", "authors__name"]
    autocomplete_fields = ["tags", "authors"]
    filter_horizontal = ["security_areas"]
    prepopulated_fields = {"slug": ["title"]}
    _review = ["status", "review", "reviewed_at", "reviewed_by", "created_at", "updated_at"]
    readonly_fields = [*_review, "author_update_notice"]
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
        ("Review", {"fields": tuple(_review)}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and _waiting_update(obj) is not None:
            # First on the page: the author changed what learners read, and only a curator
            # decides whether learners get the new version.
            return [("The author's update", {"fields": ["author_update_notice"]}), *fieldsets]
        return fieldsets

    @admin.display(description="edited after review")
    def author_update_notice(self, obj: Resource) -> str:
        return _author_update_notice(obj)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Learners' progress and notes are not the catalog's: Django refused a curator with
        # "permission to delete … progress", which said neither why nor what to do, let notes
        # alone go with their resource, unsaid, and let a superuser delete both with a "Yes,
        # I'm sure" (a walk-through; the API refuses everyone). Refused for every account; the
        # page (templates/admin/catalog/resource/) says so and offers Reject instead.
        ids = [obj.pk for obj in objs]
        if selectors.used_by_learners(ids).exists():
            perms_needed = {name for name in perms_needed if name not in ("progress", "note")}
            perms_needed.add(LEARNERS_DATA_KEPT)
        return deleted, counts, perms_needed, protected

    @admin.display(description="decision")
    def review(self, obj: Resource) -> str:
        # This page has only Save: a curator who opened a pending resource here found no way
        # to approve or reject it (a walk-through). The review queue's page has both.
        if obj.pk is None or obj.status != Status.PENDING:
            return "—"
        return format_html(
            '<a class="button" href="{}">Approve or reject it on its review page</a>',
            reverse("admin:catalog_pendingresource_change", args=[obj.pk]),
        )

    @admin.display(boolean=True, description="link", ordering="url")
    def has_link(self, obj: Resource) -> bool:
        return bool(obj.url)

    @admin.action(description="Approve selected resources", permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Resource]) -> None:
        # Near-duplicates are not held back here (as the review list's bulk approvals hold
        # them): a rejected one approved from this list is a curator's second look, and its
        # page has no Approve.
        changed = resources_decided(request, queryset, approve=True, where="from the list")
        if not changed:
            self.message_user(request, "Nothing changed: they were approved already.")
            return
        # Said of the list it leaves: approved from "Rejected" (bulk reject's way back), the
        # list is then empty, and a walk-through's curator could not tell it had worked.
        self.message_user(
            request,
            f"{counted(changed, 'resource')} approved; learners see "
            f"{'it' if changed == 1 else 'them'} now.",
            messages.SUCCESS,
        )

    @admin.action(description="Reject selected resources", permissions=["change"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Resource]) -> None:
        # No confirmation page (a review queue is worked through fast), so the way back is in
        # the message: a walk-through's curator read "1 resource(s) rejected." and no more.
        rejected = list(queryset.exclude(status=Status.REJECTED).values_list("pk", flat=True))
        # Only approved ones were ever in learners' sight: a walk-through read "learners no
        # longer see them" of entries that came from the review queue.
        were_public = queryset.filter(status=Status.APPROVED).exists()
        changed = resources_decided(request, queryset, approve=False, where="from the list")
        if not changed:
            self.message_user(request, "Nothing changed: they were rejected already.")
            return
        query = urlencode(
            {"status__exact": Status.REJECTED, "id__in": ",".join(map(str, rejected))}
        )
        self.message_user(
            request,
            format_html(
                "{} rejected{}. Changed your mind? "
                '<a href="{}">Show {}</a>, select {} and approve {} again.',
                counted(changed, "resource"),
                ("; learners no longer see " + ("it" if changed == 1 else "them"))
                if were_public
                else "",
                f"{reverse('admin:catalog_resource_changelist')}?{query}",
                *(("it",) * 3 if changed == 1 else ("just those", "them", "them")),
            ),
            messages.SUCCESS,
        )


@admin.register(Tag)
class TagAdmin(CatalogWritesAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def service_save(self, obj: Tag, by: Any) -> None:
        services.tag_save(tag=obj, by=by)

    def service_delete(self, queryset: QuerySet[Tag], by: Any) -> None:
        services.tags_delete(tags=queryset, by=by)


@admin.register(Author)
class AuthorAdmin(CatalogWritesAdmin):
    list_display = ["name", "slug", "homepage"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def service_save(self, obj: Author, by: Any) -> None:
        services.author_save(author=obj, by=by)

    def service_delete(self, queryset: QuerySet[Author], by: Any) -> None:
        services.authors_delete(authors=queryset, by=by)


@admin.register(SecurityArea)
class SecurityAreaAdmin(CatalogWritesAdmin):
    list_display = ["name", "slug", "description"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def service_save(self, obj: SecurityArea, by: Any) -> None:
        services.area_save(area=obj, by=by)

    def service_delete(self, queryset: QuerySet[SecurityArea], by: Any) -> None:
        services.areas_delete(areas=queryset, by=by)


@admin.register(LearningPath)
class LearningPathAdmin(CatalogWritesAdmin):
    list_display = ["title", "slug"]
    search_fields = ["title"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [PathStepInline]
    change_form_template = "admin/catalog/learningpath/change_form.html"

    class Media:
        css = {"all": ["catalog/admin.css"]}

    def get_urls(self):
        return [
            path(
                "<int:path_id>/reorder/",
                self.admin_site.admin_view(self.reorder_view),
                name="catalog_learningpath_reorder",
            ),
            *super().get_urls(),
        ]

    def reorder_view(self, request: HttpRequest, path_id: int) -> HttpResponse:
        """The path's steps in order, each with "move up" and "move down" buttons."""
        learning_path = get_object_or_404(LearningPath, pk=path_id)
        if not self.has_change_permission(request, learning_path):
            raise PermissionDenied
        if request.method == "POST":
            step = get_object_or_404(PathStep, pk=request.POST.get("step"), path=learning_path)
            offset = -1 if request.POST.get("move") == "up" else 1
            if services.path_step_move(step=step, offset=offset, by=request.user):
                self.message_user(
                    request, f"Moved “{step.resource.title}” {request.POST.get('move')}."
                )
            return redirect(
                reverse("admin:catalog_learningpath_reorder", args=[path_id]) + f"#step-{step.pk}"
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Reorder the steps of “{learning_path.title}”",
            "opts": self.model._meta,
            "original": learning_path,
            "steps": learning_path.steps.select_related("resource").order_by("position"),
        }
        return render(request, "admin/catalog/learningpath/reorder.html", context)

    def service_save(self, obj: LearningPath, by: Any) -> None:
        services.path_save(path=obj, by=by)

    def service_delete(self, queryset: QuerySet[LearningPath], by: Any) -> None:
        services.paths_delete(paths=queryset, by=by)


class FeedHealthFilter(admin.SimpleListFilter):
    """Feed.health's states, each exactly as the property decides it (first match wins): a
    feed whose first check failed was in none of the old choices but "Inactive"
    (walk-through)."""

    title = "health"
    parameter_name = "health"
    STATES = (
        ("check-failed", "Check failed", Q(state=FeedState.FAILED)),
        ("checking", "Being checked", Q(state=FeedState.CHECKING)),
        ("inactive", "Inactive", Q(active=False)),
        ("failing", "Failing", Q(consecutive_failures__gt=0)),
        ("new", "Not read yet", Q(last_success_at__isnull=True)),
        ("warning", "Damaged document", ~Q(last_warning="")),
        ("ok", "Healthy", Q()),
    )

    def lookups(self, request, model_admin):
        return [(value, label) for value, label, _ in self.STATES]

    def queryset(self, request, queryset):
        return self.matching(queryset, self.value())

    @classmethod
    def matching(cls, queryset: QuerySet[Feed], health: str | None) -> QuerySet[Feed]:
        """The feeds in `queryset` whose health is `health` (all of them for none)."""
        earlier: list[Q] = []
        for value, _, condition in cls.STATES:
            if value == health:
                for taken in earlier:
                    queryset = queryset.exclude(taken)
                return queryset.filter(condition)
            earlier.append(condition)
        return queryset


class FeedPollInline(admin.TabularInline):
    model = FeedPoll
    extra = 0
    max_num = 0
    can_delete = False
    fields = readonly_fields = (
        "started_at",
        "outcome",
        "http_status",
        "new",
        "updated",
        "held",
        "unchanged",
        "skipped",
        "error",
        "warning",
    )
    ordering = ["-started_at"]


@admin.register(Feed)
class FeedAdmin(CatalogWritesAdmin):
    form = FeedAdminForm

    class Media:
        css = {"all": ["catalog/admin.css"]}

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
    list_filter = [FeedHealthFilter, "state", "trusted", "active"]
    search_fields = ["url", "title", "site_url"]
    autocomplete_fields = ["author"]
    actions = ["poll_now", "check_again", "trust", "distrust", "deactivate", "export_opml"]
    inlines = [FeedPollInline]
    exclude = ["poll_interval"]
    readonly_fields = [
        "state",
        "added_address",
        # The interval in hours or minutes, not "64800" seconds (walk-through); the poller
        # alone sets it (excluded below, as a read-only field would be).
        *("polled_every" if name == "poll_interval" else name for name in Feed.HEALTH_FIELDS),
        "claimed_until",
        "etag",
        "last_modified",
        "created_at",
    ]
    change_list_template = "admin/catalog/feed/change_list.html"
    #: What adding a feed asks for. Its health, validators and poll history are a feed's
    #: record once polled: on the add form they were fifteen empty rows and a "State: A feed,
    #: polled on schedule" before any check (a curator's walk-through).
    ADD_FIELDS = ("url", "title", "author", "active", "trusted", *Feed.ENTRY_LABELS)

    def get_fields(self, request: HttpRequest, obj: Feed | None = None) -> Any:
        if obj is None:
            return list(self.ADD_FIELDS)
        return super().get_fields(request, obj)

    def get_inlines(self, request: HttpRequest, obj: Feed | None) -> Any:
        return [] if obj is None else super().get_inlines(request, obj)

    def service_save(self, obj: Feed, by: Any) -> None:
        feed_services.feed_save(feed=obj)

    def save_model(self, request: HttpRequest, obj: Feed, form: Any, change: bool) -> None:
        if change:
            return super().save_model(request, obj, form, change)
        # A new address is checked by a worker, like the API's add: the admin never waits on
        # the feed's server.
        feed, queued = feed_services.feed_add_request(
            address=obj.url,
            trusted=obj.trusted,
            author_id=obj.author_id,
            title=obj.title,
            entry_labels={name: getattr(obj, name) for name in Feed.ENTRY_LABELS},
        )
        obj.pk, obj.state = feed.pk, feed.state
        obj._state.adding = False
        if queued:
            self.message_user(
                request,
                "A worker is checking the address now; the feed's health says “checking” "
                "until it has found the feed (then its first poll runs) or says why not.",
                messages.INFO,
            )

    def service_delete(self, queryset: QuerySet[Feed], by: Any) -> None:
        feed_services.feeds_delete(feeds=queryset)

    @admin.display(description="poll interval")
    def polled_every(self, obj: Feed) -> str:
        minutes = round(obj.poll_interval / 60)
        every = f"{minutes} min" if minutes < 120 else f"{minutes / 60:.3g} h"
        return f"every {every} while healthy (adapts to how often the feed publishes)"

    @admin.display(description="health")
    def health_badge(self, obj: Feed) -> str:
        # The reason under the badge, not only in a tooltip a phone cannot show (walk-through).
        if obj.health == "check failed":
            return format_html(
                '<span class="kl-failing">check failed</span>{}', self._reason(obj.last_error)
            )
        if obj.health == "failing":
            return format_html(
                '<span class="kl-failing">failing x{}</span>{}',
                obj.consecutive_failures,
                self._reason(obj.last_error),
            )
        if obj.health == "warning":
            return format_html(
                '<span class="kl-warning">warning</span>{}', self._reason(obj.last_warning)
            )
        return obj.health

    @staticmethod
    def _reason(text: str) -> str:
        short = text if len(text) <= 120 else text[:119] + "…"
        return format_html('<br><small class="kl-reason" title="{}">{}</small>', text, short)

    def get_urls(self):
        extra = [
            path(
                "import-opml/",
                self.admin_site.admin_view(self.import_opml_view),
                name="catalog_feed_import_opml",
            )
        ]
        return extra + super().get_urls()

    @admin.action(description="Check the address again (feeds that failed their check)")
    def check_again(self, request: HttpRequest, queryset: QuerySet[Feed]) -> None:
        count = 0
        for feed in queryset.filter(state=FeedState.FAILED):
            _, queued = feed_services.feed_add_request(address=feed.added_address or feed.url)
            count += queued
        self.message_user(request, f"{counted(count, 'feed check')} queued.", messages.SUCCESS)

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
        self.message_user(
            request, f"{counted(queued, 'feed poll')} queued{note}.", messages.SUCCESS
        )

    @admin.action(description="Trust (approve their entries at once)")
    def trust(self, request: HttpRequest, queryset: QuerySet[Feed]) -> None:
        count = feed_services.feed_set_trusted(
            feed_ids=list(queryset.values_list("pk", flat=True)), trusted=True, by=request.user
        )
        self.message_user(request, f"{counted(count, 'feed')} trusted.", messages.SUCCESS)

    @admin.action(description="Stop trusting (entries wait for review)")
    def distrust(self, request: HttpRequest, queryset: QuerySet[Feed]) -> None:
        count = feed_services.feed_set_trusted(
            feed_ids=list(queryset.values_list("pk", flat=True)), trusted=False, by=request.user
        )
        self.message_user(request, f"{counted(count, 'feed')} no longer trusted.", messages.SUCCESS)

    @admin.action(description="Deactivate")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Feed]) -> None:
        count = feed_services.feed_deactivate(
            feed_ids=list(queryset.values_list("pk", flat=True)),
            reason=f"Deactivated by {request.user} in the admin.",
            by=request.user,
        )
        self.message_user(request, f"{counted(count, 'feed')} deactivated.", messages.SUCCESS)

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
                    content=form.cleaned_data["file"].read(),
                    trusted=form.cleaned_data["trusted"],
                    by=request.user,
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
            # The page said they were refused even where this deployment allows them.
            "private_networks_allowed": settings.FEEDS_ALLOW_PRIVATE_NETWORKS,
            "opts": self.model._meta,
        }
        return render(request, "admin/catalog/feed/import_opml.html", context)


class OpmlImportForm(forms.Form):
    file = forms.FileField(help_text="An OPML file exported from a feed reader.")
    trusted = forms.BooleanField(required=False, help_text="Approve these feeds' entries at once.")


@dataclass(frozen=True)
class ReviewQueueExtension:
    """What another app adds to the review queue: columns, bulk actions, and the relations
    its columns read (prefetched once for the page, so a column costs no query per row)."""

    columns: tuple[Callable[[Resource], str], ...] = ()
    actions: tuple[Callable[..., Any], ...] = ()
    prefetch: tuple[str, ...] = ()
    # Form values to pre-fill on an item's own page (e.g. suggested tags as Tag ids).
    initial: tuple[Callable[[Resource], dict[str, Any]], ...] = ()


_review_queue_extensions: list[ReviewQueueExtension] = []


def review_queue_extend(extension: ReviewQueueExtension) -> None:
    """Add columns and actions to the curators' review queue.

    The catalog does not import the apps that contribute here: the recommender calls this
    from its admin module to show the labels it suggests and a one-click "apply and approve".
    """
    _review_queue_extensions.append(extension)


# How much of a pending item's body its preview shows.
PREVIEW_CHARS = 4000


@admin.register(PendingResource)
class ReviewQueueAdmin(ResourceWritesAdmin):
    """Pending resources with a sanitised preview; approve or reject in bulk.

    Other apps add columns and actions through `review_queue_extend`.
    """

    list_display = ["title", "feed", "published_at", "preview"]
    list_filter = [("feed", admin.RelatedOnlyFieldListFilter), "origin"]
    search_fields = ["title", "summary", "url"]
    actions = ["approve_selected", "reject_selected"]
    list_per_page = 25
    ordering = ["-published_at", "-created_at"]
    autocomplete_fields = ["tags", "authors"]
    readonly_fields = ["preview", "feed", "published_at", "feed_updates", "author_update_notice"]
    change_form_template = "admin/catalog/pendingresource/change_form.html"

    class Media:
        css = {"all": ["catalog/admin.css"]}

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        # As the resource, not as this list's proxy model: edits made here were missing from
        # the resource's History ("This object doesn't have a change history", a walk-through).
        return super().log_change(request, Resource.objects.get(pk=obj.pk), message)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> Any:
        decided = _decided_since(object_id)
        if decided is not None and self.get_object(request, str(object_id)) is None:
            # Approved or rejected since (another tab, another curator): Django's "Item to
            # review with ID 1063 doesn't exist. Perhaps it was deleted?" sent a walk-through's
            # curator to the admin's index, the tab's edit gone without a word.
            self.message_user(
                request,
                f"“{decided.title}” was {decided.get_status_display().lower()} after this page "
                "was loaded (in another tab, or by another curator), so it is no longer waiting "
                "for review; nothing was changed. This is its page now.",
                messages.WARNING,
            )
            return redirect("admin:catalog_resource_change", decided.pk)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        # Not Django's "Select item to review to change" (a walk-through read it aloud).
        return super().changelist_view(
            request, {"title": "Items to review", **(extra_context or {})}
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Resource]:
        prefetch = [name for ext in _review_queue_extensions for name in ext.prefetch]
        queryset = super().get_queryset(request).filter(status=Status.PENDING)
        # Another resource with the very same title (the title index finds it): most likely
        # the same post under another address. A walk-through's entry titled as seed
        # resource 1 waited among the others with nothing to say so.
        twins = Resource.objects.filter(title=OuterRef("title")).exclude(pk=OuterRef("pk"))
        queryset = queryset.annotate(
            twin_id=Subquery(twins.order_by("pk").values("pk")[:1]),
            twin_status=Subquery(twins.order_by("pk").values("status")[:1]),
        )
        return queryset.select_related("feed").prefetch_related(*prefetch)

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        # Nearly the same address as another resource (http/https, "www.", a trailing slash):
        # one query for the page's items, read by the preview column.
        changelist = super().get_changelist_instance(request)
        twins = selectors.address_twins(list(changelist.result_list))
        for item in changelist.result_list:
            item.address_twin = twins.get(item.pk)
        return changelist

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj.address_twin = selectors.address_twins([obj]).get(obj.pk)
        return obj

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        return [*self.list_display, *self._columns()]

    def _columns(self) -> list[Callable[[Resource], str]]:
        return [column for ext in _review_queue_extensions for column in ext.columns]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        extra = [self.get_action(a) for ext in _review_queue_extensions for a in ext.actions]
        # Contributed actions come first: they are what a curator reaches for.
        contributed = {name: (func, name, text) for func, name, text in filter(None, extra)}
        return {**contributed, **actions}

    # --- One item's own page: preview, suggestions, labels, approve or reject -------------

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return [*self.readonly_fields, *self._columns()]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # The author's edit first, as on the resource's page: at the page's foot, under
        # Source, a walk-through's curator approved the item without seeing it.
        waiting = obj is not None and _waiting_update(obj) is not None
        notice = [("The author's update", {"fields": ["author_update_notice"]})] if waiting else []
        fieldsets = [
            *notice,
            (None, {"fields": ["title", "url", "kind", "preview"]}),
            (
                "Labels (pre-filled with the suggestions that apply; edit freely)",
                {
                    "fields": [
                        *self._columns(),
                        "stage",
                        "difficulty",
                        "tags",
                        "security_areas",
                        "authors",
                        "estimated_minutes",
                    ]
                },
            ),
            ("Source", {"fields": ["feed", "published_at", "summary", "feed_updates"]}),
        ]
        return with_loaded_version(fieldsets, obj)

    @admin.display(description="edited since")
    def author_update_notice(self, obj: Resource) -> str:
        return _author_update_notice(obj)

    @admin.display(description="author's edits")
    def feed_updates(self, obj: Resource) -> str:
        # Why the feed's later edits stop showing: the curator's own edit keeps them out.
        if obj.curator_edited_at is None:
            return "Applied while this waits for review (until a curator edits the text)."
        when = timezone.localtime(obj.curator_edited_at)
        kept = f"Kept for a curator: a curator edited it on {when:%d %b %Y, %H:%M}."
        if _waiting_update(obj) is None:
            return kept
        return f"{kept} One waits: see the top of this page."

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "security_areas":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None or request.method != "GET":
            return form
        initial: dict[str, Any] = {}
        for ext in _review_queue_extensions:
            for labels in ext.initial:
                initial.update(labels(obj))
        if not initial:
            return form

        class Prefilled(form):  # type: ignore[valid-type,misc]
            def __init__(self, *args: Any, **form_kwargs: Any) -> None:
                form_kwargs["initial"] = {**initial, **(form_kwargs.get("initial") or {})}
                super().__init__(*args, **form_kwargs)

        return Prefilled

    def response_change(self, request: HttpRequest, obj: Resource) -> HttpResponse:
        decision = "_approve" if "_approve" in request.POST else "_reject"
        if decision not in request.POST:
            return super().response_change(request, obj)
        resources_decided(
            request,
            Resource.objects.filter(pk=obj.pk),
            approve=decision == "_approve",
            where="on its review page",
        )
        verb = "approved" if decision == "_approve" else "rejected"
        self.message_user(request, f"“{obj.title}” {verb}.", messages.SUCCESS)
        update = _waiting_update(obj) if decision == "_approve" else None
        if update is not None:
            self.message_user(
                request,
                format_html(
                    'Its author\'s later edit still waits: <a href="{}">compare and decide</a>.',
                    reverse("admin:catalog_authorupdate_change", args=[update.pk]),
                ),
                messages.WARNING,
            )
        # On to the next item, so a review session is one page after another.
        following = self.get_queryset(request).exclude(pk=obj.pk).first()
        if following is None:
            return redirect("admin:catalog_pendingresource_changelist")
        return redirect("admin:catalog_pendingresource_change", following.pk)

    form = ResourceAdminForm

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Reject keeps an item out; a deleted one is filed again by the next poll of its feed
        # while the entry is still there (a walk-through deleted one and met it again). The
        # catalog's own Resources page still deletes, for what is truly to go.
        return False

    @admin.display(description="preview")
    def preview(self, obj: Resource) -> str:
        # Stored HTML was sanitised at fetch time; sanitise again at display (defence in depth),
        # and turn images into links: loading them would tell the feed's host who reviews when.
        # A long body is cut near 4,000 characters without splitting a tag (limit_html): a
        # cut inside one left a link without its address, or the rest of the page in bold.
        body = obj.content_html and images_as_links(
            limit_html(sanitize_html(obj.content_html), PREVIEW_CHARS, None)
        )
        # Named by its item: a screen reader's list of links read "open", "open", "open" (a
        # walk-through); its text stays short on the page.
        link = format_html(
            '<a href="{}" rel="noopener noreferrer nofollow" aria-label="Open {} on its site">'
            "open</a>",
            obj.url or "#",
            obj.title,
        )
        # Above the preview's scrolling box, not in it: it pushed the item's own text and its
        # "open" link out of sight (a walk-through).
        twin = self._twin(obj)
        if body:  # the summary is the start of the body: showing both repeats it
            return format_html(
                '{}<div class="kl-preview">{}<p>{}</p></div>',
                twin,
                mark_safe(body),  # noqa: S308 - sanitised by nh3 just above
                link,
            )
        return format_html(
            '{}<div class="kl-preview"><p>{}</p><p>{}</p></div>', twin, obj.summary, link
        )

    @staticmethod
    def _twin(obj: Resource) -> str:
        twin_id = getattr(obj, "twin_id", None)
        if twin_id is None:
            address_twin = getattr(obj, "address_twin", None)
            if address_twin is None:
                return ""
            return format_html('<p class="kl-twin">{}</p>', address_twin_said(address_twin))
        twin_status = getattr(obj, "twin_status", "")
        status = Status(twin_status).label.lower() if twin_status else ""
        return format_html(
            '<p class="kl-twin">Same title as <a href="{}">resource #{}</a> ({}): the same '
            "post under another address?</p>",
            reverse("admin:catalog_resource_change", args=[twin_id]),
            twin_id,
            status,
        )

    @admin.action(
        description="Approve selected as they are (labels unchanged)", permissions=["change"]
    )
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Resource]) -> None:
        queryset = without_near_duplicates(self, request, queryset)
        # A feed item's labels are the defaults until someone sets them: approved as they are,
        # one with no security area serves no learner's focus (a walk-through's bulk-approved
        # item then sat among the KMS page's similar resources). Say so, and what to do.
        unlabelled = queryset.filter(security_areas__isnull=True).distinct().count()
        # Stage and difficulty are the feed's labels for new entries, Getting started and
        # Beginner unless a curator set others: a security post approved so was offered to
        # beginners among the basics (a curator's walk-through). Say that too.
        basics = queryset.filter(
            origin=Origin.FEED,
            stage=Stage.GETTING_STARTED,
            difficulty=Difficulty.BEGINNER,
            curator_edited_at__isnull=True,
        ).count()
        changed = resources_decided(
            request, queryset, approve=True, where="as it was, from the review list"
        )
        if not changed:
            return
        if not unlabelled and not basics:
            self.message_user(
                request,
                f"{counted(changed, 'resource')} approved; learners see "
                f"{'it' if changed == 1 else 'them'} now.",
                messages.SUCCESS,
            )
            return
        # Said of one as of one: "1 resource approved as they were; 1 of them has no security
        # area, so they serve …" (a walk-through).
        one = changed == 1
        problems = []
        if unlabelled:
            problems.append(
                "it has no security area, so it serves"
                if one
                else f"{unlabelled} of them {'has' if unlabelled == 1 else 'have'} no security "
                f"area, so {'it serves' if unlabelled == 1 else 'they serve'}"
            )
            problems[-1] += " no learner's focus until labelled"
        if basics:
            problems.append(
                ("it is" if one else f"{basics} {'is' if basics == 1 else 'are'}")
                + " still labelled as feed entries arrive, Getting started and Beginner, so "
                f"beginners are offered {'it' if basics == 1 else 'them'} among the basics "
                "until a curator sets the stage (a feed's “stage of new entries” labels its "
                "next ones)"
            )
        self.message_user(
            request,
            f"{counted(changed, 'resource')} approved as {'it was' if one else 'they were'}: "
            f"{'; '.join(problems)}. Label {'it' if one else 'them'} on the Resources page; "
            f"“Apply suggested labels and approve” labels {'it' if one else 'them'} first.",
            messages.WARNING,
        )

    reject_selected = ResourceAdmin.reject_selected


# --- Authors' updates of reviewed resources ------------------------------------------------------


def _waiting_update(resource: Resource) -> AuthorUpdate | None:
    try:
        update = resource.author_update
    except AuthorUpdate.DoesNotExist:
        return None
    return update if update.state == AuthorUpdate.State.WAITING else None


def _author_update_notice(resource: Resource) -> str:
    update = _waiting_update(resource)
    if update is None:
        return "—"
    seen = timezone.localtime(update.seen_at)
    published = resource.status == Status.APPROVED
    return format_html(
        "The author edited this post after {} (found {}): {}. {} "
        '<a class="button" href="{}">Compare and decide</a>',
        "review" if published else "a curator's edit",
        f"{seen:%d %b %Y, %H:%M}",
        ", ".join(_FIELD_NAMES[name] for name in update.changed if name in _FIELD_NAMES),
        "Learners still read your version." if published else "This item keeps your version.",
        reverse("admin:catalog_authorupdate_change", args=[update.pk]),
    )


_FIELD_NAMES = {
    "title": "title",
    "summary": "summary",
    "content_html": "text",
    "published_at": "publication date",
    "estimated_minutes": "reading time",
}
# What the comparison shows of a long text: enough to see what changed.
_DIFF_MAX_LINES = 200


def _readable(name: str, value: Any) -> str:
    if value in (None, ""):
        return "(empty)"
    if name == "published_at":
        return f"{timezone.localtime(value):%d %b %Y, %H:%M}"
    if name == "estimated_minutes":
        return f"{value} min"
    return str(value)


# Where a block of text ends in sanitised HTML: its sentences never run into the next block's
# (a walk-through read "Click here Label namespaces with…" across two paragraphs).
_BLOCK_END = re.compile(r"(?i)</(?:p|li|h[1-6]|blockquote|pre|div|td|th|dd|dt)>|<br\s*/?>")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _sentences(html: str) -> list[str]:
    blocks = _BLOCK_END.split(sanitize_html(html))
    return [
        sentence
        for block in blocks
        for sentence in _SENTENCE_END.split(sanitised_text(block))
        if sentence
    ]


def _text_diff(ours: str, theirs: str) -> list[tuple[str, str]]:
    """The texts' sentences that differ, as (sign, sentence): "-" only in ours, "+" only in
    the author's, " " for one sentence of both around them, and "…" where sentences both
    have are left out. From sanitised HTML, never markup."""
    mine, authors = _sentences(ours), _sentences(theirs)
    rows: list[tuple[str, str]] = []
    end = 0
    for group in difflib.SequenceMatcher(None, mine, authors).get_grouped_opcodes(1):
        if group[0][1] > end:
            rows.append(("…", ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend((" ", sentence) for sentence in mine[i1:i2])
                continue
            rows.extend(("-", sentence) for sentence in mine[i1:i2])
            rows.extend(("+", sentence) for sentence in authors[j1:j2])
        end = group[-1][2]
    if rows and end < len(mine):
        rows.append(("…", ""))
    return rows[:_DIFF_MAX_LINES]


class AuthorUpdateDecisionForm(forms.Form):
    take = forms.MultipleChoiceField(
        choices=[(name, label) for name, label in _FIELD_NAMES.items()],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    decision = forms.ChoiceField(choices=[("take", "take"), ("keep", "keep")])
    # The author's version the page showed (AuthorUpdate.version).
    version = forms.CharField(max_length=64)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("decision") == "take" and not cleaned.get("take"):
            raise forms.ValidationError(
                "Check the fields to take from the author's version, or keep yours."
            )
        return cleaned


class AuthorUpdateStateFilter(admin.SimpleListFilter):
    """By state, waiting unless another is chosen: the list opens on what needs a decision,
    and "All" stays one click away (Django's "All" drops the parameter)."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [*AuthorUpdate.State.choices, ("all", "All")]

    def value(self) -> str:
        return super().value() or AuthorUpdate.State.WAITING

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        return queryset if value == "all" else queryset.filter(state=value)


@admin.register(AuthorUpdate)
class AuthorUpdateAdmin(GoesWithItsResource):
    """Authors' edits of resources a curator already decided on: compare, take or keep."""

    list_display = ["resource", "what_changed", "seen_at", "state"]
    list_filter = [AuthorUpdateStateFilter]
    list_select_related = ["resource"]
    ordering = ["-seen_at"]
    search_fields = ["resource__title", "title"]

    class Media:
        css = {"all": ["catalog/admin.css"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # polls file them

    # Not deleted on its own ("Keep yours" settles one; deleting would forget the version
    # seen), only with its resource (GoesWithItsResource).

    @admin.display(description="what changed")
    def what_changed(self, obj: AuthorUpdate) -> str:
        return ", ".join(_FIELD_NAMES[name] for name in obj.changed if name in _FIELD_NAMES)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        # Not Django's "Select author update to change".
        title = "Authors' edits of reviewed resources: open one to compare and decide"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        """The comparison page: each changed field, yours beside the author's; take the
        checked ones or keep yours."""
        update = self.get_object(request, object_id)
        if update is None:
            raise Http404("No such author's update.")
        if not self.has_view_or_change_permission(request, update):
            raise PermissionDenied
        resource = update.resource
        differing = [
            name for name in FEED_FIELDS if getattr(resource, name) != getattr(update, name)
        ]
        form = AuthorUpdateDecisionForm(
            request.POST or None, initial={"take": [n for n in differing if n in update.changed]}
        )
        if request.method == "POST":
            if not self.has_change_permission(request, update):
                raise PermissionDenied
            if form.is_valid():
                return self._decide(request, update, form.cleaned_data)
        rows = [
            {
                "name": name,
                "label": _FIELD_NAMES[name],
                "ours": _readable(name, getattr(resource, name)),
                "theirs": _readable(name, getattr(update, name)),
                "diff": _text_diff(resource.content_html, update.content_html)
                if name == "content_html"
                else None,
            }
            for name in differing
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"The author's update of “{resource.title}”",
            "opts": self.opts,
            "original": update,
            "resource": resource,
            "update": update,
            "rows": rows,
            "form": form,
            "waiting": update.state == AuthorUpdate.State.WAITING,
            "can_change": self.has_change_permission(request, update),
        }
        return render(request, "admin/catalog/authorupdate/decide.html", context)

    def _decide(self, request: HttpRequest, update: AuthorUpdate, data: dict) -> HttpResponse:
        resource = update.resource
        version = data["version"]
        if data["decision"] == "keep":
            outcome = services.author_update_keep(update=update, by=request.user, version=version)
            said = "Kept your version; this version of the author's will not be asked again."
        else:
            outcome = services.author_update_take(
                update=update, fields=data["take"], by=request.user, version=version
            )
            taken = ", ".join(_FIELD_NAMES[name] for name in data["take"])
            said = f"Took the author's {taken}."
            if resource.status == Status.APPROVED:
                said += " Learners read the new version now."
        if outcome == services.EDITED_AGAIN:
            # Back to the comparison, now of the newest edit: nothing decided unseen.
            self.message_user(
                request,
                "Nothing changed: the author edited the post again while you compared. "
                "Below is the newest version; decide on it.",
                messages.WARNING,
            )
            return redirect(request.path)
        if outcome == services.DECIDED_ALREADY:
            self.message_user(
                request,
                "Nothing changed: another curator decided on this update first.",
                messages.WARNING,
            )
        else:
            self.message_user(request, said, messages.SUCCESS)
        return redirect("admin:catalog_resource_change", resource.pk)


# --- The curators' home page ----------------------------------------------------------------------


def curation_to_do(request: HttpRequest) -> list[dict[str, Any]]:
    """What waits for a curator, each with its count and the list that shows it (only what
    this curator may see; nothing when all is done)."""
    user = request.user
    candidates = [
        (
            "catalog.view_resource",
            "item to review",
            "items to review",
            Resource.objects.filter(status=Status.PENDING),
            reverse("admin:catalog_pendingresource_changelist"),
        ),
        (
            "catalog.view_authorupdate",
            "author's edit to compare",
            "authors' edits to compare",
            AuthorUpdate.objects.filter(state=AuthorUpdate.State.WAITING),
            f"{reverse('admin:catalog_authorupdate_changelist')}?state=waiting",
        ),
        # Each feed once, in its health as the feed list's filter has it (a walk-through's
        # home page said "1 failing feed" beside three whose check failed, three damaged
        # documents, two failing links and two staleness flags, none of them counted).
        *(
            (
                "catalog.view_feed",
                one,
                many,
                FeedHealthFilter.matching(Feed.objects.all(), health),
                f"{reverse('admin:catalog_feed_changelist')}?health={health}",
            )
            for health, one, many in [
                ("check-failed", "feed whose check failed", "feeds whose check failed"),
                ("failing", "failing feed", "failing feeds"),
                ("warning", "feed with a damaged document", "feeds with a damaged document"),
            ]
        ),
        *(
            (
                "catalog.view_resourcelink",
                one,
                many,
                ResourceLink.objects.filter(status=status, resource__status=Status.APPROVED),
                f"{reverse('admin:catalog_resourcelink_changelist')}?status__exact={status}",
            )
            for status, one, many in [
                (LinkStatus.FAILING, "failing link", "failing links"),
                (LinkStatus.GONE, "link gone", "links gone"),
            ]
        ),
        (
            "catalog.view_stalenessflag",
            "staleness flag to review",
            "staleness flags to review",
            StalenessFlag.objects.filter(state=FlagState.RAISED),
            f"{reverse('admin:catalog_stalenessflag_changelist')}?state__exact={FlagState.RAISED}",
        ),
    ]
    to_do = []
    for permission, one, many, queryset, url in candidates:
        if not user.has_perm(permission):
            continue
        count = queryset.count()
        if count:
            to_do.append({"count": count, "label": one if count == 1 else many, "url": url})
    return to_do


# The curators' site (kubelearn.admin_site) shows it on its home page.
_to_do_register = getattr(admin.site, "to_do_register", None)
if _to_do_register is not None:
    _to_do_register(curation_to_do)
