"""Write-side logic for learners (progress, profile, notes) and the model: versions, refits."""

from __future__ import annotations

import hashlib
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import EllipsisType
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from catalog.models import Resource, SecurityArea, Status
from recommender import answers, selectors, store
from recommender.engine import fit
from recommender.models import (
    LATER_DAYS,
    LATER_DAYS_CHOICES,
    NOTE_MAX_CHARS,
    CatalogVersion,
    FittedModel,
    FocusArea,
    LearnerProfile,
    Note,
    Progress,
    ProgressState,
    taken_up,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


def put_off_until(days: int, *, at_day_start: bool = True) -> datetime:
    """When an item put off for `days` days comes back: at the start of that day in the
    learner's time zone (the active one; the pages activate the learner's). Not the same clock
    time: "tomorrow" at 23:30 hid the item all the next day while the pages named that day as
    the one it came back on (a walk-through in Tokyo).

    Not `at_day_start` (the API, which knows no learner's zone): `days` times 24 hours from now.
    The start of a UTC day made "1 day" at 21:10Z a put-off of under three hours."""
    if not at_day_start:
        return timezone.now() + timedelta(days=days)
    day = timezone.localdate() + timedelta(days=days)
    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.get_current_timezone())


def progress_set(
    *,
    user: User,
    resource: Resource,
    state: str,
    rating: int | EllipsisType | None = ...,
    known: bool = False,
    later: bool = False,
    later_days: int = LATER_DAYS,
    later_at_day_start: bool = True,
    later_kept: bool = False,
    only_if: Callable[[Progress | None], bool] | None = None,
) -> tuple[Progress, bool]:
    """Create or replace the learner's progress on a resource. Returns (row, created); the
    row is the state kept, which is not the one asked for when a completion was kept.

    Idempotent: the same call twice leaves one row in the same state.

    A completion is only undone by forgetting it (`progress_forget`): asked for "started",
    "planned" or "skipped" on a completed resource, this changes nothing. Two clicks in a row
    (Done, then a Start that was still on the page) arrive as two requests, and the later one
    must not turn finished reading back into unfinished reading. Marking it completed again
    (a new rating) still applies. The row lock orders concurrent calls, so whichever comes
    second sees the completion.

    ``rating``: 1 to 5, or None for none; left out (``...``), a completion or a reading keeps
    the rating it has. A late retry of the first Done, sent before the learner rated, had erased the
    rating (an API client's walk-through).

    ``known`` (with ``completed`` only): known already, not read here (`Progress.known`).
    A resource completed as read stays read ("I know these" does not erase reading and its
    rating). Any other call on a known resource makes it read: started, skipped or saved.

    ``later`` (with ``planned`` only): "Not now", saved and out of the queue for
    ``later_days`` days, one of LATER_DAYS_CHOICES (`Progress.later_until`), until the start
    of that day in the learner's zone, or (not ``later_at_day_start``) that many times 24 hours
    from now: `put_off_until`. Any other call brings it back, except (``later_kept``) a saved
    one asked for as saved again: the body an API client read and sent back as it was.

    ``only_if``, as for `progress_forget`: asked of the progress as it is now (None: there is
    none), under its row lock; when it says False, ProgressChanged is raised and nothing
    changes.
    """
    if known and (state != ProgressState.COMPLETED or rating not in (None, ...)):
        raise ValueError("only a completion without a rating can be known")
    if later and state != ProgressState.PLANNED:
        raise ValueError("only a saved resource can be put off")
    if later_days not in LATER_DAYS_CHOICES:
        raise ValueError(f"a resource is put off for one of {LATER_DAYS_CHOICES} days")
    locked = Progress.objects.select_for_update()
    with transaction.atomic():
        current = locked.filter(user=user, resource=resource).first() if only_if else None
        if only_if is not None and not only_if(current):
            raise ProgressChanged(current)
        # The row only_if read is locked already: read it once.
        progress, created = (
            (current, False)
            if current is not None
            else locked.get_or_create(
                user=user,
                resource=resource,
                defaults={"state": state, "rating": None if rating is ... else rating},
            )
        )
        read = not created and progress.state == ProgressState.COMPLETED and not progress.known
        if read and (state != ProgressState.COMPLETED or known):
            return progress, False  # an existing completion (a new row has the state asked)
        was_saved = not created and progress.state == ProgressState.PLANNED
        if not created:
            # Left out, a rating stays while the item stays rated: read (done) or being read.
            # A retried Start without it had erased a rating given while reading (a walk-through).
            rated = state in (ProgressState.COMPLETED, ProgressState.IN_PROGRESS)
            kept = progress.rating if rated else None
            progress.state = state
            progress.rating = kept if rating is ... else rating
        progress.known = known  # any other click on the item: it is read, not just known
        still_put_off = later_kept and was_saved and state == ProgressState.PLANNED
        if later:
            progress.later_until = put_off_until(later_days, at_day_start=later_at_day_start)
        elif not still_put_off:
            progress.later_until = None
        if state == ProgressState.COMPLETED and progress.completed_at is None:
            progress.completed_at = timezone.now()
        elif state != ProgressState.COMPLETED:
            progress.completed_at = None
        progress.save()
    _learner_changed(user)
    return progress, created


