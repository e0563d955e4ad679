"""The prior index finds a large catalog's best rows by prior without scoring every row."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bench.recommender_fit import build_catalog, build_learners
from recommender.engine import fit, recommend_queue
from recommender.engine.prior import (
    W_EARLY,
    W_FOCUS,
    W_PLANNED,
    W_POPULARITY,
    earliness,
    prior_at,
    prior_index,
)
from recommender.engine.profile import learner_state
from recommender.engine.ranking import focus_match


@pytest.fixture(scope="module")
def fitted():
    return fit(build_catalog(3000, seed=5))


def whole_catalog_prior(model, state) -> np.ndarray:
    """The prior as the exact ranking computes it for every row (ranking.recommend_queue)."""
    prior = np.zeros(model.n_docs, np.float32)
    prior += W_FOCUS * focus_match(model, state.focus) + W_POPULARITY * model.popularity
    if state.planned:
        prior[list(state.planned)] += W_PLANNED
    if state.is_new:
        prior += W_EARLY * earliness(model)
    return prior


def states(model, count: int):
    learners = build_learners(model, count, seed=3)
    # Weighted and multi-area focus too: the synthetic learners all weigh their areas 1.0.
    areas = sorted(model.area_rows)
    learners += [
        dataclasses.replace(learners[0], focus={areas[0]: 1.0, areas[3]: 0.4}),
        dataclasses.replace(learners[5], focus={areas[1]: 0.3, areas[2]: 0.7, areas[4]: 1.0}),
        dataclasses.replace(learners[0], focus={"not-an-area": 1.0}),
    ]
    return [learner_state(model, learner) for learner in learners]


def test_the_index_finds_exactly_the_rows_of_highest_prior(fitted):
    index = prior_index(fitted)
    assert index is not None
    checked_focus = 0
    for state in states(fitted, 60):
        # best_rows leaves the planned bonus out (planned rows are candidates anyway)
        unplanned = whole_catalog_prior(fitted, dataclasses.replace(state, planned=frozenset()))
        table = index.focus_table(state.focus)
        checked_focus += bool(state.focus)
        for count in (40, 400):
            rows = index.best_rows(fitted, table, new=state.is_new, count=count)
            assert len(np.unique(rows)) == count
            # The same values as the true best rows (rows may differ only among ties).
            expected = np.sort(unplanned)[-count:]
            assert np.array_equal(np.sort(unplanned[rows]), expected)
    assert checked_focus >= 10


def test_the_prior_of_given_rows_is_bit_identical_to_the_whole_catalog_one(fitted):
    index = prior_index(fitted)
    rows = np.random.default_rng(4).choice(fitted.n_docs, size=500, replace=False)
    for state in states(fitted, 40):
        table = index.focus_table(state.focus)
        got = prior_at(fitted, index, table, rows, planned=state.planned, new=state.is_new)
        assert np.array_equal(got, whole_catalog_prior(fitted, state)[rows])
        assert np.array_equal(table[index.group_of[rows]], focus_match(fitted, state.focus)[rows])


def test_the_index_is_built_once_per_model(fitted):
    assert prior_index(fitted) is prior_index(fitted)


def test_a_catalog_with_more_areas_than_a_signature_holds_ranks_without_the_index():
    docs = [
        dataclasses.replace(doc, areas=(f"area-{i % 70}", f"area-{(i * 7) % 70}"))
        for i, doc in enumerate(build_catalog(400, seed=2))
    ]
    model = fit(docs)
    assert prior_index(model) is None
    for learner in build_learners(model, 10, seed=1):
        learner = dataclasses.replace(learner, focus={"area-3": 1.0})
        approximate = recommend_queue(model, learner, candidates=True).items
        exact = recommend_queue(model, learner).items
        assert [item.doc_id for item in approximate] == [item.doc_id for item in exact]


def test_a_large_model_gets_its_index_when_loaded_not_at_its_first_request(monkeypatch):
    from recommender.engine import ranking

    model = fit(build_catalog(300, seed=9))
    monkeypatch.setattr(ranking, "CANDIDATE_THRESHOLD", 1_000)
    ranking.prepare(model)
    assert "prior_index" not in model.derived  # a small catalog ranks exactly: no index
    monkeypatch.setattr(ranking, "CANDIDATE_THRESHOLD", 100)
    ranking.prepare(model)
    assert isinstance(model.derived["prior_index"], ranking.PriorIndex)
