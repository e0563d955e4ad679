"""Recommender v2 rules (issue #8) on the small engine catalog of test_engine.py."""

from __future__ import annotations

import dataclasses

import pytest

from recommender.engine import Interaction, Learner, Model, fit, path_entry, path_next, recommend
from recommender.engine.ranking import V1_POLICY, recommend_queue
from recommender.engine.rules import count_violations, path_order_violations
from tests.recommender.test_engine import BY_ID, CATALOG, PATH, PROD, SEC, doc, done, ids

NAMES = {"rbac": "RBAC", "network-policy": "Network policy"}
BASICS = (1, 2, 3)  # the getting-started steps of PATH


@pytest.fixture(scope="module")
def model() -> Model:
    return fit(CATALOG)


def path_steps(queue: list[int]) -> list[int]:
    return [d for d in queue if d in PATH]


def test_a_focus_step_comes_ahead_of_the_path_once_the_basics_are_done(model: Model) -> None:
    learner = Learner(interactions=done(*BASICS), focus={"rbac": 1.0})
    recs = recommend(model, learner, limit=5, area_names=NAMES)
    queue = ids(recs)
    assert 4 in queue[:3]  # the next path step keeps its place
    assert 5 in queue and queue.index(5) < queue.index(4) + 3
    reason = next(r for r in recs[queue.index(5)].reasons if r.kind == "focus")
    assert reason.text == (
        "Covers your focus: RBAC — ahead of your path, step 5; you have the basics it needs"
    )
    assert reason.data["ahead"] is True and reason.data["ready"] == "basics"
    assert count_violations(model, learner, queue) == 0
    assert path_order_violations(model, learner, queue) == 0


def test_a_focus_step_waits_while_the_basics_are_not_done(model: Model) -> None:
    learner = Learner(interactions=done(1), focus={"rbac": 1.0})
    queue = ids(recommend(model, learner, limit=50))
    assert path_steps(queue) == sorted(path_steps(queue))
    assert count_violations(model, learner, queue, allow_ahead=False) == 0


def test_a_declared_level_counts_as_having_the_basics(model: Model) -> None:
    learner = Learner(interactions=done(1), focus={"rbac": 1.0}, level=2)
    recs = recommend(model, learner, limit=5)
    queue = ids(recs)
    assert queue[0] == 2 and 5 in queue
    reason = next(r for r in recs[queue.index(5)].reasons if r.kind == "focus")
    assert reason.data["ready"] == "level"
    assert "your level says you have the basics it needs" in reason.text


def test_without_a_focus_the_path_learner_gets_the_same_queue_as_before(model: Model) -> None:
    for k in range(len(PATH)):
        learner = Learner(interactions=done(*PATH[:k]))
        queue = ids(recommend(model, learner, limit=5))
        assert queue == ids(recommend(model, learner, limit=5, policy=V1_POLICY))
        assert path_steps(queue) == sorted(path_steps(queue))


def test_a_focus_fills_a_good_share_of_the_queue(model: Model) -> None:
    learner = Learner(interactions=done(*BASICS), focus={"rbac": 1.0})
    top = ids(recommend(model, learner, limit=5))
    assert sum("rbac" in BY_ID[d].areas for d in top) >= 2


def test_weights_between_focus_areas_are_respected(model: Model) -> None:
    def served(focus: dict[str, float]) -> tuple[int, int]:
        learner = Learner(interactions=done(*BASICS), focus=focus, level=2)
        top = ids(recommend(model, learner, limit=6))
        return (
            sum("rbac" in BY_ID[d].areas for d in top),
            sum("network-policy" in BY_ID[d].areas for d in top),
        )

    rbac, network = served({"rbac": 1.0, "network-policy": 0.3})
    assert rbac > network
    rbac, network = served({"rbac": 0.3, "network-policy": 1.0})
    assert network > rbac


def test_ratings_still_shape_the_rest_of_a_focused_queue(model: Model) -> None:
    history = (*done(*PATH), *done(18, rating=5))
    liked = ids(recommend(model, Learner(interactions=history, focus={"rbac": 1.0}), limit=6))
    disliked = (*done(*PATH), *done(18, rating=1))
    other = ids(recommend(model, Learner(interactions=disliked, focus={"rbac": 1.0}), limit=6))
    assert liked != other


def test_the_level_cap_relaxes_with_a_reason_instead_of_shortening_the_queue(
    model: Model,
) -> None:
    result = recommend_queue(model, Learner(), limit=50)
    assert result.relaxed_level == 3
    above = [r for r in result.items if BY_ID[r.doc_id].difficulty == 3]
    assert above
    for item in above:
        level = [r for r in item.reasons if r.kind == "level"]
        # "are open to you" read as unclear in a walk-through; a count beside more such items
        # in the queue than it said, as wrong in another.
        assert level and level[0].text == (
            "Advanced, above your level (Beginner until you set one or complete something): too "
            "few resources at or near it come next for you to fill your queue"
        )
    inferred = recommend_queue(model, Learner(interactions=done(1)), limit=50)
    assert any(
        r.text.startswith("Advanced, above your level (Beginner, from what you completed): ")
        for item in inferred.items
        for r in item.reasons
    )
    declared = recommend_queue(model, Learner(level=1), limit=50)
    level_reasons = [r.text for item in declared.items for r in item.reasons if r.kind == "level"]
    assert level_reasons and all("above your level (Beginner): " in t for t in level_reasons)
    at_level = [r.doc_id for r in recommend_queue(model, Learner(), limit=5).items]
    assert all(BY_ID[d].difficulty <= 2 for d in at_level)


