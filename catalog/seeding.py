"""Loading the seed catalog (fixtures/seed_catalog.yaml) idempotently.

The seed is data a curator may also edit in the admin; loading it again brings
every seeded row back to the file's values and touches nothing else, so a
second run reports zero changes.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from catalog.addresses import canonical_url
from catalog.health.staleness import staleness_scan
from catalog.models import (
    Author,
    Deprecation,
    Feed,
    LearningPath,
    Origin,
    PathStep,
    Resource,
    SecurityArea,
    Status,
    Tag,
)
from catalog.services import seed_loaded

logger = logging.getLogger(__name__)

SEED_FILE = Path(settings.BASE_DIR) / "fixtures" / "seed_catalog.yaml"
DEPRECATIONS_FILE = Path(settings.BASE_DIR) / "fixtures" / "deprecations.yaml"


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, model: str, created: bool, changed: bool) -> None:
        if created:
            self.created[model] = self.created.get(model, 0) + 1
        elif changed:
            self.updated[model] = self.updated.get(model, 0) + 1

    @property
    def changes(self) -> int:
        return sum(self.created.values()) + sum(self.updated.values())


def _upsert(
    model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any]
) -> tuple[Any, bool, bool]:
    """update_or_create that only writes when a value actually differs."""
    instance = model._default_manager.filter(**lookup).first()
    if instance is None:
        return model._default_manager.create(**lookup, **values), True, False
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if changed:
        for name in changed:
            setattr(instance, name, values[name])
        instance.save()
    return instance, False, bool(changed)


def _set_m2m(manager: Any, wanted: list[Any]) -> bool:
    current = set(manager.values_list("pk", flat=True))
    if current == {obj.pk for obj in wanted}:
        return False
    manager.set(wanted)
    return True


def _published(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        moment = dt.datetime(day.year, day.month, day.day)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, dt.UTC)


@transaction.atomic
def seed_catalog_load(
    *, path: Path = SEED_FILE, deprecations_path: Path | None = DEPRECATIONS_FILE
) -> SeedReport:
    """Upsert the seed's areas, tags, authors, resources and path, and the deprecations
    table (then match the catalog against it). Returns what changed."""
    document = yaml.safe_load(path.read_text())
    report = SeedReport()

    areas = {}
    for row in document["security_areas"]:
        area, created, changed = _upsert(
            SecurityArea,
            {"slug": row["slug"]},
            {"name": row["name"], "description": row.get("description", "")},
        )
        areas[area.slug] = area
        report.count("security_areas", created, changed)

    tags = {}
    for row in document["tags"]:
        tag, created, changed = _upsert(Tag, {"slug": row["slug"]}, {"name": row["name"]})
        tags[tag.slug] = tag
        report.count("tags", created, changed)

    authors = {}
    for row in document["authors"]:
        author, created, changed = _upsert(
            Author,
            {"slug": row["slug"]},
            {"name": row["name"], "homepage": row.get("homepage") or ""},
        )
        authors[author.slug] = author
        report.count("authors", created, changed)

    resources = {}
    for row in document["resources"]:
        values = {
            "title": row["title"],
            "url": canonical_url(row["url"]) if row.get("url") else None,
            "kind": row["kind"],
            "stage": row["stage"],
            "difficulty": row.get("difficulty", 1),
            "summary": (row.get("summary") or "").strip(),
            "estimated_minutes": row.get("estimated_minutes"),
            "published_at": _published(row.get("published")),
            "status": Status.APPROVED,
            "origin": Origin.CURATED,
        }
        resource, created, changed = _upsert(Resource, {"slug": row["key"]}, values)
        changed |= _set_m2m(resource.authors, [authors[s] for s in row.get("authors", [])])
        changed |= _set_m2m(resource.tags, [tags[s] for s in row.get("tags", [])])
        changed |= _set_m2m(
            resource.security_areas, [areas[s] for s in row.get("security_areas", [])]
        )
        resources[row["key"]] = resource
        report.count("resources", created, changed)

    for row in document.get("feeds", []):
        # Only identity and trust are seeded; health and schedule belong to the poller.
        _, created, changed = _upsert(
            Feed,
            {"url": canonical_url(row["url"])},
            {
                "site_url": row.get("site_url") or "",
                "title": row.get("title", ""),
                "author": authors.get(row.get("author")),
                "trusted": bool(row.get("trusted", False)),
            },
        )
        report.count("feeds", created, changed)

    path_row = document["path"]
    learning_path, created, changed = _upsert(
        LearningPath,
        {"slug": path_row["slug"]},
        {"title": path_row["title"], "description": path_row.get("description", "")},
    )
    report.count("paths", created, changed)
    wanted = [
        (position, resources[step["key"]].pk, step.get("note", ""), step.get("one_of", ""))
        for position, step in enumerate(path_row["steps"], start=1)
    ]
    current = list(
        learning_path.steps.order_by("position").values_list(
            "position", "resource_id", "note", "one_of"
        )
    )
    if current != wanted:
        # Rewriting the whole ordered list is simpler and safer than shuffling positions
        # under the unique (path, position) constraint.
        learning_path.steps.all().delete()
        PathStep.objects.bulk_create(
            PathStep(path=learning_path, resource_id=res, position=pos, note=note, one_of=one_of)
            for pos, res, note, one_of in wanted
        )
        report.count("path_steps", False, True)

    if deprecations_path is not None and deprecations_path.exists():
        _deprecations_load(deprecations_path, resources, report)

    seed_loaded(changes=report.changes)
    staleness_scan()
    logger.info("Seed catalog loaded: created %s, updated %s", report.created, report.updated)
    return report


def _deprecations_load(path: Path, resources: dict[str, Resource], report: SeedReport) -> None:
    """The curated deprecations table (fixtures/deprecations.yaml), upserted by slug."""
    for row in yaml.safe_load(path.read_text())["deprecations"]:
        successor = row.get("successor_resource")
        if successor and successor not in resources:
            raise ValueError(f"Deprecation {row['slug']}: no seed resource {successor!r}")
        removed_on = row["removed_on"]
        _, created, changed = _upsert(
            Deprecation,
            {"slug": row["slug"]},
            {
                "what": row["what"],
                "patterns": "\n".join(row["patterns"]),
                "removal": row["removal"],
                "removed_in": str(row.get("removed_in") or ""),
                "removed_on": (
                    removed_on
                    if isinstance(removed_on, dt.date)
                    else dt.date.fromisoformat(str(removed_on))
                ),
                "successor": row["successor"],
                "successor_resource": resources[successor] if successor else None,
                "note": (row.get("note") or "").strip(),
            },
        )
        report.count("deprecations", created, changed)
