"""Link checks end to end against a real local HTTP server."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from catalog.feeds.fetch import shared_session
from catalog.health import checking, hosts
from catalog.health.links import Outcome, is_https_upgrade, link_check_url
from catalog.health.models import LinkCheck, LinkHost, LinkStatus, ResourceLink
from catalog.health.services import link_policy, link_record, links_sync
from catalog.models import Resource
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


def check(url: str):
    return link_check_url(url, session=shared_session(link_policy()))


def resource_at(url: str) -> Resource:
    resource = ResourceFactory(url=url)
    links_sync()
    ResourceLink.objects.filter(pk=resource.pk).update(next_check_at=timezone.now())
    return resource


def check_due() -> list[checking.CheckReport]:
    return checking.links_check(batches=hosts.links_claim_due(limit=100))


def test_a_200_is_ok(linkserver):
    linkserver.expect_request("/post", method="HEAD").respond_with_data("")
    resource = resource_at(linkserver.url_for("/post"))
    check_due()
    link = ResourceLink.objects.get(pk=resource.pk)
    assert (link.status, link.http_status, link.consecutive_failures) == ("ok", 200, 0)


def test_head_refused_falls_back_to_get(linkserver):
    linkserver.expect_request("/post", method="HEAD").respond_with_data("", status=405)
    linkserver.expect_request("/post", method="GET").respond_with_data("x" * 200_000)
    outcome = check(linkserver.url_for("/post"))
    assert (outcome.outcome, outcome.method, outcome.http_status) == ("ok", "GET", 200)


def test_a_chain_of_301s_proposes_the_final_address(linkserver):
    linkserver.expect_request("/old").respond_with_response(
        Response(status=301, headers={"Location": "/older"})
    )
    linkserver.expect_request("/older").respond_with_response(
        Response(status=301, headers={"Location": "/new"})
    )
    linkserver.expect_request("/new").respond_with_data("")
    resource = resource_at(linkserver.url_for("/old"))
    check_due()
    link = ResourceLink.objects.get(pk=resource.pk)
    assert link.status == LinkStatus.REDIRECTED
    assert link.final_url == link.proposed_url == linkserver.url_for("/new")


def test_a_302_is_redirected_without_a_proposal(linkserver):
    linkserver.expect_request("/moved-for-now").respond_with_response(
        Response(status=302, headers={"Location": "/elsewhere"})
    )
    linkserver.expect_request("/elsewhere").respond_with_data("")
    resource = resource_at(linkserver.url_for("/moved-for-now"))
    check_due()
    link = ResourceLink.objects.get(pk=resource.pk)
    assert (link.status, link.proposed_url) == (LinkStatus.REDIRECTED, "")
    assert link.final_url == linkserver.url_for("/elsewhere")


@pytest.mark.parametrize("status", [404, 410])
def test_one_missing_answer_is_failing_not_gone(linkserver, status):
    linkserver.expect_request("/post").respond_with_data("", status=status)
    resource = resource_at(linkserver.url_for("/post"))
    check_due()
    link = ResourceLink.objects.get(pk=resource.pk)
    assert (link.status, link.consecutive_failures) == (LinkStatus.FAILING, 1)
    assert link.failing_since is not None


def test_missing_on_three_checks_over_three_days_is_gone(linkserver):
    linkserver.expect_request("/post").respond_with_data("", status=404)
    resource = resource_at(linkserver.url_for("/post"))
    start = timezone.now()
    statuses = []
    for day in (0, 1.5, 3):
        link = ResourceLink.objects.get(pk=resource.pk)
        outcome = check(resource.url)
        link = link_record(link=link, outcome=outcome, now=start + timedelta(days=day))
        statuses.append(link.status)
    assert statuses == ["failing", "failing", "gone"]


def test_three_missing_answers_within_a_day_are_not_gone(linkserver):
    linkserver.expect_request("/post").respond_with_data("", status=410)
    resource = resource_at(linkserver.url_for("/post"))
    start = timezone.now()
    for hours in (0, 6, 12):
        link = ResourceLink.objects.get(pk=resource.pk)
        link = link_record(
            link=link, outcome=check(resource.url), now=start + timedelta(hours=hours)
        )
    assert (link.status, link.consecutive_failures) == (LinkStatus.FAILING, 3)


def test_a_good_answer_clears_a_failing_link(linkserver):
    linkserver.expect_ordered_request("/post").respond_with_data("", status=500)
    linkserver.expect_ordered_request("/post").respond_with_data("")
    resource = resource_at(linkserver.url_for("/post"))
    link = link_record(link=ResourceLink.objects.get(pk=resource.pk), outcome=check(resource.url))
    assert link.status == LinkStatus.FAILING
    link = link_record(link=link, outcome=check(resource.url))
    assert (link.status, link.failing_since, link.last_error) == ("ok", None, "")


def test_a_5xx_is_failing_with_the_error(linkserver):
    linkserver.expect_request("/post").respond_with_data("", status=502)
    resource = resource_at(linkserver.url_for("/post"))
    check_due()
    link = ResourceLink.objects.get(pk=resource.pk)
    assert (link.status, link.last_error) == (LinkStatus.FAILING, "HTTP 502")


def test_429_with_retry_after_puts_off_the_host_without_a_failure(linkserver):
    linkserver.expect_request("/a").respond_with_data(
        "", status=429, headers={"Retry-After": "600"}
    )
    first = resource_at(linkserver.url_for("/a"))
    second = resource_at(linkserver.url_for("/b"))
    reports = check_due()
    assert len(reports) == 1  # the host asked us to wait: its other link is given back
    link = ResourceLink.objects.get(pk=first.pk)
    assert (link.status, link.consecutive_failures) == (LinkStatus.UNCHECKED, 0)
    assert link.next_check_at > timezone.now() + timedelta(seconds=590)
    host = LinkHost.objects.get(name=link.host)
    assert host.next_request_at > timezone.now() + timedelta(seconds=590)
    assert host.claimed_until is None
    waiting = ResourceLink.objects.get(pk=second.pk)
    assert waiting.claimed_until is None and waiting.checked_at is None
    assert hosts.links_claim_due(limit=100) == []


def test_503_with_retry_after_is_not_a_failure(linkserver):
    linkserver.expect_request("/post").respond_with_data(
        "", status=503, headers={"Retry-After": "120"}
    )
    assert check(linkserver.url_for("/post")).outcome == Outcome.RATE_LIMITED


def test_a_timeout_is_failing(linkserver):
    def slow(request):
        time.sleep(1.5)
        return Response("")

    linkserver.expect_request("/slow").respond_with_handler(slow)
    outcome = check(linkserver.url_for("/slow"))
    assert outcome.outcome == Outcome.FAILED
    assert "Timed out" in outcome.error


def test_a_host_that_resets_connections_is_failing(resetting_server):
    resource = resource_at(resetting_server)
    check_due()
    link = ResourceLink.objects.get(pk=resource.pk)
    assert link.status == LinkStatus.FAILING
    assert link.last_error


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]/"]
)
def test_a_private_target_is_never_contacted(connections, url):
    resource = resource_at(url)
    check_due()
    link = ResourceLink.objects.get(pk=resource.pk)
    assert link.status == LinkStatus.FAILING
    assert link.last_error.startswith("Refused")
    assert connections == []


def test_a_redirect_to_a_private_address_is_refused_before_connecting(linkserver, connections):
    linkserver.expect_request("/r").respond_with_response(
        Response(status=301, headers={"Location": "http://169.254.169.254/"})
    )
    outcome = check(linkserver.url_for("/r"))
    assert outcome.outcome == Outcome.FAILED
    assert {host for host, _ in connections} == {"127.0.0.1"}


def test_checking_again_is_idempotent(linkserver):
    linkserver.expect_request("/post").respond_with_data("")
    resource = resource_at(linkserver.url_for("/post"))
    check_due()
    ResourceLink.objects.filter(pk=resource.pk).update(next_check_at=timezone.now())
    check_due()
    link = ResourceLink.objects.get(pk=resource.pk)
    assert (link.status, ResourceLink.objects.count(), link.checks.count()) == ("ok", 1, 2)


def test_history_is_bounded(linkserver, settings):
    settings.LINK_CHECK_HISTORY = 3
    linkserver.expect_request("/post").respond_with_data("")
    resource = resource_at(linkserver.url_for("/post"))
    link = ResourceLink.objects.get(pk=resource.pk)
    for _ in range(5):
        link = link_record(link=link, outcome=check(resource.url))
    assert LinkCheck.objects.filter(link=link).count() == 3


def test_an_https_move_on_the_same_host_is_applied():
    resource = resource_at("http://blog.example.org/post")
    link = ResourceLink.objects.get(pk=resource.pk)
    outcome = check_outcome_redirected(resource.url, "https://blog.example.org/post")
    link = link_record(link=link, outcome=outcome)
    resource.refresh_from_db()
    assert resource.url == "https://blog.example.org/post"
    assert (link.status, link.proposed_url) == (LinkStatus.OK, "")


def test_an_https_move_onto_another_resources_address_stays_a_proposal():
    ResourceFactory(url="https://blog.example.org/post")
    resource = resource_at("http://blog.example.org/post")
    link = link_record(
        link=ResourceLink.objects.get(pk=resource.pk),
        outcome=check_outcome_redirected(resource.url, "https://blog.example.org/post"),
    )
    resource.refresh_from_db()
    assert resource.url == "http://blog.example.org/post"
    assert link.proposed_url == "https://blog.example.org/post"


def check_outcome_redirected(url: str, final: str):
    from catalog.health.links import LinkOutcome

    return LinkOutcome(
        Outcome.REDIRECTED, url, http_status=200, final_url=final, permanent_url=final
    )


@pytest.mark.parametrize(
    ("old", "new", "upgrade"),
    [
        ("http://a.example/x", "https://a.example/x", True),
        ("http://a.example/x", "https://b.example/x", False),
        ("http://a.example/x", "https://a.example/y", False),
        ("https://a.example/x", "https://a.example/x", False),
    ],
)
def test_is_https_upgrade(old, new, upgrade):
    assert is_https_upgrade(old, new) is upgrade
