"""Step 6: entries upserted as resources, by (feed, entry key) and by canonical address.

Safe to run twice: a redelivered task, two feeds carrying one post, or a worker killed mid-poll
never create a duplicate.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import psycopg
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from catalog.feeds.entries import ParsedEntry
from catalog.feeds.parse import ParsedFeed
from catalog.models import (
    FEED_FIELDS,
    Author,
    AuthorUpdate,
    Feed,
    FeedPoll,
    Kind,
    Origin,
    Resource,
    Status,
    Tag,
)
from catalog.services import feed_entries_stored

logger = logging.getLogger(__name__)


@dataclass
class PollReport:
    feed_id: int
    outcome: str = FeedPoll.Outcome.OK
    http_status: int | None = None
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    # Authors' edits of reviewed resources, kept for a curator (AuthorUpdate).
    held: int = 0
    error: str = ""
    warning: str = ""
    new_resource_ids: list[int] = field(default_factory=list)
    # A network error worth retrying soon (already recorded on the feed).
    retryable: bool = False


def entries_store(feed: Feed, parsed: ParsedFeed, report: PollReport) -> None:
    """Store a document's entries in one transaction: one read, one bulk insert.

    All or nothing per document: a worker killed halfway leaves nothing half-stored, and
    the redelivered poll stores everything once. If a concurrent writer got in first (a
    unique constraint fires), the entries are stored one by one instead, each idempotent.
    """
    status = Status.APPROVED if feed.trusted else Status.PENDING
    entries = parsed.entries
    report.unchanged += parsed.unchanged  # known fingerprints: stored exactly as they are
    if not entries:
        return
    try:
        with transaction.atomic():
            outcomes = _store_batch(feed, entries, status)
    except IntegrityError:
        logger.info("Feed %s: concurrent write detected; storing entries one by one", feed.pk)
        outcomes = [_upsert_entry(feed, entry, status) for entry in entries]
    for outcome, resource_id in outcomes:
        if outcome == "new":
            report.new += 1
            report.new_resource_ids.append(resource_id)
        elif outcome == "updated":
            report.updated += 1
        elif outcome == "held":
            report.held += 1
        else:
            report.unchanged += 1
    feed_entries_stored(trusted=feed.trusted, new=report.new, updated=report.updated)


def _store_batch(
    feed: Feed, entries: tuple[ParsedEntry, ...], status: str
) -> list[tuple[str, int]]:
    keys = [entry.key for entry in entries]
    urls = [entry.url for entry in entries]
    known = _known_resources(feed, keys, urls)
    by_key = {r.entry_key: r for r in known if r.feed_id == feed.pk and r.entry_key}
    by_url = {r.url: r for r in known}
    now = timezone.now()
    outcomes: list[tuple[str, int] | None] = []
    fresh: list[tuple[int, Resource, ParsedEntry]] = []
    refingerprinted: list[Resource] = []
    reviewed: list[tuple[int, Resource, ParsedEntry]] = []
    for entry in entries:
        existing = by_key.get(entry.key) or by_url.get(entry.url)
        if existing is not None:
            outcome = _refresh(existing, feed, entry)
            if outcome == "reviewed":  # unchanged here; the author's edit is kept below
                reviewed.append((len(outcomes), existing, entry))
                outcome = "unchanged"
            if outcome == "unchanged" and _fingerprint_stale(existing, feed, entry):
                existing.entry_fingerprint = entry.fingerprint
                refingerprinted.append(existing)
            outcomes.append((outcome, existing.pk))
            continue
        resource = _entry_resource(feed, entry, status, now)
        resource.slug = _entry_slug(entry)
        # Remember it so a second entry with the same address in this document is a repeat.
        by_url[entry.url] = resource
        fresh.append((len(outcomes), resource, entry))
        outcomes.append(None)
    # One statement for all of them (no signals: nothing a learner sees changes).
    Resource.objects.bulk_update(refingerprinted, ["entry_fingerprint"])
    held = _author_updates_hold([(resource, entry) for _, resource, entry in reviewed], now)
    for index, resource, _ in reviewed:
        if resource.pk in held:
            outcomes[index] = ("held", resource.pk)
    created = _resources_insert([resource for _, resource, _ in fresh])
    _link_taxonomy(
        feed, [(resource, entry) for (_, _, entry), resource in zip(fresh, created, strict=True)]
    )
    for (index, _, _), resource in zip(fresh, created, strict=True):
        outcomes[index] = ("new", resource.pk)
    return [outcome for outcome in outcomes if outcome is not None]


# What _refresh and _fingerprint_stale read of a resource an entry may already be.
_KNOWN_FIELDS = (
    "id",
    "feed",
    "entry_key",
    "url",
    "status",
    "title",
    "summary",
    "content_html",
    "published_at",
    "estimated_minutes",
    "entry_fingerprint",
    "curator_edited_at",
    "reviewed_by",
)


def _known_resources(feed: Feed, keys: list[str], urls: list[str]) -> list[Resource]:
    """The resources a document's entries may be: this feed's by entry key, any by address
    (the other fields deferred).

    ``Resource.objects.filter(Q(feed=feed, entry_key__in=keys) | Q(url__in=urls))
    .only(...)``, written out: compiling that through the ORM cost more CPU than running it,
    on every poll of a changed feed."""
    meta = Resource._meta

    def column(name: str) -> str:
        return connection.ops.quote_name(cast(str, cast(models.Field, meta.get_field(name)).column))

    columns = ", ".join(column(name) for name in _KNOWN_FIELDS)
    key_marks = ", ".join(["%s"] * len(keys))
    url_marks = ", ".join(["%s"] * len(urls))
    # Names come from the model, each value is a bound parameter.
    sql = (
        f"SELECT {columns} FROM {connection.ops.quote_name(meta.db_table)} "  # noqa: S608
        f"WHERE ({column('feed')} = %s AND {column('entry_key')} IN ({key_marks})) "
        f"OR {column('url')} IN ({url_marks})"
    )
    return list(Resource.objects.raw(sql, [feed.pk, *keys, *urls]))


def _resources_insert(resources: list[Resource]) -> list[Resource]:
    """``bulk_create`` for new feed resources, setting their ids.

    On PostgreSQL the rows go as one binary array per column (what Django's own bulk insert
    sends, but without its client-side quoting of every element in Python, which cost half
    the insert's CPU time); elsewhere this is ``bulk_create``. Fields are prepared as
    Django prepares them (``pre_save``, ``get_db_prep_save``), so every field's rules hold.
    """
    if connection.vendor != "postgresql" or not resources:
        return Resource.objects.bulk_create(resources)
    fields = [f for f in Resource._meta.concrete_fields if not f.primary_key]
    columns = [_column_values(f, resources) for f in fields]
    quote = connection.ops.quote_name
    names = ", ".join(quote(cast(str, f.column)) for f in fields)
    arrays = ", ".join(f"%b::{f.db_type(connection)}[]" for f in fields)
    # Identifiers and types come from the model; every value is a bound parameter.
    sql = (
        f"INSERT INTO {quote(Resource._meta.db_table)} ({names}) "  # noqa: S608
        f"SELECT * FROM UNNEST({arrays}) RETURNING {quote(cast(str, Resource._meta.pk.column))}"
    )
    connection.ensure_connection()
    started = time.monotonic()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, columns)
        ids = [row[0] for row in cursor.fetchall()]
    if connection.queries_logged:  # as Django's cursors do: counted by query-count tests
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    for resource, pk in zip(resources, ids, strict=True):
        resource.pk = pk
        resource._state.adding = False
        resource._state.db = connection.alias
    return resources


# Field classes (exactly these, not subclasses, which may prepare values their own way) whose
# get_db_prep_save hands PostgreSQL a value of this type back unchanged: str for text, int
# for integers, an aware datetime as it is. Asking each of 25 rows x 19 fields anyway was
# a third of a first poll's store CPU.
_UNCHANGED_BY_PREP: dict[type[models.Field], Callable[[object], bool]] = {
    **dict.fromkeys(
        (models.CharField, models.SlugField, models.URLField, models.TextField),
        lambda value: type(value) is str,
    ),
    **dict.fromkeys(
        (models.IntegerField, models.PositiveIntegerField, models.PositiveSmallIntegerField),
        lambda value: type(value) is int,
    ),
    models.DateTimeField: lambda value: type(value) is datetime and value.tzinfo is not None,
}


def _column_values(field: models.Field, resources: list[Resource]) -> list[object]:
    """One column of new rows as Django would send it to PostgreSQL (``pre_save``, then
    ``get_db_prep_save`` unless that is known to change nothing)."""
    values = [field.pre_save(resource, True) for resource in resources]
    unchanged = _UNCHANGED_BY_PREP.get(type(field))
    if unchanged is not None and all(value is None or unchanged(value) for value in values):
        return values
    return [field.get_db_prep_save(value, connection) for value in values]


def _plain(value: object) -> object:
    # A choice ("pending", 1) as the plain str or int it is stored as: _column_values sends
    # a column of exactly those types without asking the field to prepare each value.
    return value.value if isinstance(value, models.Choices) else value


# Every column of a resource with its default, in the model's order. All the defaults are
# constants (no callables), so one list serves every row.
_RESOURCE_DEFAULTS = tuple(
    (field.attname, _plain(field.get_default())) for field in Resource._meta.concrete_fields
)


def _entry_resource(feed: Feed, entry: ParsedEntry, status: str, now: datetime) -> Resource:
    """An unsaved resource for a feed entry: the feed's stage and difficulty for new entries
    (`Feed.entry_stage`), other labels from curators later.

    Made from positional values, the way Django makes a row it read (keyword arguments have
    ``Model.__init__`` look each of the 21 fields up by name), and choices as plain values:
    making and preparing 25 rows took 0.63 ms of CPU, now 0.4 (three pairs, a throwaway
    script)."""
    given = {
        "title": entry.title[:300],
        "url": entry.url,
        "kind": Kind.ARTICLE.value,
        "summary": entry.summary,
        "content_html": entry.content_html,
        "published_at": entry.published_at,
        "estimated_minutes": entry.estimated_minutes,
        "stage": _plain(feed.entry_stage),
        "difficulty": _plain(feed.entry_difficulty),
        "status": _plain(status),
        "origin": Origin.FEED.value,
        "feed_id": feed.pk,
        "entry_key": entry.key,
        "entry_fingerprint": entry.fingerprint,
        "reviewed_at": now if status == Status.APPROVED else None,
    }
    return Resource(*[given.get(name, default) for name, default in _RESOURCE_DEFAULTS])


def _entry_slug(entry: ParsedEntry) -> str:
    """A slug unique without a query: the title plus a short hash of the (unique) address."""
    digest = hashlib.sha1(entry.url.encode(), usedforsecurity=False).hexdigest()[:10]
    return f"{slugify(entry.title)[:100] or 'entry'}-{digest}"


def _link_taxonomy(feed: Feed, pairs: list[tuple[Resource, ParsedEntry]]) -> None:
    if not pairs:
        return
    if feed.author_id:
        # A feed curated as one author's blog: that author wrote every entry.
        Resource.authors.through.objects.bulk_create(
            [
                Resource.authors.through(resource_id=resource.pk, author_id=feed.author_id)
                for resource, _ in pairs
            ]
        )
    else:
        author_ids = _authors_matched({name for _, entry in pairs for name in entry.authors})
        Resource.authors.through.objects.bulk_create(
            [
                Resource.authors.through(resource_id=resource.pk, author_id=author_ids[slug])
                for resource, entry in pairs
                for slug in {slugify(name)[:80] for name in entry.authors}
                if slug in author_ids
            ]
        )
    wanted = {tag for _, entry in pairs for tag in entry.tags}
    if not wanted:
        return
    tag_ids = dict(Tag.objects.filter(slug__in=wanted).values_list("slug", "pk"))
    Resource.tags.through.objects.bulk_create(
        [
            Resource.tags.through(resource_id=resource.pk, tag_id=tag_ids[slug])
            for resource, entry in pairs
            for slug in set(entry.tags)
            if slug in tag_ids
        ]
    )


def _authors_matched(names: set[str]) -> dict[str, int]:
    """Catalog authors for the names feed entries give, by slug: an author the catalog knows
    ("Marco Lancini" is marco-lancini) is matched, never duplicated; a new name becomes a new
    author, once, however many entries carry it. Returns {slug: author id}."""
    by_slug = {slugify(name)[:80]: name[:120] for name in names}
    by_slug.pop("", None)  # a name with no letters or digits has no slug to match on
    if not by_slug:
        return {}
    Author.objects.bulk_create(
        [Author(slug=slug, name=name) for slug, name in by_slug.items()],
        ignore_conflicts=True,  # known slugs (and a concurrent poll's inserts) stay as they are
    )
    return dict(Author.objects.filter(slug__in=by_slug).values_list("slug", "pk"))


def _upsert_entry(feed: Feed, entry: ParsedEntry, status: str) -> tuple[str, int]:
    """Store one entry once (the slow, always-correct path). Returns (outcome, resource id)."""
    with transaction.atomic():
        existing = (
            Resource.objects.select_for_update()
            .filter(Q(feed=feed, entry_key=entry.key) | Q(url=entry.url))
            .order_by("pk")
            .first()
        )
        if existing is not None:
            outcome = _refresh(existing, feed, entry)
            if outcome == "reviewed":
                if _fingerprint_stale(existing, feed, entry):  # no signals, as in a batch
                    Resource.objects.filter(pk=existing.pk).update(
                        entry_fingerprint=entry.fingerprint
                    )
                held = _author_updates_hold([(existing, entry)], timezone.now())
                outcome = "held" if existing.pk in held else "unchanged"
            return outcome, existing.pk
        try:
            with transaction.atomic():
                resource = _entry_resource(feed, entry, status, timezone.now())
                resource.save()
        except IntegrityError:
            # Another poll stored it between our read and our insert: it is there once.
            return "unchanged", _find(feed, entry)
        _link_taxonomy(feed, [(resource, entry)])
    return "new", resource.pk


def _find(feed: Feed, entry: ParsedEntry) -> int:
    return (
        Resource.objects.filter(Q(feed=feed, entry_key=entry.key) | Q(url=entry.url))
        .values_list("pk", flat=True)
        .first()
        or 0
    )


def _fingerprint_stale(resource: Resource, feed: Feed, entry: ParsedEntry) -> bool:
    """Whether to remember this entry's fingerprint on a resource it left unchanged, so the
    next poll skips it: only on this feed's own resources (one found by address from
    another source is not this entry's to skip)."""
    return (
        resource.feed_id == feed.pk
        and resource.entry_key == entry.key
        and bool(entry.fingerprint)
        and resource.entry_fingerprint != entry.fingerprint
    )


def _entry_fields(entry: ParsedEntry) -> dict[str, object]:
    """What a feed entry writes of a resource (FEED_FIELDS)."""
    return {
        "title": entry.title[:300],
        "summary": entry.summary,
        "content_html": entry.content_html,
        "published_at": entry.published_at,
        "estimated_minutes": entry.estimated_minutes,
    }


def _refresh(resource: Resource, feed: Feed, entry: ParsedEntry) -> str:
    """Update a stored entry the author edited, while no curator has decided on it.

    Once a curator has approved or edited a resource, their version wins: the author's edit
    is not written over it but kept for them ("reviewed": see _author_updates_hold). An entry
    a trusted feed's poll approved, which no curator touched, follows its author's edits. A
    rejected entry stays as it was rejected. A resource found by address from another source
    (a curated one, another feed, or another entry of this feed that links to the same page)
    is left as it is: two entries sharing a link would otherwise take turns rewriting it,
    poll after poll.
    """
    if resource.feed_id != feed.pk or (resource.entry_key and resource.entry_key != entry.key):
        return "unchanged"
    untouched = resource.curator_edited_at is None and (
        resource.status == Status.PENDING
        or (resource.status == Status.APPROVED and feed.trusted and resource.reviewed_by_id is None)
    )
    if not untouched:
        return "unchanged" if resource.status == Status.REJECTED else "reviewed"
    changed = {k: v for k, v in _entry_fields(entry).items() if getattr(resource, k) != v}
    if not changed:
        return "unchanged"
    Resource.objects.filter(pk=resource.pk).update(
        **changed, entry_fingerprint=entry.fingerprint, updated_at=timezone.now()
    )
    return "updated"


def _author_updates_hold(pairs: list[tuple[Resource, ParsedEntry]], now: datetime) -> set[int]:
    """Keep the authors' edits of reviewed resources for a curator. Returns the ids of the
    resources whose update now waits.

    One read and one upsert for a document's entries. An edit that only brings back what the
    curator already took or kept (the fingerprint changed, the fields did not) asks nothing
    again; an entry that matches the resource again needs no decision.
    """
    if not pairs:
        return set()
    known = {
        update.resource_id: update
        for update in AuthorUpdate.objects.filter(resource__in=[r.pk for r, _ in pairs])
    }
    waiting: list[AuthorUpdate] = []
    settled: list[int] = []
    for resource, entry in pairs:
        fields = _entry_fields(entry)
        changed = [name for name in FEED_FIELDS if getattr(resource, name) != fields[name]]
        previous = known.get(resource.pk)
        if not changed:
            if previous is not None and previous.state == AuthorUpdate.State.WAITING:
                settled.append(previous.pk)
            continue
        if previous is not None and all(getattr(previous, k) == v for k, v in fields.items()):
            continue  # this very version was seen before: waiting, taken in part, or kept
        waiting.append(
            AuthorUpdate(
                resource_id=resource.pk,
                changed=changed,
                state=AuthorUpdate.State.WAITING,
                seen_at=now,
                decided_at=None,
                decided_by=None,
                **fields,
            )
        )
    if settled:
        # The author's text is the curator's again (reverted, or the curator took it by hand).
        AuthorUpdate.objects.filter(pk__in=settled).delete()
    AuthorUpdate.objects.bulk_create(
        waiting,
        update_conflicts=True,
        unique_fields=["resource"],
        update_fields=[
            *FEED_FIELDS,
            "changed",
            "state",
            "seen_at",
            "decided_at",
            "decided_by",
        ],
    )
    if waiting:
        logger.info("%d author edit(s) of reviewed resources wait for a curator", len(waiting))
    return {update.resource_id for update in waiting}
