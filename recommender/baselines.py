"""Reference recommenders for the offline evaluation (plain Python, no ORM).

Each one is called like the engine, ``recommend(model, learner, limit,
minutes=None)``, and returns :class:`~recommender.engine.Recommendation`
lists.  To be honest yardsticks the simple ones only skip what the learner
already completed, skipped or has in progress; they ignore the
learning-path prerequisites and the difficulty cap, which is what the
engine adds.  With ``minutes`` they pack their own ranking into the budget
in order (each item that still fits is taken), as the engine does.

``path_focus`` ("path order, then focus filter") is the obvious way to add
a focus to a path; ``engine_v1`` is the engine with the rules it had before
stage readiness, the focus share and level relaxation (:data:`V1_POLICY`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from recommender.engine import Learner, Model, Recommendation, learner_state, recommend
from recommender.engine.ranking import V1_POLICY


class Recommender(Protocol):
    """The call shape shared by the engine wrapper and the baselines."""

    def __call__(
        self, model: Model, learner: Learner, limit: int = 10, minutes: int | None = None
    ) -> list[Recommendation]: ...


def _unseen(model: Model, learner: Learner) -> np.ndarray:
    """Boolean mask of rows the learner has not completed, skipped or started."""
    mask = np.ones(model.n_docs, dtype=bool)
    excluded = learner_state(model, learner).excluded
    if excluded:
        mask[list(excluded)] = False
    return mask


def _as_recommendations(
    model: Model, rows: np.ndarray, limit: int, minutes: int | None
) -> list[Recommendation]:
    """The first ``limit`` of the ranked ``rows`` (packed into ``minutes`` if given)."""
    chosen: list[int] = []
    left = float(minutes) if minutes is not None else np.inf
    for row in rows:
        if len(chosen) == limit:
            break
        cost = float(model.minutes[row])
        if cost <= left:
            chosen.append(int(row))
            left -= cost
    n = len(chosen)
    scores = np.linspace(1.0, 0.0, num=n, endpoint=False) if n else np.zeros(0)
    return [
        Recommendation(doc_id=int(model.doc_ids[r]), score=float(s))
        for r, s in zip(chosen, scores, strict=True)
    ]


class RandomRecommender:
    """Uniformly random unseen documents from a seeded generator.

    The generator advances with every call, so two learners get different
    lists while a whole evaluation run stays reproducible for a given seed.
    """

    def __init__(self, seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)

    def __call__(
        self, model: Model, learner: Learner, limit: int = 10, minutes: int | None = None
    ) -> list[Recommendation]:
        rows = self._rng.permutation(np.flatnonzero(_unseen(model, learner)))
        return _as_recommendations(model, rows, limit, minutes)


def popularity(
    model: Model, learner: Learner, limit: int = 10, minutes: int | None = None
) -> list[Recommendation]:
    """The most popular unseen documents (ties: catalog order)."""
    rows = np.flatnonzero(_unseen(model, learner))
    order = rows[np.argsort(-model.popularity[rows], kind="stable")]
    return _as_recommendations(model, order, limit, minutes)


def _path_then_popular(model: Model, learner: Learner) -> np.ndarray:
    unseen = _unseen(model, learner)
    steps = [int(r) for r in model.path_rows if unseen[r]]
    rest = np.flatnonzero(unseen & (model.path_position == 0))
    rest = rest[np.argsort(-model.popularity[rest], kind="stable")]
    return np.array(steps + rest.tolist(), dtype=np.int64)


def path_order(
    model: Model, learner: Learner, limit: int = 10, minutes: int | None = None
) -> list[Recommendation]:
    """Unseen path steps in path order, then the most popular other documents.

    Steps completed, skipped or in progress are left out; it knows no focus, level or
    diversity, which is what the engine is measured against.
    """
    return _as_recommendations(model, _path_then_popular(model, learner), limit, minutes)


def path_focus(
    model: Model, learner: Learner, limit: int = 10, minutes: int | None = None
) -> list[Recommendation]:
    """:func:`path_order`'s ranking with the items serving the focus moved first.

    The order within both parts is kept, so focus items come in path order.
    """
    rows = _path_then_popular(model, learner)
    focus = set(learner_state(model, learner).focus)
    if focus:
        serves = np.array([not model.areas[r].isdisjoint(focus) for r in rows], dtype=bool)
        rows = np.concatenate([rows[serves], rows[~serves]])
    return _as_recommendations(model, rows, limit, minutes)


def engine(
    model: Model, learner: Learner, limit: int = 10, minutes: int | None = None
) -> list[Recommendation]:
    """The real engine in the shared call shape."""
    return recommend(model, learner, limit=limit, minutes=minutes)


def engine_v1(
    model: Model, learner: Learner, limit: int = 10, minutes: int | None = None
) -> list[Recommendation]:
    """The engine under its previous rules (:data:`V1_POLICY`)."""
    return recommend(model, learner, limit=limit, minutes=minutes, policy=V1_POLICY)


def default_recommenders(seed: int = 0) -> dict[str, Recommender]:
    """Engine first, then the baselines, keyed by the name shown in tables."""
    return {
        "engine": engine,
        "engine_v1": engine_v1,
        "path_focus": path_focus,
        "path_order": path_order,
        "popularity": popularity,
        "random": RandomRecommender(seed),
    }
