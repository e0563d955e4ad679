"""Catalog data: resources, their taxonomy (tags, authors, security areas) and learning paths."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from catalog.addresses import canonical_url


class Stage(models.TextChoices):
    """The seed's three parts: basics first, then production, then security."""

    GETTING_STARTED = "getting-started", "Getting started"
    PRODUCTION_READY = "production-ready", "Production-ready"
    SECURITY = "security", "Security"


class Kind(models.TextChoices):
    ARTICLE = "article", "Article"
    BOOK = "book", "Book"
    TOOL = "tool", "Tool"
    TALK = "talk", "Talk or slides"
    TUTORIAL = "tutorial", "Tutorial"
    DOCS = "docs", "Official docs"
    COURSE = "course", "Course"
    VIDEO = "video", "Video"
    REPOSITORY = "repository", "Repository"
    PAPER = "paper", "Paper or whitepaper"
    SERIES = "series", "Article series"
    PLATFORM = "platform", "Hands-on platform"


class Difficulty(models.IntegerChoices):
    BEGINNER = 1, "Beginner"
    INTERMEDIATE = 2, "Intermediate"
    ADVANCED = 3, "Advanced"


class Status(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Origin(models.TextChoices):
    CURATED = "curated", "Curated"
    FEED = "feed", "Feed entry"


class Tag(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Author(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    homepage = models.URLField(max_length=500, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SecurityArea(models.Model):
    """One area of Kubernetes security a learner can focus on (RBAC, network policy…)."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FeedState(models.TextChoices):
    # A newly added address is checked (fetched, its feed discovered) by a worker, never by
    # the request that added it: a stranger's slow server must not hold a web worker.
    CHECKING = "checking", "Checking the address"
    READY = "ready", "A feed, polled on schedule"
    FAILED = "failed", "Not a usable feed (see the last error)"


class Feed(models.Model):
    """An author's RSS/Atom feed, polled by the workers, with its health."""

    url = models.URLField("feed address", max_length=2000, unique=True)
    state = models.CharField(
        max_length=10, choices=FeedState.choices, default=FeedState.READY, db_index=True
    )
    added_address = models.URLField(
        max_length=2000,
        blank=True,
        help_text="The address a curator gave (a feed, or a page that links to one).",
    )
    site_url = models.URLField("site address", max_length=2000, blank=True)
    title = models.CharField(max_length=300, blank=True)
    author = models.ForeignKey(
        Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="feeds"
    )
    active = models.BooleanField(default=True)
    trusted = models.BooleanField(
        default=False,
        help_text="Entries from a trusted feed are approved at once; others wait for review.",
    )
    # What a new entry is labelled with until a curator says otherwise: every entry came in as
    # Getting started and Beginner, so a security blog's posts approved as they were (or from
    # a trusted feed) were offered to beginners among the basics (a curator's walk-through).
    entry_stage = models.CharField(
        "stage of new entries",
        max_length=20,
        choices=Stage.choices,
        default=Stage.GETTING_STARTED,
        help_text="The learning stage each new entry starts with (review can change it).",
    )
    entry_difficulty = models.PositiveSmallIntegerField(
        "difficulty of new entries",
        choices=Difficulty.choices,
        default=Difficulty.BEGINNER,
        help_text="The difficulty each new entry starts with (review can change it).",
    )
    ENTRY_LABELS = ("entry_stage", "entry_difficulty")
    # Conditional GET validators from the last 200 response.
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    # A hash of the last document whose entries were all stored (catalog.feeds.parse
    # document_fingerprint): the same bytes again are not parsed again, for servers that
    # answer every poll with a 200.
    document_fingerprint = models.CharField(max_length=32, blank=True, editable=False)
    # Health, shown in the admin and the API.
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_warning = models.TextField(
        blank=True, help_text="Parser warning about the document last read (a 304 keeps it)."
    )
    deactivated_reason = models.TextField(blank=True)
    # Scheduling: the dispatcher claims a due feed by moving `claimed_until` forward in a
    # conditional UPDATE, so two dispatchers never enqueue one feed twice at once.
    next_poll_at = models.DateTimeField(default=timezone.now, db_index=True)
    poll_interval = models.PositiveIntegerField(
        default=3600, help_text="Seconds between polls while healthy (adaptive)."
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Written by the poller only: read-only in the API and the admin.
    HEALTH_FIELDS = (
        "last_polled_at",
        "last_success_at",
        "last_status",
        "consecutive_failures",
        "last_error",
        "last_warning",
        "deactivated_reason",
        "next_poll_at",
        "poll_interval",
    )

    class Meta:
        ordering = ["title", "url"]

    def __str__(self) -> str:
        return self.title or self.url

    def save(self, *args, **kwargs) -> None:
        self.url = canonical_url(self.url)
        super().save(*args, **kwargs)

    @property
    def is_failing(self) -> bool:
        return self.consecutive_failures > 0

    @property
    def health(self) -> str:
        if self.state == FeedState.CHECKING:
            return "checking"
        if self.state == FeedState.FAILED:
            # Its first check found no feed there: not a feed, a 404, a refused connection...
            # (last_error says which). "not a feed" was wrong for most of them.
            return "check failed"
        if not self.active:
            return "inactive"
        if self.consecutive_failures:
            return "failing"
        if self.last_success_at is None:
            return "new"
        if self.last_warning:
            # Fetched, but the document was damaged (malformed XML, entries cut off): what
            # was read is stored, yet the feed may be losing entries. Curators should look.
            return "warning"
        return "ok"


# What a poll writes over a pending resource when its author edits the entry.
# A resource's longest reading or watching time (minutes): a long book or course, with room.
RESOURCE_MINUTES_MAX = 100_000

FEED_FIELDS = ("title", "summary", "content_html", "published_at", "estimated_minutes")

# Resources whose text kubelearn serves itself, by slug, with its file under docs/ (the learner
# pages render it at /guides/<slug>/, learn.guides): they have no public address, and a
# learner can read them all the same.
SERVED_HERE = {"kubelearn-on-kubernetes": "kubernetes.md"}


def needs_link_q() -> Q:
    """Resources a curator still has to find an address for: none, and not served here."""
    return (Q(url__isnull=True) | Q(url="")) & ~Q(slug__in=list(SERVED_HERE))


class Resource(models.Model):
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=120, unique=True)
    # Canonical form (see catalog.addresses); NULL when a curator has no certain address yet,
    # so several resources may lack one while any real address stays unique.
    url = models.URLField("address", max_length=2000, null=True, blank=True, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ARTICLE)
    summary = models.TextField(blank=True, help_text="Plain text, shown in lists.")
    content_html = models.TextField(
        blank=True,
        help_text="HTML excerpt of a feed entry; sanitised again wherever it is shown.",
    )
    authors = models.ManyToManyField(Author, blank=True, related_name="resources")
    tags = models.ManyToManyField(Tag, blank=True, related_name="resources")
    security_areas = models.ManyToManyField(SecurityArea, blank=True, related_name="resources")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.GETTING_STARTED)
    difficulty = models.PositiveSmallIntegerField(
        choices=Difficulty.choices, default=Difficulty.BEGINNER
    )
    estimated_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        # The API's bounds, here so that the admin keeps them too: a curator's typo of
        # 99999999999999 was published as "1666666666666 h 39 min" (a walk-through).
        validators=[MinValueValidator(1), MaxValueValidator(RESOURCE_MINUTES_MAX)],
        help_text="Reading or watching time, in minutes (1 to 100,000); empty when unknown.",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.CURATED)
    feed = models.ForeignKey(
        Feed, null=True, blank=True, on_delete=models.SET_NULL, related_name="resources"
    )
    # The entry's id within its feed (guid/id, else link, else a hash): with `feed`, the
    # natural key that makes polling idempotent.
    entry_key = models.CharField(max_length=500, blank=True)
    # A hash of the raw entry this resource was last made from (see
    # catalog.feeds.entries.entry_fingerprint): a poll skips entries whose hash is unchanged.
    entry_fingerprint = models.CharField(max_length=64, blank=True, default="")
    # When a curator last changed what a feed writes (FEED_FIELDS) while the resource awaited
    # review: from then on the feed's later edits no longer replace theirs (a walk-through's
    # "Save, decide later" was undone by the next poll).
    curator_edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        indexes = [
            models.Index(fields=["status", "stage"]),
            # Lists are ordered by title: a page is read from this index, not by sorting the
            # catalog. (Full-text search has its own index: see catalog.search.)
            models.Index(fields=["title", "id"], name="resource_title_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(difficulty__gte=1) & Q(difficulty__lte=3),
                name="resource_difficulty_1_3",
            ),
            # The natural key polling upserts by. Curated resources have no feed and no key.
            models.UniqueConstraint(
                fields=["feed", "entry_key"],
                condition=~Q(entry_key=""),
                name="resource_unique_feed_entry_key",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        # Data rules every writer (admin, API, seed loader, poller) must share: one spelling
        # per address, and a slug for every row.
        self.url = canonical_url(self.url) if self.url else None
        if not self.slug:
            self.slug = self._unique_slug()
        super().save(*args, **kwargs)

    def _unique_slug(self) -> str:
        base = slugify(self.title)[:100] or "resource"
        candidate, suffix = base, 2
        while Resource.objects.filter(slug=candidate).exclude(pk=self.pk).exists():
            candidate, suffix = f"{base}-{suffix}", suffix + 1
        return candidate

    @property
    def served_here(self) -> bool:
        """kubelearn serves this resource's text itself (SERVED_HERE): no address to find."""
        return self.slug in SERVED_HERE

    @property
    def needs_link(self) -> bool:
        return not self.url and not self.served_here

    @property
    def is_public(self) -> bool:
        return self.status == Status.APPROVED

    # --- Health (catalog.health), as learners and the API see it. Lists select the link row
    # with the resource (`select_related("link")`) and prefetch flags, or read them flat.

    @property
    def link_health(self) -> ResourceLink | None:
        try:
            return self.link
        except ObjectDoesNotExist:
            return None

    @property
    def link_status(self) -> str:
        link = self.link_health
        return link.status if link is not None else LinkStatus.UNCHECKED

    @property
    def link_checked_at(self) -> datetime | None:
        link = self.link_health
        return link.checked_at if link is not None else None

    @property
    def link_final_url(self) -> str | None:
        link = self.link_health
        return (link.final_url or None) if link is not None else None

    @property
    def staleness(self) -> list[StalenessFlag]:
        """Flags a learner sees (not dismissed), by deprecation slug."""
        flags = [flag for flag in self.staleness_flags.all() if flag.shown]
        return sorted(flags, key=lambda flag: (flag.deprecation.slug, flag.deprecation_id))


class FeedPoll(models.Model):
    """One poll of one feed: what happened, for operators and curators."""

    class Outcome(models.TextChoices):
        # Not "New content": said of polls that stored nothing new (a walk-through).
        OK = "ok", "Fetched"
        NOT_MODIFIED = "not_modified", "Not modified"
        FAILED = "failed", "Failed"
        GONE = "gone", "Gone (feed deactivated)"

    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="polls")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # What each count covers, in the admin's words: "2 unchanged" on a feed's first poll read
    # as a contradiction to a walk-through's curator (they were entries already stored).
    new = models.PositiveIntegerField(default=0, help_text="Entries stored as new resources.")
    updated = models.PositiveIntegerField(
        default=0, help_text="Pending resources whose author edited the entry."
    )
    held = models.PositiveIntegerField(
        "held for a curator",
        default=0,
        help_text="Reviewed resources whose author edited the entry: the edit waits for a "
        "curator (see the resource's page).",
    )
    unchanged = models.PositiveIntegerField(
        "already stored",
        default=0,
        help_text="Entries stored before, by this feed or (by address) from elsewhere in the "
        "catalog; an entry repeated within the document counts once.",
    )
    skipped = models.PositiveIntegerField(
        "skipped (no usable link)",
        default=0,
        help_text="Entries without a web address to point learners to.",
    )
    error = models.TextField(blank=True)
    warning = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["feed", "-started_at"])]

    def __str__(self) -> str:
        # The outcome in words: the poll history's rows read "…: not_modified" (walk-through).
        return f"{self.feed} at {self.started_at:%Y-%m-%d %H:%M}: {self.get_outcome_display()}"


class AuthorUpdate(models.Model):
    """The author's newer version of a feed entry a curator has already decided on.

    A curator's version wins: a poll never writes over an approved resource, or one a curator
    edited. The author's later edit waits here instead (one per resource, the latest), until a
    curator takes it or keeps theirs. Before, such edits were dropped without a trace.
    """

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for a curator"
        TAKEN = "taken", "Taken"
        KEPT = "kept", "Curator kept theirs"

    resource = models.OneToOneField(
        Resource, on_delete=models.CASCADE, related_name="author_update"
    )
    # The entry's fields as the author last published them (FEED_FIELDS).
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    content_html = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    estimated_minutes = models.PositiveIntegerField(null=True, blank=True)
    # Which of those differed from the resource when the edit arrived.
    changed = models.JSONField(default=list)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.WAITING, db_index=True
    )
    seen_at = models.DateTimeField("found", help_text="When a poll found the author's edit.")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"The author's update of {self.resource}"

    @property
    def version(self) -> str:
        """Names the author's text as a curator was shown it: a decision sent with it is
        refused once a later poll has brought another edit (a walk-through's curator took an
        edit that arrived while the comparison page was open, unseen)."""
        text = "\x1f".join(
            value.isoformat() if isinstance(value, datetime) else str(value)
            for value in (getattr(self, name) for name in FEED_FIELDS)
        )
        return hashlib.sha256(text.encode()).hexdigest()[:20]