@dataclass(frozen=True)
class ProgressSnapshot:
    """A learner's progress on one resource before a click changed it (None: no progress)."""

    resource_id: int
    state: str | None
    rating: int | None = None
    completed_at: datetime | None = None
    known: bool = False
    later_until: datetime | None = None

    # The Progress fields a snapshot keeps, in the order of the dataclass after resource_id.
    FIELDS: ClassVar[tuple[str, ...]] = ("state", "rating", "completed_at", "known", "later_until")

    def to_session(self) -> list[Any]:
        """As JSON the session can keep (dates as ISO text)."""
        return [
            self.resource_id,
            self.state,
            self.rating,
            self.completed_at.isoformat() if self.completed_at else None,
            self.known,
            self.later_until.isoformat() if self.later_until else None,
        ]

    @classmethod
    def from_session(cls, kept: list[Any]) -> ProgressSnapshot:
        """Back from `to_session` (an offer made before "known" and "later" has 4 values)."""
        pk, state, rating, done, *newer = kept
        known, later = (*newer, False, None)[:2]
        return cls(
            int(pk),
            state,
            rating,
            datetime.fromisoformat(done) if done else None,
            bool(known),
            datetime.fromisoformat(later) if later else None,
        )


def progress_snapshots(rows: QuerySet[Progress]) -> dict[int, ProgressSnapshot]:
    """The snapshots of these progress rows, by resource id. One query."""
    return {
        resource_id: ProgressSnapshot(resource_id, *kept)
        for resource_id, *kept in rows.values_list("resource_id", *ProgressSnapshot.FIELDS)
    }


def progress_restore(*, user: User, snapshots: Sequence[ProgressSnapshot]) -> None:
    """Put the learner's progress back as the snapshots say (Undo): no row where ``state`` is
    None, else that state, rating and completion date. One transaction.

    Unlike `progress_set`, this may turn a completion back into less: the learner asked to
    take back the click that completed it.
    """
    if not snapshots:
        return
    with transaction.atomic():
        Progress.objects.filter(
            user=user, resource_id__in=[snap.resource_id for snap in snapshots]
        ).delete()
        Progress.objects.bulk_create(
            [
                Progress(
                    user=user,
                    resource_id=snap.resource_id,
                    state=snap.state,
                    rating=snap.rating,
                    completed_at=snap.completed_at
                    if snap.state == ProgressState.COMPLETED
                    else None,
                    known=snap.known and snap.state == ProgressState.COMPLETED,
                    later_until=snap.later_until if snap.state == ProgressState.PLANNED else None,
                )
                for snap in snapshots
                if snap.state is not None
            ]
        )
    _learner_changed(user)


