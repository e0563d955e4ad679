"""kubelearn recommender engine — plain Python, no Django.

The Django layer loads approved resources and a learner's progress, converts
them into :class:`Document`, :class:`Interaction` and :class:`Learner`, calls
:func:`fit` once per catalog change (the :class:`Model` is picklable and can be
shared across processes) and :func:`recommend` per request.

Public API::

    fit(documents) -> Model
    profile_vector(model, learner) -> scipy.sparse.csr_matrix  # (1, F), unit
    recommend(model, learner, *, limit=10, minutes=None, exclude=(),
              area_names=None, tag_names=None, mmr_lambda=0.7, focus_entry=True, policy=Policy(),
              entry_avoid=())  # entry_avoid: steps a focus should not start at (outdated)
        -> list[Recommendation]
    recommend_queue(... same arguments ...) -> QueueResult   # + fill, shortfall
    similar(model, doc_id, *, limit=5) -> list[tuple[int, float]]
    suggest_labels(model, text_doc, *, k=5) -> dict
    path_entry(model, learner, *, exclude=()) -> int          # a path position
    path_start(model, learner, *, entry_avoid=()) -> int  # where the path starts, 0 if none
    path_next(model, learner, *, entry_avoid=()) -> int  # the next step's position, 0 if none
    count_violations(model, learner, doc_ids, *, path=None, strict=False) -> int
    tokenize(text) -> list[str]

Rules of :func:`recommend`
--------------------------
Eligibility (hard rules, never broken):

* Resources the learner completed, skipped or has in progress are never
  recommended; planned ones are (with a small bonus).  ``exclude`` ids neither.
* Difficulty: ``difficulty <= level + 1`` where ``level`` is the declared
  level, else the highest difficulty the learner completed, else 1.  The level
  is not raised by items earlier in the same queue.  When fewer than ``limit``
  resources are open at that cap, it is raised by one for this queue: items
  above the level are taken only when nothing at the level is available (the
  next path step first) and carry a ``level`` reason; the result's
  ``relaxed_level`` says so.
* Learning path — prerequisites with an **entry point**
  (:mod:`recommender.engine.rules`):

  - A learner without a focus enters the path at its first step, or, with a
    declared level of 2 or more, at the first step of the stage after those the
    level says they know (``rules.level_entry``).  A learner with a
    focus enters at the earliest *suitable* step serving the focus
    (difficulty <= level + 1, not excluded; a learner who declared level 1
    only in the first stage until the basics are done), unless they completed,
    started or planned an earlier path step, which then is the entry point.
  - A step at position ``p >= entry`` may be recommended only if every step
    with ``entry <= position < p`` is completed or skipped (a skip satisfies
    a prerequisite; in progress, planned and ``exclude`` do not) — or was
    placed earlier in the same queue: the queue is read in order, so a queued
    step counts as completed for the following slots (steps 4, 5, 6 in that
    order, never 5 before 4).  Steps before the entry point are not
    recommended.  Steps sharing a position do not wait for each other.
  - A *prerequisite violation* is a queued path step breaking this rule;
    the engine produces none.  :func:`count_violations` counts them for any
    queue, with ``strict=True`` for the rule without focus entry (everyone
    starts at step 1); ``recommend(..., focus_entry=False)`` follows that
    strict rule.

  - **Ahead of the path (v2).**  A path step serving the focus is also
    recommendable as soon as the learner is ready for its *stage*
    (:func:`~recommender.engine.rules.stage_readiness`: the basics — every
    first-stage step — completed or skipped, a declared level >= 2, or the
    learner's own path already at that stage), whatever the earlier steps.
    Such steps keep path order among themselves, may stand before earlier
    progression steps, and say why ("ahead of your path, step 30; you have
    the basics it needs").  They are not violations.

  Why the entry point: in the seed catalog 39 of 48 resources are path steps
  and the off-path ones serve almost no security area, so under a strict
  "everyone starts at step 1" rule a newcomer focused on RBAC could not be
  shown a single RBAC resource (the first one a newcomer may take is step 30).
  Relaxing the rule per stage would not help either: that is the sixth step
  of the security stage.  The
  entry point keeps the path order intact from where the learner starts, and
  it is sticky: once they complete, start or plan a path step, that step
  anchors the entry point.

Scoring (all terms are on a cosine-like 0..1 scale)::

    score = cos(profile, doc)                      # Rocchio profile, see below
          + 0.5  * focus_match(doc)                # 0..1, areas in focus
          + path bonus                             # path steps only
          + 0.1  if planned
          + 0.05 * popularity (log-scaled 0..1)
          + 0.1  * earliness (easy/early stage)    # learners with no history

* Profile: completed items weigh 1 (x1.5 / x1.2 for ratings 5 / 4, x0.8 for
  3, -0.5 / -1 for 2 / 1), in progress 0.6, planned 0.35, skipped -0.4, each
  halved every 90 days; focus areas are added on their ``area:<slug>``
  columns; the vector is unit length.
* Path bonus: a *path follower* (anyone who touched a path step, or has no
  focus) gets +1.0 on the next step — more than any cosine + focus sum, so it
  comes first.  Steps unlocked only by the simulated queue get 0.5 ** depth of
  that.  A focus learner who has not touched the path gets
  ``0.1 + 0.6 * focus_match`` instead, so their entry step (which serves the
  focus) comes first and later steps mix with off-path focus material.
* Cold start: no history and no focus -> the first path step leads the queue
  (then the next steps and easy, popular material).  No history with a focus
  -> the earliest suitable step serving the focus leads, followed by other
  eligible resources serving the focus (easy, early-stage ones first).
* Diversity: maximal marginal relevance (lambda 0.7, cosine between rows)
  over the 200 best eligible off-path candidates plus the reachable path steps
  and the focus steps open ahead of the path.
* Slots: the next path step is placed within the first 3; with a focus, at
  least ``0.5 * max weight`` of every queue prefix serves it when open items
  do (the area furthest below its weight share first).
* ``minutes`` (default ``learner.minutes_budget``): each pick is the best MMR
  item that still fits the remaining budget; unknown lengths count as 15.
  If a gap is left, picked off-path items are swapped for longer ones that
  fit.  :class:`QueueResult` reports ``fill_ratio``, ``budget_fill`` and, for
  a short queue, a ``shortfall`` (finished / budget / waiting) in words.
"""

from __future__ import annotations

from .model import Model, fit
from .neighbours import similar, suggest_labels
from .profile import learner_state, profile_vector
from .ranking import Policy, focus_match, infer_level, prepare, recommend, recommend_queue
from .records import (
    REASON_KINDS,
    SHORTFALLS,
    STAGES,
    STATES,
    Document,
    Interaction,
    Learner,
    QueueResult,
    Reason,
    Recommendation,
)
from .rules import count_violations, path_entry, path_next, path_start
from .text import TOKEN_PATTERN, tokenize

__all__ = [
    "REASON_KINDS",
    "SHORTFALLS",
    "STAGES",
    "STATES",
    "TOKEN_PATTERN",
    "Document",
    "Interaction",
    "Learner",
    "Model",
    "Policy",
    "QueueResult",
    "Reason",
    "Recommendation",
    "count_violations",
    "fit",
    "focus_match",
    "infer_level",
    "learner_state",
    "path_entry",
    "path_next",
    "path_start",
    "prepare",
    "profile_vector",
    "recommend",
    "recommend_queue",
    "similar",
    "suggest_labels",
    "tokenize",
]
