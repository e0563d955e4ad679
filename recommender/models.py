"""Learner data (progress, profile) and the fitted recommender model shared by processes."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from catalog.models import Resource, SecurityArea


class ProgressState(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    SKIPPED = "skipped", "Skipped"


def taken_up(state: str | None, later_until: datetime | None, *, now: datetime) -> bool:
    """Whether the learner chose to read this: started it, or saved it for later (an item put
    off with "Not now" is not chosen, nor is it once its day has come and it is back: the Path
    page counted it with the saved, as Up next no longer does). "I know these" leaves such
    steps as they are: knowing a stage's basics is no reason to drop a chosen read."""
    if state == ProgressState.IN_PROGRESS:
        return True
    return state == ProgressState.PLANNED and later_until is None


# How many days "Not now" keeps a resource out of the learner's queue: the learner's choice of
# tomorrow, a week (what "Not now" alone means) or a month.
LATER_DAYS_CHOICES = (1, 7, 30)
LATER_DAYS = 7


class Progress(models.Model):
    """Where one learner stands with one resource."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="progress"
    )
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="progress")
    state = models.CharField(max_length=12, choices=ProgressState.choices)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # "I know these" on the Path page: completed without being read here. It satisfies the
    # path like any completion but is not reading time, not taste (the recommender's profile)
    # and not where the learner took up the path. Any later click on the item clears it.
    known = models.BooleanField(default=False, help_text="Marked as already known (not read here).")
    # "Not now" on a queue card: saved, and out of the learner's queue until then (a path step
    # put off does not hold back the steps after it meanwhile). Any later click clears it.
    later_until = models.DateTimeField(
        null=True, blank=True, help_text="Put off: out of the queue until then (saved meanwhile)."
    )

    class Meta:
        ordering = ["-updated_at"]
        verbose_name_plural = "progress"
        constraints = [
            models.UniqueConstraint(fields=["user", "resource"], name="progress_one_per_resource"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | (Q(rating__gte=1) & Q(rating__lte=5)),
                name="progress_rating_1_5",
            ),
            models.CheckConstraint(
                condition=Q(known=False) | Q(state=ProgressState.COMPLETED),
                name="progress_known_is_completed",
            ),
            models.CheckConstraint(
                condition=Q(later_until__isnull=True) | Q(state=ProgressState.PLANNED),
                name="progress_later_is_saved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.resource} · {self.state}"


class LearnerProfile(models.Model):
    """What a learner wants: security focus, level, time budget."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learner_profile"
    )
    level = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="1 beginner, 2 intermediate, 3 advanced; empty: inferred."
    )
    minutes_budget = models.PositiveIntegerField(
        null=True, blank=True, help_text="Default time budget for a reading session."
    )
    focus_areas = models.ManyToManyField(SecurityArea, through="FocusArea", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(level__isnull=True) | (Q(level__gte=1) & Q(level__lte=3)),
                name="profile_level_1_3",
            )
        ]

    def __str__(self) -> str:
        return f"profile of {self.user}"


class FocusArea(models.Model):
    profile = models.ForeignKey(LearnerProfile, on_delete=models.CASCADE, related_name="focus")
    area = models.ForeignKey(SecurityArea, on_delete=models.CASCADE, related_name="+")
    weight = models.FloatField(default=1.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["profile", "area"], name="focus_one_per_area"),
            models.CheckConstraint(
                condition=Q(weight__gt=0) & Q(weight__lte=1), name="focus_weight_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area} ({self.weight:g})"


class CatalogVersion(models.Model):
    """A counter bumped whenever approved content may have changed (one row, pk=1)."""

    version = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"catalog v{self.version}"


class FittedModel(models.Model):
    """A fitted engine model, tagged with the catalog version it was built from.

    The model itself is a directory of arrays (recommender.engine.storage), kept here as
    ModelPart rows so every web and worker process, on any host, can materialise the same
    one into its MODEL_DIR and map it. A row and all its parts are written in one
    transaction: a reader that sees the row sees the whole model.
    """

    catalog_version = models.PositiveBigIntegerField(db_index=True)
    documents = models.PositiveIntegerField()
    fit_seconds = models.FloatField()
    stored_bytes = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    # Not stored: seconds per refit phase, set on the row a refit returns (operators, benchmarks).
    timings: dict[str, float]

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"model #{self.pk} for catalog v{self.catalog_version} ({self.documents} docs)"


class ModelPart(models.Model):
    """Up to recommender.store.PART_BYTES of one file of a fitted model's directory.

    Files are split because one value cannot hold a large model (PostgreSQL refuses a bytea
    over 1 GB; the 1M-resource model is ~1.5 GB) and so no process ever holds a whole file in
    memory to store or read it.
    """

    model = models.ForeignKey(FittedModel, on_delete=models.CASCADE, related_name="parts")
    name = models.CharField(max_length=100)
    index = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "name", "index"], name="model_part_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}[{self.index}] of model #{self.model_id}"


# Long enough for a page of commands and thoughts; short enough that a page listing 20 notes
# stays a page. services.note_set enforces it with a clear message; Note's constraint keeps any
# other writer honest.
# A reading session's time budget, in minutes: the queue's `minutes` and the saved default alike
# (a walk-through found Up next taking 1 and the Focus page refusing anything under 5).
MINUTES_MIN, MINUTES_MAX = 1, 24 * 60

NOTE_MAX_CHARS = 10_000


class Note(models.Model):
    """One learner's private note on one resource: plain text, as typed.

    Kept apart from Progress on purpose: a note is not a reading state, so writing one changes
    no recommendation, and forgetting progress (Clear) keeps what the learner wrote.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes"
    )
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "resource"], name="note_one_per_resource"),
            # An empty note is no note: note_set deletes the row instead.
            models.CheckConstraint(condition=~Q(text=""), name="note_text_not_empty"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), NOTE_MAX_CHARS),
                name="note_text_max_chars",
            ),
        ]

    def __str__(self) -> str:
        return f"note of {self.user} on {self.resource}"
