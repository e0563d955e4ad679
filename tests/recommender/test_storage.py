"""The engine's stored model format: arrays on disk, mapped read-only (no Django here)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bench.recommender_fit import build_catalog, build_learners
from recommender.engine import fit, recommend_queue, similar, suggest_labels
from recommender.engine.ranking import candidate_rows, focus_match
from recommender.engine.storage import model_load, model_save

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalog():
    return build_catalog(3000, seed=11)


@pytest.fixture(scope="module")
def fitted(catalog):
    return fit(catalog)


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("model")
    model_save(fitted, directory)
    return directory


def _queue(model, learner, **kwargs) -> list:
    return [
        (item.doc_id, round(item.score, 5), [r.text for r in item.reasons])
        for item in recommend_queue(model, learner, area_names={}, **kwargs).items
    ]


def test_a_loaded_model_ranks_exactly_as_the_fitted_one(fitted, saved):
    loaded = model_load(saved)
    for learner in build_learners(fitted, 60, seed=11):
        assert _queue(loaded, learner) == _queue(fitted, learner)
    assert similar(loaded, 17) == similar(fitted, 17)


def test_a_loaded_model_suggests_the_same_labels_for_unseen_text(fitted, saved, catalog):
    loaded = model_load(saved)
    assert suggest_labels(loaded, catalog[5]) == suggest_labels(fitted, catalog[5])
    assert np.allclose(
        loaded.vectorize(catalog[:30]).toarray(), fitted.vectorize(catalog[:30]).toarray()
    )


def test_a_loaded_model_reads_terms_titles_and_labels_from_the_arrays(fitted, saved):
    loaded = model_load(saved)
    column = fitted.text.vocabulary["etcd"]
    assert loaded.text.vocabulary["etcd"] == column and loaded.term(column) == "etcd"
    assert "no-such-term" not in loaded.text.vocabulary
    assert list(loaded.titles[:5]) == list(fitted.titles[:5])
    assert loaded.areas[42] == fitted.areas[42] and loaded.tags[42] == fitted.tags[42]
    assert loaded.index[int(fitted.doc_ids[9])] == 9 and loaded.index.get(-1) is None


def test_a_loaded_model_maps_its_arrays_instead_of_copying_them(saved):
    loaded = model_load(saved)

    def mapped(array) -> bool:
        while array is not None:
            if isinstance(array, np.memmap):
                return True
            array = getattr(array, "base", None)
        return False

    arrays = [loaded.matrix.data, loaded.matrix.indices, loaded.matrix_t.indptr, loaded.doc_ids]
    assert all(mapped(array) for array in arrays)
    with pytest.raises(ValueError, match="read-only"):
        loaded.popularity[0] = 1.0


_MAPPER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from recommender.engine.storage import model_load

    model = model_load(Path(sys.argv[1]))
    float(model.matrix.data.sum())  # read every page of the matrix values
    print("ready", flush=True)
    sys.stdin.readline()  # both processes hold the mapping now
    target = str(Path(sys.argv[1]) / "matrix.data.npy")
    shared = rss = 0
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if not line.split()[0].endswith(":"):  # a mapping's header: "start-end perms ... path"
            inside = line.rstrip().endswith(target)
            continue
        if inside and line.startswith("Shared_Clean:"):
            shared += int(line.split()[1])
        if inside and line.startswith("Rss:"):
            rss += int(line.split()[1])
    print(rss, shared, flush=True)
    """
)


def test_two_processes_map_the_same_model_files(saved):
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _MAPPER, str(saved), str(ROOT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            assert process.stdout.readline().strip() == "ready"
        reports = []
        for process in processes:
            process.stdin.write("\n")
            process.stdin.flush()
            reports.append([int(x) for x in process.stdout.readline().split()])
    finally:
        for process in processes:
            process.communicate(timeout=60)
    size_kib = (saved / "matrix.data.npy").stat().st_size // 1024
    for rss, shared in reports:
        # Resident, and shared with the other process: one copy in the page cache.
        assert rss >= size_kib // 2
        assert shared >= size_kib // 2


def test_candidate_generation_ranks_the_same_queues_as_exact_scoring_when_forced_on(fitted):
    learners = build_learners(fitted, 80, seed=12)
    sizes = []
    for learner in learners:
        approximate = _queue(fitted, learner, candidates=True)
        exact = _queue(fitted, learner)
        assert [(doc, reasons) for doc, _, reasons in approximate] == [
            (doc, reasons) for doc, _, reasons in exact
        ]
        # Same scores, up to float32 rounding (the terms are added in another order).
        assert np.allclose([s for _, s, _ in approximate], [s for _, s, _ in exact], atol=1e-4)
    # The candidate sets are a part of the catalog, not all of it.
    from recommender.engine.profile import learner_state, profile_from_state

    for learner in learners:
        state = learner_state(fitted, learner)
        prior = 0.5 * focus_match(fitted, state.focus)
        by_prior = np.argsort(-prior)[:1000]
        profile = profile_from_state(fitted, state)
        rows = candidate_rows(fitted, profile, by_prior, prior.__getitem__, fitted.path_rows)
        sizes.append(len(rows))
    assert max(sizes) < fitted.n_docs


def test_a_model_directory_of_another_format_is_refused(saved, tmp_path):
    import json
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    meta = json.loads((copy / "model.json").read_text())
    meta["format"] = 999
    (copy / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="format"):
        model_load(copy)
