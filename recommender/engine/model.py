"""The fitted, picklable catalog model and :func:`fit`.

Each document becomes one L2-normalised float32 row made of two blocks:

* a text block (scikit-learn's ``TfidfVectorizer`` over title and summary,
  :class:`~recommender.engine.text.TextVectorizer`; weight 1),
* a metadata block of special tokens ``tag:<slug>``, ``area:<slug>``,
  ``kind:<kind>`` and ``stage:<stage>`` (idf-weighted, block weight
  :data:`META_WEIGHT`), so curated labels pull related resources together even
  when their wording differs.

Both blocks are normalised separately before they are weighted, so a long
summary cannot drown the labels.  Cosine similarity between two documents is a
plain dot product of their rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import scipy.sparse as sp

from .records import STAGES, Document
from .text import TextFeatures, TextVectorizer, normalize_rows

#: Weight of the (unit-norm) metadata block against the (unit-norm) text block.
#: 0.7 gives labels about a third of the squared norm of a row.
META_WEIGHT: Final = 0.7
#: Minutes assumed for a resource whose length is unknown.
DEFAULT_MINUTES: Final = 15.0


def meta_tokens(doc: Document) -> list[str]:
    """Special tokens for the labels of ``doc`` (deduplicated, ordered)."""
    tokens = [f"tag:{t}" for t in doc.tags] + [f"area:{a}" for a in doc.areas]
    if doc.kind:
        tokens.append(f"kind:{doc.kind}")
    if doc.stage:
        tokens.append(f"stage:{doc.stage}")
    return list(dict.fromkeys(tokens))


@dataclass(frozen=True, slots=True, eq=False)
class Model:
    """Everything :func:`~recommender.engine.recommend` needs.

    :func:`fit` builds one from Python objects (dicts, tuples, sklearn's
    vectoriser); :func:`~recommender.engine.storage.model_load` builds the same
    model over memory-mapped arrays, with array-backed sequences and mappings
    in place of the Python containers (hence the abstract field types).

    Rows of ``matrix`` follow ``doc_ids``; ``index`` maps a document id to its
    row.  ``matrix_t`` is the transpose stored as CSR so that scoring all
    documents against a sparse profile only touches the profile's columns.
    Per-document arrays (``stage``, ``difficulty``, ...) are aligned with rows.
    """

    doc_ids: np.ndarray  # int64 (n,)
    index: Mapping[int, int]
    matrix: sp.csr_matrix  # (n, F) float32, L2-normalised rows
    matrix_t: sp.csr_matrix  # (F, n) float32
    text: TextFeatures
    meta_vocabulary: dict[str, int]  # token -> column *within* the meta block
    meta_idf: np.ndarray  # float32 (n_meta,)
    area_columns: dict[str, int]  # area slug -> column of ``area:<slug>``
    area_rows: Mapping[str, np.ndarray]  # area slug -> rows serving it
    titles: Sequence[str]
    tags: Sequence[tuple[str, ...]]
    areas: Sequence[frozenset[str]]
    n_areas: np.ndarray  # int16 (n,) number of areas per doc
    stage: np.ndarray  # int8 (n,) index into ``stage_names``
    stage_names: tuple[str, ...]
    difficulty: np.ndarray  # int8 (n,)
    minutes: np.ndarray  # float32 (n,), DEFAULT_MINUTES when unknown
    path_position: np.ndarray  # int32 (n,), 0 = not on the path
    path_rows: np.ndarray  # int64 rows of path docs sorted by position
    popularity: np.ndarray  # float32 (n,) log-scaled to [0, 1]
    # Indexes a process derives from the arrays on first use and keeps with the model
    # (e.g. prior.prior_index); never stored.
    derived: dict[str, object] = field(default_factory=dict, init=False, repr=False)

    @property
    def n_docs(self) -> int:
        """Number of documents (rows)."""
        return len(self.doc_ids)

    @property
    def n_text_features(self) -> int:
        """Columns ``[0, n_text_features)`` are text terms, the rest labels."""
        return self.text.n_features

    def term(self, column: int) -> str:
        """Feature name of ``column`` (a word, a bigram or a label token)."""
        if column < self.n_text_features:
            return self.text.term(column)
        return self._meta_names()[column - self.n_text_features]

    def label_names(self) -> list[str]:
        """Label tokens (``tag:<slug>``, ...) by column within the metadata block."""
        return self._meta_names()

    def _meta_names(self) -> list[str]:
        names = [""] * len(self.meta_vocabulary)
        for token, col in self.meta_vocabulary.items():
            names[col] = token
        return names

    def rows(self, doc_ids: Iterable[int]) -> list[int]:
        """Rows of the given ids, silently dropping ids not in the model."""
        index = self.index
        return [index[d] for d in doc_ids if d in index]

    def vectorize(self, docs: Sequence[Document]) -> sp.csr_matrix:
        """Rows for documents that are not (necessarily) in the model."""
        text = self.text.transform([d.title for d in docs], [d.summary for d in docs])
        meta = _meta_block([meta_tokens(d) for d in docs], self.meta_vocabulary, self.meta_idf)
        return _combine(text, meta)


def fit(documents: Sequence[Document]) -> Model:
    """Vectorise the catalog and precompute per-document arrays.

    Raises ``ValueError`` for an empty catalog or duplicate ids.  Cost is
    linear in the catalog size.
    """
    docs = list(documents)
    if not docs:
        raise ValueError("cannot fit a recommender on an empty catalog")
    doc_ids = np.fromiter((d.id for d in docs), dtype=np.int64, count=len(docs))
    index = {int(d): i for i, d in enumerate(doc_ids)}
    if len(index) != len(docs):
        raise ValueError("document ids must be unique")

    text = TextVectorizer()
    text_block = text.fit_transform([d.title for d in docs], [d.summary for d in docs])

    token_lists = [meta_tokens(doc) for doc in docs]
    meta_vocabulary: dict[str, int] = {}
    for tokens in token_lists:
        for token in tokens:
            meta_vocabulary.setdefault(token, len(meta_vocabulary))
    ones = np.ones(len(meta_vocabulary), dtype=np.float32)
    binary = _meta_block(token_lists, meta_vocabulary, ones, normalise=False)
    df = np.bincount(binary.indices, minlength=len(meta_vocabulary))
    meta_idf = (np.log((1.0 + len(docs)) / (1.0 + df)) + 1.0).astype(np.float32)
    meta_block = _meta_block(token_lists, meta_vocabulary, meta_idf)
    del binary, token_lists

    matrix = _combine(text_block, meta_block)
    n_text = text.n_features
    area_columns = {
        str(token[len("area:") :]): n_text + col
        for token, col in meta_vocabulary.items()
        if token.startswith("area:")
    }
    area_lists: dict[str, list[int]] = {}
    for row, doc in enumerate(docs):
        for area in dict.fromkeys(doc.areas):
            area_lists.setdefault(str(area), []).append(row)

    # Known stages first in learning order, then any other value seen.
    extra = sorted({d.stage for d in docs} - set(STAGES))
    stage_names = (*STAGES, *extra)
    stage_code = {s: i for i, s in enumerate(stage_names)}
    stage_names = tuple(map(str, stage_names))
    minutes = np.array(
        [DEFAULT_MINUTES if d.minutes is None else d.minutes for d in docs],
        dtype=np.float32,
    )
    position = np.array([d.path_position or 0 for d in docs], dtype=np.int32)
    on_path = np.flatnonzero(position)
    path_rows = on_path[np.argsort(position[on_path], kind="stable")]
    raw_pop = np.log1p(np.maximum([d.popularity for d in docs], 0.0))
    top = float(raw_pop.max())
    popularity = (raw_pop / top if top > 0 else raw_pop).astype(np.float32)

    return Model(
        doc_ids=doc_ids,
        index=index,
        matrix=matrix,
        matrix_t=matrix.T.tocsr(),
        text=text,
        meta_vocabulary=meta_vocabulary,
        meta_idf=meta_idf,
        area_columns=area_columns,
        area_rows={a: np.array(r, dtype=np.int64) for a, r in area_lists.items()},
        titles=tuple(str(d.title) for d in docs),
        # str() guards against numpy/ORM string subclasses, which pickle slowly.
        tags=tuple(tuple(dict.fromkeys(map(str, d.tags))) for d in docs),
        areas=tuple(frozenset(map(str, d.areas)) for d in docs),
        n_areas=np.array([len(set(d.areas)) for d in docs], dtype=np.int16),
        stage=np.array([stage_code[d.stage] for d in docs], dtype=np.int8),
        stage_names=stage_names,
        difficulty=np.array([d.difficulty for d in docs], dtype=np.int8),
        minutes=minutes,
        path_position=position,
        path_rows=path_rows.astype(np.int64),
        popularity=popularity,
    )


def gather(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """Entries of ``rows`` of a CSR matrix as ``(slot, column, value)`` arrays.

    ``slot`` is the position of the row in ``rows``.  Unlike ``matrix[rows]``
    plus scipy products, nothing here allocates per-column work arrays, which
    matters with millions of (mostly bigram) columns.
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts = matrix.indptr[rows].astype(np.int64)
    lengths = matrix.indptr[rows + 1] - starts
    total = int(lengths.sum())
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    idx = offsets + np.arange(total, dtype=np.int64)
    slot = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    return slot, matrix.indices[idx], matrix.data[idx]


