"""Ranking: eligibility rules, scoring, path simulation, MMR and time budget.

See the package docstring (:mod:`recommender.engine`) for the rules; the
constants below are the knobs, all on the same scale as a cosine (0..1).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, NamedTuple

import numpy as np
import scipy.sparse as sp

from .model import Model, compact_rows, gather
from .prior import (
    W_EARLY,
    W_FOCUS,
    W_PLANNED,
    W_POPULARITY,
    PriorIndex,
    focus_served,
    prior_at,
    prior_index,
)
from .prior import earliness as _earliness
from .profile import (
    LearnerState,
    disliked_vector,
    learner_state,
    liked_vector,
    profile_from_state,
)
from .reasons import (
    DIFFICULTY_WORDS,
    STAGE_WORDS,
    ReasonContext,
    and_list,
    area_label,
    read_count,
    reasons_for,
    similar_reasons,
)
from .records import Learner, QueueResult, Recommendation
from .rules import (
    READY_LEVEL,
    PathGroup,
    Readiness,
    ahead_rows,
    basics_done,
    behind_rows,
    entry_position,
    level_entry,
    may_enter_stage,
    position_stage,
    stage_readiness,
    upcoming_path,
)

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
#: With a focus of weight 1, at least this share of every queue prefix serves
#: it (1 of the first 2, 2 of the first 4, ...), when enough items do; the
#: share scales with the heaviest focus weight.
FOCUS_SHARE: Final = 0.5
#: The learner's next path step is placed within this many slots.
NEXT_STEP_WITHIN: Final = 3
#: For a learner who has read fewer than LOOK_AHEAD_UNTIL_READ items, at most this many
#: off-path items from a stage after the one their path is in, picked for variety and serving
#: no focus: a walk-through's Intermediate newcomer got four red-team tools of five "look ahead
#: at the security stage" items, a third of her first queue, before she had said what she
#: wanted; another, with only Minikube read, got three security items "picked from what you
#: have read so far".
LOOK_AHEAD_MAX: Final = 1
LOOK_AHEAD_UNTIL_READ: Final = 3
#: When nothing fits the budget, a step that takes at most this many sessions of it is offered
#: to read in parts before a shorter one further on (path order first).
PARTS_MAX_SESSIONS: Final = 4
#: Filling a budget's gap swaps a picked item only for one at least this share as relevant:
#: at 60 minutes a beginner focused on RBAC lost the queue's one RBAC page (relevance 0.70) to
#: an unrelated one (0.04) that used 5 minutes more.
FILL_SWAP_MIN_RELEVANCE: Final = 0.9
#: With a minutes budget, path steps too long for it wait (``Policy.defer_long_steps``): the
#: pool then holds this many path positions beyond what ``limit`` picks could reach, so even a
#: one-item queue (`next`) finds the step after a long one.
DEFER_LOOKAHEAD: Final = 10
#: Whether a queue relaxes the level (fewer items open at it than it holds) is decided as for
#: a queue of at least this many, the page's: a walk-through's skipper got `next` (a queue of
#: one, for which a few look-aheads at the level were enough) a look ahead at RBAC good
#: practices, while their queue, relaxed, began with the next step, above their level, and
#: did not hold the look-ahead at all.
RELAX_AS_FOR: Final = 10
#: Highest difficulty of the catalog; the cap is never relaxed above it.
MAX_DIFFICULTY: Final = 3
#: From this many resources on, a queue ranks a bounded candidate set instead of the whole
#: catalog (see :func:`candidate_rows`).  Below it ranking is exact, so the evaluation of the
#: seed-sized catalogs is unchanged.
CANDIDATE_THRESHOLD: Final = 200_000
#: Candidate generation reads the posting lists of the profile's heaviest terms, this many
#: at most, and stops adding terms once it has read this many postings.
CANDIDATE_TERMS: Final = 64
CANDIDATE_POSTINGS: Final = 400_000
#: Candidates kept by their partial text score, and by the score without text (focus,
#: popularity, earliness, planned): a document can rank high on either.
CANDIDATES_BY_TEXT: Final = 2000
CANDIDATES_BY_PRIOR: Final = 1000


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


def scores_for_rows(model: Model, profile: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """Exact cosine of the given rows with a unit ``profile`` (float64, aligned with rows).

    Reads only those rows' entries: the cost does not grow with the catalog.
    """
    if profile.nnz == 0 or not len(rows):
        return np.zeros(len(rows), dtype=np.float64)
    slot, cols, vals = gather(model.matrix, rows)
    terms = profile.indices  # sorted, unique (canonical CSR)
    # Most of the rows' terms are not the profile's: a lookup table over the profile's
    # column range finds the few that are (~1.6x faster than binary-searching all of them).
    hit = np.flatnonzero(np.isin(cols, terms, kind="table"))
    at = np.searchsorted(terms, cols[hit])
    return np.bincount(
        slot[hit],
        weights=vals[hit].astype(np.float64) * profile.data[at],
        minlength=len(rows),
    )


def candidate_rows(
    model: Model,
    profile: sp.csr_matrix,
    by_prior: np.ndarray,
    prior_of: Callable[[np.ndarray], np.ndarray],
    always: np.ndarray,
) -> np.ndarray:
    """A bounded set of rows likely to hold the best ones of a queue (sorted, unique).

    The inverted index is the stored transpose: the posting lists of the profile's
    :data:`CANDIDATE_TERMS` heaviest positive terms (within :data:`CANDIDATE_POSTINGS`
    postings, heaviest terms first) give each document a partial cosine; the
    :data:`CANDIDATES_BY_TEXT` best by partial cosine plus prior (``prior_of(rows)``: focus,
    popularity, earliness — everything but the text) join ``by_prior``, the
    :data:`CANDIDATES_BY_PRIOR` best by prior alone, and the ``always`` rows (path steps,
    planned items).  The caller scores the candidates exactly.  A document can be missed
    only when its cosine comes from terms outside the heaviest ones, so the larger the
    catalog, the more of a queue this leaves as exact ranking would make it.
    """
    n = model.n_docs
    chosen = [np.asarray(always, dtype=np.int64), np.asarray(by_prior, dtype=np.int64)]
    positive = np.flatnonzero(profile.data > 0)
    if len(positive):
        heaviest = positive[np.argsort(-profile.data[positive], kind="stable")][:CANDIDATE_TERMS]
        terms = profile.indices[heaviest]
        indptr = model.matrix_t.indptr
        lengths = (indptr[terms + 1] - indptr[terms]).astype(np.int64)
        within = np.cumsum(lengths) <= CANDIDATE_POSTINGS
        within[0] = True  # the heaviest term always counts, however common
        # Whole posting lists are contiguous slices of the transpose: copy them as slices.
        spans = list(
            zip(
                indptr[terms[within]].tolist(),
                indptr[terms[within] + 1].tolist(),
                profile.data[heaviest[within]].astype(np.float32).tolist(),
                strict=True,
            )
        )
        postings = np.concatenate([model.matrix_t.indices[a:b] for a, b, _ in spans])
        values = np.concatenate([model.matrix_t.data[a:b] * w for a, b, w in spans])
        partial = np.bincount(postings, weights=values, minlength=n)
        seen = np.zeros(n, dtype=bool)  # a bool scan is ~8x cheaper than the float one
        seen[postings] = True
        touched = np.flatnonzero(seen)
        if len(touched) > CANDIDATES_BY_TEXT:
            approx = partial[touched] + prior_of(touched)
            touched = touched[np.argpartition(-approx, CANDIDATES_BY_TEXT - 1)]
            touched = touched[:CANDIDATES_BY_TEXT]
        chosen.append(touched)
    return np.unique(np.concatenate(chosen))


def prepare(model: Model) -> None:
    """Build now what a queue of this model would build on first use (a large catalog's
    prior index: ~0.5 s at a million resources), so that no request waits for it."""
    if model.n_docs >= CANDIDATE_THRESHOLD:
        prior_index(model)


def _candidate_scores(
    model: Model, state: LearnerState, profile: sp.csr_matrix, index: PriorIndex
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(scope, base, match)`` of a large catalog: the candidate rows, and the queue score
    and focus match as whole-catalog arrays that hold values at the candidates only (the
    rest stays zero and is never read: every row a queue reads is a candidate)."""
    table = index.focus_table(state.focus)

    def prior_of(rows: np.ndarray) -> np.ndarray:
        # Without the planned bonus: planned rows are candidates whatever their score.
        return prior_at(model, index, table, rows, planned=(), new=state.is_new)

    planned = np.fromiter(state.planned, dtype=np.int64, count=len(state.planned))
    by_prior = index.best_rows(model, table, new=state.is_new, count=CANDIDATES_BY_PRIOR)
    always = np.concatenate([model.path_rows, planned])
    scope = candidate_rows(model, profile, by_prior, prior_of, always)
    base = np.zeros(model.n_docs, np.float32)
    match = np.zeros(model.n_docs, np.float32)
    base[scope] = prior_at(model, index, table, scope, planned=state.planned, new=state.is_new)
    match[scope] = table[index.group_of[scope]]
    base[scope] += scores_for_rows(model, profile, scope)
    return scope, base, match


