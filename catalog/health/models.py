"""Catalog health: each resource's link state and check history, the deprecations table and
the staleness flags it raises.

Registered with the catalog app (imported at the end of catalog.models); relations to the
catalog's models are by name so this module imports nothing of the catalog.
"""

from __future__ import annotations

import re

from django.db import models
from django.db.models import Q
from django.utils import timezone


class LinkStatus(models.TextChoices):
    UNCHECKED = "unchecked", "Not checked yet"
    OK = "ok", "OK"
    REDIRECTED = "redirected", "Redirected"
    FAILING = "failing", "Failing"
    GONE = "gone", "Gone"
    RETIRED = "retired", "Retired by a curator"


# Broken first: the order curators read the link health list in.
LINK_STATUS_URGENCY = [
    LinkStatus.GONE,
    LinkStatus.FAILING,
    LinkStatus.REDIRECTED,
    LinkStatus.UNCHECKED,
    LinkStatus.OK,
    LinkStatus.RETIRED,
]


class ResourceLink(models.Model):
    """The health of one resource's address, owned by the link checker (catalog.health)."""

    resource = models.OneToOneField(
        "catalog.Resource", on_delete=models.CASCADE, primary_key=True, related_name="link"
    )
    status = models.CharField(
        max_length=10, choices=LinkStatus.choices, default=LinkStatus.UNCHECKED, db_index=True
    )
    # "host:port" of the address: the unit of politeness (one request at a time, a minimum
    # interval, Retry-After).
    host = models.CharField(max_length=300, db_index=True, blank=True)
    # The address last checked; a curator's edit to the resource's address resets the state.
    checked_url = models.URLField(max_length=2000, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    final_url = models.URLField("final address", max_length=2000, blank=True)
    proposed_url = models.URLField(
        "proposed address",
        max_length=2000,
        blank=True,
        help_text="Where a permanent redirect points: a curator may accept it as the address.",
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    # 404/410 answers in a row, and since when: "gone" needs several over several days.
    consecutive_not_found = models.PositiveIntegerField(default=0)
    not_found_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(default=timezone.now, db_index=True)
    # A checker claims a link by moving this forward in a conditional UPDATE.
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "link health"
        verbose_name_plural = "link health"

    def __str__(self) -> str:
        return f"{self.resource_id}: {self.status}"


class LinkCheck(models.Model):
    """One check of one address (history, bounded per resource)."""

    link = models.ForeignKey(ResourceLink, on_delete=models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField()
    url = models.URLField(max_length=2000)
    outcome = models.CharField(max_length=20)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    final_url = models.URLField(max_length=2000, blank=True)
    error = models.TextField(blank=True)
    elapsed_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["link", "-checked_at"])]

    def __str__(self) -> str:
        return f"{self.url} at {self.checked_at:%Y-%m-%d %H:%M}: {self.outcome}"


class LinkHost(models.Model):
    """Politeness per host: one request at a time (a lease) and the earliest next request."""

    name = models.CharField(max_length=300, unique=True)
    next_request_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


# "Minikube (Kubernetes documentation)": the part in parentheses names a source, not a subject.
_CLOSING_PARENTHESIS = re.compile(r"\s*\([^()]*\)\s*$")


class Deprecation(models.Model):
    """Something Kubernetes (or its ecosystem) removed, and what replaced it.

    Curated (fixtures/deprecations.yaml, the admin). Each of `patterns` (one per line) is a
    phrase matched case-insensitively on word boundaries in a resource's title, summary and
    stored content.
    """

    slug = models.SlugField(max_length=80, unique=True)
    what = models.CharField(max_length=200, help_text="What a learner reads about, e.g. Tiller.")
    patterns = models.TextField(help_text="Phrases that mention it, one per line.")
    removal = models.CharField(
        max_length=200,
        help_text='What happened to it, as a sentence continues: "removed in Kubernetes 1.25".',
    )
    removed_in = models.CharField(
        max_length=40, blank=True, help_text="The version that removed it, e.g. 1.25."
    )
    removed_on = models.DateField(help_text="When; a resource published before is flagged.")
    successor = models.CharField(max_length=300, help_text="Today's way, in a few words.")
    successor_resource = models.ForeignKey(
        "catalog.Resource",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="A catalog resource about the successor, where we have one.",
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["removed_on", "slug"]

    def __str__(self) -> str:
        return self.what

    @property
    def pattern_list(self) -> list[str]:
        return [line.strip() for line in self.patterns.splitlines() if line.strip()]

    def is_named_by(self, title: str) -> bool:
        """Whether a resource titled ``title`` is the removed thing itself ("Katacoda", its
        name), not one that mentions it among much else (a talk on cluster security that
        mentions PodSecurityPolicy). A closing parenthesis of the title is left out."""
        subject = _CLOSING_PARENTHESIS.sub("", title).strip().casefold()
        return subject in {self.what.strip().casefold(), *map(str.casefold, self.pattern_list)}


class FlagState(models.TextChoices):
    RAISED = "raised", "Raised (not reviewed)"
    CONFIRMED = "confirmed", "Confirmed by a curator"
    DISMISSED = "dismissed", "Dismissed by a curator"


class StalenessFlag(models.Model):
    """A resource mentions a deprecation and predates it. One per (resource, deprecation), so a
    dismissed flag stays dismissed when the catalog is scanned again."""

    resource = models.ForeignKey(
        "catalog.Resource", on_delete=models.CASCADE, related_name="staleness_flags"
    )
    deprecation = models.ForeignKey(Deprecation, on_delete=models.CASCADE, related_name="flags")
    state = models.CharField(
        max_length=10, choices=FlagState.choices, default=FlagState.RAISED, db_index=True
    )
    sentence = models.CharField(max_length=500)
    matched = models.CharField(max_length=200, blank=True, help_text="The phrase found.")
    raised_at = models.DateTimeField(default=timezone.now)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["resource_id", "deprecation_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "deprecation"], name="stalenessflag_unique_resource"
            ),
        ]
        indexes = [
            models.Index(
                fields=["resource"],
                condition=~Q(state="dismissed"),
                name="stalenessflag_shown",
            )
        ]

    def __str__(self) -> str:
        return self.sentence

    @property
    def shown(self) -> bool:
        return self.state != FlagState.DISMISSED
