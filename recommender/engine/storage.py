"""A fitted :class:`~recommender.engine.model.Model` as a directory of ``.npy`` files.

Why not a pickle: unpickling gives every web process its own copy of the
model — the sparse matrices, but also millions of Python strings (the
TF-IDF vocabulary, titles) and per-document tuples and frozensets, which at
1M resources is ~2.9 GiB and ~27 s per process.  Here every part of the model
is a flat array; :func:`model_load` maps them read-only (``np.load(...,
mmap_mode="r")``), so loading costs milliseconds and every process on a
machine shares the same page-cache pages.  What the engine reads as Python
objects (``model.titles[row]``, ``model.areas[row]``, ``model.index[doc_id]``,
``model.text.vocabulary[term]``) is decoded from the arrays on access, for
the few rows a request touches.

Layout of a model directory (every array a ``.npy`` file):

* ``model.json`` — the small non-array parts (label vocabulary, stage names,
  tag and area names, shapes) and :data:`FORMAT`;
* ``matrix.*`` and ``matrix_t.*`` — ``data``/``indices``/``indptr`` of the
  CSR matrix and of its transpose;
* ``terms.blob``/``terms.offsets`` — the text features' names, UTF-8,
  in column order (sklearn sorts them, so a term is found by bisection);
  ``text.idf`` — their idf, for :meth:`MappedText.transform`;
* ``titles.*``, ``tags.*``, ``areas.*`` — titles as UTF-8 blob + offsets,
  labels as ragged arrays of codes into the names in ``model.json``;
* one file per per-document array (``doc_ids``, ``stage``, ``minutes``, ...).

Writing is not atomic by itself: callers write into an empty temporary
directory and rename it into place (see ``recommender.store``).
"""

from __future__ import annotations

import json
import math
import os
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any, Final, overload

import numpy as np
import scipy.sparse as sp

from .model import Model
from .text import make_tfidf, normalize_rows

#: Bumped whenever the layout changes; a directory of another format is refused.
FORMAT: Final = 1
META_FILE: Final = "model.json"
#: Strings are encoded this many at a time, so no list of 10 M ``bytes`` is ever held.
_CHUNK: Final = 1 << 18

_ARRAYS: Final = (
    "doc_ids",
    "meta_idf",
    "n_areas",
    "stage",
    "difficulty",
    "minutes",
    "path_position",
    "path_rows",
    "popularity",
)


# --- Writing --------------------------------------------------------------------------------


