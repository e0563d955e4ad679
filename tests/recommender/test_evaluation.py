from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from catalog.seeding import seed_catalog_load
from recommender import selectors
from recommender.engine import fit
from recommender.evaluation import evaluate

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed_rows():
    seed_catalog_load()
    documents = selectors.engine_documents()
    path = [d.id for d in sorted(documents, key=lambda d: d.path_position or 0) if d.path_position]
    return {row["recommender"]: row for row in evaluate(fit(documents), path, seed=0)}


def test_engine_beats_every_baseline_on_the_seed_catalog(seed_rows):
    engine = seed_rows.pop("engine")
    assert set(seed_rows) == {"random", "popularity", "path_order"}
    for name, baseline in seed_rows.items():
        assert engine["combined"] > baseline["combined"], name


def test_engine_never_breaks_a_prerequisite_on_the_seed_path(seed_rows):
    assert seed_rows["engine"]["violations"] == 0
    assert seed_rows["engine"]["hit@3"] == 1.0


def test_engine_serves_a_focus_better_than_path_order(seed_rows):
    assert seed_rows["engine"]["precision@5"] > seed_rows["path_order"]["precision@5"]


def test_evaluate_recommender_command_prints_the_table():
    seed_catalog_load()
    out = StringIO()
    call_command("evaluate_recommender", "--markdown", stdout=out)
    text = out.getvalue()
    assert "| engine |" in text and "| path_order |" in text
    assert "The engine beats every baseline" in text