def focus_match(model: Model, focus: Mapping[str, float]) -> np.ndarray:
    """How well each document serves ``focus``, 0..1 (float32, (n,)); see
    :func:`~recommender.engine.prior.focus_served`."""
    return focus_served(focus, model.area_rows, np.asarray(model.n_areas))


def infer_level(model: Model, learner: Learner) -> int:
    """Level used for the difficulty cap (declared, else max completed, else 1)."""
    return learner_state(model, learner).level


@dataclass(frozen=True, slots=True)
class Policy:
    """Switches of the ranking rules; the defaults are the product's rules.

    ``focus_entry``: a focused newcomer enters the path at their focus step.
    ``focus_ahead``: focus steps may be taken ahead of the path once the
    learner is ready for their stage.  ``focus_share``: minimum share of the
    queue serving the focus (scaled by the heaviest focus weight).
    ``relax_level``: raise the difficulty cap by one when too few resources
    are open at the learner's level.  ``next_step_within``: slots within which
    the next path step is placed (0: no guarantee).  ``fill_budget``: swap
    off-path items for longer ones to use more of a minutes budget.  ``defer_long_steps``:
    with a minutes budget, a path step longer than what is left waits for a longer session
    and the steps after it open (in path order), so "I have 15 minutes" still moves the
    learner along the path.  :data:`V1_POLICY` is the engine as it was before these rules
    (kept as an evaluation baseline).
    """

    focus_entry: bool = True
    focus_ahead: bool = True
    focus_share: float = FOCUS_SHARE
    relax_level: bool = True
    next_step_within: int = NEXT_STEP_WITHIN
    fill_budget: bool = True
    defer_long_steps: bool = True
    look_ahead_max: int | None = LOOK_AHEAD_MAX


DEFAULT_POLICY: Final = Policy()
V1_POLICY: Final = Policy(
    focus_ahead=False,
    focus_share=0.0,
    relax_level=False,
    next_step_within=0,
    fill_budget=False,
    defer_long_steps=False,
    look_ahead_max=None,
)


def recommend(
    model: Model,
    learner: Learner,
    *,
    limit: int = 10,
    minutes: int | None = None,
    exclude: Iterable[int] = (),
    area_names: Mapping[str, str] | None = None,
    tag_names: Mapping[str, str] | None = None,
    mmr_lambda: float = MMR_LAMBDA,
    focus_entry: bool = True,
    policy: Policy = DEFAULT_POLICY,
    candidates: bool | None = None,
    entry_avoid: Iterable[int] = (),
) -> list[Recommendation]:
    """The items of :func:`recommend_queue` (same arguments)."""
    return list(
        recommend_queue(
            model,
            learner,
            limit=limit,
            minutes=minutes,
            exclude=exclude,
            area_names=area_names,
            tag_names=tag_names,
            mmr_lambda=mmr_lambda,
            focus_entry=focus_entry,
            policy=policy,
            candidates=candidates,
            entry_avoid=entry_avoid,
        ).items
    )


@dataclass(slots=True)
class _Pool:
    """Candidates of one queue, aligned arrays (see :func:`_build_pool`)."""

    rows: np.ndarray  # model rows
    relevance: np.ndarray  # float64
    group_of: np.ndarray  # path group index, -1 off the progression
    free: np.ndarray  # bool: may be taken ahead of the path
    position: np.ndarray  # int path position, 0 off the path
    groups: list[PathGroup] = field(default_factory=list)


