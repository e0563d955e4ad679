"""Write-side business logic for the catalog: the one door every catalog writer goes through.

Every change to what learners can see — resources, their tags, authors and security areas,
learning paths — goes through a service here, whoever the writer is (the API, the admin's
save, delete and bulk actions, the feed poller, the seed loader, the recommender's label
suggestions). Each service tells listeners that the catalog changed, once the transaction
commits, by itself: callers never notify by hand. The recommender listens
(`catalog.signals.catalog_changed`) to bump the catalog version and refit; the catalog never
imports it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, models, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from catalog import pages, selectors
from catalog.addresses import InvalidAddress, canonical_url
from catalog.models import (
    FEED_FIELDS,
    Author,
    AuthorUpdate,
    LearningPath,
    PathStep,
    Resource,
    SecurityArea,
    Status,
    Tag,
)
from catalog.selectors import CURATORS_GROUP
from catalog.signals import catalog_changed

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.auth.models import User as Account

    # Views pass request.user, which may be anonymous by type (permissions rule that out).
    User = Account | AnonymousUser

logger = logging.getLogger(__name__)


# --- Change notification -----------------------------------------------------------------------


def _catalog_changed() -> None:
    """Tell listeners (the recommender) that approved content may have changed, once committed.

    Private on purpose: a writer outside this module cannot forget to call it, because it
    cannot call it at all — it calls a service, which does.
    """
    # Cached public pages: unreachable at once, and again once committed (catalog.pages).
    pages.version_bump()
    transaction.on_commit(_catalog_committed)


def _catalog_committed() -> None:
    pages.version_bump()
    catalog_changed.send(sender=Resource)


# --- Addresses ---------------------------------------------------------------------------------


class DuplicateAddress(Exception):
    """Another resource already has this canonical address."""

    def __init__(self, existing: Resource) -> None:
        super().__init__(f"Resource {existing.pk} already has this address.")
        self.existing = existing


MAX_ADDRESS_LENGTH = 2000  # Resource.url's column


def address_check(address: str | None, *, resource_pk: int | None = None) -> str | None:
    """The canonical form of an optional address, if no other resource holds it.

    The one address check shared by the admin form, the API serializer and `resource_save`.
    Raises InvalidAddress on garbage and DuplicateAddress when another resource has it.
    """
    if not address:
        return None
    canonical = canonical_url(address)
    if len(canonical) > MAX_ADDRESS_LENGTH:
        raise InvalidAddress(f"The address is longer than {MAX_ADDRESS_LENGTH} characters.")
    owner = _address_owner(canonical, exclude_pk=resource_pk)
    if owner is not None:
        raise DuplicateAddress(owner)
    return canonical


def _address_owner(address: str | None, *, exclude_pk: int | None = None) -> Resource | None:
    if not address:
        return None
    queryset = Resource.objects.filter(url=address)
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    return queryset.first()


# --- Resources ---------------------------------------------------------------------------------

_M2M_FIELDS = ("authors", "tags", "security_areas")


@transaction.atomic
def resource_save(
    *,
    resource: Resource | None,
    fields: dict[str, Any] | None = None,
    by: User | None,
    edited: Iterable[str] | None = None,
) -> Resource:
    """Create (resource=None) or update a resource from validated fields.

    With no fields, the given (already modified) instance is saved as it is: the admin's
    form has filled it in, and `edited` names the fields it changed (else those of `fields`
    whose value differs are). A feed's resource whose FEED_FIELDS a curator edited keeps their
    version: later polls no longer write over it (curator_edited_at). Many-to-many values
    are replaced when present. A canonical-address clash — including one that appears
    between validation and commit — raises DuplicateAddress rather than a database error.
    """
    instance = resource or Resource()
    fields = dict(fields or {})
    if edited is None:  # the API: a PUT sends every field, changed or not
        edited = [
            name
            for name in FEED_FIELDS
            if name in fields and fields[name] != getattr(instance, name)
        ]
    if instance.pk and instance.feed_id and set(edited) & set(FEED_FIELDS):
        instance.curator_edited_at = timezone.now()
    m2m = {name: fields.pop(name) for name in _M2M_FIELDS if name in fields}
    if "url" in fields:
        fields["url"] = address_check(fields["url"], resource_pk=instance.pk)
    for name, value in fields.items():
        setattr(instance, name, value)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        owner = _address_owner(instance.url, exclude_pk=instance.pk)
        if owner is not None:
            raise DuplicateAddress(owner) from None
        raise
    for name, values in m2m.items():
        getattr(instance, name).set(values)
    logger.info("Resource %s saved by %s", instance.pk, getattr(by, "pk", None))
    _catalog_changed()
    return instance


class UsedByLearners(Exception):
    """Deleting would take learners' progress and notes with the resource."""

    def __init__(self, resource_ids: list[int]) -> None:
        super().__init__(LEARNERS_DATA_KEPT)
        self.resource_ids = resource_ids


