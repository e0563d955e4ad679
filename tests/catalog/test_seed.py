"""The seed catalog: every resource the seed names, in the seed's order, loaded idempotently."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from catalog.addresses import canonical_url
from catalog.models import LearningPath, Resource, SecurityArea, Stage, Status
from catalog.seeding import SEED_FILE, seed_catalog_load

SEED_TEXT = (Path(__file__).resolve().parents[2] / "fixtures" / "seed_post.txt").read_text(
    encoding="utf-8"
)
SEED = yaml.safe_load(SEED_FILE.read_text())


def test_seed_file_names_well_over_thirty_resources():
    assert len(SEED["resources"]) > 30


def test_seed_file_has_no_duplicate_keys_or_addresses():
    keys = [row["key"] for row in SEED["resources"]]
    urls = [canonical_url(row["url"]) for row in SEED["resources"] if row.get("url")]
    assert len(keys) == len(set(keys))
    assert len(urls) == len(set(urls))


def test_seed_addresses_are_already_canonical():
    for row in SEED["resources"]:
        if row.get("url"):
            assert canonical_url(row["url"]) == row["url"], row["key"]


def test_what_learners_read_never_calls_the_guide_the_seed():
    # "The seed" is our word for the post the catalog grew from; learners read summaries and
    # the path's description, where it meant nothing to them.
    texts = [row["summary"] for row in SEED["resources"]] + [SEED["path"]["description"]]
    texts += [step.get("note") or "" for step in SEED["path"]["steps"]]
    assert not [text for text in texts if "seed" in text.lower()]


def test_path_follows_the_order_in_which_the_seed_names_resources():
    """Each step whose title the seed quotes must appear later in the seed than the one before."""
    by_key = {row["key"]: row for row in SEED["resources"]}
    positions = []
    for step in SEED["path"]["steps"]:
        title = by_key[step["key"]]["title"]
        where = SEED_TEXT.find(title)
        if where >= 0:
            positions.append((where, title))
    assert len(positions) >= 15, "too few step titles are quoted verbatim to check the order"
    assert positions == sorted(positions)


def test_path_walks_basics_then_production_then_security():
    by_key = {row["key"]: row for row in SEED["resources"]}
    order = [Stage.GETTING_STARTED, Stage.PRODUCTION_READY, Stage.SECURITY]
    stages = [order.index(by_key[step["key"]]["stage"]) for step in SEED["path"]["steps"]]
    assert stages == sorted(stages)
    assert set(stages) == {0, 1, 2}


@pytest.mark.django_db
def test_loading_the_seed_creates_the_catalog_and_path():
    report = seed_catalog_load()
    assert report.created["resources"] == len(SEED["resources"])
    assert Resource.objects.filter(status=Status.APPROVED).count() == len(SEED["resources"])
    assert set(Resource.objects.values_list("stage", flat=True)) == set(Stage.values)
    path = LearningPath.objects.get()
    steps = list(path.steps.order_by("position").select_related("resource"))
    assert [step.resource.slug for step in steps] == [s["key"] for s in SEED["path"]["steps"]]
    assert steps[0].resource.title == "So I Heard You Want to Learn Kubernetes"


@pytest.mark.django_db
def test_every_security_area_is_covered_by_some_resource():
    seed_catalog_load()
    for area in SecurityArea.objects.all():
        assert area.resources.exists(), area.slug


@pytest.mark.django_db
def test_loading_the_seed_twice_changes_nothing():
    seed_catalog_load()
    before = list(Resource.objects.order_by("pk").values("pk", "updated_at"))
    assert seed_catalog_load().changes == 0
    assert list(Resource.objects.order_by("pk").values("pk", "updated_at")) == before


@pytest.mark.django_db
def test_reloading_restores_a_seeded_row_a_curator_changed():
    seed_catalog_load()
    Resource.objects.filter(slug="kubernetes-the-hard-way").update(title="Changed")
    report = seed_catalog_load()
    assert report.updated == {"resources": 1}
    assert Resource.objects.get(slug="kubernetes-the-hard-way").title == "Kubernetes The Hard Way"


@pytest.mark.django_db
def test_load_seed_catalog_command_reports_nothing_changed_on_second_run(capsys):
    call_command("load_seed_catalog")
    call_command("load_seed_catalog")
    assert "nothing changed" in capsys.readouterr().out