def recommend_queue(
    model: Model,
    learner: Learner,
    *,
    limit: int = 10,
    minutes: int | None = None,
    exclude: Iterable[int] = (),
    area_names: Mapping[str, str] | None = None,
    tag_names: Mapping[str, str] | None = None,
    mmr_lambda: float = MMR_LAMBDA,
    focus_entry: bool = True,
    policy: Policy = DEFAULT_POLICY,
    candidates: bool | None = None,
    entry_avoid: Iterable[int] = (),
) -> QueueResult:
    """Build a diversified queue of at most ``limit`` resources, and say how full it is.

    ``minutes`` (default ``learner.minutes_budget``) caps the summed length of
    the queue; unknown lengths count as 15 minutes.  ``exclude`` are document
    ids never to return (e.g. dismissed ones; they do *not* satisfy path
    prerequisites).  ``area_names`` and ``tag_names`` map area and tag slugs to
    display names for the reasons.  ``focus_entry=False`` makes every learner start the path at
    step 1 (strict global prerequisites, see :mod:`~recommender.engine.rules`);
    ``policy`` switches the other rules.  ``candidates`` ranks only
    :func:`candidate_rows` (default: from :data:`CANDIDATE_THRESHOLD` resources
    on).  ``entry_avoid`` are document ids a focus should not start the path at
    when another step serves it (outdated advice).  Items come in queue order; their
    ``score`` is the relevance before diversification.  Never raises for
    unknown ids.
    """
    budget = minutes if minutes is not None else learner.minutes_budget
    if limit <= 0:
        return QueueResult(items=(), limit=0, minutes_budget=budget)
    state = learner_state(model, learner)
    dismissed = frozenset(model.rows(exclude))
    blocked = state.excluded | dismissed
    cap = min(state.level + 1, MAX_DIFFICULTY)

    profile = profile_from_state(model, state)
    use_candidates = candidates if candidates is not None else model.n_docs >= CANDIDATE_THRESHOLD
    index = prior_index(model) if use_candidates else None
    scope: np.ndarray | None = None
    if index is not None:
        # A large catalog: the prior (everything but the cosine) of the candidates only,
        # which the index finds without a pass over every document (see prior.py); the
        # arrays are read at the candidates' rows only.
        scope, base, match = _candidate_scores(model, state, profile, index)
    else:
        # Exact: the cosine of every document, then everything else added to it (in this
        # order, so scores stay bit-identical to earlier versions). With candidates but no
        # index: everything but the cosine first (it chooses candidates too), then the
        # cosine of the candidates only.
        match = focus_match(model, state.focus)
        base = np.zeros(model.n_docs, np.float32) if use_candidates else scores_for(model, profile)
        base += W_FOCUS * match + W_POPULARITY * model.popularity
        if state.planned:
            base[list(state.planned)] += W_PLANNED
        if state.is_new:
            base += W_EARLY * _earliness(model)
        if use_candidates:
            planned = np.fromiter(state.planned, dtype=np.int64, count=len(state.planned))
            by_prior = (
                np.argpartition(-base, CANDIDATES_BY_PRIOR - 1)[:CANDIDATES_BY_PRIOR]
                if model.n_docs > CANDIDATES_BY_PRIOR
                else np.arange(model.n_docs)
            )
            always = np.concatenate([model.path_rows, planned])
            scope = candidate_rows(model, profile, by_prior, base.__getitem__, always)
            base[scope] += scores_for_rows(model, profile, scope)

    first = int(model.path_position[model.path_rows[0]]) if len(model.path_rows) else 0
    avoid = frozenset(model.rows(entry_avoid))
    entry = (
        entry_position(model, state, dismissed, avoid)
        if focus_entry and policy.focus_entry
        else first
    )
    # A step whose advice is outdated is not pulled ahead of the path for a focus: it comes in
    # its turn. Ahead steps keep path order among themselves, so a 2016 talk (step 29, on
    # PodSecurityPolicy) came before Network Policies (step 33) for a network-policy focus.
    ahead = (
        {row: why for row, why in ahead_rows(model, state, entry).items() if row not in avoid}
        if policy.focus_ahead
        else {}
    )
    behind = behind_rows(model, state, entry, avoid, focus=policy.focus_ahead)
    follows_path = state.on_path or not state.focus

    reach = limit + (DEFER_LOOKAHEAD if budget is not None and policy.defer_long_steps else 0)
    pool = _build_pool(
        model, state, base, match, blocked, cap, reach, entry, ahead, behind, follows_path, scope
    )
    open_at_level = len(pool.rows)
    relaxed: int | None = None
    if policy.relax_level and open_at_level < max(limit, RELAX_AS_FOR) and cap < MAX_DIFFICULTY:
        relaxed = cap + 1
        pool = _build_pool(
            model,
            state,
            base,
            match,
            blocked,
            relaxed,
            reach,
            entry,
            ahead,
            behind,
            follows_path,
            scope,
        )
        if len(pool.rows) == open_at_level:
            relaxed = None  # nothing above the level to add
    if len(pool.rows) == 0:
        return _short_result(
            model, state, blocked, (), limit, budget, 0.0, pool.rows, None, entry, cap
        )

    weights = [state.focus[a] for a in state.focus]
    share = policy.focus_share * (max(weights) if weights else 0.0)
    # A declared beginner without the basics starts with them (rules.may_enter_stage): the
    # focus's share of the queue is filled from the first stage only and their next step comes
    # first, so nothing from a later stage is put ahead of it (relevance still counts the focus).
    held = not may_enter_stage(model, state, 1)
    quota = np.where(model.stage == 0, match, 0) if held else match
    within = min(policy.next_step_within, 1) if held else policy.next_step_within
    packed = _mmr_queue(
        model,
        pool,
        quota,
        state.focus,
        cap,
        limit,
        budget,
        mmr_lambda,
        share,
        within,
        policy.fill_budget,
        policy.defer_long_steps,
        # Variety from later stages is bounded only until the learner has read a few items:
        # after that, what they read speaks for itself.
        None if read_count(state) >= LOOK_AHEAD_UNTIL_READ else policy.look_ahead_max,
    )
    picked, ahead_picked = packed.picked, packed.ahead
    deferred = tuple(int(model.doc_ids[pool.rows[i]]) for i, _ in packed.deferred)
    entry_note = _entry_note(model, state, entry, first, dismissed, avoid, area_names or {}, behind)
    later_note = (
        ""
        if entry_note
        else _focus_later_note(
            model, state, entry, pool.rows[picked], blocked | avoid, area_names or {}
        )
    )
    # Both say the focus comes later on the path (a beginner's held at the basics): the one
    # look ahead at it that the queue took meanwhile is named, or the queue seems to contradict
    # its note (a walk-through: "comes in at step 30", and RBAC Good Practices second).
    focus_later = bool(later_note) or (bool(entry_note) and bool(state.focus) and entry <= first)
    path_note = " ".join(
        sentence
        for sentence in (
            entry_note or later_note,
            _focus_preview_note(model, state, pool.rows[picked], area_names or {})
            if focus_later
            else "",
        )
        if sentence
    )
    deferred_note = _deferred_note(model, pool, packed.deferred, budget) if picked else ""
    level_note = _level_raise_note(model, state, cap, pool.rows[picked])
    # The level the notes ask for, for a page to offer it in one click: Intermediate to a
    # beginner past (or held at) the basics, Beginner to one whose level or focus started the
    # path further on.
    level_offer = (
        READY_LEVEL
        if level_note or (entry_note and entry <= first)
        else 1
        if entry_note and not (state.focus and declared_past_basics(state))
        else None
    )
    note = " ".join(sentence for sentence in (path_note, level_note, deferred_note) if sentence)
    liked = liked_vector(model, state)
    similar_to = similar_reasons(model, state, pool.rows[picked])
    meta_names = model.label_names() if liked.nnz else []
    names = tag_names or {}
    tag_spelling = {name.lower(): name for name in names.values()} if liked.nnz else {}
    context = ReasonContext(
        model=model,
        state=state,
        groups=pool.groups,
        follows_path=follows_path,
        jumped=entry > first,
        entry_stage=position_stage(model, entry),
        liked=liked,
        disliked=disliked_vector(model, state) if liked.nnz else None,
        area_names=area_names or {},
        tag_names=names,
        tag_spelling=tag_spelling,
        meta_names=meta_names,
        ahead=ahead,
        cap=cap,
        open_at_level=open_at_level,
    )
    items = tuple(
        Recommendation(
            doc_id=int(model.doc_ids[pool.rows[i]]),
            score=float(pool.relevance[i]),
            reasons=reasons_for(
                context,
                int(pool.rows[i]),
                int(pool.group_of[i]),
                # Steps behind the entry are free too, but not "ahead of your path".
                i in ahead_picked and int(pool.rows[i]) in ahead,
                similar_to.get(int(pool.rows[i])),
            ),
        )
        for i in picked
    )
    used = float(model.minutes[pool.rows[picked]].sum()) if picked else 0.0
    if len(items) == limit:
        return QueueResult(
            items=items,
            limit=limit,
            minutes_budget=budget,
            minutes_used=used,
            open_count=len(pool.rows),
            relaxed_level=relaxed,
            deferred=deferred,
            note=note,
            path_note=path_note,
            level_note=level_note,
            level_offer=level_offer,
            deferred_note=deferred_note,
        )
    if packed.stopped_by_budget and budget is not None:
        left = max(budget - used, 0.0)
        if not picked and left >= 1:
            # Nothing fits, not even the next step: the shortest step ahead waits, as a step
            # passed over does, and is the one offered to read in parts (_budget_detail).
            row = _step_to_read_in_parts(model, pool, budget)
            deferred = () if row is None else (int(model.doc_ids[row]),)
        return QueueResult(
            items=items,
            limit=limit,
            minutes_budget=budget,
            minutes_used=used,
            open_count=len(pool.rows),
            relaxed_level=relaxed,
            deferred=deferred,
            note=note,
            path_note=path_note,
            level_note=level_note,
            level_offer=level_offer,
            deferred_note=deferred_note,
            shortfall="budget",
            detail=_budget_detail(model, pool, budget, left, bool(items)),
        )
    short = _short_result(
        model, state, blocked, items, limit, budget, used, pool.rows, relaxed, entry, cap
    )
    return dataclasses.replace(
        short,
        deferred=deferred,
        note=note,
        path_note=path_note,
        level_note=level_note,
        level_offer=level_offer,
        deferred_note=deferred_note,
    )


