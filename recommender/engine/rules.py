"""Learning-path rules: entry point, reachable steps and violation counting.

One definition is shared by the ranking (which must never break it) and by
:mod:`recommender.evaluation` (which counts breaks by any recommender):

* **Entry point.**  A learner without a focus enters the path at its first
  step, unless they declared a level of :data:`READY_LEVEL` or more: then at
  the first step of the stage after those their level says they know
  (:func:`level_entry`; Intermediate past the basics, Advanced past
  production too).  A learner with a focus enters at the earliest *suitable* path step
  serving the focus (difficulty <= level + 1, not excluded, and in a stage
  they may enter: :func:`may_enter_stage`) — unless they already completed,
  started or planned an earlier path step, which then is the entry point.
  No suitable step serving the focus -> first step.  A learner who declared
  level 1 therefore starts with the basics even when their focus is first
  covered in the security stage (the seed's order: basics, production,
  security); one who did not say is taken at their focus's word.
  Skipping a step does not anchor the entry point (a skip is no commitment),
  nor does marking it known ("I know these": no reading was taken up there).
* **Prerequisites.**  A path step at position ``p >= entry`` may be
  recommended only when every path step with ``entry <= position < p`` is
  completed, skipped or in progress (the learner is on it: the next step may be
  read beside it), or was placed earlier in the same queue.  Steps
  before the entry point are neither prerequisites nor recommended.
* **Stage readiness (v2).**  The path is guidance, not a wall: a path step
  serving the learner's focus may be recommended *ahead* of the path as soon
  as the learner is ready for its stage (:func:`stage_readiness`): the first
  stage always; a later stage once every path step of the first stage (the
  basics) is completed or skipped, or the declared level is 2 or more, or the
  learner's own path (entry point or next step) is already at or past that
  stage.  An inferred level does not count: one intermediate article read is
  not the basics.
* Path steps keep their order among themselves: steps taken in path order
  (the "progression") are queued in path order, steps taken ahead of the path
  are queued in path order among themselves, and only an ahead step may stand
  before an earlier progression step (:func:`path_order_violations`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from .model import Model
from .profile import LearnerState, learner_state
from .records import Learner


@dataclass(frozen=True, slots=True)
class PathGroup:
    """One path position still to do.

    ``rows`` are its recommendable unsatisfied steps, ``pending`` counts all
    its unsatisfied steps (blocked ones included): the position is passed
    only when ``pending`` steps have been completed, skipped or queued.
    """

    position: int
    rows: tuple[int, ...]
    pending: int


#: Declared level from which a learner counts as knowing the basics.
READY_LEVEL: Final = 2

#: Why a learner is ready for a stage (``None``: not ready).
Readiness = Literal["first", "basics", "level", "path"]


def next_position(model: Model, state: LearnerState, entry: int) -> int:
    """Position of the learner's next path step (0 when none is left). A step being read, or
    put off ("Not now"), is not it: the queue goes on past both, and so does the Path page's
    marker (a walk-through saw the two name different steps)."""
    for row in model.path_rows:
        position = int(model.path_position[row])
        if position >= entry and int(row) not in state.satisfied | state.reading:
            return position
    return 0


def position_stage(model: Model, position: int) -> int:
    """Stage index of the path step at ``position`` (0, the first stage, when there is none)."""
    at = np.flatnonzero(model.path_position == position)
    return int(model.stage[at[0]]) if len(at) and position > 0 else 0


def basics_done(model: Model, state: LearnerState) -> bool:
    """Every path step of the first stage is completed, skipped or made needless by what the
    learner completed (or there are none). Needless ones count: a beginner who read the basics
    through the queue, which never offers Katacoda (shut down) after Minikube, never had them
    done, and her focus and her level's note waited for them for ever (a walk-through)."""
    rows = model.path_rows
    first_stage = rows[model.stage[rows] == 0] if len(rows) else rows
    done = state.satisfied | state.replaced
    return all(int(r) in done for r in first_stage)


def may_enter_stage(model: Model, state: LearnerState, stage: int) -> bool:
    """Whether a focus may start the learner's path in ``stage`` (a later stage than the first).

    Always, unless the learner declared a level below :data:`READY_LEVEL` and has not done
    the basics: a self-declared beginner who picks a security focus is not sent past the
    basics to the security stage, but told where the focus comes in (the queue's note).
    """
    return (
        stage <= 0
        or state.declared_level is None
        or state.declared_level >= READY_LEVEL
        or basics_done(model, state)
    )


