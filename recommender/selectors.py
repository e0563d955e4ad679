"""Reads for the recommender: the catalog as engine Documents, a learner as an engine Learner."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from catalog import selectors as catalog_selectors
from catalog.models import (
    Deprecation,
    LearningPath,
    LinkStatus,
    PathStep,
    Resource,
    SecurityArea,
    Status,
    Tag,
    needs_link_q,
)
from recommender import folding
from recommender.engine import Document, Interaction, Learner
from recommender.models import FittedModel, LearnerProfile, Note, Progress, ProgressState

if TYPE_CHECKING:
    from datetime import datetime

    from django.contrib.auth.models import User


def primary_path() -> LearningPath | None:
    """The learning path the recommender follows (setting RECOMMENDER_PATH_SLUG)."""
    return (
        LearningPath.objects.filter(slug=settings.RECOMMENDER_PATH_SLUG).first()
        or LearningPath.objects.order_by("pk").first()
    )


def engine_documents() -> list[Document]:
    """Every approved resource as an engine Document, in five flat queries.

    Plain tuples rather than model instances: at 100k resources, instances with prefetched
    relations cost several hundred MiB in the refit worker for nothing.
    """
    path = primary_path()
    positions: dict[int, int] = {}
    gone = catalog_selectors.gone_resource_ids()
    if path is not None:
        steps = (
            PathStep.objects.filter(path=path, resource__status="approved")
            .exclude(resource_id__in=gone)
            .order_by("position")
        )
        # Re-number over approved steps only, so a hidden step never blocks the path.
        for position, resource_id in enumerate(steps.values_list("resource_id", flat=True), 1):
            positions[resource_id] = position
    # A resource whose address is gone is never recommended (a link check's change of "gone"
    # notifies the catalog, so the model is refitted without it).
    approved = catalog_selectors.approved_resources().exclude(pk__in=gone)
    tags: dict[int, list[str]] = defaultdict(list)
    for resource_id, slug in Resource.tags.through.objects.filter(
        resource__in=approved
    ).values_list("resource_id", "tag__slug"):
        tags[resource_id].append(slug)
    areas: dict[int, list[str]] = defaultdict(list)
    for resource_id, slug in Resource.security_areas.through.objects.filter(
        resource__in=approved
    ).values_list("resource_id", "securityarea__slug"):
        areas[resource_id].append(slug)
    completions = dict(
        Progress.objects.filter(  # "known" ones were not read: "Other learners completed it"
            state=ProgressState.COMPLETED, known=False, resource__in=approved
        )
        .values("resource_id")
        .annotate(n=Count("pk"))
        .values_list("resource_id", "n")
    )
    rows = approved.order_by("pk").values_list(
        "pk", "title", "summary", "kind", "stage", "difficulty", "estimated_minutes"
    )
    return [
        _document(
            doc_id=pk,
            title=title,
            summary=summary,
            tags=tags.get(pk, ()),
            areas=areas.get(pk, ()),
            kind=kind,
            stage=stage,
            difficulty=difficulty,
            minutes=minutes,
            path_position=positions.get(pk),
            popularity=float(completions.get(pk, 0)),
        )
        for pk, title, summary, kind, stage, difficulty, minutes in rows.iterator(chunk_size=5000)
    ]


def unlinked_ids(*, off_path: bool) -> list[int]:
    """Approved resources with no address (``off_path``: only those that are not
    learning-path steps), not served here either (a guide kubelearn serves itself is read on
    its own page: it was never queued, and an empty queue said everything was read while the
    Focus page counted it unread)."""
    unlinked = Resource.objects.filter(needs_link_q(), status=Status.APPROVED)
    if off_path:
        unlinked = unlinked.filter(path_steps__isnull=True)
    return list(unlinked.values_list("pk", flat=True))


def queue_changed_at(*, user: User) -> datetime | None:
    """When the learner's queue last changed as far as the database says: their latest
    progress or profile write, the latest model fit (a catalog change), or the latest
    "Not now" to have come back (its item returned to the queue then, with no write: the
    private feed kept its old date and dated the returned entry before its return, a
    walk-through); None when none is known. (A cleared progress row leaves no trace here.)"""
    latest = {
        "progress": Progress.objects.filter(user=OuterRef("pk")).order_by("-updated_at"),
        "profile": LearnerProfile.objects.filter(user=OuterRef("pk")),
        "returned": Progress.objects.filter(
            user=OuterRef("pk"), later_until__lte=timezone.now()
        ).order_by("-later_until"),
    }
    moments = (
        type(user)
        .objects.filter(pk=user.pk)
        .values_list(
            Subquery(latest["progress"].values("updated_at")[:1]),
            Subquery(latest["profile"].values("updated_at")[:1]),
            Subquery(FittedModel.objects.order_by("-id").values("created_at")[:1]),
            Subquery(latest["returned"].values("later_until")[:1]),
        )
        .first()
    ) or ()
    return max((moment for moment in moments if moment is not None), default=None)


def path_alternatives() -> dict[int, frozenset[int]]:
    """Path steps that are alternatives of one another (the same ``one_of`` on one path:
    Docker Desktop on macOS, Minikube elsewhere), each with the other steps of its group. A
    learner needs one of a group. One query."""
    groups: dict[tuple[int, str], set[int]] = defaultdict(set)
    steps = (
        PathStep.objects.exclude(one_of="")
        .filter(resource__status=Status.APPROVED)
        .values_list("path_id", "one_of", "resource_id")
    )
    for path_id, one_of, resource_id in steps:
        groups[(path_id, one_of)].add(resource_id)
    others: dict[int, set[int]] = defaultdict(set)
    for members in groups.values():
        for resource_id in members:
            others[resource_id] |= members - {resource_id}
    return {resource_id: frozenset(found) for resource_id, found in others.items() if found}


def deprecations() -> dict[str, Deprecation]:
    """The deprecations table by slug (the runtime keeps it a minute per process)."""
    return {deprecation.slug: deprecation for deprecation in Deprecation.objects.all()}


def outdated_path_steps() -> dict[int, frozenset[int]]:
    """Path steps whose advice learners are told is outdated (a staleness flag shown), each
    with the resources that replace it outright: the successor a flag names when the step is
    the removed thing itself (Katacoda, the platform shut down, by Minikube), none when it
    only mentions it among much else (a 2017 talk on cluster security that mentions
    PodSecurityPolicy). One query."""
    flags = (
        catalog_selectors.staleness_flags_shown()
        .filter(resource__path_steps__isnull=False, resource__status=Status.APPROVED)
        .select_related("resource")
    )
    successors: dict[int, set[int]] = {}
    for flag in flags:
        found = successors.setdefault(flag.resource_id, set())
        successor_id = flag.deprecation.successor_resource_id
        if successor_id is not None and flag.deprecation.is_named_by(flag.resource.title):
            found.add(successor_id)
    return {resource_id: frozenset(found) for resource_id, found in successors.items()}


def resource_document(resource: Resource) -> Document:
    """One (usually pending) resource as the engine sees it, to suggest labels for it.

    Its id is negative so it can never collide with an approved resource in the model.
    `.all()` so a prefetched list page (the admin review queue) costs no query per row.
    """
    return _document(
        doc_id=-resource.pk,
        title=resource.title,
        summary=resource.summary,
        tags=[tag.slug for tag in resource.tags.all()],
        areas=[area.slug for area in resource.security_areas.all()],
        kind=resource.kind,
        stage=resource.stage,
        difficulty=resource.difficulty,
        minutes=resource.estimated_minutes,
        path_position=None,
    )


def _document(
    *,
    doc_id: int,
    title: str,
    summary: str,
    tags: Iterable[str],
    areas: Iterable[str],
    kind: str,
    stage: str,
    difficulty: int,
    minutes: int | None,
    path_position: int | None,
    popularity: float = 0.0,
) -> Document:
    """The one place a catalog resource becomes an engine Document."""
    return Document(
        id=doc_id,
        title=title,
        summary=summary,
        tags=tuple(sorted(tags)),
        areas=tuple(sorted(areas)),
        kind=kind,
        stage=stage,
        difficulty=difficulty,
        minutes=minutes,
        path_position=path_position,
        popularity=popularity,
    )


def learner_profile(*, user: User) -> LearnerProfile | None:
    return LearnerProfile.objects.filter(user=user).prefetch_related("focus__area").first()


def level_and_focus(*, user: User) -> tuple[int | None, dict[str, float]]:
    """The level the learner declared, if any, and their focus, {area slug: weight}: one
    query (a row per focus area, or one without)."""
    rows = LearnerProfile.objects.filter(user=user).values_list(
        "level", "focus__area__slug", "focus__weight"
    )
    found = list(rows)
    focus = {slug: weight for _, slug, weight in found if slug is not None}
    return (found[0][0] if found else None), focus


def saved_budget(*, user: User) -> int | None:
    """The learner's saved time budget in minutes, if any (one query, no focus)."""
    return LearnerProfile.objects.filter(user=user).values_list("minutes_budget", flat=True).first()