def _entry_note(
    model: Model,
    state: LearnerState,
    entry: int,
    first: int,
    excluded: frozenset[int],
    avoid: frozenset[int],
    area_names: Mapping[str, str],
    behind: Iterable[int] = (),
) -> str:
    """Where a focused newcomer's path starts, and how to change it.

    When the path starts at the focus, say where, and how to go back.  A declared beginner's
    path starts at the basics even though the focus comes later (rules.may_enter_stage): say
    where the focus comes in, and how to get there sooner.
    """
    if state.on_path:
        return ""
    if not state.focus:
        return _level_note(model, state, entry, first)
    if entry > first:
        stage = model.stage_names[position_stage(model, entry)]
        # Named as the beginner's note names it (a walk-through read both messages): the
        # focus areas the entry step serves, heaviest first.
        at = int(np.flatnonzero(model.path_position == entry)[0])
        served = sorted(model.areas[at] & state.focus.keys(), key=lambda a: (-state.focus[a], a))
        labels = [area_label(a, area_names) for a in served]
        named = f" ({', '.join(labels)})" if served else ""
        where = f"step {entry}, in the {STAGE_WORDS.get(stage, stage)} stage"
        others = _other_areas_steps(model, state, entry, served, excluded | avoid, area_names)
        if others and served:
            # Two "Main focus" areas: a walk-through's learner read "Your focus (Secrets…)"
            # and took RBAC for ignored. Each area, and where it comes in.
            come = "comes" if len(labels) == 1 else "come"
            later = ", ".join(f"{label} at step {step}" for label, step in others)
            named_all = and_list(labels)
            opening = (
                f"Your focus starts your path at {where}: {named_all} {come} in there, {later}."
            )
        else:
            opening = f"Your focus{named} starts your path at {where}."
        # The steps before the start on a lighter focus area come in the queue anyway
        # (rules.behind_rows): "stay on the Path page" alone seemed to deny them.
        early = sorted(
            {a for r in behind for a in model.areas[r] & state.focus.keys()},
            key=lambda a: (-state.focus[a], a),
        )
        meanwhile = (
            f" (those on {and_list([area_label(a, area_names) for a in early])} come in your "
            "queue meanwhile)"
            if early
            else ""
        )
        # Progress on an earlier step becomes the entry point (rules.entry_position): say so,
        # rather than invite the learner to mark steps "they know" and move their start.
        return (
            f"{opening} "
            f"Steps {first} to {entry - 1} stay on the "
            f"Path page{meanwhile}; mark one of them done or start it and your path goes on "
            f"from there. {_earlier_start(model, state, entry, first)}"
        )
    # Where the path would start with the basics declared: the sentence promises it.
    ready = max(state.level, READY_LEVEL)
    sooner = entry_position(
        model, dataclasses.replace(state, level=ready, declared_level=ready), excluded, avoid
    )
    if sooner <= first:
        return ""
    row = int(np.flatnonzero(model.path_position == sooner)[0])
    stage = model.stage_names[int(model.stage[row])]
    served = sorted(model.areas[row] & state.focus.keys(), key=lambda a: (-state.focus[a], a))
    names = ", ".join(area_label(a, area_names) for a in served)
    return (
        f"Your focus ({names}) comes in at step {sooner}, in the "
        f"{STAGE_WORDS.get(stage, stage)} stage, so your path starts with the basics. "
        "Know them already? Set your level to Intermediate or above and your path starts "
        f"at step {sooner}."
    )


def _focus_later_note(
    model: Model,
    state: LearnerState,
    entry: int,
    queued: np.ndarray,
    unwanted: frozenset[int],
    area_names: Mapping[str, str],
) -> str:
    """A learner part-way along the path whose "Main focus" nothing in the queue serves, and
    whose focus steps do not open yet (a declared beginner without the basics): where each
    such area comes in. A walk-through's learner set a focus after nine steps, saw the queue
    unchanged and was told nothing (a newcomer is told, by the entry note).

    Each area is named at its first path step not done, one whose advice is current where
    there is one (``unwanted``: done, dismissed or outdated rows)."""
    if not state.focus or not len(model.path_rows):
        return ""
    heaviest = max(state.focus.values())
    served = {area for row in queued for area in model.areas[int(row)]}
    later: list[tuple[str, int, int]] = []  # (area name, position, row)
    for area in sorted(a for a, w in state.focus.items() if w == heaviest and a not in served):
        row = _first_step_serving(model, area, unwanted, lambda r: r not in state.satisfied)
        if row is None:
            continue
        position = int(model.path_position[row])
        if stage_readiness(model, state, int(model.stage[row]), entry) is not None:
            return ""  # it may be taken ahead already: the queue is full, not closed to it
        later.append((area_label(area, area_names), position, row))
    if not later:
        return ""
    later.sort(key=lambda found: found[1])
    stage = model.stage_names[int(model.stage[later[0][2]])]
    until = "once you have the basics (the getting-started steps done), it joins your queue."
    if len(later) == 1:
        name, position, _ = later[0]
        return (
            f"Your focus ({name}) comes in at step {position}, in the "
            f"{STAGE_WORDS.get(stage, stage)} stage: {until}"
        )
    where = and_list([f"{name} at step {position}" for name, position, _ in later])
    return f"Your focus comes in later on your path, {where}: {until}"


def _focus_preview_note(
    model: Model, state: LearnerState, queued: np.ndarray, area_names: Mapping[str, str]
) -> str:
    """The queued items on the learner's focus, while the note says the focus comes later.

    "At it" is the main focus the sentence before names; items serving only a lighter focus
    area name theirs. A walk-through's note said of the Secrets focus "one look ahead at it is
    in your queue" of an item on RBAC (chosen "a lot"), beside "Nothing here is on your main
    focus yet"."""
    rows = [int(row) for row in queued if model.areas[int(row)] & state.focus.keys()]
    if not rows:
        return ""
    titles = [f"\u201c{model.titles[row]}\u201d" for row in rows]
    heaviest = max(state.focus.values())
    main = {area for area, weight in state.focus.items() if weight == heaviest}
    what = "it"
    if not all(model.areas[row] & main for row in rows):
        served = {area for row in rows for area in model.areas[row] & state.focus.keys()}
        ordered = sorted(served, key=lambda area: (-state.focus[area], area))
        what = and_list([area_label(area, area_names) for area in ordered])
    if len(titles) == 1:
        return f"Meanwhile, one look ahead at {what} is in your queue: {titles[0]}."
    return f"Meanwhile, {len(titles)} looks ahead at {what} are in your queue: {and_list(titles)}."


def _other_areas_steps(
    model: Model,
    state: LearnerState,
    entry: int,
    served: Sequence[str],
    unwanted: frozenset[int],
    area_names: Mapping[str, str],
) -> list[tuple[str, int]]:
    """Where the learner's heaviest focus areas ("Main focus") that the entry step does not
    serve come in on the path: (area name, path position) of the first later step serving
    each, one whose advice is still current where there is one (``unwanted``: outdated or
    dismissed rows). Areas on no later step are left out; lighter areas are not named."""
    found = []
    heaviest = max(state.focus.values())
    main = {area for area, weight in state.focus.items() if weight == heaviest}
    for area in sorted(main - set(served)):
        row = _first_step_serving(model, area, unwanted, lambda r: model.path_position[r] > entry)
        if row is not None:
            found.append((area_label(area, area_names), int(model.path_position[row])))
    return found