def test_a_short_queue_says_why(model: Model) -> None:
    reading = Learner(interactions=done(1), level=3)
    waiting = recommend_queue(model, reading, limit=50, exclude=[2])  # step 2 dismissed
    assert waiting.shortfall == "waiting"
    assert len(waiting.items) == waiting.open_count < 50
    assert "4 are path steps that wait for earlier ones: complete or skip" in waiting.detail

    everything = Learner(interactions=done(*BY_ID))
    finished = recommend_queue(model, everything, limit=10)
    assert finished.items == () and finished.shortfall == "finished"
    assert "completed, skipped or started everything" in finished.detail

    almost = Learner(interactions=done(*[d for d in BY_ID if d not in (20, 17)]), level=3)
    last = recommend_queue(model, almost, limit=10)
    assert sorted(r.doc_id for r in last.items) == [17, 20] and last.shortfall == "finished"
    assert last.detail.startswith("These are the last 2 resources")
    one = Learner(interactions=done(*[d for d in BY_ID if d != 20]), level=3)
    only = recommend_queue(model, one, limit=10)
    assert only.detail.startswith("This is the last resource you have not completed")

    tight = recommend_queue(model, Learner(), limit=10, minutes=5)
    assert tight.items == () and tight.shortfall == "budget"
    assert tight.detail.startswith("Nothing fits in 5 minutes: your next step, “")

    full = recommend_queue(model, Learner(), limit=3)
    assert full.shortfall is None and full.detail == "" and full.fill_ratio == 1.0


def test_the_budget_is_filled_by_swapping_for_a_longer_item() -> None:
    catalog = [
        doc(1, "Helm charts", "Package charts with helm templates.", tags=("helm",), minutes=20),
        doc(2, "Helm hooks", "Run helm hooks before upgrades.", tags=("helm",), minutes=30),
        doc(3, "Kustomize overlays", "Patch manifests.", minutes=45),
    ]
    small = fit(catalog)
    result = recommend_queue(small, Learner(), limit=10, minutes=30)
    assert result.minutes_used == 30 and result.budget_fill == 1.0
    before = recommend_queue(small, Learner(), limit=10, minutes=30, policy=V1_POLICY)
    assert before.minutes_used <= result.minutes_used


def test_filling_the_budget_does_not_swap_a_good_item_for_a_far_worse_one() -> None:
    # A walk-through's 45-minute queue dropped "Role Based Access Control Good Practices" (20
    # min, second with no limit) for a 30-minute item far down the list, to fill the budget.
    catalog = [
        doc(1, "RBAC roles", "Roles and role bindings for teams.", areas=("rbac",), minutes=10),
        doc(
            2,
            "RBAC good practices",
            "Roles and role bindings, least privilege.",
            areas=("rbac",),
            minutes=20,
        ),
        doc(
            3,
            "Audit webhooks",
            "Ship audit events to a webhook backend.",
            areas=("rbac",),
            minutes=30,
        ),
        *_FILLER,
    ]
    learner = Learner(interactions=done(1), focus={"rbac": 1.0})
    unlimited = recommend_queue(fit(catalog), learner, limit=10)
    assert ids(unlimited.items)[0] == 2
    packed = recommend_queue(fit(catalog), learner, limit=10, minutes=30)
    assert 2 in ids(packed.items) and 3 not in ids(packed.items)


def timed_path(*minutes: int, stages: tuple[str, ...] = ()) -> Model:
    """A path of one step per length in ``minutes`` (getting started unless ``stages`` say),
    and one long off-path book."""
    steps = [
        doc(
            step,
            f"Step {step} of the basics",
            f"Basics part {step}: pods, services and deployments.",
            minutes=length,
            step=step,
            stage=stages[step - 1] if stages else "getting-started",
        )
        for step, length in enumerate(minutes, start=1)
    ]
    book = doc(99, "A long book", "Everything about clusters.", minutes=600)
    return fit([*steps, book])


def test_a_next_step_longer_than_the_budget_waits_and_the_next_that_fits_comes() -> None:
    model = timed_path(30, 10, 10)
    result = recommend_queue(model, Learner(), limit=10, minutes=15)
    assert ids(result.items) == [2]
    assert result.deferred == (1,)
    assert result.note == (
        "Your next step, “Step 1 of the basics” (about 30 minutes), needs more than 15 "
        "minutes: it waits for a longer session, or start it and read it in parts while the "
        "path goes on."
    )
    # The old packing offered nothing at all.
    assert recommend_queue(model, Learner(), limit=10, minutes=15, policy=V1_POLICY).items == ()


def test_a_step_many_sessions_long_is_offered_in_parts_not_for_a_longer_session() -> None:
    # A walk-through with 45 minutes read "it waits for a longer session" of a 15-hour book.
    model = timed_path(900, 10)
    note = recommend_queue(model, Learner(), limit=10, minutes=45).note
    assert note.startswith(
        "Your next step, “Step 1 of the basics” (about 15 h), needs more than 45 minutes: start "
        "it and read it in parts while the path goes on."
    )
    assert "longer session" not in note


def test_a_long_step_that_waits_is_said_in_hours_as_the_pages_say_it() -> None:
    # A walk-through read "(about 900 minutes)" where every page says "15 h".
    result = recommend_queue(timed_path(900, 10), Learner(), limit=10, minutes=15)
    assert result.note.startswith("Your next step, “Step 1 of the basics” (about 15 h), needs")
    result = recommend_queue(timed_path(75, 10), Learner(), limit=10, minutes=15)
    assert "(about 1 h 15 min)" in result.note


def test_a_one_item_queue_also_finds_the_step_after_a_long_one() -> None:
    model = timed_path(30, 10, 10)
    result = recommend_queue(model, Learner(), limit=1, minutes=15)
    assert ids(result.items) == [2] and result.deferred == (1,)


def test_a_step_that_does_not_fit_what_is_left_waits_and_the_rest_keep_path_order() -> None:
    model = timed_path(30, 20, 10, 5)
    result = recommend_queue(model, Learner(), limit=10, minutes=40)
    assert ids(result.items) == [1, 3]
    assert result.deferred == (2,)
    assert result.note == (
        "Step 2, “Step 2 of the basics” (about 20 minutes), did not fit in what was left of "
        "your 40 minutes: it waits for your next session."
    )


