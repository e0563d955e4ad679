"""Plain input/output records of the recommender engine.

The Django layer converts ORM rows into these frozen dataclasses, so the engine
never touches the database and can be unit-tested (and pickled) on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

#: Learning stages, in the order a newcomer should meet them.
STAGES: Final = ("getting-started", "production-ready", "security")
#: Interaction states accepted by :class:`Interaction`.
STATES: Final = ("planned", "in_progress", "completed", "skipped")
#: Reason kinds attached to a :class:`Recommendation`.
REASON_KINDS: Final = (
    "similar_to",
    "shared_terms",
    "focus",
    "path_step",
    "cold_start",
    "planned",
    "level",
)
#: Why a queue is shorter than asked (:attr:`QueueResult.shortfall`).
SHORTFALLS: Final = ("finished", "budget", "waiting")


@dataclass(frozen=True, slots=True)
class Document:
    """One approved resource of the catalog.

    ``tags`` and ``areas`` are slugs; ``path_position`` is the 1-based position
    on the learning path (``None`` when the resource is not on the path);
    ``minutes`` may be unknown; ``popularity`` is any non-negative number
    (e.g. completions) and is only used as a weak prior.
    """

    id: int
    title: str
    summary: str
    tags: tuple[str, ...]
    areas: tuple[str, ...]
    kind: str
    stage: str
    difficulty: int
    minutes: int | None
    path_position: int | None
    popularity: float = 0.0

    def __post_init__(self) -> None:
        # Fail loudly on bad rows: a silent difficulty of 0 or 7 would break
        # the "do not jump above the learner's level" rule in subtle ways.
        if self.difficulty not in (1, 2, 3):
            raise ValueError(f"document {self.id}: difficulty must be 1-3")
        if self.path_position is not None and self.path_position < 1:
            raise ValueError(f"document {self.id}: path_position is 1-based")


@dataclass(frozen=True, slots=True)
class Interaction:
    """What a learner did with one resource, ``age_days`` since last update.

    ``known``: completed without being read here (the learner said they know it). It
    satisfies the path like any completion, but says nothing of their taste and is not
    where they took up the path.  ``later``: saved and put off for now ("Not now"): not
    recommended, and a path step put off does not hold back the steps after it.
    ``returned``: put off, and its day has come: saved again, and its reason says it is back.
    """

    doc_id: int
    state: str
    rating: int | None = None
    age_days: float = 0.0
    known: bool = False
    later: bool = False
    returned: bool = False

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"unknown interaction state {self.state!r}")
        if self.rating is not None and not 1 <= self.rating <= 5:
            raise ValueError("rating must be 1-5")
        if self.known and self.state != "completed":
            raise ValueError("only a completion can be known")
        if (self.later or self.returned) and self.state != "planned":
            raise ValueError("only a saved resource can be put off")
        if self.later and self.returned:
            raise ValueError("a resource put off is back only once its day has come")


@dataclass(frozen=True, slots=True)
class Learner:
    """Everything the engine knows about one learner.

    ``focus`` maps security-area slugs to a weight in ``(0, 1]``; ``level`` is
    the self-declared level 1-3 (``None`` means "infer it from history");
    ``minutes_budget`` is the default time budget for a queue.  ``replaced`` are documents
    whose advice is outdated and whose successor the learner has completed (Katacoda, shut
    down, once Minikube is done): unless the learner did something with one themselves, it
    is not recommended and holds back no path step after it, as one put off does not.
    """

    interactions: tuple[Interaction, ...] = ()
    focus: dict[str, float] = field(default_factory=dict)
    level: int | None = None
    minutes_budget: int | None = None
    replaced: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an item was recommended.

    ``kind`` is one of :data:`REASON_KINDS`, ``text`` is a sentence shown to
    the learner, ``data`` carries the machine-readable details (ids, scores,
    terms) so the UI can link or re-phrase it.
    """

    kind: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One queue entry: the document, its relevance score and the reasons.

    ``score`` is the relevance used for ranking *before* diversification, so
    scores along a queue are not necessarily decreasing.
    """

    doc_id: int
    score: float
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True, slots=True)
class QueueResult:
    """A queue with what a learner needs to trust its length.

    ``items`` are in queue order.  ``open_count`` is how many resources were
    open to the learner (eligible and unseen) when the queue was built, after
    any relaxation of the difficulty cap; ``relaxed_level`` is the difficulty
    the cap was raised to when too few resources at the learner's level were
    open (``None``: not relaxed).  ``minutes_used`` counts unknown lengths as
    15 minutes, like the packing does.  ``shortfall`` says why the queue is
    shorter than ``limit`` (one of :data:`SHORTFALLS`, ``None`` when it is
    full) and ``detail`` says it in words.  ``deferred`` are the ids of path
    steps the queue passed over because they need more than the minutes budget
    (in path order), and ``note`` says so in words, after ``path_note``: where the path starts
    and where the focus comes in. ``note`` is ``path_note``, ``level_note`` (a beginner
    past the basics whose queue went above their level) then ``deferred_note`` (the steps
    passed over), the pages' points of it.
    """

    items: tuple[Recommendation, ...]
    limit: int
    minutes_budget: int | None = None
    minutes_used: float = 0.0
    open_count: int = 0
    relaxed_level: int | None = None
    shortfall: str | None = None
    detail: str = ""
    deferred: tuple[int, ...] = ()
    note: str = ""
    path_note: str = ""
    # A declared beginner past the basics whose queue went above their level: what to do.
    level_note: str = ""
    # The level ``path_note`` or ``level_note`` asks the learner to set, if one does.
    level_offer: int | None = None
    deferred_note: str = ""

    @property
    def fill_ratio(self) -> float:
        """Share of the ``limit`` slots filled (1.0 for a full queue)."""
        return len(self.items) / self.limit if self.limit > 0 else 1.0

    @property
    def budget_fill(self) -> float | None:
        """Share of the minutes budget used (``None`` without a budget)."""
        if self.minutes_budget is None or self.minutes_budget <= 0:
            return None
        return min(self.minutes_used / self.minutes_budget, 1.0)