def _first_step_serving(
    model: Model, area: str, unwanted: frozenset[int], keep: Callable[[int], bool]
) -> int | None:
    """The row of the first path step serving ``area`` among those ``keep`` accepts, one whose
    advice is current where there is one (``unwanted``: outdated, dismissed or done rows)."""
    steps = [
        (r in unwanted, int(model.path_position[r]), r)
        for r in map(int, model.path_rows)
        if area in model.areas[r] and keep(r)
    ]
    return min(steps)[2] if steps else None


def _earlier_start(model: Model, state: LearnerState, entry: int, first: int) -> str:
    """How a focused learner's path could start before their focus's step. Clearing the focus
    starts it at step 1 only for a learner who did not declare a level past the basics; one
    who did (Advanced: "I run it in production") was told it would, and offered a single
    button, "Set my level to Beginner" (a walk-through): they are told where their level
    starts it instead, and offered no level (``declared_past_basics``)."""
    if not declared_past_basics(state):
        return f"To start at step {first}, set your level to Beginner or clear your focus."
    level = DIFFICULTY_WORDS.get(state.declared_level or 0, "declared")
    start = level_entry(model, state)
    if start >= entry:
        return ""
    return f"Without a focus, your level ({level}) starts it at step {start}."


def declared_past_basics(state: LearnerState) -> bool:
    """The learner said their level is past the basics (Intermediate or Advanced)."""
    return state.declared_level is not None and state.declared_level >= READY_LEVEL


def _level_note(model: Model, state: LearnerState, entry: int, first: int) -> str:
    """A learner whose declared level starts their path past the basics, with no focus
    (rules.level_entry): say where, and how to start at the beginning, instead of a queue
    that opens in the middle of the path with no word why."""
    if entry <= first or entry != level_entry(model, state):
        return ""
    stage = model.stage_names[position_stage(model, entry)]
    level = DIFFICULTY_WORDS.get(state.declared_level or 0, "declared")
    return (
        f"Your level ({level}) starts your path at step {entry}, in the "
        f"{STAGE_WORDS.get(stage, stage)} stage. Steps {first} to {entry - 1} stay on the Path "
        "page; mark one of them done or start it and your path goes on from there. To start "
        f"at step {first}, set your level to Beginner."
    )


def _level_raise_note(model: Model, state: LearnerState, cap: int, queued: np.ndarray) -> str:
    """A learner who declared Beginner, with the basics behind them, whose queue went above
    their level: said once, with what to do, and not only beside each item (a walk-through's
    beginner marked the basics as known and found six items "above your level"). Said too to
    one who set no level and is taken for a beginner: a walk-through's learner skipped the
    basics and was queued "above your level" items with no word on what to do."""
    declared = state.declared_level
    if (declared if declared is not None else state.level) >= READY_LEVEL:
        return ""
    if not basics_done(model, state):
        return ""
    above = int(np.count_nonzero(model.difficulty[queued] > cap))
    if not above:
        return ""
    level = DIFFICULTY_WORDS.get(declared if declared is not None else state.level, "Beginner")
    # Named by their difficulty, as their reasons mark them: "5 items … are above it" read as
    # wrong beside ten items all above Beginner, the Intermediate ones unmarked (a walk-through).
    word = DIFFICULTY_WORDS.get(cap + 1, "harder")
    items = f"one {word} item" if above == 1 else f"{above} {word} items"
    are = "is" if above == 1 else "are"
    ready = DIFFICULTY_WORDS[READY_LEVEL]
    if declared is None:
        return (
            f"The basics are behind you and you have not set a level, so {items} in your "
            f"queue {are} marked as above {level}, as much of the path ahead is. Know more "
            f"than the basics? Set your level to {ready}."
        )
    return (
        f"The basics are behind you and your level still says {level}, so {items} in your "
        f"queue {are} marked as above it, as much of the path ahead is. Past {level} now? "
        f"Set your level to {ready}."
    )


