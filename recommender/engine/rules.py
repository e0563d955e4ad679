"""Learning-path rules: entry point, reachable steps and violation counting.

One definition is shared by the ranking (which must never break it) and by
:mod:`recommender.evaluation` (which counts breaks by any recommender):

* **Entry point.**  A learner without a focus enters the path at its first
  step.  A learner with a focus enters at the earliest *suitable* path step
  serving the focus (difficulty <= level + 1, not excluded) — unless they
  already completed, started or planned an earlier path step, which then is
  the entry point.  No suitable step serving the focus -> first step.
  Skipping a step does not anchor the entry point (a skip is no commitment).
* **Prerequisites.**  A path step at position ``p >= entry`` may be
  recommended only when every path step with ``entry <= position < p`` is
  completed or skipped, or was placed earlier in the same queue.  Steps
  before the entry point are neither prerequisites nor recommended.
* Consequently path steps inside a queue always appear in path order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


def entry_position(
    model: Model, state: LearnerState, excluded: frozenset[int] = frozenset()
) -> int:
    """Path position where this learner's path starts (0 if there is no path).

    ``excluded`` rows (dismissed by the caller) cannot be an entry step.
    """
    rows = model.path_rows
    if not len(rows):
        return 0
    first = int(model.path_position[rows[0]])
    if not state.focus:
        return first
    cap = state.level + 1
    focus = state.focus.keys()
    serving = next(
        (
            int(model.path_position[r])
            for r in rows
            if model.difficulty[r] <= cap
            and int(r) not in excluded
            and not model.areas[r].isdisjoint(focus)
        ),
        None,
    )
    if serving is None:
        return first
    anchors = [
        int(model.path_position[r])
        for r, s in state.state.items()
        if model.path_position[r] > 0 and s != "skipped"
    ]
    return min([serving, *anchors])


def path_entry(model: Model, learner: Learner, *, exclude: Iterable[int] = ()) -> int:
    """Public form of :func:`entry_position` for a :class:`Learner`."""
    return entry_position(model, learner_state(model, learner), frozenset(model.rows(exclude)))


def upcoming_path(
    model: Model,
    state: LearnerState,
    blocked: frozenset[int],
    cap: int,
    limit: int,
    entry: int,
) -> list[PathGroup]:
    """Positions a queue of ``limit`` items could still reach, in order.

    Starts at the first position ``>= entry`` with an unsatisfied step.  A
    position whose unsatisfied steps cannot all be recommended (in progress,
    excluded, above the difficulty cap) ends the list: nothing after it can
    be unlocked by this queue.
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
        pending = [r for r in group if r not in state.satisfied]
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
    if not strict:
        start = entry_position(model, state)
        entry_doc = next(
            (d for d, p in zip(model_path, model_positions, strict=True) if p >= start), None
        )
        if entry_doc in path:
            entry = positions[path.index(entry_doc)]
    done = {int(model.doc_ids[r]) for r in state.satisfied}
    position_of = dict(zip(path, positions, strict=True))
    violations = 0
    for doc_id in doc_ids:
        position = position_of.get(doc_id)
        if position is not None:
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
