"""Reasons in words: why each queued item was recommended.

Built after the queue is chosen, so explaining costs nothing for the items
that were not picked.  No ORM; the Django layer passes display names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import scipy.sparse as sp

from .model import Model, compact_rows
from .profile import LearnerState
from .records import Reason
from .rules import PathGroup, Readiness
from .text import is_reason_word

#: Minimum cosine for a "Close to ..." reason.
SIMILAR_REASON_MIN: Final = 0.15
#: "Close to …" also needs a topic in common: a security area, or a tag at most this share of
#: the catalog has. Words alone made "Using RBAC Authorization" close to "Network Policies"
#: (0.22: both Kubernetes documentation pages) and "Docker security" close to it too (0.17);
#: "kubernetes", "docker" and "best-practices" are each on more than 15% of the seed catalog.
CLOSE_TAG_SHARE: Final = 0.15
#: Number of terms quoted in an "Also about …, like what you read" reason.
SHARED_TERMS: Final = 3
#: A term or label found in more than this share of the catalog explains
#: nothing ("kubernetes" in a Kubernetes catalog) and is never quoted.
MAX_TERM_SHARE: Final = 0.25

# How a learner reads a stage's name in a sentence.
STAGE_WORDS: Final = {
    "getting-started": "getting started",
    "production-ready": "production",
    "security": "security",
}

# Endings of the path and focus reasons that recommender.queue rewrites when it reads an
# outdated step after its successor: the successor becomes the next step, not "ahead".
NEXT_STEP_SUFFIX: Final = " — your next step"
AHEAD_OF_PATH: Final = " — ahead of your path"
#: A path step before the learner's entry point that the queue offers (rules.behind_rows).
BEHIND_ENTRY: Final = "before where yours goes on"

# The catalog's difficulty levels in words (catalog.models.Difficulty; the engine has no ORM).
DIFFICULTY_WORDS: Final = {1: "Beginner", 2: "Intermediate", 3: "Advanced"}

_READY_PHRASES: Final[dict[Readiness, str]] = {
    "first": "it needs no earlier stage",
    "basics": "you have the basics it needs",
    "level": "your level says you have the basics it needs",
    "path": "your path has reached its stage",
}

_STATE_PHRASES: Final = {
    "completed": "which you completed",
    "in_progress": "which you are reading",
    "planned": "which is on your list",
}


def area_label(slug: str, area_names: Mapping[str, str]) -> str:
    """Display name of an area: ``area_names`` or a prettified slug."""
    if slug in area_names:
        return area_names[slug]
    if len(slug) <= 4 and slug.isalpha():
        return slug.upper()  # rbac -> RBAC, pss -> PSS
    return slug.replace("-", " ").replace("_", " ").capitalize()


@dataclass(frozen=True, slots=True)
class ReasonContext:
    """What every reason of one queue needs to know."""

    model: Model
    state: LearnerState
    groups: list[PathGroup]
    follows_path: bool
    jumped: bool
    entry_stage: int  # the stage of the learner's entry point (rules.entry_position)
    liked: sp.csr_matrix
    area_names: Mapping[str, str]
    tag_names: Mapping[str, str]
    tag_spelling: Mapping[str, str]  # a tag's name by its lower case: "docker" -> "Docker"
    meta_names: list[str]
    ahead: Mapping[int, Readiness]
    cap: int
    open_at_level: int
    disliked: sp.csr_matrix | None = None  # skipped or rated low: not "like what you read"


def reasons_for(
    context: ReasonContext,
    row: int,
    depth: int,
    taken_ahead: bool,
    similar: Reason | None,
) -> tuple[Reason, ...]:
    """Explain one recommended row, most important reason first."""
    model, state = context.model, context.state
    reasons: list[Reason] = []
    served = sorted(
        (a for a in model.areas[row] if a in state.focus),
        key=lambda a: (-state.focus[a], a),
    )
    names = [area_label(a, context.area_names) for a in served]
    if taken_ahead:
        position = int(model.path_position[row])
        why = context.ahead[row]
        if why == "path" and context.jumped and not state.on_path:
            # A focused newcomer entered the path at their focus: nothing was read to get
            # here, and "ahead of your path" would contradict where their path starts.
            text = f"Covers your focus: {', '.join(names)} — step {position} of the path"
        else:
            text = (
                f"Covers your focus: {', '.join(names)}{AHEAD_OF_PATH}, "
                f"step {position}; {_READY_PHRASES[why]}"
            )
        reasons.append(
            Reason(
                "focus",
                text,
                {"areas": served, "ahead": True, "position": position, "ready": why},
            )
        )
    elif depth < 0 and model.path_position[row] > 0:
        # A step before where the path goes on (rules.behind_rows): saved, or on a focus area
        # that did not start the path.
        position = int(model.path_position[row])
        if served:
            text = f"Covers your focus: {', '.join(names)} — step {position}, {BEHIND_ENTRY}"
            reasons.append(
                Reason("focus", text, {"areas": served, "position": position, "behind": True})
            )
        else:
            reasons.append(
                Reason(
                    "path_step",
                    f"Step {position} of the learning path, {BEHIND_ENTRY}",
                    {"position": position, "next": False, "behind": True},
                )
            )
    elif depth >= 0:
        position = context.groups[depth].position
        # "your next step" only makes sense once the learner is on the path.
        if depth == 0 and context.jumped and not state.on_path:
            # Without a focus, the declared level moved the start (rules.level_entry).
            suffix = (
                " — the first step on your focus"
                if state.focus
                else " — where your level starts your path"
            )
        elif depth == 0 and state.on_path:
            suffix = NEXT_STEP_SUFFIX
        else:
            suffix = ""
        reasons.append(
            Reason(
                "path_step",
                f"Step {position} of the learning path{suffix}",
                {"position": position, "next": depth == 0},
            )
        )
    if served and not taken_ahead and not (depth < 0 and model.path_position[row] > 0):
        reasons.append(Reason("focus", f"Covers your focus: {', '.join(names)}", {"areas": served}))
    difficulty = int(model.difficulty[row])
    if difficulty > context.cap:
        # The learner's level named, and no count: a walk-through's beginner, past the basics,
        # read "only 4 resources … are left for you now" beside five such items in the queue
        # (the path opens more of them as the cap goes up).
        # The level named, and where it comes from when the learner did not declare one: one
        # who chose "Not sure" was told of "your level" with no word that it was worked out.
        declared = state.declared_level
        word = DIFFICULTY_WORDS.get(state.level, f"level {state.level}")
        if declared is not None:
            level = f" ({word})"
        elif "completed" in state.state.values():  # as learner_state infers it
            level = f" ({word}, from what you completed)"
        else:
            level = f" ({word} until you set one or complete something)"
        reasons.append(
            Reason(
                "level",
                f"{DIFFICULTY_WORDS.get(difficulty, f'Difficulty {difficulty}')}, above your "
                f"level{level}: too few resources at or near it come next for you to fill "
                "your queue",
                {"difficulty": difficulty, "open_at_level": context.open_at_level},
            )
        )
    if similar is not None:
        reasons.append(similar)
    # The focus areas named above are not named again ("Covers your focus: Container
    # hardening" read "Also about container hardening" next to it).
    terms = _shared_terms(context, row, named=names if served else ())
    if terms:
        # A term with "and" of its own ("resource limits and quotas") is quoted, and so are
        # the others with it: "a, b and c and d" read as four things.
        listed = [f"“{term}”" for term in terms] if any(" and " in t for t in terms) else terms
        reasons.append(
            Reason(
                "shared_terms",
                f"Also about {and_list(listed)}, like what you read",
                {"terms": terms},
            )
        )
    if row in state.returned:
        # Put off with "Not now", not saved: the learner did not choose it, they postponed it.
        reasons.append(Reason("planned", "Back from “Not now”: you put it off", {"back": True}))
    elif row in state.planned:
        reasons.append(Reason("planned", "You saved it for later", {}))
    # Picked for the learner's focus or as a path step: that is the reason, and a newcomer's
    # "for variety" or "a good starting point" would contradict it.
    explained = any(reason.kind in ("path_step", "focus") for reason in reasons)
    if (state.is_new or not reasons) and not (explained and depth != 0):
        read = has_read(state)
        stage = model.stage_names[int(model.stage[row])]
        data = {"difficulty": difficulty, "stage": stage}
        if depth == 0 and not state.on_path and context.follows_path and not context.jumped:
            text = "Where the learning path starts — a good first step"
        elif explained:
            text = ""
        elif not read and int(model.stage[row]) > context.entry_stage:
            # After the stage the path starts in: picked for variety (MMR), not to begin with.
            text = (
                f"A look ahead at the {STAGE_WORDS.get(stage, stage)} stage, for variety — "
                "rate what you read to personalise this list"
            )
        elif not read and int(model.stage[row]) < context.entry_stage:
            # A focus (or, without one, the level) started the path in a later stage: this one
            # is behind it, not ahead.
            text = (
                f"From the {STAGE_WORDS.get(stage, stage)} stage, before where your "
                f"{'focus' if state.focus else 'level'} starts your path, for variety — rate "
                "what you read to personalise this list"
            )
        elif not read and difficulty <= 1:
            # Nothing read yet (saved, put off or known items are not reading): as for a
            # newcomer, a place to begin, not a claim about what they read.
            text = "A good starting point — rate what you read to personalise this list"
        elif not read:
            # Not a beginner's item: "a good starting point" was said of GoScan, an advanced
            # tool, in a walk-through. It is in the stage the path starts in, for variety.
            text = (
                f"From the {STAGE_WORDS.get(stage, stage)} stage, where your path starts, for "
                "variety — rate what you read to personalise this list"
            )
        elif model.popularity[row] > 0:
            text = "Other learners completed it"
        else:
            # Nothing above explains it: the diversity term took it, the text match with what
            # was read too weak to quote. "Picked from what you have read so far" was said of a
            # tools list after one introduction was read (a walk-through: "drifts off-topic");
            # claiming popularity here would be made up too.
            # Later than the stage the learner is in now (their next path step's), as the
            # queue's own look-ahead rule counts it.
            front = context.groups[0].rows if context.groups else ()
            now = int(model.stage[list(front)].max()) if front else context.entry_stage
            later = int(model.stage[row]) > now
            text = (
                f"A look ahead at the {STAGE_WORDS.get(stage, stage)} stage, for variety"
                if later
                else f"From the {STAGE_WORDS.get(stage, stage)} stage, for variety"
            )
        if text:
            reasons.append(Reason("cold_start", text, data))
    return tuple(reasons)


def similar_reasons(model: Model, state: LearnerState, rows: np.ndarray) -> dict[int, Reason]:
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
    shares: dict[str, float] = {}
    for i, row in enumerate(rows):
        # The nearest item above the floor that shares a topic with it; few are above it.
        above = np.flatnonzero(sims[i] >= SIMILAR_REASON_MIN)
        best = next(
            (
                int(h)
                for h in above[np.argsort(-sims[i, above], kind="stable")]
                if _share_a_topic(model, int(row), history[h], shares)
            ),
            None,
        )
        if best is None:
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


def _share_a_topic(model: Model, a: int, b: int, shares: dict[str, float]) -> bool:
    """Rows ``a`` and ``b`` share a security area, or a tag few documents have
    (:data:`CLOSE_TAG_SHARE`; ``shares`` keeps the tags' shares read so far)."""
    if not model.areas[a].isdisjoint(model.areas[b]):
        return True
    for tag in set(model.tags[a]) & set(model.tags[b]):
        if tag not in shares:
            shares[tag] = _tag_share(model, tag)
        if shares[tag] <= CLOSE_TAG_SHARE:
            return True
    return False


def _tag_share(model: Model, tag: str) -> float:
    """Share of the catalog's documents that carry ``tag``, read back from its idf (fit's
    smooth idf: ln((1 + n) / (1 + df)) + 1)."""
    column = model.meta_vocabulary.get(f"tag:{tag}")
    if column is None:
        return 1.0
    n = model.n_docs
    df = (1.0 + n) / float(np.exp(float(model.meta_idf[column]) - 1.0)) - 1.0
    return df / n


def has_read(state: LearnerState) -> bool:
    """Whether the learner finished or started reading anything (known items were not read)."""
    return read_count(state) > 0


def read_count(state: LearnerState) -> int:
    """How many items the learner finished or started reading (known items were not read)."""
    return sum(
        1
        for row, s in state.state.items()
        if s in ("completed", "in_progress") and row not in state.known
    )


def _in_sentence(label: str) -> str:
    """An area's name inside a sentence, beside lower-case tags and words: "container
    hardening", but "RBAC and authorization" (an acronym keeps its capitals)."""
    first = label.split(" ", 1)[0]
    return label if first.isupper() or not label else label[0].lower() + label[1:]


def and_list(words: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _shared_terms(context: ReasonContext, row: int, named: Sequence[str] = ()) -> list[str]:
    """Labels (and words that are tags' names) contributing most to the match with the liked
    history, and not outweighed there by what the learner skipped or rated low.

    Only discriminative ones: a term or label found in more than
    :data:`MAX_TERM_SHARE` of the catalog is skipped, and so is a word on
    the explanation stop list (:func:`~recommender.engine.text.is_reason_word`),
    and a label none of whose words may explain ("best practices", "hands on").
    Curated labels (tags, security areas) come first, in their display form,
    then text terms.  A term is skipped when it repeats a word already
    quoted or ``named`` (the focus areas the card names), a plural as its
    singular, so the reason reads "etcd encryption, secrets" rather than
    "etcd encryption, etcd", and "pods" once.
    """
    model, liked = context.model, context.liked
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
    indptr = model.matrix_t.indptr
    most = max(MAX_TERM_SHARE * model.n_docs, 2.0)
    df = indptr[common + 1] - indptr[common]
    keep = (contrib > 0) & (df <= most)
    disliked = context.disliked
    if disliked is not None and disliked.nnz:
        # A term the learner's skips and low ratings weigh at least as much as what they
        # liked is not something they liked.
        at = np.searchsorted(disliked.indices, common)
        found = at < disliked.nnz
        found[found] = disliked.indices[at[found]] == common[found]
        against = np.zeros(len(common), dtype=np.float64)
        against[found] = disliked.data[at[found]]
        keep &= liked.data[in_liked] > against
    common, contrib = common[keep], contrib[keep]
    vocabulary = model.text.vocabulary
    # Stage names ("production-ready") are a coarse label shared by a third
    # of the catalog: their words explain nothing either.
    stage_words = {w for name in model.stage_names for w in name.split("-")}

    def discriminative(term: str) -> bool:
        column = vocabulary.get(term)
        frequent = column is not None and indptr[column + 1] - indptr[column] > most
        # A phrase ("best practices") by its words, as a label is (explains below): whole, it
        # was on no stop list, and "Also about Best practices" reached a walk-through.
        return is_reason_word(term) and explains(term) and term not in stage_words and not frequent

    n_text = model.n_text_features
    order = common[np.argsort(-contrib, kind="stable")]
    terms: list[str] = []

    def words(term: str) -> set[str]:
        return {word.removesuffix("s") for word in term.lower().replace("-", " ").split()}

    seen: set[str] = {word for name in named for word in words(name)}

    def quote(term: str) -> bool:
        """Add ``term`` unless it repeats a quoted word; True when the list is full."""
        parts = words(term)
        if not parts & seen:
            terms.append(term)
            seen.update(parts)
        return len(terms) == SHARED_TERMS

    def explains(label: str) -> bool:
        return any(is_reason_word(word) for word in label.split())

    # Labels first (few per document), then words in order of contribution,
    # stopping as soon as the reason is full: a row shares dozens of terms.
    for col in order[order >= n_text]:
        kind, _, slug = context.meta_names[int(col) - n_text].partition(":")
        label = slug.replace("-", " ")
        # A tag by its name, as Browse's Topic filter lists it ("Docker", "kubectl"); by its
        # slug's words when no name is given.
        if kind == "tag" and explains(label) and quote(context.tag_names.get(slug, label)):
            return terms
        if kind == "area" and quote(_in_sentence(area_label(slug, context.area_names))):
            return terms
    # From the text, only a word that is a tag's name, as the tag reads ("docker" beside
    # "Docker" from the tags read as two spellings of one thing, a walk-through). Other words
    # and phrases are not quoted: a walk-through read "also about github", "route and
    # tutorial", "application" and "julia evans" (an author) as matches that explain nothing.
    spelling = context.tag_spelling
    for col in order[order < n_text]:
        term = model.text.term(int(col))
        if term in spelling and discriminative(term) and quote(spelling[term]):
            break
    return terms
