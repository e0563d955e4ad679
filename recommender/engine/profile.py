"""Learner state and the Rocchio-style interest profile.

The profile is a weighted sum of the rows of the documents a learner touched,
plus unit vectors on the ``area:<slug>`` columns of their focus, normalised to
unit length, so ``matrix @ profile`` is a cosine score for every document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import scipy.sparse as sp

from .model import Model, weighted_row_sum
from .records import Interaction, Learner

#: Base weight per state: finishing a resource is the strongest evidence,
#: planning one is a mild signal, skipping is a mild negative (a skip often
#: means "I know this already" rather than "I dislike this").
STATE_WEIGHTS: Final = {
    "completed": 1.0,
    "in_progress": 0.6,
    "planned": 0.35,
    "skipped": -0.4,
}
#: Multiplier for an explicit rating (completed / in progress / planned).
#: 1-2 flips the sign: "more like this" becomes "less like this".
RATING_FACTORS: Final = {5: 1.5, 4: 1.2, 3: 0.8, 2: -0.5, 1: -1.0}
#: Interest fades: an interaction this many days old counts half.
HALF_LIFE_DAYS: Final = 90.0
#: Length of the focus part relative to the (unit) history part.
FOCUS_IN_PROFILE: Final = 0.5
#: At most this many history terms are kept in a profile (see
#: ``_prune_history``); a typical resource has ~100 terms.
PROFILE_MAX_TERMS: Final = 3000


@dataclass(frozen=True, slots=True)
class LearnerState:
    """The learner's interactions resolved to model rows.

    ``weights`` holds the signed Rocchio weight per touched row; ``state``
    the interaction state per row.  ``excluded`` rows may never be
    recommended, ``satisfied`` rows count as done for path prerequisites and
    stage readiness; ``reading`` rows (in progress) are not recommended again
    but do not hold back the path steps after them (nor do rows put off, "Not now",
    which are among them); ``known`` rows are completions the learner knew already (no
    weight: not read here, no taste).
    ``level`` is the effective level (declared, else inferred);
    ``declared_level`` the learner's own answer, if any.
    """

    state: dict[int, str]
    weights: dict[int, float]
    excluded: frozenset[int]
    satisfied: frozenset[int]
    planned: frozenset[int]
    level: int
    focus: dict[str, float]
    on_path: bool
    declared_level: int | None = None
    reading: frozenset[int] = frozenset()
    known: frozenset[int] = frozenset()
    later: frozenset[int] = frozenset()
    returned: frozenset[int] = frozenset()  # put off with "Not now", and back: its day came
    # Path steps made needless by what the learner completed (an outdated step's successor, a
    # step's other way): among ``reading`` too, and done as far as the basics are concerned.
    replaced: frozenset[int] = frozenset()

    @property
    def is_new(self) -> bool:
        """True when the learner has no interaction with the catalog."""
        return not self.state


def interaction_weight(state: str, rating: int | None, age_days: float) -> float:
    """Signed Rocchio weight of one interaction (see module constants)."""
    weight = STATE_WEIGHTS[state]
    if rating is not None and weight > 0:
        weight *= RATING_FACTORS[rating]
    return float(weight * 0.5 ** (max(age_days, 0.0) / HALF_LIFE_DAYS))


def learner_state(model: Model, learner: Learner) -> LearnerState:
    """Resolve ``learner`` against ``model`` (unknown doc ids are ignored).

    When a document appears twice, the most recent interaction wins.  The
    level is ``learner.level`` if given, else the highest difficulty the
    learner completed, else 1.
    """
    latest: dict[int, Interaction] = {}
    for it in learner.interactions:
        row = model.index.get(it.doc_id)
        if row is None:
            continue
        if row not in latest or it.age_days < latest[row].age_days:
            latest[row] = it
    state = {row: it.state for row, it in latest.items()}
    known = frozenset(row for row, it in latest.items() if it.known)
    later = frozenset(row for row, it in latest.items() if it.later)
    # Outdated and replaced by what the learner completed: out of the way, as one put off is
    # (the learner's own progress on it comes first).
    replaced = frozenset(
        row
        for row in (model.index.get(doc_id) for doc_id in learner.replaced)
        if row is not None and row not in latest
    )

    # A known item was not read here: it tells nothing of the learner's taste. Nor does a
    # skip of an item below the level the learner declared: "too easy", not "not this
    # subject" (a walk-through's Advanced learner skipped one beginner's Docker article, and
    # the network-policy items of her focus fell by a quarter to two thirds).
    def below_level(row: int, it: Interaction) -> bool:
        declared = learner.level
        return it.state == "skipped" and declared is not None and model.difficulty[row] < declared

    weights = {
        row: interaction_weight(it.state, it.rating, it.age_days)
        for row, it in latest.items()
        if row not in known and not below_level(row, it)
    }
    completed = [row for row, s in state.items() if s == "completed"]
    if learner.level is not None:
        level = int(learner.level)
    elif completed:
        level = int(model.difficulty[completed].max())
    else:
        level = 1
    focus = {str(area): min(float(w), 1.0) for area, w in learner.focus.items() if w and w > 0}
    return LearnerState(
        state=state,
        weights=weights,
        excluded=frozenset(
            r for r, s in state.items() if s in ("completed", "skipped", "in_progress")
        )
        | later
        | replaced,
        satisfied=frozenset(r for r, s in state.items() if s in ("completed", "skipped")),
        planned=frozenset(r for r, s in state.items() if s == "planned"),
        # Put off ("Not now") holds back no later step, as reading does not.
        reading=frozenset(r for r, s in state.items() if s == "in_progress") | later | replaced,
        level=level,
        focus=focus,
        on_path=any(model.path_position[r] > 0 for r in state),
        declared_level=None if learner.level is None else int(learner.level),
        known=known,
        later=later,
        returned=frozenset(row for row, it in latest.items() if it.returned),
        replaced=replaced,
    )


def _sparse_row(model: Model, cols: np.ndarray, vals: np.ndarray) -> sp.csr_matrix:
    """A (1, F) CSR row from sorted unique ``cols``."""
    return sp.csr_matrix(
        (vals.astype(np.float32), cols.astype(np.int32), np.array([0, len(cols)])),
        shape=(1, model.matrix.shape[1]),
    )


def _history_parts(model: Model, weights: dict[int, float]) -> tuple[np.ndarray, ...]:
    if not weights:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    rows = np.fromiter(weights, dtype=np.int64, count=len(weights))
    values = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
    return weighted_row_sum(model.matrix, rows, values)


def history_vector(model: Model, state: LearnerState) -> sp.csr_matrix:
    """Unnormalised weighted sum of the touched rows, shape (1, F)."""
    return _sparse_row(model, *_history_parts(model, state.weights))


def liked_vector(model: Model, state: LearnerState) -> sp.csr_matrix:
    """Sum of the positively weighted rows the learner read, shape (1, F).

    Used to explain a match ("Also about …, like what you read"): without the disliked
    items, and without saved ones, which were not read (a saved item would even match
    itself) — nor known ones, which have no weight, nor ones still being read: a walk-through's
    learner, who rated all he finished 1 or 2 of 5, was told three steps were "also about
    admission control, like what you read" for a page he had only started.
    """
    liked = {r: w for r, w in state.weights.items() if w > 0 and state.state[r] == "completed"}
    return _sparse_row(model, *_history_parts(model, liked))


def disliked_vector(model: Model, state: LearnerState) -> sp.csr_matrix:
    """Sum of the negatively weighted rows (skipped, rated 1 or 2), as positive weights, shape
    (1, F): what "like what you read" must not quote (a walk-through's learner skipped four
    networking items and was told an item was "also about network, like what you read")."""
    disliked = {r: -w for r, w in state.weights.items() if w < 0}
    return _sparse_row(model, *_history_parts(model, disliked))


def _focus_parts(model: Model, focus: dict[str, float]) -> tuple[np.ndarray, ...]:
    items = sorted((model.area_columns[a], w) for a, w in focus.items() if a in model.area_columns)
    return (
        np.array([c for c, _ in items], dtype=np.int64),
        np.array([w for _, w in items], dtype=np.float64),
    )


def focus_vector(model: Model, focus: dict[str, float]) -> sp.csr_matrix:
    """Focus weights placed on the ``area:<slug>`` columns, shape (1, F)."""
    return _sparse_row(model, *_focus_parts(model, focus))


def _unit(values: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(values))
    return values / norm if norm > 0 else values


def _prune_history(
    model: Model, cols: np.ndarray, vals: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the history terms that can still match an unseen document.

    A term found in a single catalog document only matches that document,
    which is in the history (the term came from it), so dropping it changes
    no unseen document's dot product.  Of the rest, the
    :data:`PROFILE_MAX_TERMS` heaviest are kept (Rocchio query truncation):
    scoring reads one posting list per term, so this caps the cost for
    learners with long histories at the price of ignoring faint terms.
    """
    indptr = model.matrix_t.indptr  # only the profile's entries: it has millions
    df = indptr[cols + 1] - indptr[cols]
    keep = df > 1
    cols, vals = cols[keep], vals[keep]
    if len(cols) > PROFILE_MAX_TERMS:
        top = np.argpartition(-np.abs(vals), PROFILE_MAX_TERMS - 1)[:PROFILE_MAX_TERMS]
        top.sort()  # keep columns in ascending order
        cols, vals = cols[top], vals[top]
    return cols, vals