def engine_learner(*, user: User) -> Learner:
    """The learner's progress and profile as the engine sees them."""
    now = timezone.now()
    interactions = tuple(
        Interaction(
            doc_id=resource_id,
            state=state,
            rating=rating,
            age_days=max((now - updated_at).total_seconds() / 86400, 0.0),
            known=known,
            later=later_until is not None and later_until > now,
            returned=later_until is not None and later_until <= now,
        )
        for resource_id, state, rating, updated_at, known, later_until in Progress.objects.filter(
            user=user
        ).values_list("resource_id", "state", "rating", "updated_at", "known", "later_until")
    )
    # The profile and its focus in one query (a row per focus area, or one without).
    rows = list(
        LearnerProfile.objects.filter(user=user).values_list(
            "level", "minutes_budget", "focus__area__slug", "focus__weight"
        )
    )
    focus = {slug: weight for _, _, slug, weight in rows if slug is not None}
    return Learner(
        interactions=interactions,
        focus=focus,
        level=rows[0][0] if rows else None,
        minutes_budget=rows[0][1] if rows else None,
    )


def progress_list(*, user: User) -> QuerySet[Progress]:
    return Progress.objects.filter(user=user).select_related("resource", "resource__link")


def open_in_areas(*, user: User, areas: Iterable[str]) -> bool:
    """Whether any approved resource in these security areas (slugs) is still open to the
    learner: not completed (read or known) and not skipped."""
    finished = Progress.objects.filter(
        user=user, state__in=[ProgressState.COMPLETED, ProgressState.SKIPPED]
    ).values("resource_id")
    return (
        catalog_selectors.approved_resources()
        .filter(security_areas__slug__in=list(areas))
        .exclude(pk__in=finished)
        .exists()
    )


