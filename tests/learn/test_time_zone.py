"""Dates and times on the pages are in the learner's time zone, as their browser names it
(kubelearn.middleware.LearnerTimeZoneMiddleware; the pages' script sets the cookie)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from catalog.models import Resource
from learn.selectors import spoken_day
from recommender import services
from recommender.models import Note, Progress
from tests.factories import ResourceFactory
from tests.learn.conftest import path_ids

pytestmark = pytest.mark.django_db

WRITTEN = datetime(2026, 12, 6, 4, 14, tzinfo=UTC)  # Saturday 5 Dec, 20:14 in Los Angeles


def note_written_at(alice, when: datetime) -> None:
    resource = ResourceFactory(title="Pod security admission")
    services.note_set(user=alice, resource=resource, text="Check the namespace labels.")
    Note.objects.filter(user=alice).update(updated_at=when)


def test_a_note_says_when_it_was_written_in_the_learners_time_zone(alice_web, alice):
    note_written_at(alice, WRITTEN)
    alice_web.cookies["tz"] = "America/Los_Angeles"
    page = alice_web.get("/notes/").content.decode()
    assert 'datetime="2026-12-05T20:14:00-08:00"' in page and " at 20:14</time>" in page
    assert " at 04:14</time>" not in page


@pytest.mark.parametrize(
    "cookie", ["Mars/Olympus_Mons", "../../../etc/passwd", "UTC" * 40, "", "Europe/Paris\x00"]
)
def test_a_time_zone_cookie_that_names_no_zone_leaves_the_server_time(alice_web, alice, cookie):
    note_written_at(alice, WRITTEN)
    alice_web.cookies["tz"] = cookie
    response = alice_web.get("/notes/")
    assert response.status_code == 200
    assert 'datetime="2026-12-06T04:14:00+00:00"' in response.content.decode()


def test_the_learners_time_zone_ends_with_their_request(alice_web, alice, client):
    note_written_at(alice, WRITTEN)
    alice_web.cookies["tz"] = "Asia/Tokyo"
    assert " at 13:14</time>" in alice_web.get("/notes/").content.decode()
    assert timezone.get_current_timezone_name() == "UTC"


def test_not_now_for_tomorrow_names_the_learners_day(alice_web, alice, seed):
    alice_web.cookies["tz"] = "Pacific/Kiritimati"  # UTC+14: a day ahead of UTC for 10 hours
    first = path_ids(seed)[0]
    page = alice_web.post(
        f"/progress/{first}/",
        {"state": "planned", "later": "1", "later_days": "1", "next": "/"},
        follow=True,
    )
    later_until = Progress.objects.get(user=alice, resource_id=first).later_until
    back = later_until.astimezone(ZoneInfo("Pacific/Kiritimati"))
    said = unescape(page.content.decode())
    with timezone.override(ZoneInfo("Pacific/Kiritimati")):
        assert f"returns to your queue on {spoken_day(back)}." in said


def test_not_now_brings_an_item_back_at_the_start_of_the_learners_day(alice_web, alice, seed):
    # It came back at the same clock time: put off "tomorrow" at 23:30 in Tokyo, it stayed
    # hidden all the next day while the pages named that day as its return (a walk-through).
    alice_web.cookies["tz"] = "Asia/Tokyo"
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "planned", "later": "1", "later_days": "1"})
    back = Progress.objects.get(user=alice, resource_id=first).later_until
    tokyo = ZoneInfo("Asia/Tokyo")
    today_in_tokyo = timezone.now().astimezone(tokyo).date()
    assert back.astimezone(tokyo) == datetime.combine(
        today_in_tokyo + timedelta(days=1), datetime.min.time(), tzinfo=tokyo
    )


def test_a_day_in_another_year_is_said_with_its_year():
    # "Not now" for a month in December said "Wed 6 Jan" (a walk-through).
    now = timezone.now()
    assert spoken_day(now) == f"{now:%a} {now.day} {now:%b}"
    later = now + timedelta(days=400)
    assert spoken_day(later, "long") == f"{later:%A} {later.day} {later:%B} {later.year}"
    earlier = now - timedelta(days=400)
    assert spoken_day(earlier, "date") == f"{earlier.day} {earlier:%b} {earlier.year}"


def test_without_the_browsers_time_zone_the_pages_say_their_times_are_utc(alice_web):
    # Without script no tz cookie is set: every time was in UTC, unsaid (a walk-through).
    page = alice_web.get("/history/").content.decode()
    assert '<noscript><p class="callout time-zone-note">Times on these pages are in UTC' in page
    alice_web.cookies["tz"] = "America/Los_Angeles"
    assert "time-zone-note" not in alice_web.get("/history/").content.decode()


@pytest.mark.parametrize(
    ("days_ago", "said"),
    [(0, "today"), (1, "yesterday"), (3, "on {weekday}"), (9, "on {date}")],
)
def test_history_says_recent_days_as_people_do(alice_web, alice, seed, days_ago, said):
    # "Completed 6 Dec 2026" was said of today (a learner's walk-through).
    alice_web.cookies["tz"] = "Asia/Tokyo"
    first = path_ids(seed)[0]
    services.progress_set(user=alice, resource=Resource.objects.get(pk=first), state="skipped")
    tokyo = ZoneInfo("Asia/Tokyo")
    noon = datetime.combine(timezone.localdate(timezone=tokyo), datetime.min.time(), tokyo)
    when = noon + timedelta(hours=12) - timedelta(days=days_ago)
    Progress.objects.filter(user=alice).update(updated_at=when)
    expected = said.format(weekday=f"{when:%A}", date=spoken_day(when, "date"))
    body = alice_web.get("/history/").content.decode()
    assert '<p class="history-when">Skipped <time datetime="' in body
    assert f'">{expected}</time></p>' in body


@pytest.mark.parametrize(
    ("zone", "now", "back"),
    [
        # A week before Berlin's clocks go forward (29 Mar 2026), at 23:30: back at midnight.
        ("Europe/Berlin", datetime(2026, 3, 24, 22, 30, tzinfo=UTC), "2026-03-31T00:00:00+02:00"),
        # ... and back (25 Oct 2026).
        ("Europe/Berlin", datetime(2026, 10, 20, 8, 0, tzinfo=UTC), "2026-10-27T00:00:00+01:00"),
        # Santiago's clocks go from 00:00 to 01:00 (6 Sep 2026): that day starts at 01:00.
        ("America/Santiago", datetime(2026, 8, 30, 15, 0, tzinfo=UTC), "2026-09-06T01:00:00-03:00"),
    ],
)
def test_not_now_for_a_week_over_a_change_of_clocks_comes_back_at_the_days_start(
    monkeypatch, zone, now, back
):
    monkeypatch.setattr(timezone, "now", lambda: now)
    with timezone.override(ZoneInfo(zone)):
        until = services.put_off_until(7)
    # As stored and read back (UTC), not as built: a zone's own astimezone keeps a wall time
    # that the clocks skip.
    assert until.astimezone(UTC).astimezone(ZoneInfo(zone)).isoformat() == back