def path_stage_complete(
    *, user: User, stage: str, needless: Collection[int] = ()
) -> list[ProgressSnapshot]:
    """Mark the learning path's approved steps in ``stage`` done ("I know these"), in one go.

    For a learner who knows the basics: the alternative was a click per step. Steps become
    completed as *known* (``Progress.known``: not counted as reading, not taste, not where
    the learner took up the path). Completed steps keep their rating and date, skipped ones
    stay skipped, and steps the learner is reading or saved for later stay as they are
    (``taken_up``: a walk-through's "Reading now" item silently became "Already known"); one
    put off with "Not now" becomes known. Returns what the changed steps were before (Undo).
    ``needless`` are steps the learner's reading made needless (the other way to a step they
    completed, as the Path page says): left as they are, as the page's count promised.
    """
    path = selectors.primary_path()
    if path is None:
        return []
    step_ids = set(
        Resource.objects.filter(
            status=Status.APPROVED, stage=stage, path_steps__path=path
        ).values_list("pk", flat=True)
    ) - set(needless)
    now = timezone.now()
    with transaction.atomic():
        kept = progress_snapshots(
            Progress.objects.select_for_update().filter(user=user, resource_id__in=step_ids)
        )
        finished = {ProgressState.COMPLETED, ProgressState.SKIPPED}
        unfinished = [
            pk
            for pk, snap in kept.items()
            if snap.state not in finished and not taken_up(snap.state, snap.later_until, now=now)
        ]
        # Known, not read here: it is not reading time, taste or where the path was taken up.
        Progress.objects.filter(user=user, resource_id__in=unfinished).update(
            state=ProgressState.COMPLETED,
            rating=None,
            completed_at=now,
            updated_at=now,
            known=True,
            later_until=None,
        )
        new = [pk for pk in step_ids if pk not in kept]
        Progress.objects.bulk_create(
            [
                Progress(
                    user=user,
                    resource_id=pk,
                    state=ProgressState.COMPLETED,
                    completed_at=now,
                    known=True,
                )
                for pk in sorted(new)
            ],
            ignore_conflicts=True,  # a click elsewhere made the row meanwhile: it stands
        )
    changed = [kept[pk] for pk in unfinished] + [ProgressSnapshot(pk, None) for pk in sorted(new)]
    if changed:
        _learner_changed(user)
    return changed


class ProgressChanged(Exception):
    """The progress changed (another device, another client) since the version the request
    names was read. `current` is the progress as it is now (None: there is none)."""

    def __init__(self, current: Progress | None) -> None:
        super().__init__("The progress changed since it was read.")
        self.current = current


def progress_version(progress: Progress) -> str:
    """A fingerprint of what a learner's progress on a resource says (not when it was
    written: the same state sent twice is the same version)."""
    material = "|".join(
        str(value)
        for value in (
            progress.state,
            progress.rating,
            progress.known,
            progress.later_until and progress.later_until.isoformat(),
            progress.completed_at and progress.completed_at.isoformat(),
        )
    )
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def progress_forget(
    *,
    user: User,
    resource_id: int,
    only_if: Callable[[Progress | None], bool] | None = None,
) -> bool:
    """Forget the learner's progress on a resource. Returns whether there was any.

    ``only_if`` is asked of the progress as it is now (None: there is none), under its row
    lock; when it says False, ProgressChanged is raised and nothing is forgotten. The web's
    Clear asks for the state its page showed (a "Stop reading" left on a laptop's page had
    erased a completion and its rating made on the phone since: a walk-through), the API's
    If-Match for the version its client read (progress_version)."""
    rows = Progress.objects.filter(user=user, resource_id=resource_id)
    with transaction.atomic():
        if only_if is not None:
            current = rows.select_for_update().first()
            if not only_if(current):
                raise ProgressChanged(current)
        deleted, _ = rows.delete()
    if deleted:
        _learner_changed(user)
    return bool(deleted)


NOTE_TOO_LONG = (
    f"A note can be at most {NOTE_MAX_CHARS:,} characters long; this one has {{length:,}}. "
    "Nothing was saved."
)


class NoteChanged(Exception):
    """The note was saved or removed elsewhere (another tab, another device) after the copy the
    learner edited was loaded. `current` is the note as it is now (None: removed)."""

    def __init__(self, current: Note | None) -> None:
        super().__init__("The note changed since it was loaded.")
        self.current = current


