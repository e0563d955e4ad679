"""Offline evaluation of recommenders on a fitted model (plain Python, no ORM).

Three groups of synthetic learners are replayed against every recommender:

* **path replay** — for k = 0 .. len(path) - 1, a learner who completed the
  first k path steps (no focus).  *hit@3*: is step k + 1 in the top 3?  *MRR*:
  mean of 1 / rank of step k + 1 (0 when it is not in the list).
* **focus, new** — for every security area with at least one document, a new
  learner whose focus is that single area.  *focus_p@5*: share of the top 5
  slots holding a document that serves the area (empty slots are misses).
* **focus, mid-path** — for every such area and every k in
  :data:`MID_PATH_STEPS`, a learner who completed the first k path steps and
  focuses on that area.  *mid_p@5*: focus precision of the top 5;
  *mid_hit@3*: is the next path step (k + 1) in the top 3 of the same list?

Over all learners: *fill@10* is the mean share of a ``limit``-item queue that
is filled, out of ``min(limit, unseen)`` where *unseen* counts every resource
the learner has not completed, skipped or started (a stricter yardstick than
the engine's own "open" count); *fill@30m* the mean share of a 30-minute
budget (``limit`` items at most) that is used.  *coverage* is the share of the
catalog recommended at least once; *diversity* the mean over the ``limit``
lists of ``1 - mean pairwise cosine``.

Path rules are audited the same way for every recommender (see
:mod:`recommender.engine.rules`): ``violations`` counts queued path steps
whose earlier steps are neither done nor queued before them, unless the step
serves the learner's focus and the learner is ready for its stage;
``order_violations`` counts pairs of path steps queued out of path order
other than a focus step standing ahead of the path; ``ahead`` (information,
not a fault) counts focus steps queued ahead of the path.  The combined
score is the mean of hit@3, MRR, focus_p@5, mid_p@5, mid_hit@3, fill@10,
fill@30m, coverage and diversity, minus :data:`VIOLATION_PENALTY` when
``violations`` or ``order_violations`` is not zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from recommender.baselines import Recommender, default_recommenders
from recommender.engine import Interaction, Learner, Model
from recommender.engine.model import compact_rows
from recommender.engine.rules import count_violations, path_order_violations

#: Subtracted from the combined score of a recommender with any violation:
#: larger than any attainable mean, so a rule-breaker never wins.
VIOLATION_PENALTY: Final = 1.0
#: Path progress (completed steps) of the mid-path focused learners.
MID_PATH_STEPS: Final = (4, 8, 12, 16, 20, 24, 28, 32)
#: Budget of the "fill@30m" queues, in minutes.
FILL_MINUTES: Final = 30
QUALITY: Final = (
    "hit@3",
    "mrr",
    "focus_p@5",
    "mid_p@5",
    "mid_hit@3",
    "fill@10",
    "fill@30m",
    "coverage",
    "diversity",
)
METRICS: Final = (*QUALITY, "violations", "order_violations", "ahead", "combined")


@dataclass(frozen=True, slots=True)
class Case:
    """One evaluation learner: ``group`` is "path", "focus" or "mid".

    ``target`` is the doc id of the next path step (None for new focus
    learners), ``area`` the focus area (None for path replay).
    """

    group: str
    learner: Learner
    target: int | None
    area: str | None


def completed(path_doc_ids: Sequence[int], k: int) -> tuple[Interaction, ...]:
    """The first ``k`` steps completed, the latest most recently."""
    return tuple(
        Interaction(int(d), "completed", None, float(k - i)) for i, d in enumerate(path_doc_ids[:k])
    )


def path_replay_learners(path_doc_ids: Sequence[int]) -> list[tuple[Learner, int]]:
    """``(learner who completed steps 1..k, doc id of step k + 1)`` for each k."""
    return [
        (Learner(interactions=completed(path_doc_ids, k)), int(target))
        for k, target in enumerate(path_doc_ids)
    ]


def focus_learners(model: Model, areas: Sequence[str] | None = None) -> list[tuple[Learner, str]]:
    """``(new learner focused on one area, that area)`` per area (default: all)."""
    chosen = sorted(model.area_rows) if areas is None else list(areas)
    return [(Learner(focus={area: 1.0}), area) for area in chosen]


def mid_path_learners(
    model: Model,
    path_doc_ids: Sequence[int],
    areas: Sequence[str] | None = None,
    steps: Sequence[int] = MID_PATH_STEPS,
) -> list[tuple[Learner, str, int]]:
    """``(learner k steps in, focused on one area; the area; doc id of step k + 1)``."""
    chosen = sorted(model.area_rows) if areas is None else list(areas)
    return [
        (
            Learner(interactions=completed(path_doc_ids, k), focus={area: 1.0}),
            area,
            int(path_doc_ids[k]),
        )
        for k in steps
        if 0 < k < len(path_doc_ids)
        for area in chosen
    ]


def evaluation_cases(
    model: Model, path_doc_ids: Sequence[int], areas: Sequence[str] | None = None
) -> list[Case]:
    """Every learner of the evaluation, in group order."""
    path = [int(d) for d in path_doc_ids]
    return [
        *(Case("path", learner, target, None) for learner, target in path_replay_learners(path)),
        *(Case("focus", learner, None, area) for learner, area in focus_learners(model, areas)),
        *(
            Case("mid", learner, target, area)
            for learner, area, target in mid_path_learners(model, path, areas)
        ),
    ]


def unseen_count(model: Model, learner: Learner) -> int:
    """Resources the learner has not completed, skipped or started."""
    touched = {
        i.doc_id
        for i in learner.interactions
        if i.state in ("completed", "skipped", "in_progress") and i.doc_id in model.index
    }
    return model.n_docs - len(touched)


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
    to :func:`~recommender.baselines.default_recommenders` (``seed`` for the
    random one).  Row keys: ``recommender`` and :data:`METRICS` (floats; the
    violation counts are ints).
    """
    recommenders = recommenders or default_recommenders(seed)
    path = [int(d) for d in path_doc_ids]
    cases = evaluation_cases(model, path, areas)
    table = []
    for name, recommender in recommenders.items():
        lists: list[list[int]] = []
        scores: dict[str, list[float]] = {key: [] for key in QUALITY}
        violations = ordered = ahead = 0
        for case in cases:
            learner = case.learner
            ids = [r.doc_id for r in recommender(model, learner, limit)]
            lists.append(ids)
            rank = ids.index(case.target) + 1 if case.target in ids else 0
            focus_share = (
                sum(case.area in model.areas[r] for r in model.rows(ids[:5])) / 5.0
                if case.area
                else 0.0
            )
            if case.group == "path":
                scores["hit@3"].append(1.0 if 0 < rank <= 3 else 0.0)
                scores["mrr"].append(1.0 / rank if rank else 0.0)
            elif case.group == "focus":
                scores["focus_p@5"].append(focus_share)
            else:
                scores["mid_p@5"].append(focus_share)
                scores["mid_hit@3"].append(1.0 if 0 < rank <= 3 else 0.0)
            scores["fill@10"].append(len(ids) / max(min(limit, unseen_count(model, learner)), 1))
            packed = model.rows(r.doc_id for r in recommender(model, learner, limit, FILL_MINUTES))
            scores["fill@30m"].append(float(model.minutes[packed].sum()) / FILL_MINUTES)
            found = count_violations(model, learner, ids, path=path)
            violations += found
            ahead += count_violations(model, learner, ids, path=path, allow_ahead=False) - found
            ordered += path_order_violations(model, learner, ids)
        seen = {d for ids in lists for d in ids}
        spreads = [d for d in (intra_list_diversity(model, ids) for ids in lists) if d is not None]
        scores["coverage"] = [len(seen) / model.n_docs]
        scores["diversity"] = spreads
        row: dict[str, Any] = {"recommender": name}
        row.update({key: _mean(values) for key, values in scores.items()})
        row.update(violations=violations, order_violations=ordered, ahead=ahead)
        broken = violations or ordered
        row["combined"] = _mean([row[k] for k in QUALITY]) - (VIOLATION_PENALTY if broken else 0.0)
        table.append(row)
    return table


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else 0.0


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Fixed-width text rendering of :func:`evaluate` rows (for logs/CLIs)."""
    header = ["recommender", *METRICS]
    lines = ["  ".join(f"{h:>10}" if i else f"{h:<12}" for i, h in enumerate(header))]
    for row in rows:
        cells = [f"{row['recommender']:<12}"]
        for key in METRICS:
            value = row[key]
            cells.append(f"{value:>10.3f}" if isinstance(value, float) else f"{value:>10}")
        lines.append("  ".join(cells))
    return "\n".join(lines)


def format_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """Markdown rendering of :func:`evaluate` rows (for the README)."""
    lines = ["| recommender | " + " | ".join(METRICS) + " |", "|---" * (len(METRICS) + 1) + "|"]
    for row in rows:
        cells = [f"{row[k]:.3f}" if isinstance(row[k], float) else str(row[k]) for k in METRICS]
        lines.append(f"| {row['recommender']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