def profile_from_state(model: Model, state: LearnerState) -> sp.csr_matrix:
    """Profile for an already resolved state (see :func:`profile_vector`)."""
    h_cols, h_vals = _prune_history(model, *_history_parts(model, state.weights))
    f_cols, f_vals = _focus_parts(model, state.focus)
    weight = FOCUS_IN_PROFILE if len(h_cols) and np.any(h_vals) else 1.0
    cols, local = np.unique(np.concatenate([h_cols, f_cols]), return_inverse=True)
    summed = np.bincount(
        local.ravel(),
        weights=np.concatenate([_unit(h_vals), weight * _unit(f_vals)]),
        minlength=len(cols),
    )
    return _sparse_row(model, cols, _unit(summed))


def profile_vector(model: Model, learner: Learner) -> sp.csr_matrix:
    """Unit-length sparse (1, F) interest profile of ``learner``.

    Completed items pull the profile towards them (rating 4-5 more, 1-2 push it
    away), in-progress and planned items pull mildly, skipped items push mildly,
    every weight halves every :data:`HALF_LIFE_DAYS`.  Terms that only occur
    in one catalog document are dropped and at most :data:`PROFILE_MAX_TERMS`
    history terms are kept.  The focus areas are added on their label
    columns.  A learner without any signal gets an all-zero vector, i.e.
    every cosine is 0.
    """
    return profile_from_state(model, learner_state(model, learner))
