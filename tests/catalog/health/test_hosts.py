"""Claiming links and hosts: two checkers never check one resource, or contact one host, at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from catalog.health import checking, hosts
from catalog.health.links import LinkOutcome, Outcome
from catalog.health.models import LinkHost, ResourceLink
from catalog.health.services import links_sync
from catalog.models import Status
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


def due_resources(*urls: str) -> list[int]:
    ids = [ResourceFactory(url=url).pk for url in urls]
    links_sync()
    ResourceLink.objects.update(next_check_at=timezone.now() - timedelta(seconds=1))
    return ids


def test_two_claims_never_share_a_resource_or_a_host():
    due_resources(*(f"https://h{n % 3}.example/{n}" for n in range(9)))
    first = hosts.links_claim_due(limit=100)
    second = hosts.links_claim_due(limit=100)
    assert sum(len(b.link_ids) for b in first) == 9
    assert second == []


@pytest.mark.django_db(transaction=True)
def test_two_checkers_claiming_at_the_same_moment_never_share_a_link_or_a_host(monkeypatch):
    # The interleaving a sequential test never reaches: checker A reads the due links, then
    # checker B reads the same ones (A holds no lock any more), and only then do both claim.
    due_resources(*(f"https://h{n % 3}.example/{n}" for n in range(9)))
    a_has_read = threading.Event()
    both_have_read = threading.Barrier(2, timeout=10)
    real_host_claim = hosts.host_claim
    waited = threading.local()

    def host_claim_when_both_have_read(**kwargs):  # type: ignore[no-untyped-def]
        if not getattr(waited, "done", False):
            waited.done = True
            a_has_read.set()
            both_have_read.wait()
        return real_host_claim(**kwargs)

    monkeypatch.setattr(hosts, "host_claim", host_claim_when_both_have_read)
    claimed: dict[str, list[hosts.HostBatch]] = {}

    def checker(name: str) -> None:
        try:
            claimed[name] = hosts.links_claim_due(limit=100)
        finally:
            connection.close()

    a = threading.Thread(target=checker, args=("a",))
    b = threading.Thread(target=checker, args=("b",))
    a.start()
    assert a_has_read.wait(timeout=10)
    b.start()
    for thread in (a, b):
        thread.join(timeout=30)
    batches = claimed["a"] + claimed["b"]
    link_ids = [pk for batch in batches for pk in batch.link_ids]
    assert sorted(link_ids) == sorted(set(link_ids)) and len(link_ids) == 9
    assert sorted(batch.host for batch in batches) == [f"h{n}.example:443" for n in range(3)]


def test_a_claim_takes_at_most_per_host_links_of_one_host():
    due_resources(*(f"https://one.example/{n}" for n in range(5)))
    batches = hosts.links_claim_due(limit=100, per_host=2)
    assert [len(batch.link_ids) for batch in batches] == [2]
    assert hosts.links_claim_due(limit=100, per_host=2) == []  # the host is leased


def test_a_resting_host_is_skipped_until_its_time():
    due_resources("https://rest.example/a")
    LinkHost.objects.create(
        name="rest.example:443", next_request_at=timezone.now() + timedelta(minutes=5)
    )
    assert hosts.links_claim_due(limit=10) == []
    assert hosts.links_claim_due(limit=10, now=timezone.now() + timedelta(minutes=6))


def test_an_expired_claim_is_due_again():
    due_resources("https://lease.example/a")
    assert hosts.links_claim_due(limit=10)
    later = timezone.now() + hosts.CLAIM_LEASE + timedelta(seconds=1)
    assert hosts.links_claim_due(limit=10, now=later)


def test_pending_rejected_and_addressless_resources_are_not_claimed():
    ResourceFactory(url="https://p.example/1", status=Status.PENDING)
    ResourceFactory(url=None)
    links_sync()
    assert ResourceLink.objects.count() == 0
    assert hosts.links_claim_due(limit=10) == []


def test_one_hosts_links_are_checked_one_after_another_at_its_interval(monkeypatch):
    due_resources(*(f"https://pace.example/{n}" for n in range(3)))
    batches = hosts.links_claim_due(limit=10)
    calls: list[str] = []
    waits: list[float] = []

    def fake_check(url, *, session):
        calls.append(url)
        return LinkOutcome(Outcome.OK, url, http_status=200, final_url=url)

    monkeypatch.setattr(checking, "link_check_url", fake_check)
    checking.links_check(batches=batches, host_interval=30, sleep=waits.append)
    assert len(calls) == 3
    # Before the 2nd and 3rd request the checker waited (about) the host's interval.
    assert len(waits) == 2 and all(29 < wait <= 30 for wait in waits)
    host = LinkHost.objects.get(name="pace.example:443")
    assert host.claimed_until is None
    assert host.next_request_at > timezone.now() + timedelta(seconds=29)


def test_slice_covers_the_catalog_within_the_interval():
    # 10,000 resources, weekly: a minute's slice leaves room to drain a backlog, no burst.
    size = hosts.slice_size(10_000, interval_days=7)
    assert size * 7 * 24 * 60 >= 10_000
    assert size <= 10
