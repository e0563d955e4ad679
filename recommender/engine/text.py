"""Tokenisation and the unigram+bigram TF-IDF vectoriser of the catalog text.

The text block of the model is scikit-learn's ``TfidfVectorizer``, configured
as the product spec asks: sublinear tf, smooth idf, L2-normalised float32 rows,
unigrams and bigrams formed after stop-word removal, and :data:`TOKEN_PATTERN`
(keeps ``kube-proxy``, ``k8s``, ``etcd``).  The only addition is the analyzer
of :class:`CatalogTfidfVectorizer`: it reads ``(title, summary)`` pairs, runs
sklearn's own word analyzer on each part (so no bigram straddles the two) and
counts every title term :data:`TITLE_WEIGHT` times.

Until commit 6c19477 the engine used a hand-written numpy vectoriser instead,
because sklearn was thought too slow at 100k resources.  Measured with
``.venv/bin/python bench/recommender_fit.py --docs 100000`` (2 runs on the
shared 2-core dev machine, Python 3.11, scikit-learn 1.9.1) on a seeded
synthetic catalog of short entries like fixtures/seed_catalog.yaml (5-12 word
titles, 30-80 word summaries, Zipf words; 1,692,457 uni+bigram features and
7.2 M non-zeros, the same for both vectorisers), peak RSS being the whole
process including imports and the catalog (219 MiB before fitting)::

                                       hand-written        sklearn
    text block only      fit          6.3-8.1 s          23.7-28.8 s  (x3.6-3.8)
                         peak RSS     466-468 MiB        777-782 MiB  (x1.67)
    engine.fit           fit         10.3-10.6 s         32.2-36.3 s
                         peak RSS     515 MiB            793-798 MiB
    + pickle & zlib as   peak RSS     775 MiB          1,064-1,069 MiB
      recommender.store  payload       94 MiB              115 MiB
    web process          RSS loaded   324 MiB              570 MiB
                         recommend    p50 15-17 ms,       p50 14-17 ms,
                                      p99 25-26 ms        p99 25-35 ms

sklearn is ~3.5x slower and holds its 1.7 M feature names as Python strings,
but ``fit`` stays within the targets (< 60 s, < 1 GiB, ``recommend`` p50
< 30 ms), and the team rule is to write by hand only what no maintained library
does well.  Caveat: a refit process that also pickles the model in memory, as
``recommender.services.model_refit`` does (``zlib.compress(pickle.dumps(...))``),
peaks just above 1 GiB at 100k.  Compressing while pickling (bench ``--stream``)
brings it to 908 MiB; ``min_df=2`` (bench ``--min-df 2``: drops the 71% of
features found in a single resource, which never match another resource but
do change small catalogs) to 892 MiB, with a 21 s fit and a 357 MiB web process.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from itertools import filterfalse
from typing import Any, Final, Protocol

import numpy as np
import scipy.sparse as sp

# scikit-learn is imported on first use, not with this module: importing it takes one to two
# seconds, and most processes that load the engine's modules never fit or tokenise (feed
# polling, link checks, beat, every management command). See `__getattr__` at the end.

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


@cache
def stop_words() -> frozenset[str]:
    """scikit-learn's English stop words minus :data:`_KEEP`, plus a few abbreviations
    (also importable as ``STOP_WORDS``)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words: frozenset[str] = (frozenset(ENGLISH_STOP_WORDS) - _KEEP) | {"e.g", "i.e", "etc"}
    return words


#: Words that never explain a recommendation, on top of :data:`STOP_WORDS`:
#: generic verbs, adverbs and adjectives ("makes", "probably", "key"), words
#: about resources rather than their subject ("post", "article", "guide",
#: "recommends") and the vocabulary of the catalog's own curation notes
#: ("seed", "named", and the guide the path follows: "Marco Lancini's guide").
#: They stay in the TF-IDF vectors (they are weak there
#: anyway); they are only kept out of "Also about …" reasons.  Words
#: found everywhere in the catalog ("kubernetes") are excluded by document
#: frequency (``reasons.MAX_TERM_SHARE``); the domain's own words are listed too,
#: since a small catalog can use "cluster" in fewer than a quarter of its resources
#: and it still says nothing about why two Kubernetes resources match.
_REASON_STOP_TEXT: Final = """
    cluster clusters container containers k8s kubernetes security
    able about actually add added adds also always another anyone anything approach article
    articles author authors available away based basic basics become becomes begin begins
    behind believe best better big blog book books bring brings build builds call calls called
    came can cannot
    case cases chapter chapters come comes common complete completely concept concepts content
    course covers cover covered create creates day days deep describes detail detailed details
    different doc docs document documentation does doing done easy edition enough entire
    especially even every everything example examples explain explained explains explanation
    fact far favourite favorite feel fine first fit fits focus focused follow following follows free
    full fully future general get gets getting give gives go goes going good great guide guides
    hand handy hard help helps helped high highly however idea ideas important include
    includes including instead interesting introduction introduces item items just keep key
    kind kinds know known large last later learn learned learning learnt least less let lets
    like likely list lists little long look looks lot lots low made main make makes making
    many matter may maybe mean means might mind minutes move moves moving modern month months
    much must named names need needed needs new next nice note notes now number official often
    old one ones
    open order original overview page pages paper part parts people perhaps piece point
    points possible post posts practical pretty previous probably provide provides question
    questions quick quickly quite rather read reader readers reading ready real really reason
    reasons recent recently recommend recommended recommends reference related resource
    resources right road run running runs same say says second section see seed seems series
    set sets
    short show shows simple since small something start started starting starts step steps
    still story stuff sure take takes talk talks task tasks tell thing things think third
    three time times tip tips title today together told took tour tries true try trying turn
    two types understand understanding use used useful uses using usually various version
    video videos walk walks want wants way ways week well whole why wide without work works
    world write writes writing written wrong year years yet
    bad better best case cases map maps
    hands mechanism mechanisms path paths practice practices
    marco lancini
"""
REASON_STOP_WORDS: Final = frozenset(_REASON_STOP_TEXT.split())

