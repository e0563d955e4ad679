"""Read-side queries for the catalog. Other apps (the recommender) read the catalog here."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import connection, models
from django.db.models import Prefetch, QuerySet

from catalog import pages, search
from catalog.addresses import other_spellings
from catalog.models import (
    Author,
    Deprecation,
    FlagState,
    LearningPath,
    LinkStatus,
    PathStep,
    Resource,
    ResourceLink,
    SecurityArea,
    StalenessFlag,
    Status,
    Tag,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest
    from rest_framework.request import Request

CURATORS_GROUP = "curators"


def user_is_curator(user: User | AnonymousUser | None) -> bool:
    """Curators are staff or members of the `curators` group."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return user.groups.filter(name=CURATORS_GROUP).exists()


def request_user_is_curator(request: HttpRequest | Request | None) -> bool:
    """`user_is_curator` for the request's user, asked of the database once per request: an
    API list needs the answer for its queryset, its page cache and its filters."""
    if request is None:
        return False
    known = vars(request)  # the request object's own attributes: it lives as long as the request
    if "_user_is_curator" not in known:
        known["_user_is_curator"] = user_is_curator(getattr(request, "user", None))
    return known["_user_is_curator"]


def resource_list(
    *, user: User | AnonymousUser | None, relations: bool = True, curator: bool | None = None
) -> QuerySet[Resource]:
    """Resources this user may see, with everything a resource's page shows prefetched.

    Everyone sees approved resources; curators also see pending and rejected ones (`curator`,
    when the caller knows already, saves asking). A list passes `relations=False` and reads a
    page's relations with `resource_relations`.
    """
    # The link's health comes in the same query (a one-to-one join).
    queryset = Resource.objects.select_related("link")
    if relations:
        queryset = queryset.prefetch_related(*RESOURCE_PREFETCH)
    if not (user_is_curator(user) if curator is None else curator):
        queryset = queryset.filter(status=Status.APPROVED)
    return queryset


def staleness_flags_shown() -> QuerySet[StalenessFlag]:
    """Flags learners see (dismissed ones are a curator's "not stale"), with their row."""
    return StalenessFlag.objects.exclude(state=FlagState.DISMISSED).select_related("deprecation")


# What a resource's page (and a queue card) shows besides its own columns.
RESOURCE_PREFETCH = (
    "tags",
    "authors",
    "security_areas",
    Prefetch("path_steps", queryset=PathStep.objects.select_related("path")),
    Prefetch("staleness_flags", queryset=staleness_flags_shown()),
)


class ResourceRelations(TypedDict):
    """A resource's taxonomy, path places and staleness flags, as the API shows them."""

    authors: list[dict[str, Any]]
    tags: list[dict[str, Any]]
    security_areas: list[dict[str, Any]]
    path_steps: list[dict[str, Any]]
    staleness: list[dict[str, Any]]


def resource_relations(resource_ids: Sequence[int]) -> dict[int, ResourceRelations]:
    """The relations of these resources in one flat query, without model instances.

    Ordered as the models order them (tags, authors, areas by name; path places by the
    path's title, then position). One UNION instead of four ORM queries: on a list page the
    ORM's per-query overhead was most of the time this takes.
    """
    found: dict[int, ResourceRelations] = {
        pk: {"authors": [], "tags": [], "security_areas": [], "path_steps": [], "staleness": []}
        for pk in resource_ids
    }
    if not found:
        return found
    ids = list(found)
    with connection.cursor() as cursor:
        cursor.execute(_relations_sql(len(ids)), ids * 5)
        rows = cursor.fetchall()
    for kind, pk, slug, name, text, position, _, _ in rows:
        if kind == 0:
            found[pk]["tags"].append({"slug": slug, "name": name})
        elif kind == 1:
            found[pk]["authors"].append({"slug": slug, "name": name, "homepage": text})
        elif kind == 2:
            found[pk]["security_areas"].append({"slug": slug, "name": name, "description": text})
        elif kind == 3:
            found[pk]["path_steps"].append({"path": slug, "position": position})
        else:
            found[pk]["staleness"].append(
                {
                    "deprecation": slug,
                    "sentence": name,
                    "state": text,
                    "successor": position or None,
                }
            )
    return found