class PendingResource(Resource):
    """The curators' review queue: the same rows, listed where review happens."""

    class Meta:
        proxy = True
        # Read in the admin as "6 items to review" (the list is the review queue).
        verbose_name = "item to review"
        verbose_name_plural = "items to review"


class LearningPath(models.Model):
    """An ordered route through the catalog; the seed post is the first one."""

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    resources = models.ManyToManyField(Resource, through="PathStep", related_name="paths")

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class PathStep(models.Model):
    path = models.ForeignKey(LearningPath, on_delete=models.CASCADE, related_name="steps")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="path_steps")
    position = models.PositiveIntegerField(help_text="1 is the first step.")
    note = models.CharField(max_length=300, blank=True, help_text="Why this step, in one line.")
    # Alternatives: the seed's "if you run macOS ... Docker for Mac, otherwise ... Minikube"
    # is two steps of which a learner needs one (a Linux learner had to Skip the macOS one).
    one_of = models.SlugField(
        max_length=50,
        blank=True,
        db_index=False,
        help_text=(
            "Steps of this path with the same word here are alternatives (on macOS / on other "
            "systems): a learner needs only one of them. Leave empty for a step everyone takes."
        ),
    )

    class Meta:
        ordering = ["path", "position"]
        constraints = [
            models.UniqueConstraint(fields=["path", "position"], name="pathstep_unique_position"),
            models.UniqueConstraint(fields=["path", "resource"], name="pathstep_unique_resource"),
            models.CheckConstraint(condition=Q(position__gte=1), name="pathstep_position_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.path.slug} #{self.position}: {self.resource.title}"


# Catalog health (link checks, deprecations, staleness) lives in its own package; its models
# belong to this app, so they are imported here for Django to find them.
from catalog.health.models import (  # noqa: E402
    Deprecation,
    FlagState,
    LinkCheck,
    LinkHost,
    LinkStatus,
    ResourceLink,
    StalenessFlag,
)

__all__ = [
    "Author",
    "Deprecation",
    "Difficulty",
    "Feed",
    "FeedPoll",
    "FeedState",
    "FlagState",
    "Kind",
    "LearningPath",
    "LinkCheck",
    "LinkHost",
    "LinkStatus",
    "Origin",
    "PathStep",
    "PendingResource",
    "Resource",
    "ResourceLink",
    "SecurityArea",
    "Stage",
    "StalenessFlag",
    "Status",
    "Tag",
]
