"""Offline evaluation of recommenders on a fitted model (plain Python, no ORM).

Two groups of synthetic learners are replayed against every recommender:

* **path replay** — for k = 0 .. len(path) - 1, a learner who completed the
  first k path steps (no focus).  *hit@3*: is step k + 1 in the top 3?  *MRR*:
  mean of 1 / rank of step k + 1 (0 when it is not in the list).
* **focus** — for every security area with at least one document, a new
  learner whose focus is that single area.  *precision@5*: share of the top 5
  slots holding a document that serves the area (empty slots count as misses).

Over all produced lists: *coverage* is the share of the catalog recommended at
least once; *diversity* the mean over lists of ``1 - mean pairwise cosine``.

Prerequisite violations are counted three ways (see
:mod:`recommender.engine.rules`): ``violations`` by the engine's documented
rule (focus learners may enter the path at their focus step),
``strict_violations`` as if every learner had to start at step 1, and
``order_violations`` as pairs of path steps queued out of path order.  The
combined score is the mean of hit@3, MRR, precision@5, coverage and diversity,
minus :data:`VIOLATION_PENALTY` when ``violations`` is not zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np

from recommender.baselines import Recommender, default_recommenders
from recommender.engine import Interaction, Learner, Model
from recommender.engine.model import compact_rows
from recommender.engine.rules import count_violations, order_violations

#: Subtracted from the combined score of a recommender with any violation:
#: larger than any attainable mean, so a rule-breaker never wins.
VIOLATION_PENALTY: Final = 1.0
METRICS: Final = (
    "hit@3",
    "mrr",
    "precision@5",
    "coverage",
    "diversity",
    "violations",
    "strict_violations",
    "order_violations",
    "combined",
)


def path_replay_learners(path_doc_ids: Sequence[int]) -> list[tuple[Learner, int]]:
    """``(learner who completed steps 1..k, doc id of step k + 1)`` for each k."""
    cases = []
    for k, target in enumerate(path_doc_ids):
        done = tuple(
            Interaction(int(d), "completed", None, float(k - i))
            for i, d in enumerate(path_doc_ids[:k])
        )
        cases.append((Learner(interactions=done), int(target)))
    return cases


def focus_learners(model: Model, areas: Sequence[str] | None = None) -> list[tuple[Learner, str]]:
    """``(new learner focused on one area, that area)`` per area (default: all)."""
    chosen = sorted(model.area_rows) if areas is None else list(areas)
    return [(Learner(focus={area: 1.0}), area) for area in chosen]


def intra_list_diversity(model: Model, doc_ids: Sequence[int]) -> float | None:
    """``1 - mean pairwise cosine`` of a list; ``None`` for fewer than two items."""
    rows = np.asarray(model.rows(doc_ids), dtype=np.int64)
    if len(rows) < 2:
        return None
    block = compact_rows(model.matrix, rows)
    sims = (block @ block.T).toarray()
    n = len(rows)
    mean = (sims.sum() - np.trace(sims)) / (n * (n - 1))
    return float(1.0 - mean)


def evaluate(
    model: Model,
    path_doc_ids: Sequence[int],
    recommenders: Mapping[str, Recommender] | None = None,
    *,
    limit: int = 10,
    areas: Sequence[str] | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Score each recommender; one row (dict) per recommender, input order.

    ``path_doc_ids`` is the learning path in order; ``recommenders`` defaults
    to the engine plus the random (``seed``), popularity and path-order
    baselines.  Row keys: ``recommender`` and :data:`METRICS` (floats, the
    violation counts are ints).
    """
    recommenders = recommenders or default_recommenders(seed)
    path = [int(d) for d in path_doc_ids]
    replay = path_replay_learners(path)
    focused = focus_learners(model, areas)
    table = []
    for name, recommender in recommenders.items():
        lists: list[list[int]] = []
        hits, reciprocal, precision = [], [], []
        violations = strict = ordered = 0
        for learner, target in replay:
            ids = [r.doc_id for r in recommender(model, learner, limit)]
            lists.append(ids)
            rank = ids.index(target) + 1 if target in ids else 0
            hits.append(1.0 if 0 < rank <= 3 else 0.0)
            reciprocal.append(1.0 / rank if rank else 0.0)
            violations += count_violations(model, learner, ids, path=path)
            strict += count_violations(model, learner, ids, path=path, strict=True)
            ordered += order_violations(learner, ids, path)
        for learner, area in focused:
            ids = [r.doc_id for r in recommender(model, learner, limit)]
            lists.append(ids)
            top = model.rows(ids[:5])
            precision.append(sum(area in model.areas[r] for r in top) / 5.0)
            violations += count_violations(model, learner, ids, path=path)
            strict += count_violations(model, learner, ids, path=path, strict=True)
            ordered += order_violations(learner, ids, path)
        seen = {d for ids in lists for d in ids}
        spreads = [d for d in (intra_list_diversity(model, ids) for ids in lists) if d is not None]
        row: dict[str, Any] = {
            "recommender": name,
            "hit@3": _mean(hits),
            "mrr": _mean(reciprocal),
            "precision@5": _mean(precision),
            "coverage": len(seen) / model.n_docs,
            "diversity": _mean(spreads),
            "violations": violations,
            "strict_violations": strict,
            "order_violations": ordered,
        }
        quality = _mean([row[k] for k in ("hit@3", "mrr", "precision@5", "coverage", "diversity")])
        row["combined"] = quality - (VIOLATION_PENALTY if violations else 0.0)
        table.append(row)
    return table


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else 0.0


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Fixed-width text rendering of :func:`evaluate` rows (for logs/CLIs)."""
    header = ["recommender", *METRICS]
    lines = ["  ".join(f"{h:>17}" if i else f"{h:<12}" for i, h in enumerate(header))]
    for row in rows:
        cells = [f"{row['recommender']:<12}"]
        for key in METRICS:
            value = row[key]
            cells.append(f"{value:>17.3f}" if isinstance(value, float) else f"{value:>17}")
        lines.append("  ".join(cells))
    return "\n".join(lines)