# Why a resource learners have used is not deleted, and what to do instead (the API's 409 and
# the admin's delete page).
LEARNERS_DATA_KEPT = (
    "Learners have progress or notes on this resource. They are the learners', and deleting the "
    "resource would delete them too: reject it instead, which takes it out of the catalog and "
    "keeps their history."
)


def _refuse_if_used(ids: list[int], *, learners_data_too: bool) -> None:
    if learners_data_too:
        return
    used = list(selectors.used_by_learners(ids).values_list("pk", flat=True).distinct())
    if used:
        raise UsedByLearners(sorted(used))


@transaction.atomic
def resource_delete(
    *, resource: Resource, by: User | None, learners_data_too: bool = False
) -> None:
    """Delete one resource; refused (UsedByLearners) while learners have progress or notes on
    it, unless learners_data_too (no page or endpoint asks for that: learners' data is
    theirs; a test, or a shell, may)."""
    _refuse_if_used([resource.pk], learners_data_too=learners_data_too)
    logger.info(
        "Resource %s (%s) deleted by %s", resource.pk, resource.url, getattr(by, "pk", None)
    )
    resource.delete()
    _catalog_changed()


@transaction.atomic
def resources_delete(
    *, resources: QuerySet[Resource], by: User | None, learners_data_too: bool = False
) -> int:
    """Bulk delete (the admin's action); returns how many resources were deleted. Refused as a
    whole (UsedByLearners) when learners used any of them, unless learners_data_too."""
    ids = list(resources.values_list("pk", flat=True))
    _refuse_if_used(ids, learners_data_too=learners_data_too)
    Resource.objects.filter(pk__in=ids).delete()
    logger.info("%s resources deleted by %s", len(ids), getattr(by, "pk", None))
    if ids:
        _catalog_changed()
    return len(ids)


def _set_status(
    resources: Iterable[Resource] | QuerySet[Resource], status: str, by: User | None
) -> int:
    ids = [resource.pk for resource in resources]
    now = timezone.now()
    reviewer = by if by is not None and by.is_authenticated else None
    changed = (
        Resource.objects.filter(pk__in=ids)
        .exclude(status=status)
        .update(status=status, reviewed_at=now, reviewed_by=reviewer, updated_at=now)
    )
    logger.info("%s resources marked %s by %s", changed, status, getattr(by, "pk", None))
    if changed:
        _catalog_changed()
    return changed


def resource_approve(*, resource: Resource, by: User | None) -> Resource:
    """Publish one resource. Approving an approved resource changes nothing."""
    _set_status([resource], Status.APPROVED, by)
    resource.refresh_from_db()
    return resource


def resource_reject(*, resource: Resource, by: User | None) -> Resource:
    """Hide one resource from learners; it stays stored so a re-poll cannot bring it back."""
    _set_status([resource], Status.REJECTED, by)
    resource.refresh_from_db()
    return resource


def resources_approve(*, resources: QuerySet[Resource], by: User | None) -> int:
    """Bulk approve; returns how many changed status."""
    return _set_status(resources, Status.APPROVED, by)


def resources_reject(*, resources: QuerySet[Resource], by: User | None) -> int:
    """Bulk reject; returns how many changed status."""
    return _set_status(resources, Status.REJECTED, by)