def test_a_step_that_waits_too_is_named_by_its_title() -> None:
    # A walk-through read "Step 34 waits too" and could not tell what step 34 is.
    model = timed_path(240, 300, 10)
    result = recommend_queue(model, Learner(), limit=10, minutes=45)
    assert result.deferred == (1, 2)
    assert result.note.endswith("Step 2, “Step 2 of the basics”, waits too.")


def test_several_long_steps_wait_and_the_note_counts_them() -> None:
    model = timed_path(30, 45, 60, 10)
    result = recommend_queue(model, Learner(), limit=10, minutes=15)
    assert ids(result.items) == [4]
    assert result.deferred == (1, 2, 3)
    assert result.note.endswith("read it in parts while the path goes on. Steps 2 and 3 wait too.")


def test_the_note_tells_a_step_too_long_for_the_budget_from_one_too_long_for_what_was_left():
    # A walk-through with 45 minutes: "Your next step (about 4 h) needs more than 45 minutes
    # ... Steps 29 and 34 wait too", and step 34 took 45 minutes: it fitted the budget.
    model = timed_path(240, 40, 45, 5)
    result = recommend_queue(model, Learner(), limit=10, minutes=45)
    assert ids(result.items) == [2, 4]
    assert result.deferred == (1, 3)
    assert result.note.endswith(
        "read it in parts while the path goes on. Step 3, “Step 3 of the basics”, fits in 45 "
        "minutes but not in what was left: it waits for your next session."
    )
    model = timed_path(240, 40, 45, 45, 5)
    assert recommend_queue(model, Learner(), limit=10, minutes=45).note.endswith(
        "Steps 3 and 4 fit in 45 minutes but not in what was left: they wait for your next "
        "sessions."
    )
    # And the other way round: the first waits for the next session, a later one is too long.
    model = timed_path(10, 30, 240, 5)
    result = recommend_queue(model, Learner(), limit=10, minutes=30)
    assert result.deferred == (2, 3)
    assert result.note.endswith(
        "it waits for your next session. Step 3, “Step 3 of the basics”, needs more than 30 "
        "minutes: start it and read it in parts."
    )


def test_one_minute_is_singular_in_what_the_queue_says() -> None:
    model = timed_path(30, 10)
    assert recommend_queue(model, Learner(), minutes=1).detail.startswith(
        "Nothing fits in 1 minute. Step 2, “Step 2 of the basics” (about 10 minutes), is the "
        "nearest short step ahead"
    )


def test_a_long_step_never_lets_a_later_stage_through() -> None:
    model = timed_path(30, 10, stages=("getting-started", "security"))
    result = recommend_queue(model, Learner(), limit=10, minutes=15)
    assert result.items == () and result.note == ""
    assert result.shortfall == "budget"
    # The step waits (and may be read in parts); the later stage does not come instead.
    assert result.deferred == (1,)
    assert "start it and read it in parts" in result.detail


def test_without_a_budget_no_step_waits() -> None:
    model = timed_path(30, 10, 10)
    result = recommend_queue(model, Learner(), limit=10)
    assert [d for d in ids(result.items) if d != 99] == [1, 2, 3]
    assert result.deferred == () and result.note == ""


def test_reason_terms_skip_ubiquitous_and_generic_words() -> None:
    catalog = [
        doc(
            i,
            f"Kubernetes probably makes topic{i} easy",
            f"Kubernetes explains topic{i} with seed examples.",
            tags=("kubernetes",),
        )
        for i in range(1, 7)
    ] + [
        doc(
            7,
            "Kubernetes quorum and etcd snapshots",
            "Kubernetes recommends etcd snapshots.",
            tags=("etcd",),
        ),
        doc(
            8,
            "Kubernetes etcd snapshots restore",
            "Kubernetes makes quorum restore easy.",
            tags=("etcd",),
        ),
    ]
    small = fit(catalog)
    recs = recommend(small, Learner(interactions=done(7, rating=5)), limit=10)
    terms = next(r for r in recs if r.doc_id == 8).reasons
    quoted = next(r for r in terms if r.kind == "shared_terms").data["terms"]
    # The curated tag they share, and none of the texts' words: not the generic ones, and not
    # the specific ones either (a walk-through read "also about github", "route and
    # tutorial" and an author's name as matches that explained nothing).
    assert quoted == ["etcd"]


def test_path_order_violations_allow_focus_steps_ahead_only(model: Model) -> None:
    ready = Learner(interactions=done(*BASICS), focus={"rbac": 1.0})
    assert path_order_violations(model, ready, [4, 5, 6]) == 0
    assert path_order_violations(model, ready, [5, 4, 6]) == 0  # 5 is ahead of the path
    assert path_order_violations(model, ready, [6, 4]) == 1  # 6 is not a focus step
    not_ready = Learner(interactions=done(1), focus={"rbac": 1.0})
    assert path_order_violations(model, not_ready, [5, 2]) == 1
    assert count_violations(model, not_ready, [5]) == 1


def test_a_declared_beginner_with_a_focus_starts_with_the_basics(model: Model) -> None:
    # RBAC is first served by step 5, in the security stage: a learner who did not say their
    # level enters there; one who said "beginner" starts at step 1 and is told where it is.
    assert path_entry(model, Learner(focus={"rbac": 1.0})) == 5
    beginner = Learner(focus={"rbac": 1.0}, level=1)
    assert path_entry(model, beginner) == 1
    result = recommend_queue(model, beginner, limit=10, area_names={"rbac": "RBAC"})
    assert path_steps(ids(result.items))[0] == 1
    assert result.note.startswith("Your focus (RBAC) comes in at step 5, in the security stage")
    assert path_entry(model, Learner(focus={"rbac": 1.0}, level=2)) == 5


def test_a_focused_path_starts_at_the_step_of_the_heaviest_focus_area(model: Model) -> None:
    rbac_first = Learner(focus={"rbac": 1.0, "network-policy": 0.25}, level=2)
    policy_first = Learner(focus={"rbac": 0.25, "network-policy": 1.0}, level=2)
    assert path_entry(model, rbac_first) == 5
    assert path_entry(model, policy_first) == 6  # "Main focus" network policy, step 6
    assert ids(recommend(model, policy_first, limit=1)) == [6]
    assert ids(recommend(model, rbac_first, limit=1)) == [5]