def note_list(*, user: User, search: str = "", withdrawn: bool = False) -> QuerySet[Note]:
    """The learner's notes on resources they may see now (the catalog's rule, as for a
    resource's page: approved ones, and for curators pending and rejected ones too), the most
    recently written first. A note on a withdrawn resource is kept but not listed: it has no
    page to go back to, and the API answers 404 for that resource. ``withdrawn`` lists those
    too, each annotated ``withdrawn``: the Notes page said "No notes yet." to a learner whose
    only note was on a resource a curator had rejected (a walk-through).

    `search` keeps the notes whose text or resource title contains it, case and accents
    ignored (recommender.folding: "cafe" finds "café", "STRASSE" finds "Straße"): a learner's
    own notes are few enough to be read and compared here, and a note is searched for the
    words as written (a command, a flag), not for stemmed terms. (SQLite's LIKE folded the
    case of ASCII letters only; no database folds accents without an extension.)
    """
    visible = catalog_selectors.resource_list(user=user, relations=False)
    notes: QuerySet[Note]
    if withdrawn:
        notes = Note.objects.filter(user=user).annotate(
            withdrawn=~Exists(visible.filter(pk=OuterRef("resource_id")))
        )
    else:
        notes = Note.objects.filter(user=user, resource__in=visible.values("pk"))
    if search:
        wanted = folding.folded(search)
        rows = notes.values_list("pk", "text", "resource__title")
        notes = notes.filter(
            pk__in=[
                pk
                for pk, text, title in rows
                if wanted in folding.folded(text) or wanted in folding.folded(title)
            ]
        )
    return notes.select_related("resource", "resource__link").order_by("-updated_at", "-pk")


def note_export(*, user: User) -> QuerySet[Note]:
    """Every note of the learner, on withdrawn resources too (their download keeps them all),
    the most recently written first."""
    return Note.objects.filter(user=user).select_related("resource").order_by("-updated_at", "-pk")


def note_of(*, user: User, resource_id: int) -> Note | None:
    """The learner's note on one resource, or None. One query."""
    return Note.objects.filter(user=user, resource_id=resource_id).first()


class LabelNames(NamedTuple):
    """Display names by slug, for the recommender's reasons."""

    areas: dict[str, str]
    tags: dict[str, str]


def label_names() -> LabelNames:
    """Security area and tag names by slug (the runtime keeps them a minute per process)."""
    return LabelNames(
        areas=dict(SecurityArea.objects.values_list("slug", "name")),
        tags=dict(Tag.objects.values_list("slug", "name")),
    )


def path_order(*, user: User, limit: int) -> list[Resource]:
    """The learning path's approved steps in order, minus what the learner finished or started.

    What the queue shows while no fitted model exists yet (recommendations warming up).
    """
    path = primary_path()
    if path is None:
        return []
    done = Progress.objects.filter(
        user=user,
        state__in=[ProgressState.COMPLETED, ProgressState.SKIPPED, ProgressState.IN_PROGRESS],
    ).values("resource_id")
    steps = (
        PathStep.objects.filter(path=path, resource__status="approved")
        .exclude(resource_id__in=done)
        .exclude(resource_id__in=catalog_selectors.gone_resource_ids())
        .select_related("resource", "resource__link")
        .order_by("position")[:limit]
    )
    return [step.resource for step in steps]


def resources_by_id(ids: list[int]) -> dict[int, Resource]:
    """The approved resources among `ids` whose address is not gone (one query; relations
    are fetched by the cards).

    A gone link is read from the joined link row rather than excluded by a subquery, and the
    rows come unordered (the caller orders them): planning that query cost more than running
    it, on every computed answer.
    """
    queryset = (
        catalog_selectors.approved_resources().filter(pk__in=ids).select_related("link").order_by()
    )
    return {
        resource.pk: resource for resource in queryset if resource.link_status != LinkStatus.GONE
    }
