"""Ranking: eligibility rules, scoring, path simulation, MMR and time budget.

See the package docstring (:mod:`recommender.engine`) for the rules; the
constants below are the knobs, all on the same scale as a cosine (0..1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import numpy as np
import scipy.sparse as sp

from .model import Model, compact_rows
from .profile import LearnerState, learner_state, liked_vector, profile_from_state
from .records import Learner, Reason, Recommendation
from .rules import PathGroup, entry_position, upcoming_path

#: Weight of the explicit focus match (0..1) added to the cosine.
W_FOCUS: Final = 0.5
#: Bonus for items the learner planned ("on my list").
W_PLANNED: Final = 0.1
#: Weight of the log-scaled popularity prior (0..1): only breaks near-ties.
W_POPULARITY: Final = 0.05
#: New learners: prefer easy, early-stage material (earliness is 0..1).
W_EARLY: Final = 0.1
#: Bonus of the next path step for a path follower; larger than any cosine +
#: focus sum so a follower always sees the next step first.
PATH_BONUS: Final = 1.0
#: Steps unlocked only by the simulated queue (step after the next one, ...)
#: get ``PATH_DECAY ** depth`` of the bonus, so the queue mixes path steps with
#: other good items instead of being the next ten path steps.
PATH_DECAY: Final = 0.5
#: A focus learner who has not started the path gets the next step with
#: ``PATH_ENTRY_BASE + PATH_ENTRY_FOCUS * focus_match`` instead of the full
#: bonus: first if it serves the focus, behind focus material otherwise.
PATH_ENTRY_BASE: Final = 0.1
PATH_ENTRY_FOCUS: Final = 0.6
#: MMR trade-off between relevance (1.0) and novelty (0.0).
MMR_LAMBDA: Final = 0.7
#: Only this many best off-path candidates enter MMR (plus upcoming path
#: steps); keeps the similarity matrix at most ~200 x 200.
POOL_SIZE: Final = 200
#: Minimum cosine for a "Close to ..." reason.
SIMILAR_REASON_MIN: Final = 0.15
#: Number of terms quoted in a "Shares key terms" reason.
SHARED_TERMS: Final = 3

_STATE_PHRASES: Final = {
    "completed": "which you completed",
    "in_progress": "which you are reading",
    "planned": "which is on your list",
}


def scores_for(model: Model, profile: sp.csr_matrix) -> np.ndarray:
    """Cosine of every document with a unit ``profile`` (float32, (n,)).

    Only the columns present in the profile are read: their posting lists
    are sliced out of the stored transpose and combined by a CSC
    matrix-vector product, O(total posting length of those columns).
    """
    if profile.nnz == 0:
        return np.zeros(model.n_docs, dtype=np.float32)
    postings = model.matrix_t[profile.indices]
    return np.asarray(postings.T @ profile.data.astype(np.float32), dtype=np.float32)


def focus_match(model: Model, focus: Mapping[str, float]) -> np.ndarray:
    """How well each document serves ``focus``, 0..1 (float32, (n,)).

    Half the best focus weight among the document's areas plus half the
    weighted share of its areas that are in focus: a dedicated RBAC guide
    (1.0) beats a survey touching RBAC among four areas (0.625), and both
    beat a document outside the focus (0).
    """
    best = np.zeros(model.n_docs, dtype=np.float32)
    total = np.zeros(model.n_docs, dtype=np.float32)
    for area, weight in focus.items():
        rows = model.area_rows.get(area)
        if rows is None:
            continue
        best[rows] = np.maximum(best[rows], weight)
        total[rows] += weight
    served: np.ndarray = 0.5 * best + 0.5 * total / np.maximum(model.n_areas, 1)
    return served


def infer_level(model: Model, learner: Learner) -> int:
    """Level used for the difficulty cap (declared, else max completed, else 1)."""
    return learner_state(model, learner).level


def recommend(
    model: Model,
    learner: Learner,
    *,
    limit: int = 10,
    minutes: int | None = None,
    exclude: Iterable[int] = (),
    area_names: Mapping[str, str] | None = None,
    mmr_lambda: float = MMR_LAMBDA,
    focus_entry: bool = True,
) -> list[Recommendation]:
    """Build a diversified queue of at most ``limit`` resources.

    ``minutes`` (default ``learner.minutes_budget``) caps the summed length of
    the queue; unknown lengths count as 15 minutes.  ``exclude`` are document
    ids never to return (e.g. dismissed ones; they do *not* satisfy path
    prerequisites).  ``area_names`` maps area slugs to display names for the
    reasons.  ``focus_entry=False`` makes every learner start the path at
    step 1 (strict global prerequisites, see :mod:`~recommender.engine.rules`).
    Returns recommendations in queue order; ``score`` is the relevance
    before diversification.  Never raises for unknown ids.
    """
    if limit <= 0:
        return []
    budget = minutes if minutes is not None else learner.minutes_budget
    state = learner_state(model, learner)
    dismissed = frozenset(model.rows(exclude))
    blocked = state.excluded | dismissed
    cap = state.level + 1

    profile = profile_from_state(model, state)
    match = focus_match(model, state.focus)
    base = scores_for(model, profile)
    base += W_FOCUS * match + W_POPULARITY * model.popularity
    if state.planned:
        base[list(state.planned)] += W_PLANNED
    if state.is_new:
        base += W_EARLY * _earliness(model)

    # Off-path candidates: the POOL_SIZE best eligible ones.
    eligible = (model.path_position == 0) & (model.difficulty <= cap)
    if blocked:
        eligible[list(blocked)] = False
    eligible_rows = np.flatnonzero(eligible)
    if len(eligible_rows) > POOL_SIZE:
        part = np.argpartition(-base[eligible_rows], POOL_SIZE - 1)[:POOL_SIZE]
        eligible_rows = eligible_rows[part]
    eligible_rows = eligible_rows[np.argsort(-base[eligible_rows], kind="stable")]

    # Path candidates: every step a queue of ``limit`` items could unlock.
    first = int(model.path_position[model.path_rows[0]]) if len(model.path_rows) else 0
    entry = entry_position(model, state, dismissed) if focus_entry else first
    groups = upcoming_path(model, state, blocked, cap, limit, entry)
    follows_path = state.on_path or not state.focus
    path_rows: list[int] = []
    path_group: list[int] = []
    path_bonus: list[float] = []
    for depth, group in enumerate(groups):
        for row in group.rows:
            if follows_path:
                bonus = PATH_BONUS
            else:
                bonus = PATH_ENTRY_BASE + PATH_ENTRY_FOCUS * float(match[row])
            path_rows.append(row)
            path_group.append(depth)
            path_bonus.append(bonus * PATH_DECAY**depth)

    pool = np.concatenate([eligible_rows, np.asarray(path_rows, dtype=np.int64)])
    if len(pool) == 0:
        return []
    n_off = len(eligible_rows)
    group_of = np.full(len(pool), -1, dtype=np.int64)
    group_of[n_off:] = path_group
    relevance = base[pool].astype(np.float64)
    relevance[n_off:] += path_bonus

    picked = _mmr_queue(model, pool, relevance, group_of, groups, limit, budget, mmr_lambda)
    liked = liked_vector(model, state)
    similar_to = _similar_reasons(model, state, pool[picked])
    return [
        Recommendation(
            doc_id=int(model.doc_ids[pool[i]]),
            score=float(relevance[i]),
            reasons=_reasons(
                model,
                state,
                int(pool[i]),
                int(group_of[i]),
                groups,
                follows_path,
                entry > first,
                liked,
                similar_to.get(int(pool[i])),
                area_names or {},
            ),
        )
        for i in picked
    ]


def _earliness(model: Model) -> np.ndarray:
    """1 for easy getting-started material, 0 for hard security material."""
    easy = (3.0 - model.difficulty) / 2.0
    early = 1.0 - np.minimum(model.stage, 2) / 2.0
    earliness: np.ndarray = (0.5 * easy + 0.5 * early).astype(np.float32)
    return earliness


def _mmr_queue(
    model: Model,
    pool: np.ndarray,
    relevance: np.ndarray,
    group_of: np.ndarray,
    groups: list[PathGroup],
    limit: int,
    budget: int | None,
    mmr_lambda: float,
) -> list[int]:
    """Greedy MMR over ``pool`` honouring path order and the time budget.

    Returns indices into ``pool`` in queue order.  A path step is only
    available while its position is the frontier; picking every pending step
    of the frontier treats them as completed and moves the frontier on.  With
    a budget, each pick is the best MMR item that still fits (ordered greedy
    packing), so the queue never exceeds the budget and a skipped-for-length
    path step cannot leave a later step orphaned.
    """
    # Similarities to a picked item are computed when it is picked: one
    # sparse mat-vec over the pool per pick instead of a pool x pool product
    # (common terms make that product quadratic in the pool size).
    block = compact_rows(model.matrix, pool)
    # Relevance is used as is (standard MMR): its main term is a cosine, so
    # it is on the scale of the similarity penalty.  Rescaling it to a max of
    # 1 would let a near-duplicate of a weakly relevant top item through.
    cost = model.minutes[pool].astype(np.float64)
    left = float(budget) if budget is not None else np.inf
    available = np.ones(len(pool), dtype=bool)
    nearest = np.zeros(len(pool), dtype=np.float64)  # max sim to queue so far
    frontier, remaining = 0, groups[0].pending if groups else 0
    picked: list[int] = []
    while len(picked) < limit:
        ok = available & ((group_of < 0) | (group_of == frontier)) & (cost <= left)
        if not ok.any():
            break
        value = mmr_lambda * relevance - (1.0 - mmr_lambda) * nearest
        value[~ok] = -np.inf
        best = int(np.argmax(value))
        picked.append(best)
        available[best] = False
        picked_row = np.zeros(block.shape[1], dtype=np.float32)
        lo, hi = block.indptr[best], block.indptr[best + 1]
        picked_row[block.indices[lo:hi]] = block.data[lo:hi]
        nearest = np.maximum(nearest, block @ picked_row)
        left -= cost[best]
        if group_of[best] >= 0:
            remaining -= 1
            if remaining == 0:
                frontier += 1
                remaining = groups[frontier].pending if frontier < len(groups) else 0
    return picked


def area_label(slug: str, area_names: Mapping[str, str]) -> str:
    """Display name of an area: ``area_names`` or a prettified slug."""
    if slug in area_names:
        return area_names[slug]
    if len(slug) <= 4 and slug.isalpha():
        return slug.upper()  # rbac -> RBAC, pss -> PSS
    return slug.replace("-", " ").replace("_", " ").capitalize()


def _reasons(
    model: Model,
    state: LearnerState,
    row: int,
    depth: int,
    groups: list[PathGroup],
    follows_path: bool,
    jumped: bool,
    liked: sp.csr_matrix,
    similar: Reason | None,
    area_names: Mapping[str, str],
) -> tuple[Reason, ...]:
    """Explain one recommended row, most important reason first."""
    reasons: list[Reason] = []
    if depth >= 0:
        position = groups[depth].position
        # "your next step" only makes sense once the learner is on the path.
        if depth == 0 and jumped and not state.on_path:
            suffix = " — the first step on your focus"
        elif depth == 0 and state.on_path:
            suffix = " — your next step"
        else:
            suffix = ""
        reasons.append(
            Reason(
                "path_step",
                f"Step {position} of the learning path{suffix}",
                {"position": position, "next": depth == 0},
            )
        )
    served = sorted(
        (a for a in model.areas[row] if a in state.focus),
        key=lambda a: (-state.focus[a], a),
    )
    if served:
        names = [area_label(a, area_names) for a in served]
        reasons.append(Reason("focus", f"Covers your focus: {', '.join(names)}", {"areas": served}))
    if similar is not None:
        reasons.append(similar)
    terms = _shared_terms(model, liked, row)
    if terms:
        reasons.append(
            Reason("shared_terms", f"Shares key terms: {', '.join(terms)}", {"terms": terms})
        )
    if row in state.planned:
        reasons.append(Reason("planned", "On your reading list", {}))
    if state.is_new or not reasons:
        stage = model.stage_names[int(model.stage[row])]
        data = {"difficulty": int(model.difficulty[row]), "stage": stage}
        if depth == 0 and not state.on_path and follows_path:
            text = "Where the learning path starts — a good first step"
        elif state.is_new:
            text = "A good starting point — rate what you read to personalise this list"
        else:
            text = "Popular with learners at your level"
        reasons.append(Reason("cold_start", text, data))
    return tuple(reasons)


def _similar_reasons(model: Model, state: LearnerState, rows: np.ndarray) -> dict[int, Reason]:
    """ "Close to <title>, which you completed" for each of ``rows``.

    Compares the recommended rows with the positively weighted completed and
    in-progress items in one small product; a row gets a reason only when its
    nearest such item reaches :data:`SIMILAR_REASON_MIN`.
    """
    history = [
        r
        for r, w in state.weights.items()
        if w > 0 and state.state[r] in ("completed", "in_progress")
    ]
    if not history or not len(rows):
        return {}
    block = compact_rows(model.matrix, np.concatenate([rows, history]))
    picked = block[: len(rows)].toarray()  # few rows, dense over used columns
    sims = (block[len(rows) :] @ picked.T).T  # (len(rows), len(history))
    reasons: dict[int, Reason] = {}
    for i, row in enumerate(rows):
        best = int(np.argmax(sims[i]))
        if sims[i, best] < SIMILAR_REASON_MIN:
            continue
        other = history[best]
        title = model.titles[other]
        reasons[int(row)] = Reason(
            "similar_to",
            f"Close to “{title}”, {_STATE_PHRASES[state.state[other]]}",
            {
                "doc_id": int(model.doc_ids[other]),
                "title": title,
                "similarity": round(float(sims[i, best]), 4),
            },
        )
    return reasons


def _shared_terms(model: Model, liked: sp.csr_matrix, row: int) -> list[str]:
    """Text terms contributing most to the match with the liked history.

    A term is skipped when it repeats a word already quoted, so the reason
    reads "etcd encryption, secrets" rather than "etcd encryption, etcd".
    """
    if liked.nnz == 0:
        return []
    matrix = model.matrix
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    cols, vals = matrix.indices[start:end], matrix.data[start:end]
    # Both index arrays are sorted and unique (canonical CSR).
    common, in_row, in_liked = np.intersect1d(
        cols, liked.indices, assume_unique=True, return_indices=True
    )
    contrib = vals[in_row] * liked.data[in_liked]
    keep = (common < model.n_text_features) & (contrib > 0)
    common, contrib = common[keep], contrib[keep]
    words_seen: set[str] = set()
    terms: list[str] = []
    for col in common[np.argsort(-contrib, kind="stable")]:
        term = model.term(int(col))
        words = set(term.split())
        if words & words_seen:
            continue
        terms.append(term)
        words_seen |= words
        if len(terms) == SHARED_TERMS:
            break
    return terms