def _relations_sql(count: int) -> str:
    # Columns: kind, resource id, slug, name, homepage/description, position, sort keys.
    # Only table names (from the models) and placeholders are put into the text.
    marks = ", ".join(["%s"] * count)

    def labels(kind: int, field: str, model: type[models.Model], extra: str) -> str:
        through = Resource._meta.get_field(field).remote_field.through  # type: ignore[union-attr]
        column = through._meta.get_field(model._meta.model_name).column
        return (
            f"SELECT {kind}, x.resource_id, t.slug, t.name, {extra}, 0, t.name, t.id "  # noqa: S608
            f"FROM {through._meta.db_table} x JOIN {model._meta.db_table} t "
            f"ON t.id = x.{column} WHERE x.resource_id IN ({marks})"
        )

    steps = (
        f"SELECT 3, x.resource_id, p.slug, '', '', x.position, p.title, p.id "  # noqa: S608
        f"FROM {PathStep._meta.db_table} x JOIN {LearningPath._meta.db_table} p "
        f"ON p.id = x.path_id WHERE x.resource_id IN ({marks})"
    )
    # Staleness flags a learner sees: deprecation slug, sentence, state (a constant, not input)
    # and, in the position's column, the successor resource's id (0: none).
    flags = (
        f"SELECT 4, x.resource_id, d.slug, x.sentence, x.state, "  # noqa: S608
        f"COALESCE(d.successor_resource_id, 0), d.slug, d.id "
        f"FROM {StalenessFlag._meta.db_table} x JOIN {Deprecation._meta.db_table} d "
        f"ON d.id = x.deprecation_id WHERE x.resource_id IN ({marks}) "
        f"AND x.state <> '{FlagState.DISMISSED.value}'"
    )
    return (
        " UNION ALL ".join(
            [
                labels(0, "tags", Tag, "''"),
                labels(1, "authors", Author, "t.homepage"),
                labels(2, "security_areas", SecurityArea, "t.description"),
                steps,
                flags,
            ]
        )
        + " ORDER BY 1, 7, 8, 6"
    )


def gone_resource_ids() -> QuerySet[ResourceLink, int]:
    """Resources whose address is gone (a subquery; learners are not sent there)."""
    return ResourceLink.objects.filter(status=LinkStatus.GONE).values_list("pk", flat=True)


@dataclass(frozen=True)
class ResourceHealth:
    """What a learner should know before following a resource (queue reasons)."""

    failing_since: datetime | None = None
    # (sentence, successor resource id or None) per shown staleness flag.
    stale: tuple[tuple[str, int | None], ...] = ()


def health_of(resource: Resource) -> ResourceHealth | None:
    """A resource's failing link and shown staleness flags, or None when it has neither.

    Reads the rows already loaded: `resource.link` (select_related) and its staleness flags
    (RESOURCE_PREFETCH).
    """
    link = resource.link_health
    failing_since = (
        link.failing_since if link is not None and link.status == LinkStatus.FAILING else None
    )
    stale = tuple(
        (flag.sentence, flag.deprecation.successor_resource_id) for flag in resource.staleness
    )
    if failing_since is None and not stale:
        return None
    return ResourceHealth(failing_since=failing_since, stale=stale)


def used_by_learners(resource_ids: Sequence[int]) -> QuerySet[Resource]:
    """Those of these resources that some learner has progress or notes on."""
    return Resource.objects.filter(pk__in=resource_ids).filter(
        models.Q(progress__isnull=False) | models.Q(notes__isnull=False)
    )


def address_twins(resources: Sequence[Resource]) -> dict[int, Resource]:
    """For each of these resources, another resource at nearly its address (http/https,
    "www.", a trailing slash: catalog.addresses.other_spellings), if any. One query."""
    spellings = {
        resource.pk: other_spellings(resource.url) for resource in resources if resource.url
    }
    wanted = set().union(*spellings.values()) if spellings else set()
    if not wanted:
        return {}
    found = {
        twin.url: twin
        for twin in Resource.objects.filter(url__in=wanted).only("pk", "url", "status", "title")
    }
    twins: dict[int, Resource] = {}
    for pk, spelled in spellings.items():
        matches = sorted((found[url] for url in spelled if url in found), key=lambda r: r.pk)
        if matches and matches[0].pk != pk:
            twins[pk] = matches[0]
    return twins


def approved_resources() -> QuerySet[Resource]:
    return Resource.objects.filter(status=Status.APPROVED)


def path_list(*, user: User | AnonymousUser | None) -> QuerySet[LearningPath]:
    """Learning paths with their ordered steps; non-curators only see approved steps."""
    steps = PathStep.objects.select_related("resource").order_by("position")
    if not user_is_curator(user):
        steps = steps.filter(resource__status=Status.APPROVED)
    return LearningPath.objects.prefetch_related(Prefetch("steps", queryset=steps))


