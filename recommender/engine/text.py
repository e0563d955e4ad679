"""Tokenisation and the unigram+bigram TF-IDF vectoriser.

Why not ``sklearn``'s ``TfidfVectorizer``?  On a 100k-document catalog its
pure-Python n-gram counting took ~50 s and ~1 GiB (2.6 M string features kept
in a dict) before any other work.  This module computes the *same* weighting
(``sublinear_tf=True``, smooth idf, L2 rows, stop words removed before n-grams
are formed) but encodes a bigram as the integer pair of its two unigram ids and
builds the bigram vocabulary with ``numpy.unique``.  Only unigrams live in a
Python dict; feature names of bigrams are rebuilt on demand for explanations.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Sequence
from itertools import filterfalse, pairwise
from typing import Final

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

#: A token is a run of word characters, optionally joined by ``-`` or ``.``
#: (``kube-proxy``, ``pod-security``, ``kubernetes.io``, ``v1.28``, ``x-ray``)
#: with at least two characters (``k8s``, ``etcd``).  Single letters are noise
#: ("pod's" -> "pod", "s") and trailing dots/hyphens are dropped, so "etcd."
#: at the end of a sentence is still ``etcd``.  Equivalent to
#: ``\b(?:\w+(?:[.-]\w+)+|\w{2,})\b`` but written without backtracking-heavy
#: alternation: it tokenises about twice as fast.
TOKEN_PATTERN: Final = r"(?u)\w\w+(?:[.\-]\w+)*|\w(?:[.\-]\w+)+"  # noqa: S105 (a regex, not a secret)
_TOKEN_RE: Final = re.compile(TOKEN_PATTERN)

# sklearn's English list contains words that are kubectl verbs or Kubernetes
# vocabulary ("kubectl describe", "kubectl top", "emptyDir", "system:masters").
_KEEP: Final = frozenset({"system", "computer", "describe", "top", "empty", "show", "find", "call"})
STOP_WORDS: Final = (frozenset(ENGLISH_STOP_WORDS) - _KEEP) | {"e.g", "i.e", "etc"}

#: A title token counts as this many summary tokens (before the sublinear tf),
#: because titles are short, curated and say what the resource is about.
TITLE_WEIGHT: Final = 3.0


def tokenize(text: str) -> list[str]:
    """Lower-case ``text`` and return its tokens without stop words."""
    # filterfalse + a bound __contains__ keeps the per-token loop in C.
    return list(filterfalse(STOP_WORDS.__contains__, _TOKEN_RE.findall(text.lower())))


class TextVectorizer:
    """TF-IDF over ``title`` + ``summary`` with unigrams and bigrams.

    Term counts are ``TITLE_WEIGHT * title_count + summary_count``; bigrams are
    never formed across the title/summary boundary.  The fitted state is plain
    Python/numpy data, so instances pickle cheaply.
    """

    def __init__(self, title_weight: float = TITLE_WEIGHT) -> None:
        self.title_weight = float(title_weight)
        self.vocabulary: dict[str, int] = {}
        self.unigrams: list[str] = []
        # Sorted ``first_id * n_unigrams + second_id`` codes; column of bigram
        # j is ``n_unigrams + j``.
        self.bigram_codes = np.empty(0, dtype=np.int64)
        self.idf = np.empty(0, dtype=np.float32)

    @property
    def n_unigrams(self) -> int:
        """Number of unigram columns (they come first)."""
        return len(self.unigrams)

    @property
    def n_features(self) -> int:
        """Total number of columns produced by :meth:`transform`."""
        return self.n_unigrams + len(self.bigram_codes)

    def term(self, column: int) -> str:
        """Human-readable feature name of ``column`` (``"etcd encryption"``)."""
        n_uni = self.n_unigrams
        if column < n_uni:
            return self.unigrams[column]
        first, second = divmod(int(self.bigram_codes[column - n_uni]), n_uni)
        return f"{self.unigrams[first]} {self.unigrams[second]}"

    def fit_transform(self, titles: Sequence[str], summaries: Sequence[str]) -> sp.csr_matrix:
        """Learn vocabulary and idf; return L2-normalised float32 rows."""
        vocabulary: dict[str, int] = {}
        ids = array("i")
        lengths = array("q")  # tokens per segment: title 0, summary 0, title 1...
        chunk: list[str] = []

        def flush() -> None:
            # New terms get the next id; the mapping of the whole chunk runs in
            # C (map + dict.__getitem__), which matters for ~10 M tokens.
            for term in dict.fromkeys(chunk):
                if term not in vocabulary:
                    vocabulary[term] = len(vocabulary)
            ids.extend(map(vocabulary.__getitem__, chunk))
            chunk.clear()

        for title, summary in zip(titles, summaries, strict=True):
            for text in (title, summary):
                tokens = tokenize(text)
                lengths.append(len(tokens))
                chunk += tokens
            if len(chunk) > 100_000:
                flush()
        flush()

        n_docs = len(titles)
        n_uni = len(vocabulary)
        self.vocabulary = vocabulary
        self.unigrams = list(vocabulary)  # insertion order == id order
        tok = np.frombuffer(ids, dtype=np.int32) if ids else np.empty(0, np.int32)
        seg_len = np.frombuffer(lengths, dtype=np.int64) if lengths else np.zeros(0, np.int64)
        weight = np.repeat(np.tile(np.array([self.title_weight, 1.0], np.float32), n_docs), seg_len)

        # Bigrams: adjacent tokens of the same segment, as int64 pair codes.
        seg = np.repeat(np.arange(2 * n_docs, dtype=np.int32), seg_len)
        same = seg[1:] == seg[:-1]
        codes = tok[:-1][same].astype(np.int64) * n_uni + tok[1:][same]
        bigram_weight = weight[:-1][same]
        per_doc = np.maximum(seg_len - 1, 0).reshape(n_docs, 2).sum(axis=1)
        del seg, same
        self.bigram_codes, local = np.unique(codes, return_inverse=True)
        del codes
        bigrams = _csr(
            per_doc,
            local.ravel().astype(np.int32),
            bigram_weight,
            len(self.bigram_codes),
        )
        del local, bigram_weight
        # Built last: ``_csr`` sorts ``tok`` and ``weight`` in place.
        unigrams = _csr(seg_len.reshape(n_docs, 2).sum(axis=1), tok, weight, n_uni)
        counts = sp.hstack([unigrams, bigrams], format="csr")
        del unigrams, bigrams
        # Smooth idf exactly as sklearn: ln((1 + n) / (1 + df)) + 1.
        df = np.bincount(counts.indices, minlength=self.n_features)
        self.idf = (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)
        return self._weight(counts)

    def transform(self, titles: Sequence[str], summaries: Sequence[str]) -> sp.csr_matrix:
        """Vectorise unseen documents with the fitted vocabulary."""
        n_uni = self.n_unigrams
        seg_uni: list[int] = []
        col_uni: list[int] = []
        seg_bi: list[int] = []
        col_bi: list[int] = []
        for i, (title, summary) in enumerate(zip(titles, summaries, strict=True)):
            for offset, text in enumerate((title, summary)):
                ids = [self.vocabulary.get(t, -1) for t in tokenize(text)]
                known = [x for x in ids if x >= 0]
                seg_uni += [2 * i + offset] * len(known)
                col_uni += known
                pairs = [a * n_uni + b for a, b in pairwise(ids) if a >= 0 and b >= 0]
                if pairs and len(self.bigram_codes):
                    wanted = np.asarray(pairs, dtype=np.int64)
                    pos = np.searchsorted(self.bigram_codes, wanted)
                    pos = np.minimum(pos, len(self.bigram_codes) - 1)
                    hit = self.bigram_codes[pos] == wanted
                    seg_bi += [2 * i + offset] * int(hit.sum())
                    col_bi += (n_uni + pos[hit]).tolist()
        counts = self._counts(
            len(titles),
            np.asarray(seg_uni, dtype=np.int64),
            np.asarray(col_uni, dtype=np.int64),
            np.asarray(seg_bi, dtype=np.int64),
            np.asarray(col_bi, dtype=np.int64),
        )
        return self._weight(counts)

    def _counts(
        self,
        n_docs: int,
        seg_uni: np.ndarray,
        col_uni: np.ndarray,
        seg_bi: np.ndarray,
        col_bi: np.ndarray,
    ) -> sp.csr_matrix:
        """Weighted term counts; ``seg`` is ``2 * doc + (0 title | 1 summary)``."""
        seg = np.concatenate([seg_uni, seg_bi])
        values = np.where(seg % 2 == 0, self.title_weight, 1.0).astype(np.float32)
        counts = sp.coo_matrix(
            (values, (seg // 2, np.concatenate([col_uni, col_bi]))),
            shape=(n_docs, self.n_features),
            dtype=np.float32,
        ).tocsr()  # tocsr() sums duplicate (doc, term) entries
        counts.sum_duplicates()
        return counts

    def _weight(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Sublinear tf times idf, L2-normalised rows (float32)."""
        counts.data = (1.0 + np.log(counts.data)) * self.idf[counts.indices]
        return normalize_rows(counts.astype(np.float32, copy=False))