def stage_readiness(model: Model, state: LearnerState, stage: int, entry: int) -> Readiness | None:
    """Why the learner is ready for ``stage`` (a code of ``model.stage_names``), or None.

    ``entry`` is the learner's entry point (:func:`entry_position`).  See the
    module docstring for the rule; the answer explains an "ahead of your path"
    recommendation in words.
    """
    if stage <= 0:
        return "first"
    if basics_done(model, state):
        return "basics"
    if state.declared_level is not None and state.declared_level >= READY_LEVEL:
        return "level"
    position = next_position(model, state, entry)
    if position == 0:
        return "path"  # the path is done
    row = int(model.path_rows[np.searchsorted(model.path_position[model.path_rows], position)])
    if int(model.stage[row]) >= stage:
        return "path"
    return None


def ahead_rows(model: Model, state: LearnerState, entry: int) -> dict[int, Readiness]:
    """Path rows the learner may take ahead of the path, with the readiness behind each.

    A row qualifies when it serves the focus, is at or after the entry point,
    is not done, and the learner is ready for its stage.  (Difficulty and
    dismissals are the caller's business.)
    """
    if not state.focus or not len(model.path_rows):
        return {}
    focus = state.focus.keys()
    ready: dict[int, Readiness | None] = {}
    allowed: dict[int, Readiness] = {}
    for row in model.path_rows:
        r = int(row)
        if (
            model.path_position[r] < entry
            or r in state.satisfied
            or model.areas[r].isdisjoint(focus)
        ):
            continue
        stage = int(model.stage[r])
        if stage not in ready:
            ready[stage] = stage_readiness(model, state, stage, entry)
        why = ready[stage]
        if why is not None:
            allowed[r] = why
    return allowed


def behind_rows(
    model: Model,
    state: LearnerState,
    entry: int,
    avoid: frozenset[int] = frozenset(),
    *,
    focus: bool = True,
) -> set[int]:
    """Path rows before the entry point that a queue still offers, free of the path's order
    (neither prerequisites nor waiting on any):

    * steps the learner saved there (saving one does not move the path back: `_anchors`);
    * with ``focus``, steps serving a focus area from where the learner's level starts the
      path (:func:`level_entry`) on, at most a level above theirs and in a stage they may
      enter (as the entry step), unless their advice is outdated (``avoid``). The heaviest
      focus area starts the path; a lighter one's steps before it were never offered: a
      walk-through's Advanced learner, Network policy her main focus and Container hardening
      "a lot", entered at step 33, and the container-hardening steps 25 to 31 waited behind
      the whole path while red-team tools filled her queue.
    """
    if entry <= 0:
        return set()
    done = state.satisfied | state.reading
    position = model.path_position
    rows = {int(r) for r in state.planned if 0 < position[r] < entry and r not in done}
    if focus and state.focus:
        low = level_entry(model, state)
        areas = state.focus.keys()
        cap = state.level + 1  # as for the entry step (_declared_entry)
        rows.update(
            int(r)
            for r in model.path_rows
            if low <= position[r] < entry
            and model.difficulty[r] <= cap
            and int(r) not in done
            and int(r) not in avoid
            and not model.areas[r].isdisjoint(areas)
            and may_enter_stage(model, state, int(model.stage[r]))
        )
    return rows


def entry_position(
    model: Model,
    state: LearnerState,
    excluded: frozenset[int] = frozenset(),
    avoid: frozenset[int] = frozenset(),
) -> int:
    """Path position where this learner's path starts (0 if there is no path).

    ``excluded`` rows (dismissed by the caller) cannot be an entry step; ``avoid`` rows (a
    step whose advice is outdated) are one only when no other step serves the focus: a
    focused newcomer's first item was a 2017 talk on PodSecurityPolicy, removed since.

    A path finished from where the focus or level started it goes on before that start: at
    the level's start, then at the first step. A walk-through's Advanced learner, whose focus
    started her path at step 33, finished steps 33 to 39 and was told that 32 steps "wait for
    earlier steps"; nothing offered her 25 to 32, her level's security steps, again.
    """
    start = _declared_entry(model, state, excluded, avoid)
    if not start or not _finished_from(model, state, start, excluded):
        return start
    first = int(model.path_position[model.path_rows[0]])
    for earlier in (level_entry(model, state), first):
        if earlier < start and not _finished_from(model, state, earlier, excluded):
            return earlier
    return start


def _finished_from(
    model: Model, state: LearnerState, position: int, excluded: frozenset[int]
) -> bool:
    """No step from ``position`` on is left to offer: each is done, skipped, being read or
    put off."""
    done = state.satisfied | state.reading | excluded
    return all(int(r) in done for r in model.path_rows if int(model.path_position[r]) >= position)