def resource_search(
    *, resources: QuerySet[Resource], text: str, approved_only: bool = True
) -> QuerySet[Resource]:
    """`resources` matching a learner's search words, each annotated with `search_rank`.

    The one search the API (`?search=`) and the browse page share; see catalog.search.
    ``approved_only=False`` when `resources` may hold pending or rejected ones (a curator's).
    """
    return search.resource_search(resources, text, approved_only=approved_only)


_VOCABULARY_WORD = re.compile(r"[^\W\d_]{3,}")
_vocabulary: tuple[str | None, tuple[str, ...]] = ("", ())


def _search_vocabulary() -> tuple[str, ...]:
    """The words of the approved catalog's titles and labels, lower-cased: what a misspelt
    search word is compared with. Kept per catalog read version (every catalog write moves
    it); without a reachable cache, made afresh."""
    global _vocabulary
    version = pages.version()
    if version is not None and _vocabulary[0] == version:
        return _vocabulary[1]
    approved = approved_resources()
    texts = [
        *approved.values_list("title", flat=True),
        *Tag.objects.filter(resources__in=approved).values_list("name", flat=True).distinct(),
        *SecurityArea.objects.values_list("name", flat=True),
        *Author.objects.filter(resources__in=approved).values_list("name", flat=True).distinct(),
    ]
    words = {word.lower() for text in texts for word in _VOCABULARY_WORD.findall(text)}
    # And the words search itself knows: "beginer", "serviceacount" and "rolebindng" were
    # offered nothing.
    words |= {*search.LEVEL_WORDS, *search.KIND_PHRASES, *search.SYNONYMS}
    _vocabulary = (version, tuple(sorted(words)))
    return _vocabulary[1]


def search_suggestion(*, resources: QuerySet[Resource], text: str) -> str | None:
    """For a search that found nothing: the same words with those the catalog never uses
    replaced by the closest it does with the same first letter ("rbca" → "rbac", "netwrok" →
    "network"), when that finds something in ``resources``; else None. Numbers, short words,
    the words search knows and the starts of known words stay as typed."""
    vocabulary = _search_vocabulary()
    known = set(vocabulary)
    words, changed = [], False
    for term in search.search_terms(text):
        if len(term) < 3 or term in known or not term.isalpha() or _starts_a_word(term, known):
            words.append(term)
            continue
        # A typo seldom changes the first letter: "kind" is not "mind", nor "test" "rest".
        same_start = [word for word in vocabulary if word[0] == term[0]]
        close = difflib.get_close_matches(term, same_start, n=3, cutoff=0.75)
        # Of equally close words, two letters swapped first: "kubeclt" is "kubectl", not
        # "kubelet".
        swapped = [word for word in close if sorted(word) == sorted(term)]
        best = (swapped or close or [term])[0]
        words.append(best)
        changed = changed or best != term
    if not changed:
        return None
    suggestion = " ".join(words)
    return suggestion if search.resource_search(resources, suggestion).exists() else None


def search_word_count(text: str) -> int:
    """How many words a result of this search must have."""
    return len(search_required_words(text))


def search_required_words(text: str) -> list[str]:
    """The words a result of this search must have, as the search reads them."""
    return search.required_terms(search.search_terms(text))


# The words of an empty search that are tried one by one (a query each).
ONE_WORD_TRIED = 6


def search_words_that_find(*, resources: QuerySet[Resource], text: str) -> list[tuple[str, int]]:
    """For a search of several words that finds nothing: each of its words that finds
    something alone, with how much. "kubectl auth can-i" found nothing, and the page only
    said to try fewer words (a walk-through); these are the fewer words that work."""
    words = list(dict.fromkeys(search_required_words(text)))[:ONE_WORD_TRIED]
    if len(words) < 2:
        return []
    found = [(word, resource_search(resources=resources, text=word).count()) for word in words]
    return [(word, count) for word, count in found if count]


def _starts_a_word(term: str, known: set[str]) -> bool:
    # A prefix word that starts a known one finds it: "controller" is no typo of
    # "controllers" (a walk-through's "admision controller" was offered the plural).
    return search.is_prefix_term(term) and any(word.startswith(term) for word in known)


# Ordering of a search's results unless the client asked for another one: best match first.
SEARCH_ORDERING = ("-search_rank", "title", "id")