# --- Authors' updates of reviewed resources ------------------------------------------------------


#: What a curator's decision on an author's update did.
DECIDED, DECIDED_ALREADY, EDITED_AGAIN = "decided", "decided already", "edited again"


@transaction.atomic
def author_update_take(
    *, update: AuthorUpdate, fields: Iterable[str], by: User | None, version: str | None = None
) -> str:
    """Write the chosen fields of the author's update over the resource, as a curator's edit
    (later polls keep it, as they keep any), and settle the update.

    Changes nothing for an update decided already (another curator, a second tab, a double
    submit), or, given the `version` the curator saw, one the author edited again since.
    """
    update = AuthorUpdate.objects.select_for_update().select_related("resource").get(pk=update.pk)
    refused = _author_update_refused(update, version)
    if refused:
        return refused
    chosen = {name: getattr(update, name) for name in FEED_FIELDS if name in set(fields)}
    resource_save(resource=update.resource, fields=chosen, by=by, edited=list(chosen))
    _author_update_settle(update, AuthorUpdate.State.TAKEN, by)
    return DECIDED


@transaction.atomic
def author_update_keep(*, update: AuthorUpdate, by: User | None, version: str | None = None) -> str:
    """Keep the curator's version; the author's update is remembered as seen, so a later
    poll of the same text asks nothing again. Refused as author_update_take is."""
    update = AuthorUpdate.objects.select_for_update().get(pk=update.pk)
    refused = _author_update_refused(update, version)
    if refused:
        return refused
    _author_update_settle(update, AuthorUpdate.State.KEPT, by)
    return DECIDED


def _author_update_refused(update: AuthorUpdate, version: str | None) -> str:
    if update.state != AuthorUpdate.State.WAITING:
        return DECIDED_ALREADY
    if version is not None and version != update.version:
        return EDITED_AGAIN
    return ""


def _author_update_settle(update: AuthorUpdate, state: str, by: User | None) -> None:
    update.state = state
    update.decided_at = timezone.now()
    update.decided_by = by if by is not None and by.is_authenticated else None
    update.save(update_fields=["state", "decided_at", "decided_by"])
    logger.info("Author update %s %s by %s", update.pk, state, getattr(by, "pk", None))


@transaction.atomic
def resource_labels_add(
    *, resource: Resource, tags: Sequence[str] = (), areas: Sequence[str] = (), stage: str = ""
) -> bool:
    """Add tags and areas (by slug) and set the stage; labels are only added, never removed.

    The recommender's one-click suggestions write through here. Returns whether anything
    was asked for.
    """
    if tags:
        resource.tags.add(*Tag.objects.filter(slug__in=tags))
    if areas:
        resource.security_areas.add(*SecurityArea.objects.filter(slug__in=areas))
    if stage and resource.stage != stage:
        Resource.objects.filter(pk=resource.pk).update(stage=stage, updated_at=timezone.now())
        resource.stage = stage
    touched = bool(tags or areas or stage)
    if touched:
        _catalog_changed()
    return touched


def feed_entries_stored(*, trusted: bool, new: int, updated: int) -> None:
    """The poller stored entries of one feed (see catalog.feeds.store).

    Only approved content matters to learners: entries of an untrusted feed wait for
    review as pending resources and change nothing yet.
    """
    if trusted and (new or updated):
        _catalog_changed()


def resource_health_changed(*, resource_ids: Sequence[int], refit: bool) -> None:
    """What learners see of these resources' health changed (catalog.health): a link state,
    or a staleness flag.

    Their `updated_at` moves (queue cards are cached by it) and cached pages are dropped.
    `refit`: the change alters what may be recommended (a link became gone, or came back),
    so listeners are told the catalog changed; otherwise the recommender reads health per
    request and needs no refit.
    """
    ids = list(resource_ids)
    if not ids:
        return
    Resource.objects.filter(pk__in=ids).update(updated_at=timezone.now())
    if refit:
        _catalog_changed()
    else:
        pages.version_bump()
        transaction.on_commit(pages.version_bump)