def test_the_entry_note_says_where_the_focus_areas_its_step_does_not_serve_come_in(
    model: Model,
) -> None:
    # A learner who chose RBAC and secrets read only "Your focus (Secrets…) starts your
    # path at step 26" and took RBAC for ignored.
    both = Learner(focus={"rbac": 1.0, "network-policy": 1.0}, level=2)
    assert path_entry(model, both) == 5
    result = recommend_queue(model, both, limit=10, area_names=NAMES)
    assert result.note.startswith(
        "Your focus starts your path at step 5, in the security stage: RBAC comes in there, "
        "Network policy at step 6. Steps 1 to 4 stay on the Path page"
    )
    # An area on no later step is not named.
    elsewhere = Learner(focus={"rbac": 1.0, "threat-modelling": 1.0}, level=2)
    note = recommend_queue(model, elsewhere, limit=10, area_names=NAMES).note
    assert note.startswith("Your focus (RBAC) starts your path at step 5, in the security stage.")


def test_two_areas_of_equal_weight_take_turns_among_the_focus_picks(model: Model) -> None:
    # A walk-through's learner with RBAC and secrets both "Main focus" got five secrets items
    # before the first on RBAC: only a focus pick the share forced respected the weights.
    focus = {"rbac": 1.0, "secrets": 1.0}
    learner = Learner(interactions=done(*BASICS), focus=focus, level=2)
    queue = ids(recommend(model, learner, limit=10))
    counts = dict.fromkeys(focus, 0)
    for doc_id in queue:
        served = set(BY_ID[doc_id].areas) & focus.keys()
        if not served:
            continue
        for area in served:
            counts[area] += 1
        assert abs(counts["rbac"] - counts["secrets"]) <= 1, (queue, counts)
    assert min(counts.values()) >= 2
    assert count_violations(model, learner, queue) == 0
    assert path_order_violations(model, learner, queue) == 0


def test_unequal_focus_weights_still_lean_to_the_heavier_area(model: Model) -> None:
    learner = Learner(interactions=done(*BASICS), focus={"rbac": 1.0, "secrets": 0.25}, level=2)
    queue = ids(recommend(model, learner, limit=6))
    focus_items = [d for d in queue if {"rbac", "secrets"} & set(BY_ID[d].areas)]
    rbac = sum("rbac" in BY_ID[d].areas for d in focus_items[:4])
    assert rbac >= 3, queue


def test_a_focus_no_path_step_serves_at_its_heaviest_starts_where_another_focus_does(
    model: Model,
) -> None:
    learner = Learner(focus={"threat-modelling": 1.0, "network-policy": 0.5}, level=2)
    assert path_entry(model, learner) == 6


def test_without_a_focus_a_declared_level_starts_the_path_past_the_stages_it_knows(
    model: Model,
) -> None:
    # A walk-through's learner said "Advanced: I run it in production" and was served the
    # basics first: the level only capped difficulty; a focus alone moved the start.
    assert path_entry(model, Learner(level=3)) == 5  # past basics and production: security
    assert path_entry(model, Learner(level=2)) == 4  # past the basics: production
    assert path_entry(model, Learner(level=1)) == 1
    assert path_entry(model, Learner()) == 1  # no declaration, no skipping
    assert ids(recommend(model, Learner(level=3), limit=1)) == [5]
    assert ids(recommend(model, Learner(level=2), limit=1)) == [4]
    recs = recommend(model, Learner(level=3), limit=10)
    assert not set(ids(recs)) & {1, 2, 3, 4}  # steps before the start are not recommended
    assert [r.text for r in recs[0].reasons] == [
        "Step 5 of the learning path — where your level starts your path"
    ]
    others = [r.text for rec in recs for r in rec.reasons]
    assert not [text for text in others if "focus" in text or "path starts —" in text]


def test_an_earlier_step_taken_up_starts_the_path_before_the_level_would(model: Model) -> None:
    learner = Learner(level=3, interactions=done(2))
    assert path_entry(model, learner) == 2
    assert ids(recommend(model, learner, limit=1)) == [3]


def test_a_step_put_off_with_not_now_does_not_start_the_path_before_the_level(
    model: Model,
) -> None:
    # A beginner put step 2 off with "Not now", then said "Advanced": the step was never
    # chosen, so it does not hold the path back at the basics.
    for put_off in (
        Interaction(2, "planned", later=True),
        Interaction(2, "planned", returned=True),
    ):
        learner = Learner(level=3, interactions=(put_off,))
        assert path_entry(model, learner) == 5


def test_a_saved_step_behind_the_entry_is_queued_without_moving_the_path_back(
    model: Model,
) -> None:
    # An Intermediate learner focused on RBAC saved an early article from Browse: Up next and
    # the Path page then called it "your next step" and filled the queue with basics (a
    # walk-through). The step waits in the queue as saved; the path goes on where it was.
    saved = Learner(level=3, interactions=(Interaction(2, "planned"),))
    assert path_entry(model, saved) == 5
    queued = [item.doc_id for item in recommend_queue(model, saved, limit=10).items]
    assert 2 in queued
    assert not {1, 3, 4} & set(queued)  # the basics around it stay behind the entry
    assert 5 in queued


def test_a_level_that_starts_the_path_later_says_where_and_how_to_start_at_the_beginning(
    model: Model,
) -> None:
    result = recommend_queue(model, Learner(level=3), limit=5)
    assert result.note == (
        "Your level (Advanced) starts your path at step 5, in the security stage. Steps 1 to 4 "
        "stay on the Path page; mark one of them done or start it and your path goes on from "
        "there. To start at step 1, set your level to Beginner."
    )
    assert recommend_queue(model, Learner(level=2), limit=5).note.startswith(
        "Your level (Intermediate) starts your path at step 4, in the production stage."
    )
    # Not for a beginner, nor once the learner is on the path.
    assert recommend_queue(model, Learner(level=1), limit=5).note == ""
    known = [Interaction(d, "completed", known=True) for d in BASICS]
    assert recommend_queue(model, Learner(level=3, interactions=known), limit=5).note == ""