def _declared_entry(
    model: Model, state: LearnerState, excluded: frozenset[int], avoid: frozenset[int]
) -> int:
    """Where the learner's focus, level or progress starts their path (entry_position)."""
    rows = model.path_rows
    if not len(rows):
        return 0
    first = int(model.path_position[rows[0]])
    if not state.focus:
        start = level_entry(model, state)
        return min([start, *_anchors(model, state)]) if start > first else first
    cap = state.level + 1
    # The path starts at the first step serving what matters most to the learner (their
    # heaviest focus areas), else the first serving any of their focus: RBAC as "Main focus"
    # and secrets as "A little" starts at the RBAC step, not at an earlier secrets one.
    heaviest = max(state.focus.values())
    serving = None
    tries = [
        (focus, unwanted)
        for unwanted in ((excluded | avoid, excluded) if avoid else (excluded,))
        for focus in ({a for a, w in state.focus.items() if w == heaviest}, state.focus.keys())
    ]
    for focus, unwanted in tries:
        serving = next(
            (
                int(model.path_position[r])
                for r in model.path_rows
                if model.difficulty[r] <= cap
                and int(r) not in unwanted
                and not model.areas[r].isdisjoint(focus)
                and may_enter_stage(model, state, int(model.stage[r]))
            ),
            None,
        )
        if serving is not None:
            break
    if serving is None:
        return first
    return min([serving, *_anchors(model, state)])


def level_entry(model: Model, state: LearnerState) -> int:
    """Where a learner's declared level starts their path when no focus does: the first
    step of the stage after those the level says they know (Intermediate, "I use it": past
    the basics; Advanced, "I run it in production": past production too), or the last stage
    with steps; the first step for a beginner, and for a learner who did not say (an
    inferred level is not a declaration)."""
    rows = model.path_rows
    first = int(model.path_position[rows[0]])
    if state.declared_level is None or state.declared_level < READY_LEVEL:
        return first
    stages = model.stage[rows]
    known_stages = min(state.declared_level - 1, int(stages.max()))
    return int(model.path_position[rows[np.flatnonzero(stages >= known_stages)[0]]])


def _anchors(model: Model, state: LearnerState) -> list[int]:
    """Path positions the learner took up (completed or started: not skipped, not marked
    known, not put off with "Not now", before or after its day came back: the learner never
    chose it, so it does not hold their path back at it when they later say they know the
    stage it is in); the earliest of them is their entry point when it comes first.

    Not saved: saving an early article from Browse moved a focused learner's path from step
    30 back to step 3 (a walk-through). A saved step before the entry is offered as a saved
    item instead (ranking's pool, ``saved_behind``)."""
    not_chosen = state.known | state.later | state.returned
    return [
        int(model.path_position[r])
        for r, s in state.state.items()
        if model.path_position[r] > 0 and s not in ("skipped", "planned") and r not in not_chosen
    ]


def path_entry(model: Model, learner: Learner, *, exclude: Iterable[int] = ()) -> int:
    """Public form of :func:`entry_position` for a :class:`Learner`."""
    return entry_position(model, learner_state(model, learner), frozenset(model.rows(exclude)))


def path_start(model: Model, learner: Learner, *, entry_avoid: Iterable[int] = ()) -> int:
    """Position where the learner's path starts (0 when there is no path), as
    :func:`path_next` counts from it."""
    state = learner_state(model, learner)
    return entry_position(model, state, avoid=frozenset(model.rows(entry_avoid)))


def path_next(model: Model, learner: Learner, *, entry_avoid: Iterable[int] = ()) -> int:
    """Position of the learner's next path step from their entry point (0 when none is left).
    ``entry_avoid``: document ids as in :func:`recommend_queue`."""
    state = learner_state(model, learner)
    avoid = frozenset(model.rows(entry_avoid))
    return next_position(model, state, entry_position(model, state, avoid=avoid))


def upcoming_path(
    model: Model,
    state: LearnerState,
    blocked: frozenset[int],
    cap: int,
    limit: int,
    entry: int,
) -> list[PathGroup]:
    """Positions a queue of ``limit`` items could still reach, in order.

    Starts at the first position ``>= entry`` with an unsatisfied step (a step
    in progress counts as satisfied here).  A position whose unsatisfied steps
    cannot all be recommended (excluded, above the difficulty cap) ends the
    list: nothing after it can be unlocked by this queue.
    """
    rows = model.path_rows
    positions = model.path_position[rows]
    groups: list[PathGroup] = []
    start = 0
    while start < len(rows) and len(groups) < limit:
        end = start
        while end < len(rows) and positions[end] == positions[start]:
            end += 1
        position = int(positions[start])
        group = [int(r) for r in rows[start:end]]
        start = end
        if position < entry:
            continue
        pending = [r for r in group if r not in state.satisfied and r not in state.reading]
        if not pending:
            continue
        usable = tuple(r for r in pending if r not in blocked and model.difficulty[r] <= cap)
        groups.append(PathGroup(position, usable, len(pending)))
        if len(usable) < len(pending):
            break
    return groups