def compact_rows(matrix: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
    """``matrix[rows]`` restricted to the columns those rows use.

    Dot products between the selected rows are unchanged, but ``A @ A.T`` on
    the result costs O(nnz) instead of O(n_features).
    """
    slot, cols, vals = gather(matrix, rows)
    used, local = np.unique(cols, return_inverse=True)
    return sp.csr_matrix((vals, (slot, local.ravel())), shape=(len(rows), max(len(used), 1)))


def weighted_row_sum(
    matrix: sp.csr_matrix, rows: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``sum_i weights[i] * matrix[rows[i]]`` as sorted ``(columns, values)``."""
    slot, cols, vals = gather(matrix, rows)
    used, local = np.unique(cols, return_inverse=True)
    summed = np.bincount(
        local.ravel(), weights=vals * np.asarray(weights)[slot], minlength=len(used)
    )
    return used.astype(np.int64), summed


def _meta_block(
    token_lists: Sequence[list[str]],
    vocabulary: dict[str, int],
    idf: np.ndarray,
    *,
    normalise: bool = True,
) -> sp.csr_matrix:
    """Label tokens (one list per document) as an idf-weighted (n, n_meta) matrix."""
    indptr = [0]
    indices: list[int] = []
    for tokens in token_lists:
        indices += [vocabulary[t] for t in tokens if t in vocabulary]
        indptr.append(len(indices))
    cols = np.asarray(indices, dtype=np.int64)
    block = sp.csr_matrix(
        (idf[cols].astype(np.float32), cols, np.asarray(indptr)),
        shape=(len(token_lists), len(vocabulary)),
    )
    block.sum_duplicates()  # sorts indices (tokens come in label order)
    return normalize_rows(block) if normalise else block


def _combine(text: sp.csr_matrix, meta: sp.csr_matrix) -> sp.csr_matrix:
    """Weighted hstack of the unit-norm blocks, re-normalised to unit rows."""
    stacked = sp.hstack([text, meta * np.float32(META_WEIGHT)], format="csr")
    combined = normalize_rows(stacked.astype(np.float32, copy=False))
    # Canonical form (sorted, unique indices) lets the ranking intersect rows.
    combined.sum_duplicates()
    combined.sort_indices()
    return combined
