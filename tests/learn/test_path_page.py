"""The Path page as a place to act: where the learner is, marking steps (or a stage) done,
and the resource page leading on to the next item."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import LearningPath, Resource
from learn.selectors import steps_behind
from recommender import services
from recommender.models import Progress, ProgressState
from tests.learn.conftest import path_ids, undo_token

pytestmark = pytest.mark.django_db


def here(body: str) -> int:
    """Position of the step the page marks "You are here"."""
    marked = re.findall(r'id="step-(\d+)" aria-current="step"', body)
    assert len(marked) == 1, marked
    return int(marked[0])


def test_the_path_marks_the_learners_next_step(alice_web, seed):
    steps = path_ids(seed)
    assert here(alice_web.get("/path/").content.decode()) == 1
    alice_web.post(f"/progress/{steps[0]}/", {"state": "completed"})
    alice_web.post(f"/progress/{steps[1]}/", {"state": "skipped"})
    body = alice_web.get("/path/").content.decode()
    assert here(body) == 3
    assert '<p class="step-here-label">Your next step</p>' in body
    third = Resource.objects.get(pk=steps[2]).title
    assert f'Your next step: <a href="#step-3">step 3, “{third}”</a>' in body
    assert "<strong>2 of " in body and "steps behind you: 1 completed, 1 skipped." in body


def test_a_focused_newcomers_marker_stands_at_their_focus_as_the_queue_does(alice_web, seed):
    alice_web.post("/focus/", {"area__rbac": "1"})
    note = alice_web.get("/").context["note"]
    entry = int(note.split("starts your path at step ", 1)[1].split(",")[0])
    assert entry > 1
    assert here(alice_web.get("/path/").content.decode()) == entry


def test_steps_before_where_a_focus_starts_the_path_say_so_and_later_ones_do_not(alice_web, seed):
    # A walk-through's learner saw step 25 above her next step, neither done nor known, and
    # could not tell why the queue never brought it.
    alice_web.post("/focus/", {"area__rbac": "1"})
    body = alice_web.get("/path/").content.decode()
    entry = here(body)
    label = "Optional: before your path starts"

    def step_html(position: int) -> str:
        return body.split(f'id="step-{position}"')[1].split("</li>")[0]

    before = [step_html(position) for position in range(1, entry)]
    assert len(before) > 20 and all(label in html for html in before)
    # A step with outdated advice says both: a walk-through's step 29, on the focus and
    # outdated, read as the path's start while the queue began at step 30.
    outdated = [html for html in before if "pill-outdated" in html]
    assert outdated and all(label in html for html in outdated)
    last = len(path_ids(seed))
    assert not any(label in step_html(position) for position in range(entry, last + 1))


def test_an_outdated_step_read_after_its_successor_is_not_before_a_path_started_at_1(
    alice, alice_web, seed
):
    # A walk-through's learner, who started at step 1 and had done 1 to 28, saw step 29 (its
    # advice outdated, read after step 31) marked "Optional: before your path starts".
    body = alice_web.get("/path/").content.decode()
    outdated = [
        position
        for position in range(1, len(path_ids(seed)) + 1)
        if "pill-outdated" in body.split(f'id="step-{position}"')[1].split("</li>")[0]
    ]
    assert outdated
    talk = outdated[-1]  # step 29, the 2016 PodSecurityPolicy talk
    for position, resource_id in enumerate(path_ids(seed), start=1):
        if position < talk:
            services.progress_set(
                user=alice,
                resource=Resource.objects.get(pk=resource_id),
                state="completed",
                rating=None,
            )
    body = alice_web.get("/path/").content.decode()
    assert here(body) > talk  # the queue reads it after its successor
    step = body.split(f'id="step-{talk}"')[1].split("</li>")[0]
    assert "pill-outdated" in step and "before your path starts" not in step


def test_visitors_get_no_marker_and_no_buttons(client, seed):
    body = client.get("/path/").content.decode()
    assert 'aria-current="step"' not in body
    assert "I know these" not in body and 'class="step-done"' not in body


def test_a_step_is_marked_done_from_the_path_and_the_page_comes_back_to_it(alice_web, seed):
    steps = path_ids(seed)
    body = alice_web.get("/path/").content.decode()
    assert body.count('class="step-done"') == len(steps)
    # Step 3: one with no other way to it (see test_alternative_steps).
    response = alice_web.post(
        f"/progress/{steps[2]}/", {"state": "completed", "next": "/path/#step-3"}
    )
    assert response.status_code == 302 and response["Location"] == "/path/#step-3"
    assert Progress.objects.get(resource_id=steps[2]).state == ProgressState.COMPLETED
    body = alice_web.get("/path/").content.decode()
    assert body.count('class="step-done"') == len(steps) - 1  # none on a finished step


def test_i_know_these_marks_the_rest_of_a_stage_done_and_keeps_what_was_said(
    alice_web, alice, seed
):
    basics = list(
        Resource.objects.filter(path_steps__path=seed, stage="getting-started").order_by(
            "path_steps__position"
        )
    )
    alice_web.post(f"/progress/{basics[0].pk}/", {"state": "completed", "rating": "4"})
    alice_web.post(f"/progress/{basics[1].pk}/", {"state": "skipped"})
    later = Resource.objects.get(path_steps__path=seed, path_steps__position=len(path_ids(seed)))
    known = len(basics) - 2
    body = alice_web.get("/path/").content.decode()
    assert f"mark the {known} steps left as known" in body
    assert "saved for later stay" not in body

    response = alice_web.post("/path/getting-started/done/", follow=True)
    assert response.redirect_chain[-1][0] == "/path/#stage-getting-started"
    assert (
        f"Marked {known} steps of “Getting started” as known: your queue leaves them out."
        in response.content.decode()
    )
    states = dict(Progress.objects.filter(user=alice).values_list("resource_id", "state"))
    assert states[basics[1].pk] == ProgressState.SKIPPED  # a skip stays a skip
    assert all(states[r.pk] == ProgressState.COMPLETED for r in [basics[0], *basics[2:]])
    assert Progress.objects.get(user=alice, resource=basics[0]).rating == 4
    assert later.pk not in states  # other stages untouched
    stage = response.context["path"].stages[0]
    assert stage.finished == stage.total
    # The stage's line counts them as known, not as read (it said "15 completed").
    assert (stage.completed, stage.known, stage.skipped) == (1, known, 1)
    assert f": 1 completed, {known} already known, 1 skipped</p>" in response.content.decode()
    # And the path's line above the stages.
    assert f"steps behind you: 1 completed, {known} already known, 1 skipped." in (
        response.content.decode()
    )
    assert 'action="/path/getting-started/done/"' not in response.content.decode()
    # Twice is harmless, and says so.
    again = alice_web.post("/path/getting-started/done/", follow=True)
    assert "Nothing to mark in “Getting started”" in again.content.decode()
    assert Progress.objects.filter(user=alice).count() == len(basics)


def test_i_know_these_leaves_the_steps_being_read_or_saved_for_later_as_they_are(
    alice_web, alice, seed
):
    # A walk-through's "Reading now" item silently became "Already known".
    basics = list(
        Resource.objects.filter(path_steps__path=seed, stage="getting-started").order_by(
            "path_steps__position"
        )
    )
    reading, saved, put_off = basics[0], basics[1], basics[2]
    alice_web.post(f"/progress/{reading.pk}/", {"state": "in_progress"})
    alice_web.post(f"/progress/{saved.pk}/", {"state": "planned"})
    alice_web.post(f"/progress/{put_off.pk}/", {"state": "planned", "later": "1"})
    body = alice_web.get("/path/").content.decode()
    assert f"mark the {len(basics) - 2} steps left as known" in body
    assert (
        "The 2 steps you are reading or saved for later stay as they are; one put off with “Not"
        " now” is marked."
    ) in body

    alice_web.post("/path/getting-started/done/")
    rows = {row.resource_id: row for row in Progress.objects.filter(user=alice)}
    assert rows[reading.pk].state == ProgressState.IN_PROGRESS
    assert rows[saved.pk].state == ProgressState.PLANNED
    assert not rows[reading.pk].known and not rows[saved.pk].known
    # "Not now" said not now, not "I want this": known like the rest.
    assert rows[put_off.pk].state == ProgressState.COMPLETED and rows[put_off.pk].known
    assert rows[put_off.pk].later_until is None


def test_i_know_these_marks_a_step_back_from_not_now_as_known_too(alice_web, alice, seed):
    # Its day came and it is back in the queue, but it was never chosen: the Path page counted
    # it with the saved ("The 2 steps you are reading or saved for later") as Up next did not.
    basics = list(
        Resource.objects.filter(path_steps__path=seed, stage="getting-started").order_by(
            "path_steps__position"
        )
    )
    saved, back = basics[0], basics[1]
    alice_web.post(f"/progress/{saved.pk}/", {"state": "planned"})
    alice_web.post(f"/progress/{back.pk}/", {"state": "planned", "later": "1"})
    Progress.objects.filter(resource=back).update(later_until=timezone.now() - timedelta(days=1))
    body = alice_web.get("/path/").content.decode()
    assert "The step you are reading or saved for later stays as it is" in body
    alice_web.post("/path/getting-started/done/")
    row = Progress.objects.get(user=alice, resource=back)
    assert row.state == ProgressState.COMPLETED and row.known
    body = alice_web.get("/path/").content.decode()
    assert 'action="/path/getting-started/done/"' not in body  # nothing left to mark


def test_marking_a_stage_done_moves_the_queue_and_the_marker_on(alice_web, seed):
    alice_web.post("/path/getting-started/done/")
    first_production = (
        LearningPath.objects.get()
        .steps.filter(resource__stage="production-ready")
        .order_by("position")[0]
    )
    assert here(alice_web.get("/path/").content.decode()) == first_production.position
    queue = alice_web.get("/").context["items"]
    assert queue[0]["card"]["id"] == first_production.resource_id


def test_marking_a_stage_done_needs_a_signed_in_learner_a_post_and_a_real_stage(
    client, alice_web, seed
):
    response = client.post("/path/getting-started/done/")
    assert response.status_code == 302 and "/signin/" in response["Location"]
    assert not Progress.objects.exists()
    assert alice_web.get("/path/getting-started/done/").status_code == 405
    assert alice_web.post("/path/no-such-stage/done/").status_code == 404
    assert not Progress.objects.exists()


def test_a_finished_resource_page_leads_on_to_the_queues_next_item(alice_web, seed):
    steps = path_ids(seed)
    page = alice_web.get(f"/resources/{steps[0]}/")
    assert page.context["up_next"] is None and "Up next for you" not in page.content.decode()
    alice_web.post(f"/progress/{steps[0]}/", {"state": "completed"})
    page = alice_web.get(f"/resources/{steps[0]}/")
    body = page.content.decode()
    assert page.context["up_next"].resource.pk == steps[1]
    assert f'Up next for you: <a href="/resources/{steps[1]}/">' in body
    assert alice_web.get("/").context["items"][0]["card"]["id"] == steps[1]


def test_i_know_these_can_be_undone_in_one_click(alice_web, alice, seed):
    basics = list(
        Resource.objects.filter(path_steps__path=seed, stage="getting-started").order_by(
            "path_steps__position"
        )
    )
    alice_web.post(f"/progress/{basics[0].pk}/", {"state": "completed", "rating": "4"})
    alice_web.post(f"/progress/{basics[1].pk}/", {"state": "skipped"})
    alice_web.post(f"/progress/{basics[2].pk}/", {"state": "in_progress"}, follow=True)
    before = set(Progress.objects.filter(user=alice).values_list("resource_id", "state", "rating"))
    page = alice_web.post("/path/getting-started/done/", follow=True)
    assert 'action="/progress/undo/"' in page.content.decode()

    page = alice_web.post(
        "/progress/undo/", {"next": "/path/", "token": undo_token(alice_web)}, follow=True
    )
    assert page.redirect_chain[-1][0] == "/path/#stage-getting-started"
    assert f"Undone: the {len(basics) - 3} steps of “Getting started” are back as they were." in (
        page.content.decode()
    )
    after = set(Progress.objects.filter(user=alice).values_list("resource_id", "state", "rating"))
    assert after == before


def test_undo_of_a_step_marked_on_the_path_comes_back_to_the_step(alice_web, seed):
    fifth = path_ids(seed)[4]
    alice_web.post(f"/progress/{fifth}/", {"state": "completed", "next": "/path/#step-5"})
    page = alice_web.post(
        "/progress/undo/", {"next": "/path/", "token": undo_token(alice_web)}, follow=True
    )
    assert page.redirect_chain[-1][0] == "/path/#step-5"
    assert not Progress.objects.filter(resource_id=fifth).exists()


def test_basics_marked_known_leave_a_focused_learner_at_their_next_focus_step(
    alice_web, alice, seed
):
    # The walk-through: an intermediate learner whose focus started her path in the security
    # stage read two steps there, then said "I know these" of the basics. Her queue and the
    # marker went back to the first production step, 17 steps behind her.
    alice_web.post("/focus/", {"area__secrets": "1", "level": "2"})
    note = alice_web.get("/").context["note"]
    entry = int(note.split("starts your path at step ", 1)[1].split(",")[0])
    steps = path_ids(seed)
    for position in (entry, entry + 1):
        alice_web.post(f"/progress/{steps[position - 1]}/", {"state": "completed"})
    assert here(alice_web.get("/path/").content.decode()) == entry + 2

    alice_web.post("/path/getting-started/done/")
    assert here(alice_web.get("/path/").content.decode()) == entry + 2
    assert alice_web.get("/").context["items"][0]["card"]["id"] == steps[entry + 1]
    known = Progress.objects.filter(user=alice, known=True)
    assert (
        known.count()
        == Resource.objects.filter(path_steps__path=seed).filter(stage="getting-started").count()
    )
    assert not known.filter(resource_id__in=steps[entry - 1 : entry + 1]).exists()


def test_a_click_on_a_known_step_makes_it_read_and_undo_makes_it_known_again(
    alice_web, alice, seed
):
    first = path_ids(seed)[0]
    alice_web.post("/path/getting-started/done/")
    assert Progress.objects.get(user=alice, resource_id=first).known
    page = alice_web.post(
        f"/progress/{first}/", {"state": "completed", "rating": "5", "next": "/"}, follow=True
    )
    row = Progress.objects.get(user=alice, resource_id=first)
    assert (row.known, row.rating) == (False, 5)
    # The message says so: a walk-through saw only "Rating … saved" and History counting it.
    assert "It now counts as read here, no longer as already known." in page.content.decode()
    alice_web.post("/progress/undo/", {"next": "/path/", "token": undo_token(alice_web)})
    row = Progress.objects.get(user=alice, resource_id=first)
    assert (row.known, row.rating, row.state) == (True, None, ProgressState.COMPLETED)


def test_the_path_and_the_queue_name_the_same_next_step_while_one_is_being_read(alice_web, seed):
    # A walk-through started step 1: the Path page said step 1 was next, Up next step 2.
    steps = path_ids(seed)
    alice_web.post(f"/progress/{steps[0]}/", {"state": "in_progress"})
    assert here(alice_web.get("/path/").content.decode()) == 2
    first = alice_web.get("/").context["items"][0]
    assert first["card"]["id"] == steps[1]
    assert "Step 2 of the learning path — your next step" in [r["text"] for r in first["reasons"]]


@pytest.mark.parametrize(
    ("counts", "said"),
    [
        ((3, 0, 0), ""),  # all completed: the count says it all
        ((0, 15, 0), "15 already known"),  # not "0 completed, 15 already known"
        ((1, 14, 2), "1 completed, 14 already known, 2 skipped"),
        ((2, 0, 1), "2 completed, 1 skipped"),
    ],
)
def test_the_steps_behind_a_learner_are_named_by_kind_leaving_out_kinds_with_none(counts, said):
    assert steps_behind(*counts) == said


def test_a_stage_wholly_behind_the_learner_folds_away_and_the_others_stay_open(alice_web, seed):
    # After two "I know these" a walk-through's Path page was 8,700 px tall at 375 px.
    alice_web.post("/path/getting-started/done/")
    body = alice_web.get("/path/").content.decode()
    basics, production = body.split('id="stage-production-ready"')[0:2]
    assert basics.count('<details class="stage-fold">') == 1
    assert "Show its 16 steps" in basics
    assert '<details class="stage-fold">' not in production
    assert 'id="step-1"' in basics  # folded, not left out: a link to a step still finds it


def test_a_stage_before_where_the_learners_level_starts_them_folds_away(alice_web, seed):
    # A returning Intermediate learner's Path page opened, at 375 px, on 16 basics her level
    # had started her past, with her next step (17) screens below.
    alice_web.post("/focus/", {"level": "2"})
    body = alice_web.get("/path/").content.decode()
    assert here(body) == 17
    basics, production = body.split('id="stage-production-ready"')[0:2]
    assert "<summary>Your path starts after this stage. Show its 16 steps" in basics
    assert '<details class="stage-fold">' not in production
    assert 'id="step-1"' in basics


def test_a_stage_before_the_next_step_stays_open_while_a_step_in_it_is_read(alice_web, seed):
    alice_web.post("/focus/", {"level": "2"})
    alice_web.post(f"/progress/{path_ids(seed)[15]}/", {"state": "in_progress"})  # step 16
    body = alice_web.get("/path/").content.decode()
    assert here(body) == 17
    basics = body.split('id="stage-production-ready"')[0]
    assert '<details class="stage-fold">' not in basics


def test_a_beginners_path_folds_nothing(alice_web, seed):
    alice_web.post("/focus/", {"level": "1"})
    assert '<details class="stage-fold">' not in alice_web.get("/path/").content.decode()


def test_a_step_whose_advice_is_outdated_says_so_on_the_path(alice_web, seed):
    # The cards said "Outdated advice" of the PodSecurityPolicy talk; the Path page did not.
    from catalog.health.models import StalenessFlag

    flagged = set(
        StalenessFlag.objects.filter(resource__path_steps__isnull=False).values_list(
            "resource_id", flat=True
        )
    )
    assert flagged  # the seed's own deprecations flag some steps
    page = alice_web.get("/path/")
    marked = {
        item.step.resource_id
        for stage in page.context["path"].stages
        for item in stage.steps
        if item.outdated
    }
    assert marked == flagged
    assert page.content.decode().count("Outdated advice: see its page") == len(flagged)


def test_the_path_marks_the_steps_on_the_learners_focus(alice_web, seed):
    # The Focus page said "The Path page shows where they are", and it marked nothing.
    alice_web.post("/focus/", {"area__network-policy": "1", "level": "1"})
    body = alice_web.get("/path/").content.decode()
    path = LearningPath.objects.get()
    serving = {
        step.position
        for step in path.steps.all()
        if step.resource.security_areas.filter(slug="network-policy").exists()
    }
    marked = {
        int(position)
        for position, html in re.findall(r'id="step-(\d+)"(.*?)</li>', body, flags=re.S)
        if "Your focus: Network policy" in html
    }
    assert serving and marked == serving


def test_a_skipped_step_is_drawn_apart_from_a_completed_one(alice_web, seed):
    # A walk-through's learner read the filled disc of a skipped step as "done".
    steps = path_ids(seed)
    alice_web.post(f"/progress/{steps[0]}/", {"state": "completed"})
    alice_web.post(f"/progress/{steps[2]}/", {"state": "skipped"})
    body = alice_web.get("/path/").content.decode()

    def classes(position: int) -> set[str]:
        return set(re.findall(rf'<li class="([^"]*)" id="step-{position}"', body)[0].split())

    assert {"step-finished"} <= classes(1) and "step-passed" not in classes(1)
    assert {"step-finished", "step-passed"} <= classes(3)


def test_a_next_step_longer_than_the_saved_budget_is_said_to_be_offered_in_parts(
    alice, alice_web, seed
):
    # A walk-through with 20 minutes a day: the Path page named step 5 as the next step and
    # Up next began at step 7, with nothing on the Path page to tie the two together.
    steps = path_ids(seed)
    for resource_id in steps[:4]:
        alice_web.post(f"/progress/{resource_id}/", {"state": "completed"})
    fifth = Resource.objects.get(pk=steps[4])
    assert fifth.estimated_minutes > 20
    said = f"It takes about {fifth.estimated_minutes} min, more than your 20-minute budget"
    assert said not in " ".join(alice_web.get("/path/").content.decode().split())
    alice_web.post("/focus/", {"minutes_budget": "20"})
    body = " ".join(alice_web.get("/path/").content.decode().split())
    assert here(body) == 5
    assert f'{said}: <a href="/">Up next</a> offers it to read in parts' in body
    # Up next indeed offers it so.
    assert "read it in parts" in " ".join(alice_web.get("/").content.decode().split())


def test_an_outdated_next_step_longer_than_the_budget_stays_the_next_step_on_both_pages(
    alice, alice_web, seed
):
    # A walk-through's Intermediate learner (focus Secrets, 30 minutes a day) had read the
    # step that replaces step 29's advice: Up next said step 29, an hour long, needs more than
    # 30 minutes, while the Path page named step 32 as her next step.
    alice_web.post(
        "/focus/",
        {"area__secrets": "1", "area__container-hardening": "0.5", "level": "2"},
    )
    steps = path_ids(seed)
    for position in (26, 28, 31):
        alice_web.post(f"/progress/{steps[position - 1]}/", {"state": "completed"})
    for position in (27, 30):
        alice_web.post(f"/progress/{steps[position - 1]}/", {"state": "skipped"})
    talk = Resource.objects.get(pk=steps[28])
    assert talk.staleness_flags.exists() and talk.estimated_minutes == 60
    alice_web.post(
        "/focus/",
        {
            "area__secrets": "1",
            "area__container-hardening": "0.5",
            "level": "2",
            "minutes_budget": "30",
        },
    )
    up_next = " ".join(alice_web.get("/").content.decode().split())
    assert f"Your next step, “{talk.title}” (about 1 h), needs more than 30 minutes" in up_next
    body = " ".join(alice_web.get("/path/").content.decode().split())
    assert here(body) == 29
    assert "It takes about 1 h, more than your 30-minute budget" in body


def test_a_steps_labels_have_no_separator_to_strand_on_a_line_of_its_own(alice, alice_web, seed):
    # At 375 px a " · " between two labels wrapped onto a line by itself (a walk-through).
    services.profile_update(user=alice, level=3, focus={"secrets": 1.0})
    body = alice_web.get("/path/").content.decode()
    assert 'class="pill pill-focus"' in body and 'class="pill pill-before"' in body
    assert "· <span" not in body
