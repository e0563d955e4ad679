"""Outdated advice: resources matched against the curated table of deprecations and removals.

A resource that mentions something Kubernetes removed (in its title, summary, or for a feed
entry its stored content) and was published before the removal — or has no date — gets a
staleness flag with a sentence a learner understands. One flag per (resource, deprecation):
a curator confirms or dismisses it, and a dismissed flag stays dismissed whatever later scans
find. A raised flag whose resource no longer matches (edited text, an edited table) goes away.

The matching (`deprecation_regex`, `first_match`, `flag_sentence`) is plain Python; the scan
and the curators' writes below use the ORM.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from catalog import services as catalog_services
from catalog.feeds.sanitise import sanitised_text
from catalog.health.models import Deprecation, FlagState, StalenessFlag
from catalog.models import Origin, Resource, Status

if TYPE_CHECKING:
    from catalog.services import User

logger = logging.getLogger(__name__)


# --- Matching (no ORM) --------------------------------------------------------------------------


def _phrase(pattern: str) -> str:
    """A phrase as a regex: words separated by any whitespace, and bounded where it starts
    or ends with a word character ("PSP" never matches inside "PSPs-like" words; a phrase
    such as "--generator=" is matched as written)."""
    body = r"\s+".join(re.escape(word) for word in pattern.split())
    left = r"(?<![\w-])" if re.match(r"\w", pattern) else ""
    right = r"(?![\w-])" if re.search(r"\w$", pattern) else ""
    return f"{left}{body}{right}"


def deprecation_regex(patterns: Iterable[str]) -> re.Pattern[str] | None:
    phrases = [_phrase(p.strip()) for p in patterns if p.strip()]
    if not phrases:
        return None
    return re.compile("|".join(f"(?:{phrase})" for phrase in phrases), re.IGNORECASE)


def first_match(regex: re.Pattern[str] | None, texts: Sequence[str]) -> str | None:
    if regex is None:
        return None
    for text in texts:
        found = regex.search(text)
        if found:
            return found.group(0)
    return None


def predates(published: datetime | None, removed_on: date) -> bool:
    """Written before the removal (or undated, so it may be)."""
    return published is None or published.date() < removed_on


def flag_sentence(
    *, what: str, removal: str, removed_on: date, successor: str, successor_title: str | None
) -> str:
    """E.g. "Mentions PodSecurityPolicy, removed in Kubernetes 1.25 (August 2022); read
    'Pod Security Admission' for today's way." """
    when = removed_on.strftime("%B %Y")
    if successor_title:
        return f"Mentions {what}, {removal} ({when}); read '{successor_title}' for today's way."
    return f"Mentions {what}, {removal} ({when}); today's way: {successor}."


# --- The scan -----------------------------------------------------------------------------------


@dataclass
class ScanReport:
    raised: int = 0
    updated: int = 0
    cleared: int = 0
    resources: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class _Rule:
    deprecation: Deprecation
    regex: re.Pattern[str] | None
    sentence: str


def _rules() -> list[_Rule]:
    rules = []
    for row in Deprecation.objects.select_related("successor_resource"):
        successor = row.successor_resource
        title = successor.title if successor and successor.status == Status.APPROVED else None
        rules.append(
            _Rule(
                deprecation=row,
                regex=deprecation_regex(row.pattern_list),
                sentence=flag_sentence(
                    what=row.what,
                    removal=row.removal,
                    removed_on=row.removed_on,
                    successor=row.successor,
                    successor_title=title,
                )[:500],
            )
        )
    return rules


def resource_texts(*, title: str, summary: str, content_html: str, origin: str) -> list[str]:
    texts = [title, summary]
    if origin == Origin.FEED and content_html:
        texts.append(sanitised_text(content_html))
    return texts


def staleness_matches(rules: Sequence[_Rule], row: tuple[Any, ...]) -> dict[int, tuple[str, str]]:
    """{deprecation id: (sentence, matched phrase)} for one resource row."""
    pk, title, summary, content_html, origin, published = row
    texts = resource_texts(title=title, summary=summary, content_html=content_html, origin=origin)
    found = {}
    for rule in rules:
        deprecation = rule.deprecation
        if deprecation.successor_resource_id == pk:
            continue  # the page about today's way names what it replaced
        if not predates(published, deprecation.removed_on):
            continue
        matched = first_match(rule.regex, texts)
        if matched:
            found[deprecation.pk] = (rule.sentence, matched[:200])
    return found


