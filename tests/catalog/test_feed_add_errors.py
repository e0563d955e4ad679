"""Adding or polling a feed at a hostile or broken address is a clear error, never a 500."""

from __future__ import annotations

import socket

import pytest
from django.contrib.auth import get_user_model
from werkzeug import Response

from catalog.feeds import poll
from catalog.feeds import services as feed_services
from catalog.models import Feed, FeedPoll, Resource

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_feeds_allowed(settings):
    settings.FEEDS_ALLOWED_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", password="x-admin-pass-123")
    client.force_login(user)
    return client


def test_adding_a_host_name_that_can_never_resolve_is_a_400(curator_api):
    # A 64-character label is not a valid host name: refused before any DNS lookup.
    address = "http://" + "a" * 64 + ".example.com/feed.xml"
    response = curator_api.post("/api/feeds/", {"url": address}, format="json")
    assert response.status_code == 400
    assert "not a valid host name" in str(response.json())
    assert not Feed.objects.exists()


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "127.1"])
def test_adding_an_ip_address_in_a_non_standard_form_is_a_400_leaving_no_feed(curator_api, host):
    response = curator_api.post("/api/feeds/", {"url": f"http://{host}/feed.xml"}, format="json")
    assert response.status_code == 400
    assert "non-standard form" in str(response.json())
    assert not Feed.objects.exists()


def test_a_host_name_that_does_not_resolve_fails_its_check_with_the_reason(add_feed):
    # .invalid never resolves (RFC 6761); the stub resolver answers like real DNS would.
    response, feed = add_feed("http://no-such-blog.invalid/feed.xml")
    assert response.status_code == 202
    assert feed.state == "failed" and feed.health == "check failed"
    assert "resolve" in feed.last_error.lower()
    assert not feed.active


def _redirect_to_malformed_target(httpserver) -> str:
    httpserver.expect_request("/feed.xml").respond_with_response(
        Response(status=302, headers={"Location": "http:127.0.0.2:8311/feed.xml"})
    )
    return httpserver.url_for("/feed.xml")


def test_a_feed_that_redirects_to_a_malformed_address_fails_its_check(add_feed, httpserver):
    address = _redirect_to_malformed_target(httpserver)
    response, feed = add_feed(address)
    assert response.status_code == 202
    assert feed.state == "failed" and feed.last_error
    assert Feed.objects.count() == 1


def test_polling_a_feed_that_redirects_to_a_malformed_address_records_the_error(httpserver):
    feed = Feed.objects.create(url=_redirect_to_malformed_target(httpserver))
    report = poll.feed_poll(feed_id=feed.pk)
    feed.refresh_from_db()
    assert report.outcome == "failed"
    assert feed.claimed_until is None
    assert feed.consecutive_failures == 1 and feed.last_error
    assert FeedPoll.objects.filter(feed=feed, outcome="failed").count() == 1


@pytest.mark.parametrize(
    "address",
    ["ftp://example.com/feed.xml", "http://user:pass@127.0.0.1:9/feed.xml", "http://[::1"],
)
def test_admin_feed_form_refuses_unusable_addresses_with_a_message(admin_client, address):
    response = admin_client.post("/admin/catalog/feed/add/", {"url": address, "active": "on"})
    assert response.status_code == 200  # the form again, with its errors
    assert response.context["adminform"].form.errors
    assert not Feed.objects.exists()


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("file:///etc/passwd", "is not an http(s) address"),
        ("ftp://example.com/feed.xml", "is not an http(s) address"),
    ],
)
def test_admin_feed_form_says_what_is_wrong_with_an_address_as_the_api_does(
    admin_client, address, reason
):
    # Django's URL field answered "Enter a valid URL." first (a walk-through).
    response = admin_client.post("/admin/catalog/feed/add/", {"url": address, "active": "on"})
    assert response.status_code == 200
    assert reason in str(response.context["adminform"].form.errors["url"])
    assert not Feed.objects.exists()


def test_a_feed_deleted_while_its_poll_fetches_stays_deleted(httpserver, monkeypatch):
    from tests.feedbuilder import posts, rss

    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(posts(3)), content_type="application/rss+xml"
    )
    feed = Feed.objects.create(url=httpserver.url_for("/feed.xml"))
    real_fetch = poll.fetch

    def fetch_then_curator_deletes(*args, **kwargs):
        result = real_fetch(*args, **kwargs)  # the real request to the local server
        feed_services.feeds_delete(feeds=Feed.objects.filter(pk=feed.pk))
        return result

    monkeypatch.setattr(poll, "fetch", fetch_then_curator_deletes)
    report = poll.feed_poll(feed_id=feed.pk)

    assert report.outcome == poll.DELETED
    assert not Feed.objects.filter(pk=feed.pk).exists()
    assert not FeedPoll.objects.exists()
    assert not Resource.objects.exists()


