"""Item-to-item similarity and label suggestions for curators."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

import numpy as np

from .model import Model
from .records import Document

# Summed cosine of the voting neighbours under which a suggestion's shares are scaled down. A
# text that clearly belongs with catalog documents reaches it (a specific title and summary:
# 0.5 to 0.6 over five neighbours in the seed catalog); a few generic words do not.
MIN_EVIDENCE = 0.3
# Weight, in the similarity of two resources, of the overlap of their security areas (the
# cosines of related resources are 0.1 to 0.4 in the seed catalog; at 0.1, and as a share of
# all their areas, the Network Policies page's similar resources were still mostly pages on
# other areas).
SHARED_AREAS_WEIGHT = 0.2


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest positive scores, best first."""
    candidates = np.flatnonzero(scores > 0)
    if len(candidates) > k:
        part = np.argpartition(-scores[candidates], k - 1)[:k]
        candidates = candidates[part]
    return candidates[np.argsort(-scores[candidates], kind="stable")]


def similar(model: Model, doc_id: int, *, limit: int = 5) -> list[tuple[int, float]]:
    """Nearest documents to ``doc_id`` as ``(doc_id, similarity)``, best first.

    The similarity is about what the resources teach, not their format: the cosine of the
    two rows without the ``kind:`` label (on its own it made the Secrets page's nearest
    resources four other documentation pages, on RBAC and network policies), plus
    :data:`SHARED_AREAS_WEIGHT` times the overlap of their security areas (the cosine of the
    two sets: shared over the geometric mean of their sizes, so a broad guide covering nine
    areas still counts for each; an article on secrets is like the Secrets page), scaled to
    at most 1. Only documents
    with a positive score are returned (so the list can be shorter than ``limit``); the
    document itself is never included.  Raises ``KeyError`` if ``doc_id`` is not in the model.
    """
    row = model.index[doc_id]
    query = model.matrix[row].copy()
    kind_columns = model.derived.get("kind_columns")
    if not isinstance(kind_columns, np.ndarray):  # found once per model, not at every call
        kind_columns = model.derived["kind_columns"] = np.array(
            [
                model.n_text_features + column
                for token, column in model.meta_vocabulary.items()
                if token.startswith("kind:")
            ],
            dtype=np.int64,
        )
    query.data[np.isin(query.indices, kind_columns)] = 0.0
    sims = np.asarray((query @ model.matrix_t).todense(), dtype=np.float32).ravel()
    mine = model.areas[row]
    if mine:
        shared = np.zeros(model.n_docs, dtype=np.float32)
        for area in mine:
            shared[model.area_rows[area]] += 1.0
        sizes = np.sqrt(len(mine) * np.maximum(model.n_areas, 1).astype(np.float32))
        sims += SHARED_AREAS_WEIGHT * shared / sizes
    sims /= 1.0 + SHARED_AREAS_WEIGHT  # a similarity of at most 1, as the cosine was
    sims[row] = 0.0
    return [(int(model.doc_ids[r]), float(sims[r])) for r in _top(sims, limit)]


def suggest_labels(model: Model, text_doc: Document, *, k: int = 5) -> dict[str, Any]:
    """Suggest tags, areas, stage and difficulty for a pending document.

    ``text_doc`` is vectorised with the fitted vocabulary — its text plus any
    tags/areas the curator already set; its kind and stage are ignored since
    a pending row often carries defaults there — and the ``k`` most similar
    catalog documents vote,
    each with its cosine as weight.  A suggestion's score is the share of the
    total vote carrying it (0..1, e.g. ``('rbac', 0.8)``), the total counted as at least
    :data:`MIN_EVIDENCE`: a text sharing a word or two with one document is not labelled
    with full confidence.  Returns::

        {"tags": [(slug, score), ...], "areas": [(slug, score), ...],
         "stage": (stage, score) | None, "difficulty": (1-3, score) | None,
         "neighbours": [doc_id, ...], "similarities": [cosine, ...]}

    Lists are sorted by score, then slug; everything is empty/``None`` when no
    catalog document shares a term with the text.
    """
    query = model.vectorize([replace(text_doc, kind="", stage="")])
    sims = np.asarray((query @ model.matrix_t).todense(), dtype=np.float32).ravel()
    own = model.index.get(text_doc.id)
    if own is not None:
        sims[own] = 0.0  # a re-submitted document must not vote for itself
    rows = _top(sims, k)
    # Shares of a vote this weak are no evidence: "Weekly notes. A few links this week." has one
    # neighbour at a cosine of 0.1, whose labels would each carry the whole vote (ingress,
    # pods: 100%). Below MIN_EVIDENCE of summed cosine the shares shrink in proportion.
    total = max(float(sims[rows].sum()), MIN_EVIDENCE)
    tags: dict[str, float] = defaultdict(float)
    areas: dict[str, float] = defaultdict(float)
    stages: dict[str, float] = defaultdict(float)
    levels: dict[int, float] = defaultdict(float)
    for row in rows:
        weight = float(sims[row]) / total
        for tag in model.tags[row]:
            tags[tag] += weight
        for area in model.areas[row]:
            areas[area] += weight
        stages[model.stage_names[int(model.stage[row])]] += weight
        levels[int(model.difficulty[row])] += weight

    def ranked(votes: dict[Any, float]) -> list[tuple[Any, float]]:
        return sorted(
            ((key, round(v, 4)) for key, v in votes.items()), key=lambda kv: (-kv[1], kv[0])
        )

    stage = ranked(stages)
    level = ranked(levels)
    return {
        "tags": ranked(tags),
        "areas": ranked(areas),
        "stage": stage[0] if stage else None,
        "difficulty": level[0] if level else None,
        "neighbours": [int(model.doc_ids[r]) for r in rows],
        "similarities": [round(float(sims[r]), 4) for r in rows],
    }
