"""kubelearn recommender engine — plain Python, no Django.

The Django layer loads approved resources and a learner's progress, converts
them into :class:`Document`, :class:`Interaction` and :class:`Learner`, calls
:func:`fit` once per catalog change (the :class:`Model` is picklable and can be
shared across processes) and :func:`recommend` per request.

Public API::

    fit(documents) -> Model
    profile_vector(model, learner) -> scipy.sparse.csr_matrix  # (1, F), unit
    recommend(model, learner, *, limit=10, minutes=None, exclude=(),
              area_names=None, mmr_lambda=0.7) -> list[Recommendation]
    similar(model, doc_id, *, limit=5) -> list[tuple[int, float]]
    suggest_labels(model, text_doc, *, k=5) -> dict
    tokenize(text) -> list[str]

Rules of :func:`recommend`
--------------------------
Eligibility (hard rules, never broken):

* Resources the learner completed, skipped or has in progress are never
  recommended; planned ones are (with a small bonus).  ``exclude`` ids neither.
* Difficulty: ``difficulty <= level + 1`` where ``level`` is the declared
  level, else the highest difficulty the learner completed, else 1.  The level
  is not raised by items earlier in the same queue.
* Learning path — **strict global order**: a path step at position ``p`` may
  be recommended only if every path step with a position ``< p`` is completed
  or skipped (a skip satisfies a prerequisite; "in progress", "planned" and
  ``exclude`` do not).  Equal positions are alternatives of one step.  The
  queue is read in order, so after a path step is placed in the queue it
  counts as completed for the following slots: a queue may hold steps 4, 5, 6
  in that order, never 5 before 4.  Consequently a *prerequisite violation* is
  "a recommended path step some earlier step of which is neither satisfied by
  the learner nor placed earlier in the same queue"; the engine produces none
  (:mod:`recommender.evaluation` counts them with this definition).

  Why not relax the rule per stage so that a newcomer focused on RBAC can jump
  to the RBAC step of the path?  Because the relaxed rule would make the
  evaluation's violation count depend on a stage definition the learner never
  sees.  A focused newcomer is served instead by off-path resources, which are
  always eligible: the focus term ranks them first, and the first path step
  stays in the queue, behind them unless it serves the focus itself.

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
  that.  A focus learner who has not started the path gets
  ``0.1 + 0.6 * focus_match`` instead: first if the step serves the focus.
* Cold start: no history and no focus -> the first path step leads the queue
  (then the next steps and easy, popular material).  No history with a focus
  -> the earliest eligible (easiest, earliest stage) resources serving the
  focus lead the queue.
* Diversity: maximal marginal relevance (lambda 0.7, cosine between rows)
  over the 200 best eligible off-path candidates plus the reachable path steps.
* ``minutes`` (default ``learner.minutes_budget``): each pick is the best MMR
  item that still fits the remaining budget; unknown lengths count as 15.
"""

from __future__ import annotations

from .model import Model, fit
from .neighbours import similar, suggest_labels
from .profile import learner_state, profile_vector
from .ranking import focus_match, infer_level, recommend
from .records import (
    REASON_KINDS,
    STAGES,
    STATES,
    Document,
    Interaction,
    Learner,
    Reason,
    Recommendation,
)
from .text import TOKEN_PATTERN, tokenize

__all__ = [
    "REASON_KINDS",
    "STAGES",
    "STATES",
    "TOKEN_PATTERN",
    "Document",
    "Interaction",
    "Learner",
    "Model",
    "Reason",
    "Recommendation",
    "fit",
    "focus_match",
    "infer_level",
    "learner_state",
    "profile_vector",
    "recommend",
    "similar",
    "suggest_labels",
    "tokenize",
]