def test_an_unexplained_pick_claims_no_popularity_it_does_not_have() -> None:
    catalog = [
        doc(1, "Pods and nodes", "Schedule pods on nodes."),
        doc(2, "Helm chart packaging", "Releases as charts with values.", kind="tool", stage=PROD),
        doc(3, "Backing up etcd", "Snapshot etcd.", kind="book", stage=PROD, popularity=3),
    ]
    reasons = {
        r.doc_id: [reason.text for reason in r.reasons]
        for r in recommend(fit(catalog), Learner(interactions=done(1)), limit=5)
    }
    # Taken for variety, and said so: not "picked from what you have read so far".
    assert reasons[2] == ["A look ahead at the production stage, for variety"]
    assert reasons[3] == ["Other learners completed it"]


def test_a_declared_beginners_queue_opens_with_step_1_not_a_later_stages_focus_item(
    model: Model,
) -> None:
    # Doc 10 serves RBAC off the path, in the security stage, at the beginner's level: the
    # focus's share used to put it first, before the basics the note promised.
    beginner = recommend_queue(model, Learner(focus={"rbac": 1.0}, level=1), limit=6)
    assert ids(beginner.items)[0] == 1
    # Someone who did not say their level keeps the focus's share at the top.
    undeclared = recommend_queue(model, Learner(focus={"rbac": 1.0}), limit=6)
    assert "rbac" in BY_ID[ids(undeclared.items)[0]].areas


def test_a_focused_learners_note_says_what_marking_an_earlier_step_does(model: Model) -> None:
    # A walk-through's Intermediate learner followed "mark those you know" and saw their path
    # start move back to the step they marked: the note now says that is what happens.
    jumped = recommend_queue(model, Learner(focus={"rbac": 1.0}, level=2), limit=5)
    assert "mark one of them done or start it and your path goes on from there" in jumped.note
    marked = Learner(focus={"rbac": 1.0}, level=2, interactions=done(2))
    assert path_entry(model, marked) == 2
    assert ids(recommend_queue(model, marked, limit=5).items)[0] == 3


def known(*doc_ids: int) -> tuple[Interaction, ...]:
    """Steps marked "I know these": completed, not read here."""
    return tuple(Interaction(d, "completed", None, 1.0, known=True) for d in doc_ids)


def shared_terms(recs: list) -> list[str]:
    return [r.text for rec in recs for r in rec.reasons if r.kind == "shared_terms"]


def test_basics_marked_known_leave_a_focused_learners_path_where_their_focus_starts_it(
    model: Model,
) -> None:
    # A walk-through's learner, started at their focus, marked the basics "I know these" and
    # their queue went back to the first unread step after the basics.
    marked = Learner(focus={"rbac": 1.0}, level=2, interactions=known(*BASICS))
    assert path_entry(model, marked) == 5
    assert ids(recommend_queue(model, marked, limit=5).items)[0] == 5
    # Steps read (a click each) still take up the path where they are (v2's rule).
    assert path_entry(model, Learner(focus={"rbac": 1.0}, level=2, interactions=done(2))) == 2


def test_known_steps_count_as_done_but_are_no_taste_and_not_what_you_read(model: Model) -> None:
    recs = recommend(model, Learner(interactions=known(*BASICS)), limit=10)
    assert not set(BASICS) & set(ids(recs))
    assert ids(recs)[0] == 4  # the basics are satisfied: the path goes on
    assert shared_terms(recs) == []
    # Read, the same steps are taste and do explain picks: the check above can fail.
    assert shared_terms(recommend(model, Learner(interactions=done(*BASICS)), limit=10))


def test_a_saved_item_is_not_called_what_you_read(model: Model) -> None:
    # A walk-through's learner who had read nothing saw "Also about docker, like what you
    # read" under the items near one they had saved, and under the saved item itself.
    saved = recommend(model, Learner(interactions=done(13, state="planned")), limit=12)
    assert 13 in ids(saved)
    assert shared_terms(saved) == []
    reasons = [r.text for r in saved[ids(saved).index(13)].reasons]
    assert "You saved it for later" in reasons
    # Completed, the same item explains its neighbours: the check above can fail.
    assert shared_terms(recommend(model, Learner(interactions=done(13)), limit=12))


def test_a_stage_before_where_the_focus_starts_the_path_is_not_a_look_ahead(
    model: Model,
) -> None:
    # RBAC starts an intermediate learner's path at step 5, in the security stage; a
    # production item picked for variety was called "A look ahead at the production stage".
    result = recommend_queue(model, Learner(focus={"rbac": 1.0}, level=2), limit=12)
    texts = [r.text for item in result.items for r in item.reasons]
    assert not [t for t in texts if t.startswith("A look ahead at the production stage")]
    assert any(
        t.startswith("From the production stage, before where your focus starts your path")
        for t in texts
    )
    # A newcomer without a focus starts at step 1: later stages are a look ahead.
    fresh = recommend_queue(model, Learner(), limit=12)
    assert any(
        r.text.startswith("A look ahead at the") for item in fresh.items for r in item.reasons
    )


def test_an_area_quoted_beside_tags_reads_as_part_of_the_sentence() -> None:
    # A walk-through read "Also about linux containers, Container hardening and docker".
    catalog = [
        doc(1, "Seccomp profiles", "Syscall filters for pods.", areas=("container-hardening",)),
        doc(2, "AppArmor for pods", "Profiles confine pods.", areas=("container-hardening",)),
        doc(3, "Role bindings", "Who may list secrets.", areas=("rbac",)),
        doc(4, "Roles in practice", "Bindings for teams.", areas=("rbac",)),
    ] + [doc(n, f"Topic {n}", f"Unrelated text {n}.") for n in range(5, 13)]
    names = {"container-hardening": "Container hardening", "rbac": "RBAC and authorization"}
    recs = recommend(fit(catalog), Learner(interactions=done(1, 3)), limit=12, area_names=names)
    quoted = {
        rec.doc_id: r.data["terms"] for rec in recs for r in rec.reasons if r.kind == "shared_terms"
    }
    assert "container hardening" in quoted[2]
    assert "RBAC and authorization" in quoted[4]