def model_save(model: Model, directory: Path) -> list[str]:
    """Write ``model`` into the (existing, empty) ``directory``; returns the file names.

    Every file is flushed to disk (``fsync``) before this returns, so a rename
    of the directory that follows publishes complete files only.
    """
    written: list[str] = []

    def save(name: str, array: np.ndarray) -> None:
        np.save(directory / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        written.append(f"{name}.npy")

    for name in _ARRAYS:
        save(name, getattr(model, name))
    for name in ("matrix", "matrix_t"):
        matrix: sp.csr_matrix = getattr(model, name)
        save(f"{name}.data", matrix.data)
        save(f"{name}.indices", matrix.indices)
        save(f"{name}.indptr", matrix.indptr)

    n_text = model.n_text_features
    # A fitted vectoriser holds its names as an array already (10x faster than term() calls).
    feature_names = getattr(model.text, "feature_names", None)
    names: list[str] = (
        [str(name) for name in feature_names]
        if feature_names is not None
        else [model.text.term(c) for c in range(n_text)]
    )
    written += _strings_save(directory, "terms", names)
    terms_sorted = all(a < b for a, b in pairwise(names))
    del names
    idf = getattr(model.text, "idf", None)  # a loaded model's
    if idf is None:  # a fitted model's: sklearn's
        idf = getattr(getattr(model.text, "tfidf", None), "idf_", np.empty(0, dtype=np.float64))
    save("text.idf", np.asarray(idf, dtype=np.float64))
    written += _strings_save(directory, "titles", model.titles)

    tag_names = sorted({t for tags in model.tags for t in tags})
    area_names = sorted({a for areas in model.areas for a in areas})
    for name, labels, vocabulary in (
        ("tags", model.tags, tag_names),
        ("areas", model.areas, area_names),
    ):
        code = {label: i for i, label in enumerate(vocabulary)}
        # Tags keep their order (a tuple); areas are a set, stored sorted.
        lengths = np.fromiter((len(x) for x in labels), dtype=np.int64, count=len(labels))
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        codes = np.fromiter(
            (code[x] for row in labels for x in (row if name == "tags" else sorted(row))),
            dtype=np.int32,
            count=int(indptr[-1]),
        )
        save(f"{name}.codes", codes)
        save(f"{name}.indptr", indptr)

    area_order = sorted(model.area_rows)
    rows = [np.asarray(model.area_rows[a], dtype=np.int64) for a in area_order]
    save("area_rows", np.concatenate(rows) if rows else np.empty(0, dtype=np.int64))
    meta = {
        "format": FORMAT,
        "shape": list(model.matrix.shape),
        "n_text_features": n_text,
        "terms_sorted": terms_sorted,
        "meta_vocabulary": model.meta_vocabulary,
        "area_columns": model.area_columns,
        "area_rows": {a: len(r) for a, r in zip(area_order, rows, strict=True)},
        "area_rows_order": area_order,
        "stage_names": list(model.stage_names),
        "tag_names": tag_names,
        "area_names": area_names,
    }
    (directory / META_FILE).write_text(json.dumps(meta, sort_keys=True))
    written.append(META_FILE)
    for name in written:
        _fsync(directory / name)
    return written


def _strings_save(directory: Path, name: str, strings: Sequence[str]) -> list[str]:
    """``strings`` as ``<name>.blob.npy`` (UTF-8 bytes) and ``<name>.offsets.npy``."""
    lengths = np.zeros(len(strings), dtype=np.int64)
    for start in range(0, len(strings), _CHUNK):
        chunk = strings[start : start + _CHUNK]
        lengths[start : start + len(chunk)] = np.fromiter(
            (len(s.encode()) for s in chunk), dtype=np.int64, count=len(chunk)
        )
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    del lengths
    np.save(directory / f"{name}.offsets.npy", offsets, allow_pickle=False)
    blob_path = directory / f"{name}.blob.npy"
    if offsets[-1] == 0:
        np.save(blob_path, np.empty(0, dtype=np.uint8), allow_pickle=False)
    else:
        blob = np.lib.format.open_memmap(
            blob_path, mode="w+", dtype=np.uint8, shape=(int(offsets[-1]),)
        )
        for start in range(0, len(strings), _CHUNK):
            chunk = strings[start : start + _CHUNK]
            encoded = b"".join(s.encode() for s in chunk)
            first = int(offsets[start])
            blob[first : first + len(encoded)] = np.frombuffer(encoded, dtype=np.uint8)
        blob.flush()
        del blob
    return [f"{name}.offsets.npy", f"{name}.blob.npy"]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- Reading --------------------------------------------------------------------------------


def _mapped(directory: Path, name: str) -> np.ndarray:
    """A read-only view of ``<name>.npy`` backed by the file's pages (no copy)."""
    array = np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False)
    # A plain ndarray view: results of arithmetic on it are ordinary arrays, while the
    # view's base keeps the mapping alive.
    view: np.ndarray = array.view(np.ndarray)
    return view


