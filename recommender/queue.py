"""The reading queue: engine recommendations turned into resources with reasons.

Reads only; everything here is safe to call on any request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from catalog.models import Resource
from recommender import answers, selectors
from recommender.engine import (
    Learner,
    Model,
    Recommendation,
    path_next,
    path_start,
    similar,
    suggest_labels,
)
from recommender.engine.ranking import recommend_queue
from recommender.engine.reasons import AHEAD_OF_PATH, NEXT_STEP_SUFFIX
from recommender.models import ProgressState
from recommender.runtime import WarmingUp, runtime

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Reasons the queue adds from the catalog's health: a failing link, outdated advice.
HEALTH_KINDS = ("link_failing", "stale")
# How far `next` looks for the successor of an outdated head: the queue page's length.
NEXT_LOOKAHEAD = 10

WARMING_UP = (
    "Recommendations are warming up: until they are ready, here is the learning path in order."
)


@dataclass
class QueueItem:
    resource: Resource
    score: float
    reasons: list[dict[str, Any]]


@dataclass
class Queue:
    """A reading queue and how full it is (see recommender.engine.records.QueueResult)."""

    items: list[QueueItem] = field(default_factory=list)
    minutes_budget: int | None = None
    note: str = ""
    # The note in its two parts: where the path starts and the focus comes in, then the steps
    # passed over for the budget (see QueueResult).
    path_note: str = ""
    level_note: str = ""
    level_offer: int | None = None
    deferred_note: str = ""
    limit: int = 10
    # Minutes the packing counted (unknown lengths as 15), for the budget fill.
    minutes_used: float = 0.0
    shortfall: str | None = None
    detail: str = ""
    relaxed_level: int | None = None
    # Path steps passed over because they need more than the minutes budget (resource ids).
    deferred: list[int] = field(default_factory=list)

    @property
    def total_minutes(self) -> int:
        """The items' known reading time. A path step whose alternative comes earlier in the
        queue is not counted: the learner reads one of them (Docker Desktop or Minikube), and
        the total said half an hour more than anyone would spend (a walk-through)."""
        alternatives = runtime.path_alternatives() if self.items else {}
        counted: set[int] = set()
        total = 0
        for item in self.items:
            if alternatives.get(item.resource.pk, frozenset()) & counted:
                continue
            counted.add(item.resource.pk)
            total += item.resource.estimated_minutes or 0
        return total

    @property
    def fill_ratio(self) -> float:
        return round(len(self.items) / self.limit, 4) if self.limit else 1.0

    @property
    def budget_fill(self) -> float | None:
        if not self.minutes_budget:
            return None
        return round(min(self.minutes_used / self.minutes_budget, 1.0), 4)


def _items(recommendations: list[Recommendation], model: Model) -> list[QueueItem]:
    resources = selectors.resources_by_id([r.doc_id for r in recommendations])
    return _with_health(
        [
            QueueItem(
                resource=resources[r.doc_id],
                score=round(float(r.score), 4),
                reasons=[{"kind": reason.kind, "text": reason.text} for reason in r.reasons],
            )
            for r in recommendations
            if r.doc_id in resources  # approved a moment ago, maybe rejected (or gone) since
        ],
        model,
    )


def _warming_up(user: User, limit: int) -> list[QueueItem]:
    return _with_health(
        [
            QueueItem(
                resource=resource, score=0.0, reasons=[{"kind": "path_step", "text": WARMING_UP}]
            )
            for resource in selectors.path_order(user=user, limit=limit)
        ],
        None,
    )


def _with_health(items: list[QueueItem], model: Model | None) -> list[QueueItem]:
    """Say so when an item's link is failing or its advice is outdated, and put a stale item
    after the resource about its successor when both are queued.

    The move never breaks the path: it is made only when no later path step than the stale
    item's own would then stand before it. A stale step whose successor is a later step of
    the path is read after that successor (the current advice first, the old for its history),
    so it counts as standing at the successor's place.
    """
    health = runtime.health([item.resource for item in items])
    if not health:
        return items
    for item in items:
        notes = health.get(item.resource.pk)
        if notes is None:
            continue
        if notes.failing_since is not None:
            since = f"{notes.failing_since.day} {notes.failing_since:%B %Y}"
            item.reasons.append(
                {
                    "kind": "link_failing",
                    "text": f"The link has been failing since {since}; it may not open.",
                }
            )
        item.reasons.extend({"kind": "stale", "text": sentence} for sentence, _ in notes.stale)
    if model is None:
        return items  # the path in order: nothing to move

    def position(pk: int | None) -> int:
        row = model.index.get(pk) if pk is not None else None
        return int(model.path_position[row]) if row is not None else 0

    for pk, notes in health.items():
        for _, successor_id in notes.stale:
            _demote(items, pk, successor_id, position)
    return items


def _demote(
    items: list[QueueItem],
    stale_id: int,
    successor_id: int | None,
    position: Callable[[int | None], int],
) -> None:
    """Put a stale item after the item about its successor, when the path allows it.

    A stale path step whose successor is a later step counts as standing at the successor's
    place: it goes right after the successor, or, when the successor is not queued, where the
    successor would stand (before the first later path step, else last). A stale step that
    was "your next step" says where it went, and a successor that takes its place is the next
    step."""
    order = [item.resource.pk for item in items]
    if successor_id is None or stale_id not in order:
        return
    at = order.index(stale_id)
    own, successor_position = position(stale_id), position(successor_id)
    if successor_id not in order:
        # Not queued: it goes where its successor would stand, before the first later step
        # than that (a queue of 10 showed the 2017 PodSecurityPolicy talk 8th, and its
        # successor, 16th in a longer queue, not at all; a focused learner's showed the talk
        # above the RBAC page, as steps 29 and 30, with its successor, step 31, not queued).
        if not own or successor_position <= own:
            return
        later = (i for i in range(at + 1, len(order)) if position(order[i]) > successor_position)
        successor_at = next(later, len(order)) - 1
    else:
        successor_at = order.index(successor_id)
        if successor_at < at:
            return
    standing = max(own, successor_position) if own else 0
    if own and any(position(pk) > standing for pk in order[at + 1 : successor_at + 1]):
        return
    if successor_at == at:
        return
    stale = items.pop(at)
    items.insert(successor_at, stale)
    if own and successor_position > own:
        _hand_over_next(stale, items, own, successor_id, successor_position, position)


def _hand_over_next(
    stale: QueueItem,
    items: list[QueueItem],
    own: int,
    successor_id: int,
    successor_position: int,
    position: Callable[[int | None], int],
) -> None:
    """The stale step no longer reads "your next step"; the successor, when queued, stands in
    its place, and the first path step queued after it is the next step: the successor, or
    a step between the two (a walk-through's queue read step 30 first, then "Step 31 — your
    next step, in place of step 29")."""
    was_next = False
    for reason in stale.reasons:
        if reason["kind"] == "path_step" and reason["text"].endswith(NEXT_STEP_SUFFIX):
            reason["text"] = (
                f"Step {own} of the learning path — read after step {successor_position}, "
                "which replaces its advice"
            )
            was_next = True
    successor = next((item for item in items if item.resource.pk == successor_id), None)
    if not was_next or successor is None:
        return
    successor.reasons = [reason for reason in successor.reasons if reason["kind"] != "path_step"]
    for reason in successor.reasons:
        if reason["kind"] == "focus" and AHEAD_OF_PATH in reason["text"]:
            reason["text"] = reason["text"].split(AHEAD_OF_PATH)[0]
    following = next(
        (item for item in items if item is not stale and position(item.resource.pk) > own), None
    )
    successor.reasons.insert(
        0,
        {
            "kind": "path_step",
            "text": f"Step {successor_position} of the learning path"
            f"{NEXT_STEP_SUFFIX if following is successor else ''}, "
            f"in place of step {own}, whose advice is outdated",
        },
    )
    if following is None or following is successor:
        return
    for reason in following.reasons:
        if reason["kind"] == "path_step" and reason["text"].endswith(" of the learning path"):
            reason["text"] += NEXT_STEP_SUFFIX


def queue_build(
    *, user: User, limit: int = 10, minutes: int | None = None, unlimited: bool = False
) -> Queue:
    """The learner's ordered reading queue; `minutes` packs the best items that fit (default:
    the learner's saved budget, unless `unlimited` asks for the whole queue)."""
    try:
        model = runtime.model()
    except WarmingUp:
        return Queue(
            items=_warming_up(user, limit),
            minutes_budget=minutes,
            note=WARMING_UP,
            path_note=WARMING_UP,
        )
    learner = _engine_learner(user)
    if unlimited:
        learner = dataclasses.replace(learner, minutes_budget=None)
    budget = minutes if minutes is not None else learner.minutes_budget
    if model is None:
        return Queue(
            minutes_budget=budget,
            limit=limit,
            shortfall="finished",
            detail="There are no approved resources yet.",
        )
    names = runtime.label_names()
    result = recommend_queue(
        model,
        learner,
        limit=limit,
        minutes=budget,
        area_names=names.areas,
        tag_names=names.tags,
        exclude=runtime.unlinked_off_path(),
        entry_avoid=runtime.outdated_path_steps(),
    )
    items = _items(list(result.items), model)
    # A resource rejected since the model was fitted leaves a gap: say so rather than
    # report a full queue.
    gap = len(result.items) - len(items)
    withdrawn = f"{gap} resources were withdrawn a moment ago; reload for a full queue."
    return Queue(
        items=items,
        minutes_budget=budget,
        limit=limit,
        minutes_used=result.minutes_used,
        shortfall=result.shortfall or ("waiting" if gap else None),
        detail=result.detail or (withdrawn if gap else ""),
        relaxed_level=result.relaxed_level,
        note=result.note,
        path_note=result.path_note,
        level_note=result.level_note,
        level_offer=result.level_offer,
        deferred_note=result.deferred_note,
        deferred=list(result.deferred),
    )


def _engine_learner(user: User) -> Learner:
    """The learner as the engine sees them, with the path steps their reading made needless:
    outdated steps whose successor they completed (a walk-through's beginner was offered
    Katacoda, shut down in 2022, after completing Minikube, which its warning named instead)
    and the alternatives of a step they completed (Minikube after Docker Desktop)."""
    learner = selectors.engine_learner(user=user)
    found = standing_in()
    if not found:
        return learner
    completed = {it.doc_id for it in learner.interactions if it.state == ProgressState.COMPLETED}
    replaced = frozenset(step for step, others in found.items() if others & completed)
    return dataclasses.replace(learner, replaced=replaced) if replaced else learner


def standing_in() -> dict[int, frozenset[int]]:
    """Path steps with the resources whose completion makes them needless: an outdated
    step's successors, a step's alternatives. No query most of the time (kept by the
    runtime)."""
    alternatives = runtime.path_alternatives()
    found: dict[int, frozenset[int]] = {
        stale: _with_alternatives(successors, alternatives)
        for stale, successors in runtime.outdated_successors().items()
        if successors
    }
    for step, others in alternatives.items():
        found[step] = found.get(step, frozenset()) | others
    return found


def _with_alternatives(
    successors: frozenset[int], alternatives: dict[int, frozenset[int]]
) -> frozenset[int]:
    """An outdated step's successors and their alternatives: Katacoda (shut down) names
    Minikube, and Docker Desktop, Minikube's other way, does as well for it (a walk-through's
    learner who completed Docker Desktop was still queued Katacoda, 4 hours)."""
    return successors.union(*(alternatives.get(step, frozenset()) for step in successors))


@dataclass(frozen=True)
class Replacement:
    """What a learner completed instead of a path step, and how it stands in for it."""

    resource: Resource
    # "successor": today's way for an outdated step; "alternative": the other way to it.
    kind: Literal["successor", "alternative"]


def replaced_by(*, user: User, resource_id: int) -> Replacement | None:
    """The resource the learner completed that makes this path step needless for them (see
    `_engine_learner`), or None: Minikube for Katacoda (its successor), or for Docker
    Desktop (its alternative)."""
    every_alternative = runtime.path_alternatives()
    successors = _with_alternatives(
        runtime.outdated_successors().get(resource_id, frozenset()), every_alternative
    )
    alternatives = every_alternative.get(resource_id, frozenset())
    if not successors and not alternatives:
        return None
    done = (
        selectors.progress_list(user=user)
        .filter(resource_id__in=successors | alternatives, state=ProgressState.COMPLETED)
        .order_by("resource_id")
        .first()
    )
    if done is None:
        return None
    if done.resource_id in successors:
        return Replacement(resource=done.resource, kind="successor")
    return Replacement(resource=done.resource, kind="alternative")


def _ready_model() -> Model | None:
    """The fitted model, or None while it warms up or when there is none."""
    try:
        return runtime.model()
    except WarmingUp:
        return None


def path_place(*, user: User) -> tuple[int | None, int | None]:
    """Where the learner's path starts (their level, focus or progress decides: a step before
    it is optional) and their next step's position (path_next_position), as the queue counts
    them. None for either while the model warms up, when there is no path, and for the next
    step when the path is done."""
    model = _ready_model()
    if model is None:
        return None, None
    learner = _engine_learner(user)
    start = path_start(model, learner, entry_avoid=runtime.outdated_path_steps())
    return start or None, _next_position(model, learner, user)


def path_next_position(*, user: User) -> int | None:
    """Where the learner is on the path: their next step's position, as the queue sees it
    (from their entry point, so a focused learner's is at their focus). None while the
    model warms up, when there is none, or when the path is done."""
    model = _ready_model()
    if model is None:
        return None
    return _next_position(model, _engine_learner(user), user)


def _next_position(model: Model, learner: Learner, user: User) -> int | None:
    outdated = runtime.outdated_path_steps()
    position = path_next(model, learner, entry_avoid=outdated)
    if not position:
        return None
    steps = [
        int(model.doc_ids[row]) for row in model.path_rows if model.path_position[row] == position
    ]
    if steps and outdated.issuperset(steps):
        budget = learner.minutes_budget
        if budget and all(model.minutes[model.index[pk]] > budget for pk in steps):
            # Passed over for the time budget, not read after a successor: the learner's next
            # step is still this one, as Up next's note says (a walk-through's Path page named
            # the step after it, while Up next said this one needs more than 30 minutes).
            return position
        # The queue reads an outdated step after its successor further on (_with_health): the
        # learner is where the queue's head is, as the Path page's "You are here" says.
        head = next_answer(user=user)["recommendation"]
        row = model.index.get(head["resource"]["id"]) if head is not None else None
        if row is not None and int(model.path_position[row]) > position:
            return int(model.path_position[row])
    return position


def recommendations_serialised(items: list[QueueItem]) -> list[dict[str, Any]]:
    """Items as the API shows them, resources serialised from the rows already fetched
    (through the runtime's per-process card cache)."""
    resources = runtime.cards([item.resource for item in items])
    return [
        {"resource": resource, "score": item.score, "reasons": item.reasons}
        for resource, item in zip(resources, items, strict=True)
    ]


def _cached(user: User, name: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`compute()` through the learner's answer cache; uncached while warming up."""
    try:
        runtime.model()
    except WarmingUp:
        return compute()
    return answers.answer_cached(user_id=user.pk, name=name, stamp=runtime.stamp(), compute=compute)


def _follows_a_successor(item: QueueItem) -> bool:
    notes = runtime.health([item.resource]).get(item.resource.pk)
    return notes is not None and any(successor for _, successor in notes.stale)


def next_answer(*, user: User) -> dict[str, Any]:
    """The body of `GET /api/me/next/`: the next resource and why, or why there is none."""

    def compute() -> dict[str, Any]:
        # The queue's first item, built as the queue is (same budget, same words), so `next`
        # and the queue's head never disagree. A head with outdated advice whose successor is
        # queued soon after gives way to it there, so look as far as the queue page does.
        result = queue_build(user=user, limit=1)
        if result.items and _follows_a_successor(result.items[0]):
            result = queue_build(user=user, limit=NEXT_LOOKAHEAD)
        if not result.items:
            # Rare: say why nothing is next (no catalog yet, everything done, nothing fits the
            # saved time budget, or steps that wait for earlier ones).
            return {
                "finished": True,
                "shortfall": result.shortfall or "finished",
                "detail": result.detail
                or (
                    "You have completed or skipped everything we can recommend right now. "
                    "New resources arrive as curators approve them."
                ),
                "note": result.note,
                "recommendation": None,
            }
        item = result.items[0]
        return {
            "finished": False,
            "shortfall": None,
            "detail": item.reasons[0]["text"] if item.reasons else "",
            "note": result.note,
            "recommendation": recommendations_serialised([item])[0],
        }

    return _cached(user, "next", compute)


def queue_answer(*, user: User, limit: int, minutes: int | None) -> dict[str, Any]:
    """The body of `GET /api/me/queue/`."""

    def compute() -> dict[str, Any]:
        result = queue_build(user=user, limit=limit, minutes=minutes)
        return {
            "count": len(result.items),
            "limit": result.limit,
            "fill_ratio": result.fill_ratio,
            "total_minutes": result.total_minutes,
            "minutes_budget": result.minutes_budget,
            "note": result.note,
            "budget_fill": result.budget_fill,
            "shortfall": result.shortfall,
            "detail": result.detail,
            "relaxed_level": result.relaxed_level,
            "deferred": result.deferred,
            "results": recommendations_serialised(result.items),
        }

    return _cached(user, f"queue:{limit}:{'' if minutes is None else minutes}", compute)


# Neighbours read beyond `limit`, to stand in for removed things (a dozen in the catalog).
SIMILAR_SPARE = 3


def resource_similar(
    *, resource_id: int, limit: int = 5, level: int | None = None
) -> list[tuple[Resource, float]] | None:
    """Nearest approved resources; None when the resource is not in the model (yet).

    With a learner's declared ``level``, resources above what their queue opens to them
    (difficulty over ``level + 1``) come after the others among the nearest: a beginner's
    similar resources to a first step began with an 8-hour Advanced course (a walk-through).
    """
    model = _ready_model()
    if model is None:
        return None
    # A resource without an address is left out: a walk-through's Secrets page listed three
    # off the path among its five similar resources, and the RBAC page two path steps (which
    # the queue keeps: the path names them).
    unlinked = runtime.unlinked()
    try:
        pairs = similar(model, resource_id, limit=limit + len(unlinked) + SIMILAR_SPARE)
    except KeyError:
        return None
    pairs = [(doc_id, score) for doc_id, score in pairs if doc_id not in unlinked]
    pairs = pairs[: limit + SIMILAR_SPARE]
    resources = selectors.resources_by_id([doc_id for doc_id, _ in pairs])
    found = [(resources[doc_id], score) for doc_id, score in pairs if doc_id in resources]
    # Nor is the removed thing itself anyone's similar reading (Katacoda, shut down in 2022,
    # was the first step's third neighbour in a walk-through); today's way may well be.
    cards = runtime.cards([resource for resource, _ in found])
    kept = [
        (resource, round(float(score), 4))
        for (resource, score), card in zip(found, cards, strict=True)
        if runtime.superseded_successor(card) is None
    ]
    if level is not None:
        kept.sort(key=lambda pair: pair[0].difficulty > level + 1)  # stable: nearest first
    return kept[:limit]


def resource_suggestions(*, resource: Resource, k: int = 5) -> dict[str, Any] | None:
    """Labels for a pending resource from its nearest approved neighbours (for curators)."""
    model = _ready_model()
    if model is None:
        return None
    return suggest_labels(model, selectors.resource_document(resource), k=k)