def _quoted(
    catalog: list, learner: Learner, names: dict[str, str], tag_names: dict[str, str] | None = None
) -> dict[int, object]:
    recs = recommend(fit(catalog), learner, limit=12, area_names=names, tag_names=tag_names)
    return {rec.doc_id: r for rec in recs for r in rec.reasons if r.kind == "shared_terms"}


_FILLER = [doc(n, f"Topic {n}", f"Unrelated text {n}.") for n in range(5, 13)]


def test_a_focus_area_the_card_names_is_not_quoted_again() -> None:
    # A walk-through read "Covers your focus: Container hardening" and, below it, "Also about
    # container hardening, like what you read".
    catalog = [
        doc(1, "Seccomp profiles", "Syscall filters.", areas=("container-hardening",)),
        doc(2, "Seccomp in practice", "Syscall filters again.", areas=("container-hardening",)),
        *_FILLER,
    ]
    names = {"container-hardening": "Container hardening"}
    focused = Learner(interactions=done(1), focus={"container-hardening": 1.0})
    reason = _quoted(catalog, focused, names).get(2)
    assert reason is None or "container hardening" not in reason.data["terms"]
    # Without that focus, the shared area is what the two have in common, and says so.
    assert (
        "container hardening"
        in _quoted(catalog, Learner(interactions=done(1)), names)[2].data["terms"]
    )


def test_a_label_that_explains_nothing_or_repeats_a_word_is_not_quoted() -> None:
    # "Also about pods, control and mechanism" and "best practices" in a walk-through.
    catalog = [
        doc(1, "Seccomp for a pod", "A mechanism.", tags=("best-practices", "hands-on", "pods")),
        doc(2, "Seccomp on the pod", "A mechanism.", tags=("best-practices", "hands-on", "pods")),
        *_FILLER,
    ]
    quoted = _quoted(catalog, Learner(interactions=done(1)), {})[2].data["terms"]
    assert quoted == ["pods"]  # not "best practices", "hands on", nor the texts' words


def test_a_phrase_of_the_text_that_names_a_tag_explaining_nothing_is_not_quoted() -> None:
    # A walk-through read "Also about Best practices, like what you read": the words "best
    # practices" of two titles, spelled as the tag, passed where the tag itself did not.
    catalog = [
        doc(1, "Pod best practices", "Seccomp for pods.", tags=("best-practices", "pods")),
        doc(2, "Cluster best practices", "Seccomp on pods.", tags=("best-practices", "pods")),
        *_FILLER,
    ]
    tags = {"best-practices": "Best practices", "pods": "Pods"}
    reason = _quoted(catalog, Learner(interactions=done(1)), {}, tags)[2]
    assert reason.data["terms"] == ["Pods"]


def test_a_tag_is_quoted_by_its_name_as_browse_lists_it() -> None:
    # A walk-through read "Also about docker, like what you read"; Browse's Topic is "Docker".
    catalog = [
        doc(1, "Images and layers", "Build once.", tags=("docker", "kubectl")),
        doc(2, "Registries", "Push what you built.", tags=("docker", "kubectl")),
        *_FILLER,
    ]
    recs = recommend(
        fit(catalog),
        Learner(interactions=done(1)),
        limit=12,
        tag_names={"docker": "Docker", "kubectl": "kubectl"},
    )
    reason = next(
        r for rec in recs if rec.doc_id == 2 for r in rec.reasons if r.kind == "shared_terms"
    )
    assert set(reason.data["terms"]) >= {"Docker", "kubectl"}
    assert "docker" not in reason.text


def test_a_word_that_is_a_tags_name_is_spelled_as_the_tag() -> None:
    # "Also about docker" (a word of the text) beside "Also about Docker" (the tag).
    catalog = [
        doc(1, "Docker images", "Layers of a docker image."),
        doc(2, "Docker registries", "Push a docker image."),
        *_FILLER,
    ]
    recs = recommend(
        fit(catalog), Learner(interactions=done(1)), limit=12, tag_names={"docker": "Docker"}
    )
    reason = next(
        r for rec in recs if rec.doc_id == 2 for r in rec.reasons if r.kind == "shared_terms"
    )
    assert "Docker" in reason.data["terms"]
    assert "docker" not in reason.text


def test_a_term_with_an_and_of_its_own_is_quoted_with_the_others() -> None:
    # "Also about container hardening, best practices and resource limits and quotas".
    catalog = [
        doc(1, "Seccomp and quotas", "Limits.", tags=("seccomp",), areas=("resource-limits",)),
        doc(2, "Seccomp, quotas", "Limits.", tags=("seccomp",), areas=("resource-limits",)),
        *_FILLER,
    ]
    names = {"resource-limits": "Resource limits and quotas"}
    reason = _quoted(catalog, Learner(interactions=done(1)), names)[2]
    assert reason.text.startswith("Also about “seccomp”")
    assert "“resource limits and quotas”" in reason.text


def test_a_step_put_off_leaves_the_queue_and_does_not_hold_back_the_next(model: Model) -> None:
    put_off = (*done(1), Interaction(2, "planned", None, 1.0, later=True))
    queue = ids(recommend(model, Learner(interactions=put_off), limit=5))
    assert 2 not in queue and queue[0] == 3
    # Saved, not put off, it is the next step and comes first.
    saved = (*done(1), Interaction(2, "planned", None, 1.0))
    assert ids(recommend(model, Learner(interactions=saved), limit=5))[0] == 2


def test_a_step_back_from_not_now_is_queued_and_says_so_not_saved(model: Model) -> None:
    back = (*done(1), Interaction(2, "planned", None, 7.0, returned=True))
    first = recommend(model, Learner(interactions=back), limit=5)[0]
    assert first.doc_id == 2
    texts = [reason.text for reason in first.reasons]
    assert "Back from “Not now”: you put it off" in texts
    assert "You saved it for later" not in texts