@transaction.atomic
def staleness_scan(*, resource_ids: Sequence[int] | None = None) -> ScanReport:
    """Match resources (approved and pending; all, or these) against the table and write only
    what changed. Returns the counts and the resources whose flags changed."""
    rules = _rules()
    resources = Resource.objects.exclude(status=Status.REJECTED)
    flags = StalenessFlag.objects.all()
    if resource_ids is not None:
        resources = resources.filter(pk__in=list(resource_ids))
        flags = flags.filter(resource_id__in=list(resource_ids))
    existing = {(flag.resource_id, flag.deprecation_id): flag for flag in flags}
    report = ScanReport()
    wanted: dict[tuple[int, int], tuple[str, str]] = {}
    rows = resources.order_by("pk").values_list(
        "pk", "title", "summary", "content_html", "origin", "published_at"
    )
    for row in rows.iterator(chunk_size=2000):
        for deprecation_id, found in staleness_matches(rules, row).items():
            wanted[(row[0], deprecation_id)] = found
    new = []
    for key, (sentence, matched) in wanted.items():
        flag = existing.get(key)
        if flag is None:
            new.append(
                StalenessFlag(
                    resource_id=key[0],
                    deprecation_id=key[1],
                    sentence=sentence,
                    matched=matched,
                )
            )
            report.resources.add(key[0])
        elif flag.sentence != sentence or flag.matched != matched:
            StalenessFlag.objects.filter(pk=flag.pk).update(sentence=sentence, matched=matched)
            report.updated += 1
            if flag.shown:
                report.resources.add(key[0])
    StalenessFlag.objects.bulk_create(new, ignore_conflicts=True)
    report.raised = len(new)
    gone = [
        flag
        for key, flag in existing.items()
        if key not in wanted and flag.state == FlagState.RAISED
    ]
    StalenessFlag.objects.filter(pk__in=[flag.pk for flag in gone]).delete()
    report.cleared = len(gone)
    report.resources.update(flag.resource_id for flag in gone)
    catalog_services.resource_health_changed(resource_ids=sorted(report.resources), refit=False)
    if new or gone:
        logger.info("Staleness scan: %s flags raised, %s cleared", len(new), len(gone))
    return report


# --- Curators' writes ---------------------------------------------------------------------------


@transaction.atomic
def flags_review(*, flag_ids: Sequence[int], state: str, by: User | None) -> int:
    """Confirm or dismiss flags; returns how many changed."""
    if state not in (FlagState.CONFIRMED, FlagState.DISMISSED, FlagState.RAISED):
        raise ValueError(f"unknown flag state {state!r}")
    flags = StalenessFlag.objects.filter(pk__in=list(flag_ids)).exclude(state=state)
    resource_ids = list(flags.values_list("resource_id", flat=True))
    changed = flags.update(state=state, reviewed_at=timezone.now())
    logger.info("%s staleness flags marked %s by %s", changed, state, getattr(by, "pk", None))
    catalog_services.resource_health_changed(resource_ids=resource_ids, refit=False)
    return changed


@transaction.atomic
def deprecation_save(*, deprecation: Deprecation, by: User | None) -> Deprecation:
    """Save a row of the table (the admin) and re-match the catalog against it."""
    deprecation.save()
    logger.info("Deprecation %s saved by %s", deprecation.slug, getattr(by, "pk", None))
    staleness_scan()
    return deprecation


@transaction.atomic
def deprecations_delete(*, deprecations: Iterable[Deprecation], by: User | None) -> int:
    ids = [row.pk for row in deprecations]
    affected = list(
        StalenessFlag.objects.filter(deprecation_id__in=ids)
        .exclude(state=FlagState.DISMISSED)
        .values_list("resource_id", flat=True)
    )
    Deprecation.objects.filter(pk__in=ids).delete()
    logger.info("%s deprecations deleted by %s", len(ids), getattr(by, "pk", None))
    catalog_services.resource_health_changed(resource_ids=affected, refit=False)
    return len(ids)