#: A title term counts as this many summary terms (before the sublinear tf),
#: because titles are short, curated and say what the resource is about.
TITLE_WEIGHT: Final = 3

#: A title's closing parenthesis: "(Kubernetes documentation)", "(1)", "(Maya Kaczorowski,
#: Google Cloud Next '18)" names where a resource comes from or tells two apart, not what it
#: is about. Counted as summary text, not title: at title weight "(Kubernetes documentation)"
#: made every documentation page the others' closest match, above an RBAC article for the
#: RBAC page.
_TITLE_QUALIFIER_RE: Final = re.compile(r"\s*\(([^()]*)\)\s*$")


def title_parts(title: str) -> tuple[str, str]:
    """``(subject, qualifier)``: the title without its closing parenthesis, and what the
    parenthesis says ("" when there is none, or when it is the whole title)."""
    match = _TITLE_QUALIFIER_RE.search(title)
    if match is None or not title[: match.start()].strip():
        return title, ""
    return title[: match.start()], match.group(1)


def tokenize(text: str) -> list[str]:
    """Lower-case ``text`` and return its tokens without stop words."""
    # filterfalse + a bound __contains__ keeps the per-token loop in C.
    return list(filterfalse(stop_words().__contains__, _TOKEN_RE.findall(text.lower())))


def is_reason_word(word: str) -> bool:
    """Whether ``word`` may be quoted to explain a match.

    Not a stop word, not on :data:`REASON_STOP_WORDS`, not a number or
    version, not an adverb in ``-ly`` ("probably", "really").
    """
    word = word.lower()
    return (
        word not in stop_words()
        and word not in REASON_STOP_WORDS
        and not word.endswith("ly")
        and any(c.isalpha() for c in word)
    )


@cache
def _vectorizer_class() -> type[Any]:
    """``CatalogTfidfVectorizer``, defined on first use (importing scikit-learn)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    class CatalogTfidfVectorizer(TfidfVectorizer):  # type: ignore[misc]  # sklearn is untyped
        """``TfidfVectorizer`` whose documents are ``(title, summary)`` pairs.

        sklearn's word analyzer (token pattern, stop words, n-grams) runs on the
        title and on the summary separately; the title's terms are repeated
        :data:`TITLE_WEIGHT` times, so a term's count is
        ``TITLE_WEIGHT * title_count + summary_count`` (a title's closing parenthesis counts
        as summary: :func:`title_parts`).  Everything else (counting,
        vocabulary, idf, sublinear tf, normalisation) is sklearn's.
        """

        def build_analyzer(self) -> Callable[[tuple[str, str]], list[str]]:
            """Analyzer of a ``(title, summary)`` pair."""
            words: Callable[[str], list[str]] = super().build_analyzer()

            def analyze(doc: tuple[str, str]) -> list[str]:
                title, summary = doc
                subject, qualifier = title_parts(title)
                terms = words(subject) * TITLE_WEIGHT + words(summary)
                return terms + words(qualifier) if qualifier else terms

            return analyze

    # Pickled models name the class by this module's attribute (served by __getattr__).
    CatalogTfidfVectorizer.__module__ = __name__
    CatalogTfidfVectorizer.__qualname__ = "CatalogTfidfVectorizer"
    return CatalogTfidfVectorizer


def make_tfidf() -> Any:
    """An unfitted ``CatalogTfidfVectorizer`` configured as the product spec says."""
    return _vectorizer_class()(
        token_pattern=TOKEN_PATTERN,
        stop_words=sorted(stop_words()),
        ngram_range=(1, 2),
        sublinear_tf=True,
        dtype=np.float32,
    )


class TextFeatures(Protocol):
    """What the engine reads of the text block: :class:`TextVectorizer` after fitting, or
    :class:`~recommender.engine.storage.MappedText` over a stored model's arrays."""

    @property
    def vocabulary(self) -> Mapping[str, int]: ...

    @property
    def n_features(self) -> int: ...

    def term(self, column: int) -> str: ...

    def transform(self, titles: Sequence[str], summaries: Sequence[str]) -> sp.csr_matrix: ...


class TextVectorizer:
    """The text block of the model: a fitted :func:`make_tfidf` plus feature names.

    ``feature_names`` (column -> term, an object array sharing the strings of
    the vocabulary) is built once at fit time, so :meth:`term` is O(1) for the
    "shared terms" explanations; ``get_feature_names_out()`` sorts the whole
    vocabulary on every call (~3 s at 1.7 M features).  A catalog without a
    single token (only empty or stop-word text) gets zero text columns instead
    of sklearn's "empty vocabulary" error.  Instances pickle with the model.
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
        vocabulary = self.tfidf.vocabulary_
        names = np.empty(len(vocabulary), dtype=object)
        columns = np.fromiter(vocabulary.values(), dtype=np.intp, count=len(vocabulary))
        names[columns] = np.fromiter(vocabulary, dtype=object, count=len(vocabulary))
        self.feature_names = names
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


def __getattr__(name: str) -> Any:
    """The names that need scikit-learn, made on first use (PEP 562)."""
    if name == "STOP_WORDS":
        return stop_words()
    if name == "CatalogTfidfVectorizer":
        return _vectorizer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
