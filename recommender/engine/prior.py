"""A large catalog's queue prior, read without a pass over every document.

The *prior* of a document is its queue score without the text cosine: the focus match,
the popularity prior and, for a newcomer, earliness (:mod:`~recommender.engine.ranking`).
From :data:`~recommender.engine.ranking.CANDIDATE_THRESHOLD` resources on, a queue's best
rows by prior are candidates, and every candidate needs its prior.  Computing it for a
million documents per request (a focus match, a sum, a partition) was the largest cost of a
queue there.

A document's focus match depends only on its set of security areas, its *signature*, and
a catalog has few of them (a taxonomy of a dozen areas, one to four per resource).  So the
rows are grouped by signature once per model, and each group is kept sorted by the rest of
the prior (popularity, plus earliness for newcomers).  For a learner, the focus match is
computed per group; the best rows by prior are then among the head of each group that
meets the focus (inside a group the focus match is one constant, so the group's order is
the prior's order) and the head of the whole catalog by popularity and earliness (a row
that meets no focus has no more prior than that, and every row has at least that much).
That is exact, reads a few thousand rows per focus area instead of all of them, and
costs the process one sort per model (~0.4 s and 12 MiB at a million resources), done
when the model is loaded (:func:`prior_index`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np

from .model import Model

# The prior's weights, on the same scale as a cosine (0..1); ranking.py uses them too.
#: Weight of the explicit focus match (0..1) added to the cosine.
W_FOCUS: Final = 0.5
#: Bonus for items the learner planned ("on my list").
W_PLANNED: Final = 0.1
#: Weight of the log-scaled popularity prior (0..1): only breaks near-ties.
W_POPULARITY: Final = 0.05
#: New learners: prefer easy, early-stage material (earliness is 0..1).
W_EARLY: Final = 0.1
#: Rows kept per group head and in the catalog's head (the most any request asks for).
HEAD: Final = 1000
#: A signature is a bit mask of the model's areas: at most this many areas.
MAX_AREAS: Final = 64
_KEY: Final = "prior_index"


@dataclass(frozen=True, slots=True)
class PriorIndex:
    """Rows grouped by their set of security areas, each group sorted by prior without focus.

    ``order[new]`` holds every row, group after group (``starts[g]:starts[g + 1]``), each
    group best first by popularity (plus earliness when ``new``); ``head[new]`` the
    :data:`HEAD` best rows of the whole catalog by the same.
    """

    group_of: np.ndarray  # int32 (n,) signature group of each row
    group_areas: Mapping[str, np.ndarray]  # area slug -> groups whose signature holds it
    group_n_areas: np.ndarray  # int16 (G,) number of areas of the group's rows
    starts: np.ndarray  # int64 (G + 1,)
    order: tuple[np.ndarray, np.ndarray]  # [new] int32 (n,)
    head: tuple[np.ndarray, np.ndarray]  # [new] int64 (<= HEAD,)

    def focus_table(self, focus: Mapping[str, float]) -> np.ndarray:
        """The focus match of each group, 0..1 (float32, (G,)): a row's value in
        :func:`~recommender.engine.ranking.focus_match`, bit for bit."""
        return focus_served(focus, self.group_areas, self.group_n_areas)

    def best_rows(self, model: Model, table: np.ndarray, *, new: bool, count: int) -> np.ndarray:
        """The ``count`` rows of highest prior (without the planned bonus), unsorted."""
        order, starts = self.order[new], self.starts
        parts = []
        for group in np.flatnonzero(table > 0).tolist():
            start = int(starts[group])
            parts.append(order[start : min(start + count, int(starts[group + 1]))])
        head = self.head[new][:count]
        parts.append(head[table[self.group_of[head]] <= 0])
        rows = np.concatenate(parts).astype(np.int64)
        if len(rows) <= count:
            return rows
        values = prior_at(model, self, table, rows, planned=(), new=new)
        chosen: np.ndarray = rows[np.argpartition(-values, count - 1)[:count]]
        return chosen


def focus_served(
    focus: Mapping[str, float], members: Mapping[str, np.ndarray], n_areas: np.ndarray
) -> np.ndarray:
    """How well each item serves ``focus``, 0..1 (float32, aligned with ``n_areas``).

    ``members[area]`` are the items with that area (rows, or signature groups), ``n_areas``
    each item's number of areas. Half the best focus weight among the item's areas plus
    half the weighted share of its areas that are in focus: a dedicated RBAC guide (1.0)
    beats a survey touching RBAC among four areas (0.625), and both beat a document
    outside the focus (0).
    """
    best = np.zeros(len(n_areas), dtype=np.float32)
    if not focus:
        return best  # what the formula gives, without three passes over a large catalog
    total = np.zeros(len(n_areas), dtype=np.float32)
    for area, weight in focus.items():
        items = members.get(area)
        if items is None:
            continue
        best[items] = np.maximum(best[items], weight)
        total[items] += weight
    served: np.ndarray = 0.5 * best + 0.5 * total / np.maximum(n_areas, 1)
    return served


def prior_index(model: Model) -> PriorIndex | None:
    """The model's prior index, built on first use and kept with the model.

    None when the model has more areas than a signature can hold (then the caller computes
    the prior of every row, as for a small catalog).
    """
    if _KEY not in model.derived:
        model.derived[_KEY] = _build(model)
    found = model.derived[_KEY]
    return found if isinstance(found, PriorIndex) else None


def _build(model: Model) -> PriorIndex | None:
    areas = sorted(model.area_rows)
    if len(areas) > MAX_AREAS:
        return None
    signature = np.zeros(model.n_docs, dtype=np.uint64)
    for bit, area in enumerate(areas):
        signature[np.asarray(model.area_rows[area])] |= np.uint64(1) << np.uint64(bit)
    masks, first, group_of = np.unique(signature, return_index=True, return_inverse=True)
    group_of = group_of.ravel().astype(np.int32)
    group_areas = {
        area: np.flatnonzero(masks & (np.uint64(1) << np.uint64(bit))).astype(np.int64)
        for bit, area in enumerate(areas)
    }
    starts = np.zeros(len(masks) + 1, dtype=np.int64)
    starts[1:] = np.cumsum(np.bincount(group_of, minlength=len(masks)))
    orders, heads = [], []
    everyone = np.arange(model.n_docs, dtype=np.int64)
    for new in (False, True):
        rest = W_POPULARITY * np.asarray(model.popularity, dtype=np.float32)
        if new:
            rest = rest + W_EARLY * earliness(model, everyone)
        orders.append(np.lexsort((-rest, group_of)).astype(np.int32))
        size = min(HEAD, model.n_docs)
        head = np.argpartition(-rest, size - 1)[:size] if size else everyone[:0]
        heads.append(head[np.argsort(-rest[head], kind="stable")].astype(np.int64))
    return PriorIndex(
        group_of=group_of,
        group_areas=group_areas,
        group_n_areas=np.asarray(model.n_areas, dtype=np.int16)[first],
        starts=starts,
        order=(orders[0], orders[1]),
        head=(heads[0], heads[1]),
    )


def prior_at(
    model: Model,
    index: PriorIndex,
    table: np.ndarray,
    rows: np.ndarray,
    *,
    planned: frozenset[int] | tuple[()],
    new: bool,
) -> np.ndarray:
    """The prior of ``rows`` (float32), with the planned bonus for rows in ``planned``.

    The operations and their order are those of the whole-catalog computation in
    :func:`~recommender.engine.ranking.recommend_queue`, so the values are bit-identical.
    """
    values: np.ndarray = W_POPULARITY * np.asarray(model.popularity)[rows]
    if table.any():  # without a focus the match is 0 everywhere, and 0 + x is exactly x
        values = W_FOCUS * table[index.group_of[rows]] + values
    if planned:
        marked = np.isin(rows, np.fromiter(planned, dtype=np.int64, count=len(planned)))
        values[marked] += W_PLANNED
    if new:
        values += W_EARLY * earliness(model, rows)
    return values


def earliness(model: Model, rows: np.ndarray | None = None) -> np.ndarray:
    """1 for easy getting-started material, 0 for hard security material (float32).

    Of every document, or of ``rows``.  The value depends on (difficulty, stage) only: it
    is computed once per possible pair (same float64 arithmetic, so the same float32
    values), then looked up per document with small-integer passes instead of float64
    ones (4x less memory traffic at a million documents).
    """
    difficulty = np.arange(-128, 128, dtype=np.float64).repeat(3)
    stage = np.tile(np.arange(3, dtype=np.float64), 256)
    table = (0.5 * ((3.0 - difficulty) / 2.0) + 0.5 * (1.0 - stage / 2.0)).astype(np.float32)
    source_difficulty = model.difficulty if rows is None else model.difficulty[rows]
    source_stage = model.stage if rows is None else model.stage[rows]
    code = source_difficulty.astype(np.int16) + 128
    code *= 3
    code += np.minimum(source_stage, 2)
    values: np.ndarray = table[code]
    return values