def count_violations(
    model: Model,
    learner: Learner,
    doc_ids: Sequence[int],
    *,
    path: Sequence[int] | None = None,
    strict: bool = False,
    allow_ahead: bool = True,
) -> int:
    """Number of entries of the queue ``doc_ids`` that break the path rule.

    A queued path step at position ``p`` breaks the rule when a path step at
    a position in ``[low, p)`` is neither completed/skipped by the learner nor
    queued before it, where ``low`` is the learner's entry point if
    ``p >= entry`` and the first position otherwise.  ``strict=True`` puts
    everyone's entry point at the first step (no focus entry).  ``path`` is
    the path as ordered document ids (default: the model's positions).
    """
    model_path = [int(model.doc_ids[r]) for r in model.path_rows]
    model_positions = [int(model.path_position[r]) for r in model.path_rows]
    if path is None:
        path, positions = model_path, model_positions
    else:
        path = [int(d) for d in path]
        positions = list(range(1, len(path) + 1))
    if not path:
        return 0
    state = learner_state(model, learner)
    entry = positions[0]
    ahead: set[int] = set()
    if not strict:
        start = entry_position(model, state)
        if allow_ahead:
            free = ahead_rows(model, state, start).keys() | behind_rows(model, state, start)
            ahead = {int(model.doc_ids[r]) for r in free}
        entry_doc = next(
            (d for d, p in zip(model_path, model_positions, strict=True) if p >= start), None
        )
        if entry_doc in path:
            entry = positions[path.index(entry_doc)]
    done = {int(model.doc_ids[r]) for r in state.satisfied | state.reading}
    position_of = dict(zip(path, positions, strict=True))
    violations = 0
    for doc_id in doc_ids:
        position = position_of.get(doc_id)
        if position is not None and doc_id not in ahead:
            low = entry if position >= entry else positions[0]
            if any(
                low <= p < position and d not in done for d, p in zip(path, positions, strict=True)
            ):
                violations += 1
        done.add(doc_id)
    return violations


def order_violations(learner: Learner, doc_ids: Sequence[int], path: Sequence[int]) -> int:
    """Pairs where a later path step is queued above an earlier, unsatisfied one.

    The weakest reading of "a step whose earlier steps are not done comes
    later"; needs no model, so it also audits baselines independently.
    """
    done = {i.doc_id for i in learner.interactions if i.state in ("completed", "skipped")}
    index = {int(d): i for i, d in enumerate(path)}
    queued = [index[d] for d in doc_ids if d in index and d not in done]
    return sum(
        1 for i, later in enumerate(queued) for earlier in queued[i + 1 :] if earlier < later
    )


def path_order_violations(model: Model, learner: Learner, doc_ids: Sequence[int]) -> int:
    """Pairs of queued path steps out of path order, the v2 way.

    A pair (earlier in the queue, later in the queue) with a higher position
    first counts, unless the first one may be taken ahead of the path
    (:func:`ahead_rows`) and the second one may not: a focus step ahead of
    the path is meant to stand before earlier progression steps, but
    progression steps keep their order, and so do ahead steps among
    themselves.  Steps already completed or skipped, and steps behind the entry
    point that the queue offers (:func:`behind_rows`), are ignored.
    """
    state = learner_state(model, learner)
    entry = entry_position(model, state)
    ahead = {int(model.doc_ids[r]) for r in ahead_rows(model, state, entry)}
    # Steps behind the entry that the queue offers are outside the path's order, as off-path
    # items are.
    ignored = state.satisfied | state.reading | behind_rows(model, state, entry)
    done = {int(model.doc_ids[r]) for r in ignored}
    queued = [
        (int(model.path_position[model.index[d]]), d in ahead)
        for d in doc_ids
        if d in model.index and model.path_position[model.index[d]] > 0 and d not in done
    ]
    return sum(
        1
        for i, (first, first_ahead) in enumerate(queued)
        for second, second_ahead in queued[i + 1 :]
        if first > second and not (first_ahead and not second_ahead)
    )