def test_deleting_a_feed_after_polls_removes_its_history_and_keeps_its_entries(
    curator_api, httpserver
):
    from tests.feedbuilder import posts, rss

    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(posts(2)), content_type="application/rss+xml"
    )
    feed = Feed.objects.create(url=httpserver.url_for("/feed.xml"))
    poll.feed_poll(feed_id=feed.pk)

    response = curator_api.delete(f"/api/feeds/{feed.pk}/")

    assert response.status_code == 204
    assert not FeedPoll.objects.exists()
    assert Resource.objects.count() == 2
    assert set(Resource.objects.values_list("feed", flat=True)) == {None}


@pytest.mark.parametrize(
    "body, content_type, reason",
    [
        (
            b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
            "application/json",
            "is JSON",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "x">]><rss version="2.0">'
            b"<channel><title>&a;</title></channel></rss>",
            "application/rss+xml",
            "declares XML entities",
        ),
    ],
)
def test_adding_a_document_that_is_not_a_usable_feed_says_the_real_reason(
    add_feed, httpserver, body, content_type, reason
):
    httpserver.expect_request("/feed").respond_with_data(body, content_type=content_type)
    _, feed = add_feed(httpserver.url_for("/feed"))
    assert feed.state == "failed"
    assert reason in feed.last_error
    assert "links to none" not in feed.last_error


def test_discovery_shares_one_deadline_across_every_candidate(add_feed, httpserver, settings):
    import time as time_module

    settings.FEEDS_TOTAL_DEADLINE = 2.0
    links = "".join(
        f'<link rel="alternate" type="application/rss+xml" href="/slow{n}.xml">' for n in range(6)
    )
    httpserver.expect_request("/").respond_with_data(
        f"<html><head>{links}</head></html>", content_type="text/html"
    )

    def slow_candidate(request):
        time_module.sleep(0.8)  # inside the read timeout, so only a shared deadline stops it
        return Response("not found", status=404)

    for n in range(6):
        httpserver.expect_request(f"/slow{n}.xml").respond_with_handler(slow_candidate)

    started = time_module.monotonic()
    _, feed = add_feed(httpserver.url_for("/"))
    elapsed = time_module.monotonic() - started

    assert feed.state == "failed"
    assert "Gave up" in feed.last_error
    assert elapsed < 3.5  # six candidates at 0.8 s each would take 4.8 s


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("http://10.0.0.1/feed.xml", "private network address"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        # Numeric forms every fetch refuses: a walk-through's were saved, then failed.
        ("http://2130706433/feed.xml", "non-standard form"),
        ("http://0x7f000001/feed.xml", "non-standard form"),
    ],
)
def test_admin_feed_form_refuses_an_address_the_fetch_policy_forbids_with_a_message(
    admin_client, address, reason
):
    response = admin_client.post("/admin/catalog/feed/add/", {"url": address, "active": "on"})
    assert response.status_code == 200  # the form again, not a 500
    assert reason in str(response.context["adminform"].form.errors["url"])
    assert not Feed.objects.exists()


def test_admin_feed_form_refuses_moving_a_feed_to_a_private_address(admin_client):
    feed = Feed.objects.create(url="http://127.0.0.1:9/feed.xml")
    response = admin_client.post(
        f"/admin/catalog/feed/{feed.pk}/change/",
        {"url": "http://10.1.2.3/feed.xml", "active": "on", **_empty_inline("feedpoll_set")},
    )
    assert response.status_code == 200
    assert "private network address" in str(response.context["adminform"].form.errors["url"])
    feed.refresh_from_db()
    assert feed.url == "http://127.0.0.1:9/feed.xml"


def _empty_inline(prefix: str) -> dict[str, str]:
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}


def test_a_refused_connection_on_the_first_check_names_the_address_once(add_feed):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"http://127.0.0.1:{port}/feed.xml"
    _, feed = add_feed(address)
    assert feed.state == "failed"
    assert feed.last_error.count(address) == 1, feed.last_error