def model_load(directory: Path) -> Model:
    """The model saved in ``directory``, memory-mapped read-only.

    Raises ``FileNotFoundError`` for a missing or incomplete directory and
    ``ValueError`` for one written in another :data:`FORMAT`.
    """
    meta: dict[str, Any] = json.loads((directory / META_FILE).read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"model format {meta.get('format')!r}, expected {FORMAT}")
    shape = tuple(meta["shape"])
    arrays = {name: _mapped(directory, name) for name in _ARRAYS}

    def csr(name: str, matrix_shape: tuple[int, int]) -> sp.csr_matrix:
        parts = [_mapped(directory, f"{name}.{p}") for p in ("data", "indices", "indptr")]
        return sp.csr_matrix(tuple(parts), shape=matrix_shape, copy=False)

    area_rows_all = _mapped(directory, "area_rows")
    area_rows: dict[str, np.ndarray] = {}
    start = 0
    for area in meta["area_rows_order"]:
        end = start + int(meta["area_rows"][area])
        area_rows[area] = area_rows_all[start:end]
        start = end
    doc_ids = arrays.pop("doc_ids")
    terms = StringColumn(_mapped(directory, "terms.blob"), _mapped(directory, "terms.offsets"))
    return Model(
        doc_ids=doc_ids,
        index=RowIndex(doc_ids),
        matrix=csr("matrix", (shape[0], shape[1])),
        matrix_t=csr("matrix_t", (shape[1], shape[0])),
        text=MappedText(terms, _mapped(directory, "text.idf"), sorted_terms=meta["terms_sorted"]),
        meta_vocabulary={str(k): int(v) for k, v in meta["meta_vocabulary"].items()},
        meta_idf=arrays["meta_idf"],
        area_columns={str(k): int(v) for k, v in meta["area_columns"].items()},
        area_rows=area_rows,
        titles=StringColumn(
            _mapped(directory, "titles.blob"), _mapped(directory, "titles.offsets")
        ),
        tags=LabelColumn(
            _mapped(directory, "tags.codes"),
            _mapped(directory, "tags.indptr"),
            tuple(meta["tag_names"]),
            tuple,
        ),
        areas=LabelColumn(
            _mapped(directory, "areas.codes"),
            _mapped(directory, "areas.indptr"),
            tuple(meta["area_names"]),
            frozenset,
        ),
        n_areas=arrays["n_areas"],
        stage=arrays["stage"],
        stage_names=tuple(meta["stage_names"]),
        difficulty=arrays["difficulty"],
        minutes=arrays["minutes"],
        path_position=arrays["path_position"],
        path_rows=arrays["path_rows"],
        popularity=arrays["popularity"],
    )