def _minutes(count: float) -> str:
    """'1 minute', '15 minutes', '2.5 minutes'; from an hour on as the pages say a length
    ('8 h', '1 h 15 min'), not '900 minutes'."""
    if count >= 60 and count == int(count):
        hours, rest = divmod(int(count), 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{count:g} minute{'' if count == 1 else 's'}"


def _budget_detail(model: Model, pool: _Pool, budget: int, left: float, any_items: bool) -> str:
    """Why the queue stopped at the budget; for an empty queue, what the next step needs."""
    if left < 1:
        # Not "Your budget is full", which a walk-through's learner read above the items as an
        # error before doing anything.
        return f"These fill your {budget}-minute budget."
    if any_items:
        return f"Nothing else fits in the {_minutes(left)} left of your {budget}-minute budget."
    row = _step_to_read_in_parts(model, pool, budget)
    if row is None:
        return f"Nothing fits in {_minutes(budget)}."
    length = _minutes(float(model.minutes[row]))
    if pool.group_of[pool.rows == row][0] == 0:
        return (
            f"Nothing fits in {_minutes(budget)}: your next step, “{model.titles[row]}”, "
            f"takes about {length}: start it and read it in parts, or it waits for a longer "
            "session."
        )
    return (
        f"Nothing fits in {_minutes(budget)}. Step {int(model.path_position[row])}, "
        f"“{model.titles[row]}” (about {length}), is the nearest short step ahead: start it "
        "and read it in parts, or it waits for a longer session."
    )


def _step_to_read_in_parts(model: Model, pool: _Pool, budget: int) -> int | None:
    """When nothing fits the budget, the path step to start and read in parts: the first open
    in the learner's stage, in path order, that takes at most PARTS_MAX_SESSIONS sessions, else
    the shortest (the earliest of equal length). With 10 minutes a day, an 8-hour next step
    was offered while a 15-minute step came two later."""
    steps = pool.group_of >= 0
    if not steps.any():
        return None
    head = steps & (pool.group_of == pool.group_of[steps].min())
    steps &= model.stage[pool.rows] <= model.stage[pool.rows[head]].max()  # not a later stage
    rows, positions = pool.rows[steps], pool.position[steps]
    in_order = np.argsort(positions, kind="stable")
    short = model.minutes[rows[in_order]] <= PARTS_MAX_SESSIONS * budget
    if short.any():
        return int(rows[in_order][np.argmax(short)])
    return int(rows[np.lexsort((positions, model.minutes[rows]))[0]])


def _deferred_note(
    model: Model, pool: _Pool, deferred: Sequence[tuple[int, float]], budget: int | None
) -> str:
    """Why the queue passes over path steps: they need more time than was left."""
    if not deferred or budget is None:
        return ""
    index = deferred[0][0]
    row = int(pool.rows[index])
    title = f"“{model.titles[row]}”"
    length = f"about {_minutes(float(model.minutes[row]))}"
    too_long = float(model.minutes[row]) > budget
    # The other steps that wait, told apart by why: "wait too" said of a 45-minute step with a
    # 45-minute budget read as if it were too long as well (a walk-through); it only did not
    # fit in what was left.
    alike, unlike = _positions_by(model, pool, deferred[1:], budget, too_long=too_long)
    # One step alone is named by its title too: "Step 34 waits too" left a walk-through's
    # learner to look up what step 34 is.
    titles = _titles_by_position(model, pool, deferred[1:])
    one = len(unlike) == 1
    also = (
        f" {_steps(alike, titles)} {'waits' if len(alike) == 1 else 'wait'} too." if alike else ""
    )
    if unlike and too_long:
        also += (
            f" {_steps(unlike, titles)} {'fits' if one else 'fit'} in {_minutes(budget)} "
            "but not in what was left: "
            + ("it waits for your next session." if one else "they wait for your next sessions.")
        )
    elif unlike:
        them = "it" if one else "them"
        also += (
            f" {_steps(unlike, titles)} {'needs' if one else 'need'} more than {_minutes(budget)}: "
            f"start {them} and read {them} in parts."
        )
    step = int(model.path_position[row])
    if too_long:
        # Longer than the whole budget: at this budget it never fits, and a learner with 20
        # minutes a day met a 4-hour step that held their path back for good. A step started
        # holds nothing back, so it can be read in parts.
        which = "Your next step" if pool.group_of[index] == 0 else f"Step {step}"
        # Many sessions long (a 15-hour book with 45 minutes), no session will be long enough:
        # reading it in parts is the way, not a longer session.
        wait = (
            "it waits for a longer session, or "
            if float(model.minutes[row]) <= PARTS_MAX_SESSIONS * budget
            else ""
        )
        return (
            f"{which}, {title} ({length}), needs more than {_minutes(budget)}: "
            f"{wait}start it and read it in parts while the path goes on.{also}"
        )
    # It fits the budget, not what was left of it: it comes first next time (a walk-through
    # read "a longer session" with a fixed 30 minutes a day, and there is no longer one).
    # What was left is not given in minutes: under "Nothing else fits in the 10 minutes left"
    # (what is left once the queue is packed), "the 25 minutes left" (left when this step's
    # turn came) read to a walk-through's beginner as two answers to one question.
    return (
        f"Step {step}, {title} ({length}), did not fit in what was left of your "
        f"{_minutes(budget)}: it waits for your next session.{also}"
    )


def _positions_by(
    model: Model,
    pool: _Pool,
    deferred: Sequence[tuple[int, float]],
    budget: int,
    *,
    too_long: bool,
) -> tuple[list[int], list[int]]:
    """The path positions of these waiting steps: those that wait for the same reason as the
    first (longer than the whole budget, or not), then the others."""
    alike: set[int] = set()
    unlike: set[int] = set()
    for index, _ in deferred:
        row = int(pool.rows[index])
        longer = float(model.minutes[row]) > budget
        (alike if longer == too_long else unlike).add(int(model.path_position[row]))
    return sorted(alike), sorted(unlike - alike)


def _titles_by_position(
    model: Model, pool: _Pool, deferred: Sequence[tuple[int, float]]
) -> dict[int, str]:
    """The titles of these waiting steps by path position, where one waiting resource holds
    it (two alternatives of one step, both waiting, have no one title)."""
    rows_at: dict[int, list[int]] = {}
    for index, _ in deferred:
        row = int(pool.rows[index])
        rows_at.setdefault(int(model.path_position[row]), []).append(row)
    return {position: model.titles[rows[0]] for position, rows in rows_at.items() if len(rows) == 1}


def _steps(positions: Sequence[int], titles: Mapping[int, str]) -> str:
    """ "Step 29, “Its title”,", "Steps 29 and 34", "Steps 2, 3 and 5"."""
    if len(positions) == 1:
        position = positions[0]
        return (
            f"Step {position}, “{titles[position]}”," if position in titles else f"Step {position}"
        )
    return f"Steps {', '.join(map(str, positions[:-1]))} and {positions[-1]}"


class _Packed(NamedTuple):
    """What :func:`_mmr_queue` packed: pool indices in queue order and how it got there."""

    picked: list[int]
    #: Picked indices taken ahead of the path.
    ahead: set[int]
    #: The queue ended because nothing open fitted the budget.
    stopped_by_budget: bool
    #: Path steps passed over because they were longer than the budget left, in path order,
    #: with the minutes that were left.
    deferred: list[tuple[int, float]]


def _build_pool(
    model: Model,
    state: LearnerState,
    base: np.ndarray,
    match: np.ndarray,
    blocked: frozenset[int],
    cap: int,
    limit: int,
    entry: int,
    ahead: Mapping[int, Readiness],
    behind: set[int],
    follows_path: bool,
    scope: np.ndarray | None = None,
) -> _Pool:
    """Every resource open to the learner at difficulty ``cap``, with its relevance.

    Off-path items: the :data:`POOL_SIZE` best eligible ones (among the ``scope``
    rows when given: the candidates of a large catalog).  Path items:
    every step a queue of ``limit`` could reach in path order (the
    progression, with its bonus), plus the focus steps the learner may take
    ahead of the path and the steps behind its entry that are still offered
    (``behind``: rules.behind_rows).
    """
    if scope is None:
        eligible = (model.path_position == 0) & (model.difficulty <= cap)
        if blocked:
            eligible[list(blocked)] = False
        off_rows = np.flatnonzero(eligible)
    else:
        keep = (model.path_position[scope] == 0) & (model.difficulty[scope] <= cap)
        if blocked:
            keep &= ~np.isin(scope, np.fromiter(blocked, dtype=np.int64, count=len(blocked)))
        off_rows = scope[keep]
    if len(off_rows) > POOL_SIZE:
        part = np.argpartition(-base[off_rows], POOL_SIZE - 1)[:POOL_SIZE]
        off_rows = off_rows[part]
    off_rows = off_rows[np.argsort(-base[off_rows], kind="stable")]

    groups = upcoming_path(model, state, blocked, cap, limit, entry)
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
    in_groups = set(path_rows)
    # Free of the path's order, as focus steps ahead of it are.
    for row in [*ahead, *sorted(behind)]:
        if row not in in_groups and row not in blocked and model.difficulty[row] <= cap:
            in_groups.add(row)
            path_rows.append(row)
            path_group.append(-1)
            path_bonus.append(0.0)

    rows = np.concatenate([off_rows, np.asarray(path_rows, dtype=np.int64)])
    n_off = len(off_rows)
    group_of = np.full(len(rows), -1, dtype=np.int64)
    group_of[n_off:] = path_group
    relevance = base[rows].astype(np.float64)
    relevance[n_off:] += path_bonus
    free = np.zeros(len(rows), dtype=bool)
    free[n_off:] = [row in ahead or row in behind for row in path_rows]
    return _Pool(
        rows=rows,
        relevance=relevance,
        group_of=group_of,
        free=free,
        position=model.path_position[rows].astype(np.int64),
        groups=groups,
    )


def _short_result(
    model: Model,
    state: LearnerState,
    blocked: frozenset[int],
    items: tuple[Recommendation, ...],
    limit: int,
    budget: int | None,
    used: float,
    open_rows: np.ndarray,
    relaxed: int | None,
    entry: int,
    cap: int,
) -> QueueResult:
    """A queue shorter than asked because nothing else is open: say why."""
    open_count = len(open_rows)
    unseen = model.n_docs - len(blocked)
    if unseen <= len(items):
        reading = sum(1 for s in state.state.values() if s == "in_progress")
        if items:
            last = (
                "This is the last resource"
                if len(items) == 1
                else f"These are the last {len(items)} resources"
            )
            detail = (
                f"{last} you have not completed, skipped or started. New resources arrive as "
                "curators approve them."
            )
        else:
            detail = (
                "You have completed, skipped or started everything we can recommend right now"
                + (f" ({reading} still in progress)" if reading else "")
                + ". New resources arrive as curators approve them."
            )
        shortfall = "finished"
    else:
        detail = (
            f"Only {open_count} of the {unseen} resources you have not seen are open to you "
            f"now; {_not_open(model, blocked, open_rows, entry, relaxed or cap)}."
        )
        shortfall = "waiting"
    return QueueResult(
        items=items,
        limit=limit,
        minutes_budget=budget,
        minutes_used=used,
        open_count=open_count,
        relaxed_level=relaxed,
        shortfall=shortfall,
        detail=detail,
    )


def _not_open(
    model: Model, blocked: frozenset[int], open_rows: np.ndarray, entry: int, cap: int
) -> str:
    """What the unseen resources that are not open are, counted by why.

    All of them were "learning-path steps that wait for earlier steps", steps before where the
    learner's path starts included: an advanced learner entering at step 36 was told to
    complete earlier steps to open steps 25, 27 and 29 (a walk-through)."""
    closed = np.ones(model.n_docs, dtype=bool)
    closed[open_rows] = False
    if blocked:
        closed[np.fromiter(blocked, dtype=np.int64, count=len(blocked))] = False
    rows = np.flatnonzero(closed)
    position = model.path_position[rows]
    above_level = model.difficulty[rows] > cap
    earlier = int(np.count_nonzero((position > 0) & (position < entry)))
    waiting = int(np.count_nonzero((position >= max(entry, 1)) & ~above_level))
    above = int(np.count_nonzero(above_level & ~((position > 0) & (position < entry))))
    other = len(rows) - earlier - waiting - above
    parts = []
    if earlier:
        parts.append(
            f"{_count(earlier, 'is a path step', 'are path steps')} before where your path "
            "starts, which stay on the Path page"
        )
    if waiting:
        parts.append(
            f"{_count(waiting, 'is a path step', 'are path steps')} that wait for earlier "
            "ones: complete or skip steps to open them"
        )
    if above:
        parts.append(f"{_count(above, 'is', 'are')} above your level")
    if other:
        parts.append(f"{_count(other, 'is', 'are')} further down than a queue reaches")
    if not parts:
        return "the rest wait for what you read next"
    return _joined(parts)


def _count(count: int, one: str, many: str) -> str:
    return f"{count} {one}" if count == 1 else f"{count} {many}"


def _joined(parts: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _mmr_queue(
    model: Model,
    pool: _Pool,
    match: np.ndarray,
    focus: Mapping[str, float],
    cap: int,
    limit: int,
    budget: int | None,
    mmr_lambda: float,
    focus_share: float,
    next_step_within: int,
    fill_budget: bool,
    defer_long_steps: bool,
    look_ahead_max: int | None = None,
) -> _Packed:
    """Greedy MMR over the pool honouring path order, focus share and the time budget.

    Availability at each pick: off-path items always; progression steps only
    at the frontier position (picking every pending step of it moves the
    frontier on); focus steps that may be taken ahead of the path at any
    time, but in path order among themselves.  Items above ``cap`` (present
    only after a relaxation) are taken only when nothing at the level is
    available.  Then, in this order of precedence: the next path step is
    forced into slot ``next_step_within`` if still missing; the focus share
    forces a focus item (of the most under-served area) when the queue falls
    behind it; otherwise the best MMR value wins.  With a budget each pick is
    the best item that still fits (ordered greedy packing); with
    ``defer_long_steps`` a path position none of whose steps fits what is left
    is passed over (the frontier moves on), unless it is the last one reachable.
    With ``look_ahead_max``, off-path items of a later stage than the path's that ``match``
    does not ask for are picked at most that many times while anything else is available (a
    held beginner's later-stage focus items count among them: they wait for the basics, and
    one of them, not one of them and a red-team tool, shows where the focus leads).
    """
    rows = pool.rows
    # Similarities to a picked item are computed when it is picked: one
    # sparse mat-vec over the pool per pick instead of a pool x pool product
    # (common terms make that product quadratic in the pool size). The pool's rows
    # are gathered only once a second pick needs them (`next` never does).
    block: sp.csr_matrix | None = None
    # Relevance is used as is (standard MMR): its main term is a cosine, so
    # it is on the scale of the similarity penalty.  Rescaling it to a max of
    # 1 would let a near-duplicate of a weakly relevant top item through.
    relevance = pool.relevance
    cost = model.minutes[rows].astype(np.float64)
    left = float(budget) if budget is not None else np.inf
    group_of, free, position = pool.group_of, pool.free, pool.position
    groups = pool.groups
    remaining = [g.pending for g in groups]
    frontier = 0
    off_progression = (group_of < 0) & ~free
    within_cap = model.difficulty[rows] <= cap
    serves = match[rows] > 0
    area_count = dict.fromkeys(focus, 0)
    # Which pool rows serve each focus area: built once, on the first pick that weighs the
    # areas against each other, and read at every such pick after it.
    area_rows: dict[str, np.ndarray] = {}
    # The learner's next step: the first path position, or the first after the positions
    # passed over because they need more time than the budget (see below).
    next_group = group_of == 0
    available = np.ones(len(rows), dtype=bool)
    nearest = np.zeros(len(rows), dtype=np.float64)  # max sim to queue so far
    picked: list[int] = []
    ahead: set[int] = set()
    n_focus = 0
    stopped_by_budget = False
    deferred: list[tuple[int, float]] = []  # (pool index, minutes left when passed over)
    stage_now = int(model.stage[list(groups[0].rows)].max()) if groups and groups[0].rows else 0
    look_ahead = off_progression & (model.stage[rows] > stage_now) & ~serves
    # Off-path items the learner's history scores at or below zero: taken only when nothing
    # else is left. MMR's diversity term favours them (they resemble nothing picked), and a
    # walk-through's beginners got red-team tools scored below zero, after a skip or a 1/5.
    weak = off_progression & (relevance <= 0)
    n_look_ahead = 0
    waiting_on = _waiting_on_entry_steps(
        model, rows, free, serves, position, off_progression, focus
    )
    while len(picked) < limit:
        while defer_long_steps and frontier < len(groups) - 1:
            front = available & (group_of == frontier)
            # Only a position whose every pending step is in the pool may be passed over.
            if int(front.sum()) != remaining[frontier] or (front & (cost <= left)).any():
                break
            if not (available & ~front & (cost <= left)).any():
                break  # nothing else fits either: the budget is full, not this step too long
            after = frontier + 1
            while after < len(groups) and remaining[after] <= 0:
                after += 1
            # Never into a later stage: basics come before production, whatever the time.
            if (
                after == len(groups)
                or not groups[after].rows
                or model.stage[list(groups[after].rows)].min() > stage_now
            ):
                break
            deferred.extend((int(i), left) for i in np.flatnonzero(front))
            if (front & next_group).any():
                # The step passed over was the next one: the next step is now the one after,
                # and the slot and the room kept for the next step are kept for it (with 30
                # minutes and an 8-hour next step, a 25-minute focus article took the queue
                # and the 15-minute step after the long one did not come).
                next_group = group_of == after
            frontier = after
        free_left = available & free
        lowest_free = position[free_left].min() if free_left.any() else 0
        in_order = (
            off_progression | (group_of == frontier) | (free_left & (position == lowest_free))
        )
        ok = available & in_order & (cost <= left)
        if not ok.any():
            stopped_by_budget = bool((available & in_order).any())
            break
        if (
            look_ahead_max is not None
            and n_look_ahead >= look_ahead_max
            and (ok & ~look_ahead).any()
        ):
            ok &= ~look_ahead
        if (ok & ~weak).any():
            ok &= ~weak
        if waiting_on:
            held = np.zeros(len(rows), dtype=bool)
            for entry, waiters in waiting_on:
                if available[entry] and cost[entry] <= left:
                    held |= waiters
            if (ok & ~held).any():
                ok &= ~held
        if (ok & within_cap).any():
            ok &= within_cap
        elif (ok & (group_of == frontier)).any():
            # Above the level, the next path step comes first: it opens the
            # rest of the path, which may be back at the learner's level.
            ok &= group_of == frontier
        slot = len(picked)
        required_focus = int((slot + 1) * focus_share + 1e-9)
        # Focus steps ahead of the path that wait behind the lowest one (they keep path order
        # among themselves): an area served only by them is reached through that lowest one.
        unlock = free_left & (position == lowest_free)
        waiting = free_left & (position > lowest_free)
        underserved = functools.partial(
            _most_underserved,
            model,
            rows,
            area_rows,
            focus=focus,
            area_count=area_count,
            n_focus=n_focus,
            waiting=waiting,
            unlock=unlock,
        )

        if slot + 1 < next_step_within and np.isfinite(left):
            # Until the next step's slot, a pick leaves room for the next step: with 20
            # minutes, a 20-minute focus article took the whole budget and the 10-minute step
            # the queue's note calls the start of the path never came.
            next_fits = available & next_group & (cost <= left)
            if next_fits.any():
                room = left - float(cost[next_fits].min())
                leaves_room = ok & (next_group | (cost <= room))
                if leaves_room.any():
                    ok = leaves_room
        if slot + 1 == next_step_within and (ok & next_group).any():
            ok &= next_group
        elif n_focus < required_focus and (ok & serves).any():
            ok = underserved(ok & serves, forced=True)
        value = mmr_lambda * relevance - (1.0 - mmr_lambda) * nearest
        value[~ok] = -np.inf
        best = int(np.argmax(value))
        if serves[best] and len(focus) > 1:
            # A focus pick of its own accord honours the weights between the areas too: with
            # RBAC and secrets both "Main focus", five secrets items came before any on RBAC.
            balanced = underserved(ok & serves, forced=False)
            if not balanced[best]:
                value[~balanced] = -np.inf
                best = int(np.argmax(value))
        picked.append(best)
        available[best] = False
        n_look_ahead += int(look_ahead[best])
        if free[best] and group_of[best] != frontier:
            ahead.add(best)
        if serves[best]:
            n_focus += 1
            for area in model.areas[rows[best]]:
                if area in area_count:
                    area_count[area] += 1
        if len(picked) < limit:
            if block is None:
                block = compact_rows(model.matrix, rows)
            picked_row = np.zeros(block.shape[1], dtype=np.float32)
            lo, hi = block.indptr[best], block.indptr[best + 1]
            picked_row[block.indices[lo:hi]] = block.data[lo:hi]
            nearest = np.maximum(nearest, block @ picked_row)
        left -= cost[best]
        group = int(group_of[best])
        if group >= 0:
            remaining[group] -= 1
            while frontier < len(groups) and remaining[frontier] <= 0:
                frontier += 1
    if fill_budget and stopped_by_budget and left > 0:
        _fill_budget(picked, available, off_progression, cost, left, within_cap, serves, relevance)
    # Report the steps actually passed over: the next one, and those before a later step
    # the queue took (not the ones it merely looked past on the way to an off-path item).
    reached = max((int(group_of[i]) for i in picked), default=-1)
    kept = [(i, room) for i, room in deferred if group_of[i] == 0 or group_of[i] < reached]
    return _Packed(picked, ahead, stopped_by_budget, kept)


def _waiting_on_entry_steps(
    model: Model,
    rows: np.ndarray,
    free: np.ndarray,
    serves: np.ndarray,
    position: np.ndarray,
    off_progression: np.ndarray,
    focus: Mapping[str, float],
) -> list[tuple[int, np.ndarray]]:
    """Within a focus area, its first step on the path before its off-path items: pairs of
    (that step's pool index, the off-path items that wait for it while it is open and fits).

    "Role Based Access Control Good Practices" (off the path) came second in an RBAC
    learner's queue and "Using RBAC Authorization", the path's introduction, eighth (a
    walk-through). Only steps that may be taken ahead of the path (``free``) are waited
    for: a step the learner is not ready for holds nothing, so a beginner still gets a look
    ahead at the area. An off-path item waits for the areas it serves that weigh most in
    the learner's focus, not for every area it touches."""
    if not focus:
        return []
    entry_of: dict[str, int] = {}
    for index in np.flatnonzero(free & serves):
        for area in model.areas[rows[index]]:
            if area in focus and (
                area not in entry_of or position[index] < position[entry_of[area]]
            ):
                entry_of[area] = int(index)
    if not entry_of:
        return []
    waiters = {area: np.zeros(len(rows), dtype=bool) for area in entry_of}
    for index in np.flatnonzero(off_progression & serves):
        mine = [area for area in model.areas[rows[index]] if area in focus]
        if not mine:
            continue
        top = max(focus[area] for area in mine)
        for area in mine:
            if focus[area] == top and area in waiters:
                waiters[area][index] = True
    return [(entry_of[area], mask) for area, mask in waiters.items() if mask.any()]


def _most_underserved(
    model: Model,
    rows: np.ndarray,
    area_rows: dict[str, np.ndarray],
    candidates: np.ndarray,
    focus: Mapping[str, float],
    area_count: Mapping[str, int],
    n_focus: int,
    forced: bool,
    waiting: np.ndarray,
    unlock: np.ndarray,
) -> np.ndarray:
    """The ``candidates`` serving the focus area furthest below its share of the focus items
    so far (weights between areas respected; ties by name). When none serves such an area
    but focus steps ahead of the path that do are ``waiting`` behind the lowest one, that
    lowest one, if it is a candidate, opens the way to them (with RBAC and secrets both
    "Main focus", the RBAC steps waited behind step 28 while secrets pages came first). When
    nothing leads to such an area: a ``forced`` focus pick takes the area nearest its share;
    another is left to relevance (all the candidates). ``area_rows`` caches each area's rows
    among ``rows``."""
    total_weight = sum(focus.values())
    deficits = {a: w / total_weight * (n_focus + 1) - area_count[a] for a, w in focus.items()}
    for area in sorted(deficits, key=lambda a: (-deficits[a], a)):
        if deficits[area] <= 0 and not forced:
            break
        if area not in area_rows:
            area_rows[area] = np.fromiter(
                (area in model.areas[r] for r in rows), dtype=bool, count=len(rows)
            )
        serving: np.ndarray = candidates & area_rows[area]
        if serving.any():
            return serving
        if (waiting & area_rows[area]).any():
            opening: np.ndarray = candidates & unlock
            if opening.any():
                return opening
    return candidates


def _fill_budget(
    picked: list[int],
    available: np.ndarray,
    off_path: np.ndarray,
    cost: np.ndarray,
    left: float,
    within_cap: np.ndarray,
    serves: np.ndarray,
    relevance: np.ndarray,
) -> None:
    """Use more of the budget by swapping picked off-path items for longer ones, in place.

    Greedy packing can strand a gap ("20 minutes taken, nothing open lasts
    10 or less").  From the last pick backwards, an off-path item is swapped
    for the longest unpicked off-path item that still fits in its length plus
    the gap and is nearly as relevant (:data:`FILL_SWAP_MIN_RELEVANCE`); it must
    be at the learner's level if the item it replaces was, and serve the focus
    if it did.  Path steps are never swapped, so path order and the next step's
    slot are untouched.
    """
    for slot in range(len(picked) - 1, -1, -1):
        if left <= 0:
            break
        old = picked[slot]
        if not off_path[old]:
            continue
        fits = available & off_path & (cost > cost[old]) & (cost <= cost[old] + left)
        fits &= relevance >= FILL_SWAP_MIN_RELEVANCE * relevance[old]
        if within_cap[old]:
            fits &= within_cap
        if serves[old]:
            fits &= serves
        if not fits.any():
            continue
        new = int(np.flatnonzero(fits)[np.argmax(cost[fits])])
        left -= cost[new] - cost[old]
        picked[slot] = new
        available[new] = False
        available[old] = True
