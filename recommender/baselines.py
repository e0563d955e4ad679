"""Reference recommenders for the offline evaluation (plain Python, no ORM).

Each one is called like the engine, ``recommend(model, learner, limit)``, and
returns :class:`~recommender.engine.Recommendation` lists.  To be an honest
yardstick they only skip what the learner already completed, skipped or has
in progress; they deliberately ignore the learning-path prerequisites, the
difficulty cap and the focus, which is exactly what the engine adds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from recommender.engine import Learner, Model, Recommendation, learner_state, recommend

#: The call shape shared by the engine wrapper and the baselines.
Recommender = Callable[[Model, Learner, int], list[Recommendation]]


def _unseen(model: Model, learner: Learner) -> np.ndarray:
    """Boolean mask of rows the learner has not completed, skipped or started."""
    mask = np.ones(model.n_docs, dtype=bool)
    excluded = learner_state(model, learner).excluded
    if excluded:
        mask[list(excluded)] = False
    return mask


def _as_recommendations(model: Model, rows: np.ndarray, scores: np.ndarray) -> list[Recommendation]:
    return [
        Recommendation(doc_id=int(model.doc_ids[r]), score=float(s))
        for r, s in zip(rows, scores, strict=True)
    ]


class RandomRecommender:
    """Uniformly random unseen documents from a seeded generator.

    The generator advances with every call, so two learners get different
    lists while a whole evaluation run stays reproducible for a given seed.
    """

    def __init__(self, seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)

    def __call__(self, model: Model, learner: Learner, limit: int = 10) -> list[Recommendation]:
        rows = np.flatnonzero(_unseen(model, learner))
        picked = self._rng.permutation(rows)[:limit]
        return _as_recommendations(model, picked, np.zeros(len(picked)))


def popularity(model: Model, learner: Learner, limit: int = 10) -> list[Recommendation]:
    """The most popular unseen documents (ties: catalog order)."""
    rows = np.flatnonzero(_unseen(model, learner))
    order = rows[np.argsort(-model.popularity[rows], kind="stable")][:limit]
    return _as_recommendations(model, order, model.popularity[order])


def path_order(model: Model, learner: Learner, limit: int = 10) -> list[Recommendation]:
    """Unseen path steps in path order, then the most popular other documents.

    Steps in progress are skipped (unseen only), so this baseline can queue a
    step whose predecessor is still being read — a prerequisite violation.
    """
    unseen = _unseen(model, learner)
    steps = [int(r) for r in model.path_rows if unseen[r]][:limit]
    rest = np.flatnonzero(unseen & (model.path_position == 0))
    rest = rest[np.argsort(-model.popularity[rest], kind="stable")][: limit - len(steps)]
    rows = np.array(steps + rest.tolist(), dtype=np.int64)
    scores = np.linspace(1.0, 0.0, num=len(rows), endpoint=False) if len(rows) else rows
    return _as_recommendations(model, rows, scores)


def engine(model: Model, learner: Learner, limit: int = 10) -> list[Recommendation]:
    """The real engine in the shared call shape."""
    return recommend(model, learner, limit=limit)


def default_recommenders(seed: int = 0) -> dict[str, Recommender]:
    """Engine first, then the baselines, keyed by the name shown in tables."""
    return {
        "engine": engine,
        "random": RandomRecommender(seed),
        "popularity": popularity,
        "path_order": path_order,
    }