class StringColumn(Sequence[str]):
    """Strings stored as one UTF-8 blob plus offsets; each decoded when read."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray) -> None:
        self._blob = blob
        self._offsets = offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        start, end = int(self._offsets[index]), int(self._offsets[index + 1])
        return self._blob[start:end].tobytes().decode()


class LabelColumn(Sequence[Any]):
    """Per-document labels as a ragged array of codes into ``names``.

    ``make`` builds what one row reads as: ``tuple`` for tags (in their
    order), ``frozenset`` for areas.
    """

    def __init__(
        self,
        codes: np.ndarray,
        indptr: np.ndarray,
        names: tuple[str, ...],
        make: Callable[[Iterable[str]], Any],
    ) -> None:
        self._codes = codes
        self._indptr = indptr
        self._names = names
        self._make = make

    def __len__(self) -> int:
        return len(self._indptr) - 1

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = int(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        start, end = int(self._indptr[index]), int(self._indptr[index + 1])
        names = self._names
        return self._make(names[c] for c in self._codes[start:end].tolist())


class RowIndex(Mapping[int, int]):
    """Document id -> row, by binary search over the (mapped) ``doc_ids``.

    Replaces a dict of a million Python ints per process.  Ids are sorted when
    they come from the catalog (ordered by primary key); otherwise a sorting
    permutation is computed once, in this process.
    """

    def __init__(self, doc_ids: np.ndarray) -> None:
        self._ids = doc_ids
        self._order: np.ndarray | None = None
        if len(doc_ids) > 1 and not bool(np.all(doc_ids[1:] > doc_ids[:-1])):
            self._order = np.argsort(doc_ids, kind="stable")
            self._ids = doc_ids[self._order]

    def _find(self, doc_id: object) -> int | None:
        if not isinstance(doc_id, int | np.integer):
            return None
        at = int(np.searchsorted(self._ids, doc_id))
        if at >= len(self._ids) or int(self._ids[at]) != int(doc_id):
            return None
        return at if self._order is None else int(self._order[at])

    def __getitem__(self, doc_id: int) -> int:
        row = self._find(doc_id)
        if row is None:
            raise KeyError(doc_id)
        return row

    def __contains__(self, doc_id: object) -> bool:
        return self._find(doc_id) is not None

    def get(self, doc_id: int, default: Any = None) -> Any:
        row = self._find(doc_id)
        return default if row is None else row

    def __iter__(self) -> Iterator[int]:
        return iter(int(d) for d in self._ids)

    def __len__(self) -> int:
        return len(self._ids)


class TermIndex(Mapping[str, int]):
    """Term -> column over the sorted feature names, by bisection (no dict of terms)."""

    def __init__(self, names: StringColumn, *, sorted_terms: bool) -> None:
        self._names: Sequence[str] = names
        self._order: np.ndarray | None = None
        if not sorted_terms:
            # Not expected (sklearn sorts its vocabulary); costs one sort per process.
            self._order = np.argsort(np.array(list(names), dtype=object), kind="stable")
            self._names = [names[int(i)] for i in self._order]

    def _find(self, term: object) -> int | None:
        if not isinstance(term, str):
            return None
        at = bisect_left(self._names, term)
        if at >= len(self._names) or self._names[at] != term:
            return None
        return at if self._order is None else int(self._order[at])

    def __getitem__(self, term: str) -> int:
        column = self._find(term)
        if column is None:
            raise KeyError(term)
        return column

    def __contains__(self, term: object) -> bool:
        return self._find(term) is not None

    def get(self, term: str, default: Any = None) -> Any:
        column = self._find(term)
        return default if column is None else column

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class MappedText:
    """The text block of a loaded model: what :class:`~.text.TextVectorizer` offers, mapped.

    ``transform`` repeats what the fitted ``TfidfVectorizer`` does (the same
    analyzer, sublinear tf, the stored idf, L2 rows) without its vocabulary
    dict: terms are looked up by bisection.  It serves curators' label
    suggestions, a few documents at a time.
    """

    def __init__(self, names: StringColumn, idf: np.ndarray, *, sorted_terms: bool) -> None:
        self._names = names
        self._idf = idf
        self.vocabulary: Mapping[str, int] = TermIndex(names, sorted_terms=sorted_terms)
        self._analyze: Callable[[tuple[str, str]], list[str]] | None = None

    @property
    def n_features(self) -> int:
        return len(self._names)

    @property
    def idf(self) -> np.ndarray:
        return self._idf

    def term(self, column: int) -> str:
        return self._names[column]

    def transform(self, titles: Sequence[str], summaries: Sequence[str]) -> sp.csr_matrix:
        if not self.n_features:
            return sp.csr_matrix((len(titles), 0), dtype=np.float32)
        if self._analyze is None:
            self._analyze = make_tfidf().build_analyzer()
        indptr = [0]
        indices: list[int] = []
        values: list[float] = []
        for pair in zip(titles, summaries, strict=True):
            counts = Counter(self._analyze(pair))
            found = sorted(
                (column, count)
                for term, count in counts.items()
                if (column := self.vocabulary.get(term)) is not None
            )
            indices += [column for column, _ in found]
            values += [
                (1.0 + math.log(count)) * float(self._idf[column]) for column, count in found
            ]
            indptr.append(len(indices))
        matrix = sp.csr_matrix(
            (
                np.asarray(values, dtype=np.float32),
                np.asarray(indices, dtype=np.int32),
                np.asarray(indptr, dtype=np.int32),
            ),
            shape=(len(indptr) - 1, self.n_features),
        )
        return normalize_rows(matrix)
