"""Outdated advice: the deprecations table against the seed catalog, and flags' life cycle."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog.health.models import Deprecation, FlagState, StalenessFlag
from catalog.health.staleness import deprecation_regex, first_match, flags_review, staleness_scan
from catalog.models import Origin, Resource
from catalog.seeding import seed_catalog_load
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

# Written by hand from fixtures/seed_catalog.yaml (titles and summaries; seed resources are
# curated, with no stored content and no dates where these match). The Pod Security Admission
# page names PodSecurityPolicy but is its row's successor, so it is not flagged.
SEED_EXPECTED = {
    "pod-security-policy": {"datacenter-orchestration-security-insecurity"},
    "dockershim": set(),
    "workload-beta-apis": set(),
    "ingress-beta-apis": set(),
    "rbac-beta-apis": set(),
    "batch-policy-beta-apis": set(),
    "tiller": set(),
    "katacoda": {"katacoda"},
    "kube-dns": set(),
    "kubectl-run-generators": set(),
    "heapster": set(),
}

# One text per row that must match it (and that a reader of 2018 posts would meet).
MENTIONS = {
    "pod-security-policy": "Lock down pods with a Pod Security Policy",
    "dockershim": "How the kubelet talks to Docker through dockershim",
    "workload-beta-apis": "apiVersion: extensions/v1beta1\nkind: Deployment",
    "ingress-beta-apis": "apiVersion: networking.k8s.io/v1beta1 for your Ingress",
    "rbac-beta-apis": "apiVersion: rbac.authorization.k8s.io/v1beta1",
    "batch-policy-beta-apis": "a CronJob in batch/v1beta1",
    "tiller": "Install Tiller into kube-system with helm init",
    "katacoda": "Practise on Katacoda",
    "kube-dns": "Debugging kube-dns",
    "kubectl-run-generators": "kubectl run nginx --image=nginx --generator=run-pod/v1",
    "heapster": "Monitoring with Heapster and InfluxDB",
}


@pytest.fixture
def seed(db):
    seed_catalog_load()


def flagged() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {row.slug: set() for row in Deprecation.objects.all()}
    for slug, resource in StalenessFlag.objects.values_list("deprecation__slug", "resource__slug"):
        found[slug].add(resource)
    return found


def test_the_table_has_the_rows_that_matter_to_the_seeds_readers(seed):
    assert set(Deprecation.objects.values_list("slug", flat=True)) == set(SEED_EXPECTED)


def test_each_row_flags_exactly_the_seed_resources_it_should(seed):
    assert flagged() == SEED_EXPECTED


@pytest.mark.parametrize("slug", sorted(MENTIONS))
def test_each_row_matches_a_mention_of_what_it_removed(seed, slug):
    resource = ResourceFactory(title="Notes", summary=MENTIONS[slug], published_at=None)
    staleness_scan(resource_ids=[resource.pk])
    assert set(
        StalenessFlag.objects.filter(resource=resource).values_list("deprecation__slug", flat=True)
    ) >= {slug}


@pytest.mark.parametrize(
    "text",
    ["PodSecurityPolicyish", "Cinderella tiller-less", "kube-dns-autoscaler", "akatacodax"],
)
def test_phrases_match_on_word_boundaries_only(text):
    regex = deprecation_regex(["PodSecurityPolicy", "tiller-less-nothing", "kube-dns", "Katacoda"])
    assert first_match(regex, [text]) is None


def test_the_sentence_names_the_removal_and_the_successor(seed):
    flag = StalenessFlag.objects.get(resource__slug="datacenter-orchestration-security-insecurity")
    assert flag.sentence == (
        "Mentions PodSecurityPolicy, removed in Kubernetes 1.25 (August 2022); read "
        "'PodSecurityPolicy and its successor, Pod Security Admission (Kubernetes "
        "documentation)' for today's way."
    )


def test_a_resource_published_after_the_removal_is_not_flagged(seed):
    resource = ResourceFactory(
        summary="Why Katacoda closed", published_at=dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    )
    staleness_scan(resource_ids=[resource.pk])
    assert not StalenessFlag.objects.filter(resource=resource).exists()


def test_a_feed_entrys_stored_content_is_matched(seed):
    resource = ResourceFactory(
        title="Notes",
        summary="",
        origin=Origin.FEED,
        content_html="<p>First, <code>helm init</code> to install the server side.</p>",
        published_at=dt.datetime(2018, 5, 1, tzinfo=dt.UTC),
    )
    staleness_scan(resource_ids=[resource.pk])
    assert StalenessFlag.objects.get(resource=resource).deprecation.slug == "tiller"


def test_a_dismissed_flag_stays_dismissed_on_rescan(seed, carol):
    flag = StalenessFlag.objects.get(resource__slug="katacoda")
    flags_review(flag_ids=[flag.pk], state=FlagState.DISMISSED, by=carol)
    staleness_scan()
    seed_catalog_load()
    flag.refresh_from_db()
    assert flag.state == FlagState.DISMISSED
    assert StalenessFlag.objects.filter(resource__slug="katacoda").count() == 1


def test_a_raised_flag_goes_when_the_text_no_longer_matches(seed):
    Resource.objects.filter(slug="katacoda").update(title="Killercoda", summary="Playgrounds.")
    staleness_scan()
    assert not StalenessFlag.objects.filter(resource__slug="katacoda").exists()


def test_the_seed_load_is_idempotent_for_the_table(seed):
    assert "deprecations" not in seed_catalog_load().updated
    assert "deprecations" not in seed_catalog_load().created


def test_without_beat_the_link_watch_loop_flags_outdated_advice(seed, monkeypatch):
    # `make run` without Redis has no beat: check_links --watch runs the staleness scan.
    from django.core.management import call_command

    from catalog.management.commands import check_links

    resource = ResourceFactory(title="PodSecurityPolicy migration guide", published_at=None)

    def stop(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(check_links.time, "sleep", stop)
    call_command("check_links", watch=60)
    assert StalenessFlag.objects.filter(
        resource=resource, deprecation__slug="pod-security-policy"
    ).exists()