def test_an_interaction_cannot_be_put_off_and_back_at_once() -> None:
    with pytest.raises(ValueError, match="back only once its day has come"):
        Interaction(2, "planned", None, 1.0, later=True, returned=True)


def test_an_unexplained_pick_for_a_learner_who_only_saved_claims_no_reading() -> None:
    # A walk-through's account had saved one item and read nothing, and was told "Picked
    # from what you have read and rated so far".
    catalog = [
        doc(1, "Pods and nodes", "Schedule pods on nodes."),
        doc(2, "Helm chart packaging", "Releases as charts with values.", kind="tool", stage=PROD),
        doc(3, "Pods on nodes, scheduled", "Nodes run pods.", stage=PROD),
    ]
    saved = Learner(interactions=done(3, state="planned"))
    texts = [r.text for rec in recommend(fit(catalog), saved, limit=5) for r in rec.reasons]
    assert not [t for t in texts if "what you have read" in t or "saved and skipped" in t]
    # As for a newcomer: a place to begin, or a look ahead (the third walk-through saw a
    # "Not now" turn a card's look ahead into a claim about what was saved and skipped).
    assert "A good starting point — rate what you read to personalise this list" in texts
    assert any(t.startswith("A look ahead at the production stage") for t in texts)
    known = Learner(interactions=(Interaction(1, "completed", None, 1.0, known=True),))
    texts = [r.text for rec in recommend(fit(catalog), known, limit=5) for r in rec.reasons]
    assert not [t for t in texts if "what you have read" in t]


def test_an_unexplained_pick_above_beginner_is_not_called_a_good_starting_point() -> None:
    # A walk-through's focused learner was offered GoScan, an advanced tool, as "A good
    # starting point".
    catalog = [
        doc(1, "Pods and nodes", "Schedule pods on nodes."),
        doc(2, "Scheduler internals", "How the scheduler scores nodes.", difficulty=2),
    ]
    saved = Learner(interactions=done(1, state="planned"))
    recs = {rec.doc_id: rec for rec in recommend(fit(catalog), saved, limit=5)}
    texts = [r.text for r in recs[2].reasons]
    assert "A good starting point — rate what you read to personalise this list" not in texts
    assert (
        "From the getting started stage, where your path starts, for variety — rate what you "
        "read to personalise this list"
    ) in texts


def test_a_focus_starts_the_path_past_a_step_with_outdated_advice_when_another_serves_it(
    model: Model,
) -> None:
    # A focused newcomer's first item was a 2017 talk on PodSecurityPolicy (removed since),
    # flagged as outdated, while current documentation served the same focus further on.
    learner = Learner(focus={"rbac": 1.0, "network-policy": 0.5}, level=2)
    assert path_entry(model, learner) == 5
    assert path_steps(ids(recommend(model, learner, limit=10)))[0] == 5
    queue = ids(recommend(model, learner, limit=10, entry_avoid=[5]))
    assert path_steps(queue)[0] == 6
    assert 5 not in queue  # before the entry point: on the Path page, not in the queue
    assert path_next(model, learner, entry_avoid=[5]) == 6


def test_a_step_with_outdated_advice_still_starts_the_path_when_nothing_else_serves_the_focus(
    model: Model,
) -> None:
    learner = Learner(focus={"rbac": 1.0}, level=2)
    assert path_steps(ids(recommend(model, learner, limit=10, entry_avoid=[5])))[0] == 5
    assert path_next(model, learner, entry_avoid=[5]) == 5


def test_a_pick_before_the_next_steps_slot_leaves_room_for_the_next_step() -> None:
    # A walk-through: with 20 minutes, a 20-minute article on the learner's focus filled the
    # queue, and the 10-minute step the queue's note says the path starts at never came.
    steps = [
        doc(1, "Pods first", "Basics: pods and services.", minutes=10, step=1),
        doc(2, "Deployments next", "Basics: deployments.", minutes=10, step=2),
    ]
    article = doc(3, "RBAC roles", "Roles and bindings.", areas=("rbac",), minutes=20)
    model = fit([*steps, article])
    learner = Learner(focus={"rbac": 1.0})
    assert 1 in ids(recommend_queue(model, learner, limit=10, minutes=20).items)
    # Without a budget the focus article may still come first.
    assert ids(recommend_queue(model, learner, limit=10).items)[:2] == [3, 1]


def test_when_the_next_step_waits_the_step_after_it_keeps_its_room_in_the_budget() -> None:
    # A walk-through: 30 minutes, an 8-hour next step, and a 25-minute article on a light
    # focus filled the queue; the 15-minute step after the long one did not come.
    steps = [
        doc(1, "A long course", "Basics: everything.", minutes=480, step=1),
        doc(2, "Pods first", "Basics: pods and services.", minutes=15, step=2),
        doc(3, "Deployments next", "Basics: deployments.", minutes=15, step=3),
    ]
    article = doc(4, "Secrets docs", "Secret objects.", areas=("secrets",), minutes=25)
    model = fit([*steps, article])
    learner = Learner(focus={"secrets": 0.75})
    result = recommend_queue(model, learner, limit=10, minutes=30)
    assert 2 in ids(result.items) and result.deferred == (1,)


def test_when_nothing_fits_a_short_step_ahead_is_offered_to_read_in_parts() -> None:
    # A walk-through: with 10 minutes a day, an 8-hour next step was offered, while a
    # 15-minute step came two later.
    model = timed_path(480, 120, 15, 12, 5, stages=("getting-started",) * 4 + ("security",))
    result = recommend_queue(model, Learner(), limit=10, minutes=10)
    # The first within a few sessions, in path order (not step 4, shorter still, nor step 5:
    # a later stage).
    assert result.items == () and result.deferred == (3,)
    assert result.detail == (
        "Nothing fits in 10 minutes. Step 3, “Step 3 of the basics” (about 15 minutes), is the "
        "nearest short step ahead: start it and read it in parts, or it waits for a longer "
        "session."
    )
    # A next step of a few sessions is still the one offered.
    result = recommend_queue(timed_path(30, 5), Learner(), limit=10, minutes=4)
    assert result.deferred == (2,)
    result = recommend_queue(timed_path(15, 5), Learner(), limit=10, minutes=4)
    assert result.deferred == (1,) and "your next step, “Step 1 of the basics”" in result.detail