def _csr(
    row_lengths: np.ndarray, cols: np.ndarray, values: np.ndarray, n_cols: int
) -> sp.csr_matrix:
    """CSR from row-ordered entries; repeated (row, col) entries are summed.

    ``cols`` and ``values`` may be reordered in place (scipy keeps them).
    """
    indptr = np.zeros(len(row_lengths) + 1, dtype=np.int64)
    np.cumsum(row_lengths, out=indptr[1:])
    matrix = sp.csr_matrix(
        (values.astype(np.float32, copy=False), cols, indptr),
        shape=(len(row_lengths), n_cols),
    )
    matrix.sum_duplicates()  # in place: sorts each row and adds repeats
    return matrix


def normalize_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Scale the rows of a CSR matrix to unit L2 norm, in place; returns it.

    All-zero rows stay zero.  Works for matrices without columns, unlike
    ``sklearn.preprocessing.normalize``.
    """
    lengths = np.diff(matrix.indptr)
    norms = np.zeros(matrix.shape[0], dtype=np.float64)
    nonempty = lengths > 0
    if nonempty.any():
        # Squares stay float32 (memory at 10 M entries); sums are float64.
        squares = np.square(matrix.data)
        starts = matrix.indptr[:-1][nonempty]
        norms[nonempty] = np.sqrt(np.add.reduceat(squares, starts, dtype=np.float64))
        del squares
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    matrix.data *= np.repeat(scale.astype(matrix.data.dtype), lengths)
    return matrix