# --- Tags, authors, security areas (their names feed the recommender's text) and paths ---------

_Row = TypeVar("_Row", bound=models.Model)


@transaction.atomic
def _row_save(row: _Row, fields: dict[str, Any] | None, by: User | None) -> _Row:
    for name, value in (fields or {}).items():
        setattr(row, name, value)
    row.save()
    logger.info("%s %s saved by %s", type(row).__name__, row.pk, getattr(by, "pk", None))
    _catalog_changed()
    return row


@transaction.atomic
def _rows_delete(rows: QuerySet[Any], by: User | None) -> int:
    ids = list(rows.values_list("pk", flat=True))
    rows.model.objects.filter(pk__in=ids).delete()
    logger.info("%s %s deleted by %s", len(ids), rows.model.__name__, getattr(by, "pk", None))
    if ids:
        _catalog_changed()
    return len(ids)


def tag_save(*, tag: Tag | None, fields: dict[str, Any] | None = None, by: User | None) -> Tag:
    return _row_save(tag or Tag(), fields, by)


def tags_delete(*, tags: QuerySet[Tag], by: User | None) -> int:
    return _rows_delete(tags, by)


def author_save(
    *, author: Author | None, fields: dict[str, Any] | None = None, by: User | None
) -> Author:
    return _row_save(author or Author(), fields, by)


def authors_delete(*, authors: QuerySet[Author], by: User | None) -> int:
    return _rows_delete(authors, by)


def area_save(
    *, area: SecurityArea | None, fields: dict[str, Any] | None = None, by: User | None
) -> SecurityArea:
    return _row_save(area or SecurityArea(), fields, by)


def areas_delete(*, areas: QuerySet[SecurityArea], by: User | None) -> int:
    return _rows_delete(areas, by)


def path_save(
    *, path: LearningPath | None, fields: dict[str, Any] | None = None, by: User | None
) -> LearningPath:
    """Save a learning path; its steps are saved in the same transaction (admin inlines)."""
    return _row_save(path or LearningPath(), fields, by)


@transaction.atomic
def path_step_move(*, step: PathStep, offset: int, by: User | None) -> bool:
    """Move a step up (offset -1) or down (+1) by swapping places with its neighbour.

    Returns False at either end of the path. Positions stay unique throughout: the step is
    parked past the end while its neighbour takes its place.
    """
    steps = PathStep.objects.select_for_update().filter(path_id=step.path_id)
    step = steps.get(pk=step.pk)
    neighbour_query = (
        steps.filter(position__lt=step.position).order_by("-position")
        if offset < 0
        else steps.filter(position__gt=step.position).order_by("position")
    )
    neighbour = neighbour_query.first()
    if neighbour is None:
        return False
    parked = (steps.aggregate(end=Max("position"))["end"] or 0) + 1
    mine, theirs = step.position, neighbour.position
    PathStep.objects.filter(pk=step.pk).update(position=parked)
    PathStep.objects.filter(pk=neighbour.pk).update(position=mine)
    PathStep.objects.filter(pk=step.pk).update(position=theirs)
    logger.info(
        "Path %s: step %s moved from %s to %s by %s", step.path_id, step.pk, mine, theirs, by
    )
    _catalog_changed()
    return True


def paths_delete(*, paths: QuerySet[LearningPath], by: User | None) -> int:
    return _rows_delete(paths, by)


# --- Bulk loads --------------------------------------------------------------------------------


def seed_loaded(*, changes: int) -> None:
    """The seed loader (catalog.seeding) wrote `changes` rows in its own transaction."""
    if changes:
        _catalog_changed()


# --- Curators ----------------------------------------------------------------------------------


def curators_group_ensure(**kwargs: Any) -> None:
    """The `curators` group exists and may do everything to the catalog's rows in the admin
    (resources and their review, feeds, paths, tags, authors, areas, link health): what the
    API lets its members do. Run after every migrate (a new model's permissions come with
    it); permissions given by hand stay. Learners' progress and notes are not the catalog's."""
    group, _ = Group.objects.get_or_create(name=CURATORS_GROUP)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="catalog"))