def note_text_normalised(text: str) -> str:
    """A note as it is kept: line breaks as "\\n", without trailing whitespace or leading blank
    lines. The first line keeps its indentation (a pasted YAML list item lost its "  - ");
    kubelearn.js normalises a kept draft the same way before comparing it with the saved one.
    Letters are composed (NFC): an "é" pasted as "e" and an accent mark is then the "é" a
    search types (a walk-through's pasted note was not found)."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").rstrip()
    return _LEADING_BLANK_LINES.sub("", text)


_LEADING_BLANK_LINES = re.compile(r"\A(?:[^\S\n]*\n)+")


def note_version(text: str) -> str:
    """A fingerprint of a note's saved text ("" for no note). The web form sends back the one
    it was loaded with; a fingerprint rather than updated_at, so that two tabs saving the same
    words are not told they disagree."""
    if not text:
        return ""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def note_set(
    *,
    user: User,
    resource: Resource,
    text: str,
    based_on: str | None = None,
    only_if: Callable[[str], bool] | None = None,
) -> tuple[Note | None, bool]:
    """Write the learner's note on a resource, replacing any earlier one. Returns (row,
    created); (None, False) when the text was empty and any note was deleted.

    `based_on` is the note_version of the note the new text was written over. When given and
    the note has changed since (another tab saved or removed it) to something other than this
    very text, nothing is written and NoteChanged says what the note is now: the last save
    must not silently throw away another one. None (the API) replaces whatever is there.

    `only_if` is a stricter test (the API's If-Match / If-None-Match): it is given the
    note_version of the note as it is now ("" for none), and when it says False nothing is
    written and NoteChanged is raised, whatever the text.

    The text is kept as typed (plain text, escaped wherever it is shown), minus trailing
    whitespace and leading blank lines (note_text_normalised), with line breaks as "\\n": a
    browser sends a textarea's line breaks as "\\r\\n", and its maxlength counts them as one
    character, so counting them as two here would refuse a note the page allowed.
    Idempotent; progress is untouched (a note is not a reading state, so no cached answer
    goes stale). The caller checks that the learner may see the resource.

    Raises ValidationError (on `text`) for a note over NOTE_MAX_CHARS or one containing a NUL
    character (which PostgreSQL cannot store); nothing is written then.
    """
    text = note_text_normalised(text)
    if len(text) > NOTE_MAX_CHARS:
        raise ValidationError({"text": [NOTE_TOO_LONG.format(length=len(text))]})
    if "\x00" in text:
        raise ValidationError({"text": ["A note cannot contain NUL characters."]})
    with transaction.atomic():
        # Locked, so that of two saves based on the same version only the first gets through.
        current = Note.objects.select_for_update().filter(user=user, resource=resource).first()
        if based_on is not None:
            current_text = current.text if current is not None else ""
            if based_on != note_version(current_text) and text != current_text:
                raise NoteChanged(current)
        _note_check(current, only_if)
        if not text:
            note_delete(user=user, resource_id=resource.pk)
            return None, False
        note, created = Note.objects.update_or_create(
            user=user, resource=resource, defaults={"text": text}
        )
    return note, created


def note_delete(
    *, user: User, resource_id: int, only_if: Callable[[str], bool] | None = None
) -> bool:
    """Delete the learner's note on a resource. Returns whether there was one.

    `only_if` as for note_set: when it says False of the note as it is now, nothing is
    deleted and NoteChanged is raised."""
    notes = Note.objects.filter(user=user, resource_id=resource_id)
    if only_if is None:
        deleted, _ = notes.delete()
        return bool(deleted)
    with transaction.atomic():
        current = notes.select_for_update().first()
        _note_check(current, only_if)
        if current is None:
            return False
        current.delete()
    return True


def _note_check(current: Note | None, only_if: Callable[[str], bool] | None) -> None:
    """Raise NoteChanged when `only_if` refuses the note as it is now (locked by the caller)."""
    if only_if is not None and not only_if(note_version(current.text if current else "")):
        raise NoteChanged(current)


class ProfileChanged(Exception):
    """The profile changed (another tab, another device, another client) since the version the
    request names was read. `current` is the profile as it is now (None: there is none)."""

    def __init__(self, current: LearnerProfile | None) -> None:
        super().__init__("The profile changed since it was read.")
        self.current = current


def profile_version(profile: LearnerProfile | None) -> str:
    """A fingerprint of what a learner's profile says: focus, level and time budget (no
    profile reads as an empty one). The Focus page sends back the one it was made with, the
    API's ETag carries it; what it says, not when it was written, so that two tabs saving the
    same choices are not told they disagree."""
    if profile is None:
        return _profile_fingerprint({}, None, None)
    focus = {item.area_id: item.weight for item in profile.focus.all()}
    return _profile_fingerprint(focus, profile.level, profile.minutes_budget)


def _profile_fingerprint(
    focus: Mapping[int, float], level: int | None, minutes_budget: int | None
) -> str:
    material = repr((sorted(focus.items()), level, minutes_budget))
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def profile_update(
    *,
    user: User,
    focus: Mapping[str, float] | None = None,
    level: int | EllipsisType | None = ...,
    minutes_budget: int | EllipsisType | None = ...,
    only_if: Callable[[str], bool] | None = None,
) -> LearnerProfile:
    """Update the parts of a profile that were given (`...` means "leave as it is").

    `focus` replaces the whole focus: {area slug: weight in (0, 1]}.

    `only_if` is given the version of the profile as it is now (`profile_version`, under the
    row lock); when it answers False, nothing is written and ProfileChanged is raised (an old
    Focus page, saved after the focus was changed in another tab, replaced the newer choices),
    unless the profile already says what the update would make it say: then there is nothing
    to refuse (RFC 9110, 13.1.1 allows the 2xx).
    """
    with transaction.atomic():
        profile, _ = LearnerProfile.objects.select_for_update().get_or_create(user=user)
        area_ids = (
            dict(SecurityArea.objects.filter(slug__in=focus).values_list("slug", "pk"))
            if focus is not None
            else {}
        )
        if only_if is not None:
            focus_now = {item.area_id: item.weight for item in profile.focus.all()}
            current = _profile_fingerprint(focus_now, profile.level, profile.minutes_budget)
            if not only_if(current):
                wanted = _profile_fingerprint(
                    (
                        {area_ids[slug]: weight for slug, weight in focus.items()}
                        if focus is not None
                        else focus_now
                    ),
                    profile.level if isinstance(level, EllipsisType) else level,
                    profile.minutes_budget
                    if isinstance(minutes_budget, EllipsisType)
                    else minutes_budget,
                )
                if wanted != current:
                    raise ProfileChanged(profile)
                return profile
        if not isinstance(level, EllipsisType):
            profile.level = level
        if not isinstance(minutes_budget, EllipsisType):
            profile.minutes_budget = minutes_budget
        profile.save()
        if focus is not None:
            profile.focus.all().delete()
            FocusArea.objects.bulk_create(
                FocusArea(profile=profile, area_id=area_ids[slug], weight=weight)
                for slug, weight in focus.items()
            )
    _learner_changed(user)
    return profile


def _learner_changed(user: User) -> None:
    """Their cached `next` and queue are stale: now, and again once the write is committed
    (a request between the two could cache an answer computed from the rows before it)."""
    answers.learner_changed(user_id=user.pk)
    transaction.on_commit(lambda: answers.learner_changed(user_id=user.pk))


# --- The fitted model --------------------------------------------------------------------------


def catalog_version_bump() -> int:
    """Record that approved content may have changed. Returns the new version."""
    with transaction.atomic():
        updated = CatalogVersion.objects.filter(pk=1).update(version=F("version") + 1)
        if not updated:
            CatalogVersion.objects.get_or_create(pk=1, defaults={"version": 1})
    return store.catalog_version()


def model_refit() -> FittedModel:
    """Fit on the approved catalog as it is now and store the result (the refit task's body).

    The returned row carries `timings` (seconds for read, fit and store) for operators and
    benchmarks; they are also logged.
    """
    version = store.catalog_version()
    clock = time.perf_counter()
    documents = selectors.engine_documents()
    count = len(documents)
    timings = {"read": time.perf_counter() - clock}
    clock = time.perf_counter()
    model = fit(documents) if documents else None
    del documents  # free the catalog copy before storing: peak memory is the limit here
    timings["fit"] = time.perf_counter() - clock
    clock = time.perf_counter()
    row = store.model_store(
        model,
        catalog_version=version,
        documents=count,
        fit_seconds=timings["read"] + timings["fit"],
    )
    timings["store"] = time.perf_counter() - clock
    row.timings = timings
    logger.info(
        "Recommender refit: %s documents, catalog v%s, %s KiB stored; seconds: %s",
        count,
        version,
        row.stored_bytes // 1024,
        ", ".join(f"{name} {seconds:.2f}" for name, seconds in timings.items()),
    )
    return row