def test_a_focus_set_part_way_along_the_path_says_where_it_comes_in() -> None:
    # A walk-through: a beginner set a focus after nine steps; the queue did not change and
    # nothing said why (a newcomer is told, by the entry note).
    steps = [
        doc(step, f"Basics {step}", f"Basics part {step}: pods.", step=step) for step in (1, 2, 3)
    ]
    rbac = doc(4, "RBAC roles", "Roles and bindings.", areas=("rbac",), stage=SEC, step=4)
    model = fit([*steps, rbac])
    beginner = Learner(interactions=done(1), focus={"rbac": 1.0}, level=1)
    result = recommend_queue(model, beginner, limit=2, area_names=NAMES)
    assert ids(result.items) == [2, 3]
    assert result.note == (
        "Your focus (RBAC) comes in at step 4, in the security stage: once you have the basics "
        "(the getting-started steps done), it joins your queue."
    )
    # Ready for it (a declared Intermediate): it comes ahead of the path, and no note is needed.
    ready = recommend_queue(
        model, dataclasses.replace(beginner, level=2), limit=2, area_names=NAMES
    )
    assert 4 in ids(ready.items) and ready.note == ""


def test_an_off_path_item_scored_at_or_below_zero_comes_only_when_nothing_better_is_left(
    model: Model,
) -> None:
    # MMR's diversity term favoured them (they resemble nothing picked): a walk-through's
    # learners got red-team tools scored below zero after a skip or a 1/5.
    learner = Learner(interactions=(*done(1, 2), *done(3, rating=1), *done(15, 4, state="skipped")))

    def off_path(items: list) -> list:
        return [r for r in items if not any(x.kind == "path_step" for x in r.reasons)]

    scored_above = {r.doc_id for r in off_path(recommend(model, learner, limit=50)) if r.score > 0}
    short = off_path(recommend(model, learner, limit=8))
    assert any(r.score <= 0 for r in short)  # the case: the queue reaches that far
    assert scored_above <= {r.doc_id for r in short}
    firsts = [r.score > 0 for r in short]
    assert firsts == sorted(firsts, reverse=True)  # those above zero first


def test_skipping_an_item_below_the_declared_level_tells_nothing_of_taste(model: Model) -> None:
    # "Too easy", not "not this subject": a walk-through's Advanced learner skipped one
    # beginner's Docker article and her focus's items fell by a quarter to two thirds.
    easy = next(d.id for d in CATALOG if d.difficulty == 1 and d.id not in PATH)

    def scores(level: int, *interactions: Interaction) -> dict[int, float]:
        # One completion in both: a learner with none gets a newcomer's boosts.
        read = (*done(1), *interactions)
        learner = Learner(interactions=read, level=level, focus={"rbac": 1.0})
        return {r.doc_id: r.score for r in recommend(model, learner, limit=50)}

    before = scores(3)
    after = scores(3, *done(easy, state="skipped"))
    assert after == {d: s for d, s in before.items() if d != easy}
    # A declared beginner's skip of the same item still counts against what it is about.
    assert scores(1, *done(easy, state="skipped")) != {
        d: s for d, s in scores(1).items() if d != easy
    }


RBAC_CATALOG = (
    doc(1, "What is Kubernetes", "Pods, nodes and the control plane.", tags=("pods",), step=1),
    doc(2, "kubectl basics", "Deployments and services with kubectl.", tags=("kubectl",), step=2),
    doc(3, "Kubernetes networking", "kube-proxy, services and ingress.", step=3),
    doc(
        4,
        "Secrets in Kubernetes",
        "Store secrets safely, encrypted at rest.",
        tags=("secrets",),
        areas=("secrets",),
        stage=SEC,
        step=4,
    ),
    doc(
        5,
        "Using RBAC authorization",
        "Roles, cluster roles and bindings: the RBAC API.",
        tags=("rbac",),
        areas=("rbac",),
        stage=SEC,
        difficulty=2,
        step=5,
    ),
    doc(
        10,
        "RBAC good practices: least privilege roles and bindings",
        "Least privilege RBAC roles, cluster roles, bindings and service accounts in practice.",
        tags=("rbac",),
        areas=("rbac",),
        stage=SEC,
        difficulty=2,
        popularity=90,
    ),
    doc(11, "Helm charts", "Package applications with Helm.", tags=("helm",), stage=PROD),
)
FOCUS = {"rbac": 1.0, "secrets": 0.5}


def test_an_areas_path_step_comes_before_its_off_path_items(model: Model) -> None:
    # With RBAC the main focus and secrets "Some", "RBAC Good Practices" came second and
    # "Using RBAC Authorization", the path's introduction (after a secrets step, in path
    # order), eighth in an intermediate learner's queue (a walk-through).
    rbac = fit(RBAC_CATALOG)
    learner = Learner(interactions=done(1), focus=FOCUS, level=2)
    queue = ids(recommend(rbac, learner, limit=6))
    assert 5 in queue and 10 in queue
    assert queue.index(5) < queue.index(10)


def test_a_beginner_not_ready_for_the_areas_step_still_gets_a_look_ahead(model: Model) -> None:
    rbac = fit(RBAC_CATALOG)
    learner = Learner(interactions=done(1), focus=FOCUS)
    queue = ids(recommend(rbac, learner, limit=6))
    # The path's RBAC step waits for the basics: meanwhile the area's off-path item is the
    # look ahead the focus message promises, not held back for a step not yet open.
    assert queue[:2] == [2, 10]
    assert path_steps(queue) == sorted(path_steps(queue))
