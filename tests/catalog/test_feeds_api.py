"""Feeds through the API, the admin, OPML and the poll_feeds command."""

from __future__ import annotations

from datetime import UTC, timedelta
from io import StringIO

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from catalog.feeds import services as feed_services
from catalog.feeds.opml import OpmlOutline, opml_export
from catalog.models import Feed, FeedState, Resource, Status
from tests.factories import ResourceFactory, SecurityAreaFactory
from tests.feedbuilder import posts, rss

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_feeds_allowed(settings):
    settings.FEEDS_ALLOWED_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def blog(httpserver):
    """A blog page that links to its RSS feed."""
    page = (
        b'<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml">'
        b"</head></html>"
    )
    httpserver.expect_request("/").respond_with_data(page, content_type="text/html")
    httpserver.expect_request("/rss.xml").respond_with_data(
        rss(posts(3), title="Dana's Kubernetes notes"), content_type="application/rss+xml"
    )
    return httpserver


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", password="x-admin-pass-123")
    client.force_login(user)
    return client


def test_adding_a_feed_answers_at_once_without_contacting_its_server(curator_api, blog):
    # The request's transaction is never committed here, so no worker runs: what the client
    # gets is what the request itself did.
    response = curator_api.post("/api/feeds/", {"url": blog.url_for("/")}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["state"] == "checking" and body["health"] == "checking"
    assert body["added_address"] == blog.url_for("/")
    assert response["Location"].endswith(f"/api/feeds/{body['id']}/")
    # The blog's own paths only: the server is shared, and a slow handler of an earlier test
    # (test_feed_add_errors' "/slow2.xml", given up on) can land in its log now (a gate).
    assert [request.path for request, _ in blog.log if request.path in {"/", "/rss.xml"}] == []


def test_a_worker_discovers_the_feed_behind_a_blog_page_and_polls_it(add_feed, curator_api, blog):
    response, feed = add_feed(blog.url_for("/"))
    assert response.status_code == 202
    body = curator_api.get(response["Location"]).json()
    assert body["state"] == "ready"
    assert body["url"] == blog.url_for("/rss.xml")
    assert body["title"] == "Dana's Kubernetes notes"
    # The first poll ran right after the check.
    assert Resource.objects.filter(feed=feed).count() == 3
    assert body["health"] == "new" or curator_api.get(response["Location"]).json()["health"] == "ok"


def test_adding_an_address_already_followed_returns_its_feed(add_feed, curator_api, blog):
    _, feed = add_feed(blog.url_for("/"))
    for address in (blog.url_for("/"), blog.url_for("/rss.xml")):
        response = curator_api.post("/api/feeds/", {"url": address}, format="json")
        assert response.status_code == 200
        assert response.json()["id"] == feed.pk
    assert Feed.objects.count() == 1


def test_a_page_leading_to_a_feed_already_followed_fails_with_its_number(add_feed, blog):
    feed = Feed.objects.create(url=blog.url_for("/rss.xml"))
    _, added = add_feed(blog.url_for("/"))
    assert added.state == "failed"
    assert f"already followed as feed #{feed.pk}" in added.last_error


def test_adding_again_an_address_that_failed_its_check_checks_it_again(add_feed, httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data("nope", status=500)
    _, failed = add_feed(httpserver.url_for("/feed.xml"))
    assert failed.state == "failed"
    httpserver.clear()
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(posts(1)), content_type="application/rss+xml"
    )
    response, feed = add_feed(httpserver.url_for("/feed.xml"))
    assert response.status_code == 202
    assert feed.pk == failed.pk and feed.state == "ready" and feed.active


def test_adding_a_private_ip_address_is_refused_at_once(curator_api, httpserver, settings):
    settings.FEEDS_ALLOWED_NETWORKS = []
    response = curator_api.post("/api/feeds/", {"url": httpserver.url_for("/")}, format="json")
    assert response.status_code == 400
    assert response.json()["url"]
    assert httpserver.log == []
    response = curator_api.post("/api/feeds/", {"url": "ftp://example.org/x"}, format="json")
    assert response.status_code == 400
    assert not Feed.objects.exists()


def test_a_feed_being_checked_is_never_dispatched_for_a_poll(curator_api, blog):
    from catalog.feeds.schedule import feeds_claim_due

    curator_api.post("/api/feeds/", {"url": blog.url_for("/")}, format="json")
    assert feeds_claim_due() == []


def test_the_dispatcher_queues_a_check_nobody_holds(curator_api, blog):
    # As after a broker outage at add time: the feed waits in "checking" with no claim.
    from catalog.feeds import tasks

    body = curator_api.post("/api/feeds/", {"url": blog.url_for("/")}, format="json").json()
    Feed.objects.filter(pk=body["id"]).update(claimed_until=None)
    tasks.feeds_dispatch()  # queues the check on commit; run it as the worker would
    tasks.feed_check(body["id"])
    assert Feed.objects.get(pk=body["id"]).state == "ready"


def test_a_feed_deleted_while_it_is_checked_stays_deleted(curator_api, blog, monkeypatch):
    from catalog.feeds import check

    body = curator_api.post("/api/feeds/", {"url": blog.url_for("/")}, format="json").json()
    real_find = check._feed_find

    def find_then_delete(address):
        found = real_find(address)
        Feed.objects.filter(pk=body["id"]).delete()
        return found

    monkeypatch.setattr(check, "_feed_find", find_then_delete)
    assert check.feed_check(feed_id=body["id"]) is None
    assert not Feed.objects.exists()


def test_admin_adds_a_feed_for_a_worker_to_check(admin_client, blog):
    response = admin_client.post(
        "/admin/catalog/feed/add/",
        {
            "url": blog.url_for("/"),
            "active": "on",
            "entry_stage": "security",
            "entry_difficulty": "2",
            "polls-TOTAL_FORMS": "0",
            "polls-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    feed = Feed.objects.get()
    assert feed.state == "checking" and feed.added_address == blog.url_for("/")
    assert (feed.entry_stage, feed.entry_difficulty) == ("security", 2)
    assert blog.log == []


def test_learners_cannot_see_or_add_feeds(api, alice_api):
    assert api.get("/api/feeds/").status_code == 401
    assert alice_api.get("/api/feeds/").status_code == 403
    assert alice_api.post("/api/feeds/", {"url": "https://example.org/"}).status_code == 403


def test_poll_endpoint_queues_a_poll_and_answers_202(curator_api, blog):
    feed = Feed.objects.create(url=blog.url_for("/rss.xml"))
    response = curator_api.post(f"/api/feeds/{feed.pk}/poll/")
    assert response.status_code == 202
    # No broker in the unit suite: the task ran in-process.
    assert Resource.objects.filter(feed=feed).count() == 3


def test_poll_endpoint_answers_503_when_the_queue_is_down(curator_api, blog, monkeypatch):
    from catalog.feeds import tasks

    def broker_gone(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.feed_poll, "delay", broker_gone)
    feed = Feed.objects.create(url=blog.url_for("/rss.xml"))
    response = curator_api.post(f"/api/feeds/{feed.pk}/poll/")
    assert response.status_code == 503
    feed.refresh_from_db()
    assert feed.claimed_until is None  # still due for the scheduler: nothing is lost


def test_poll_endpoint_says_until_when_a_running_poll_holds_its_feed(curator_api):
    # A poll whose worker died holds its claim for minutes: "already running" alone kept an
    # operator retrying (a walk-through).
    until = (timezone.now() + timedelta(minutes=10)).astimezone(UTC)
    feed = Feed.objects.create(url="http://127.0.0.1:9/rss.xml", claimed_until=until)
    response = curator_api.post(f"/api/feeds/{feed.pk}/poll/")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "A poll is already running. If it has stopped (its worker died), it is polled again "
        f"after {until:%H:%M:%S} UTC, when its claim lapses."
    )


def test_feed_health_is_in_the_api(curator_api, httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data("", status=500)
    feed = Feed.objects.create(url=httpserver.url_for("/feed.xml"))
    curator_api.post(f"/api/feeds/{feed.pk}/poll/")
    body = curator_api.get(f"/api/feeds/{feed.pk}/").json()
    assert body["health"] == "failing"
    assert body["consecutive_failures"] == 1
    assert body["last_status"] == 500


def test_approving_a_feed_entry_publishes_it(curator_api, api, blog):
    feed = Feed.objects.create(url=blog.url_for("/rss.xml"))
    curator_api.post(f"/api/feeds/{feed.pk}/poll/")
    assert api.get("/api/resources/").json()["count"] == 0
    pending = Resource.objects.filter(status=Status.PENDING).first()
    curator_api.post(f"/api/resources/{pending.pk}/approve/")
    assert [r["title"] for r in api.get("/api/resources/").json()["results"]] == [pending.title]


def test_admin_feed_list_filters_by_health(admin_client, httpserver):
    Feed.objects.create(url="https://a.example.org/feed", consecutive_failures=2)
    Feed.objects.create(url="https://b.example.org/feed", active=False)
    for query in ("", "?health=failing", "?health=inactive", "?health=ok"):
        assert admin_client.get(f"/admin/catalog/feed/{query}").status_code == 200
    content = admin_client.get("/admin/catalog/feed/?health=failing").content.decode()
    assert "a.example.org" in content and "b.example.org" not in content


def test_each_health_filter_lists_exactly_the_feeds_of_that_health(admin_client):
    # A feed whose first check failed was in none of the choices but "Inactive" (walk-through).
    read = {"last_success_at": timezone.now()}
    feeds = {
        "check-failed": Feed(state=FeedState.FAILED, active=False, last_error="HTTP 404"),
        "checking": Feed(state=FeedState.CHECKING),
        "inactive": Feed(active=False, **read),
        "failing": Feed(consecutive_failures=2, last_error="timed out", **read),
        "new": Feed(),
        "warning": Feed(last_warning="line 1, column 9: not well-formed", **read),
        "ok": Feed(**read),
    }
    for value, feed in feeds.items():
        feed.url = f"https://{value}.example.org/feed"
        feed.save()
    for value, feed in feeds.items():
        page = admin_client.get(f"/admin/catalog/feed/?health={value}").content.decode()
        listed = {other for other in feeds if f"{other}.example.org" in page}
        assert listed == {value}, value
        assert feed.health == value.replace("-", " ")
    # The reason shows under the badge, not only in a tooltip (phones have none).
    page = admin_client.get("/admin/catalog/feed/?health=failing").content.decode()
    assert '<small class="kl-reason" title="timed out">timed out</small>' in page


def test_admin_actions_trust_deactivate_and_poll_now(admin_client, blog):
    feed = Feed.objects.create(url=blog.url_for("/rss.xml"))
    url = "/admin/catalog/feed/"
    admin_client.post(url, {"action": "trust", "_selected_action": [feed.pk]})
    admin_client.post(url, {"action": "poll_now", "_selected_action": [feed.pk]})
    feed.refresh_from_db()
    assert feed.trusted
    assert Resource.objects.filter(feed=feed, status=Status.APPROVED).count() == 3
    admin_client.post(url, {"action": "deactivate", "_selected_action": [feed.pk]})
    feed.refresh_from_db()
    assert not feed.active and "admin" in feed.deactivated_reason


def test_review_queue_lists_pending_entries_with_a_sanitised_preview(admin_client):
    Resource.objects.create(
        title="Pending post",
        url="https://blog.example.org/p/",
        status=Status.PENDING,
        content_html='<p>Safe text</p><script>alert(1)</script><img src=x onerror="alert(2)">',
    )
    Resource.objects.create(
        title="Approved post", url="https://blog.example.org/a/", status=Status.APPROVED
    )
    content = admin_client.get("/admin/catalog/pendingresource/").content.decode()
    assert "Pending post" in content and "Approved post" not in content
    assert "Safe text" in content
    assert "<script>alert(1)" not in content and "onerror" not in content


def test_review_queue_preview_loads_nothing_from_the_feeds_host(admin_client):
    Resource.objects.create(
        title="Post with a diagram",
        url="https://blog.example.org/d/",
        status=Status.PENDING,
        summary="Read this first.",
        content_html=(
            '<p>Read this first.</p><img src="https://tracker.example.net/pixel.png" '
            'alt="cluster diagram">'
        ),
    )
    content = admin_client.get("/admin/catalog/pendingresource/").content.decode()
    assert "<img" not in content.split('id="result_list"')[1]
    assert 'href="https://tracker.example.net/pixel.png"' in content
    assert "cluster diagram" in content
    assert content.count("Read this first.") == 1  # the summary is not shown twice


def test_review_queue_preview_of_a_long_body_is_cut_between_tags(admin_client):
    from catalog.admin import PREVIEW_CHARS

    filler = "x" * (PREVIEW_CHARS - len("<p>") - 4)  # the cut falls inside the <a> tag
    Resource.objects.create(
        title="Long post",
        url="https://blog.example.org/long/",
        status=Status.PENDING,
        content_html=f'<p>{filler}<a href="https://blog.example.org/x">x</a><b>bold</b> tail</p>',
    )
    content = admin_client.get("/admin/catalog/pendingresource/").content.decode()
    preview = content.split('class="kl-preview"')[1].split("</div>")[0]
    assert preview.count("<a ") == preview.count("</a>")  # no tag cut open
    assert "<b>" not in preview
    assert 'href="https://blog.example.org/long/"' in preview  # the link to the post survives


def test_review_queue_counts_items_to_review(admin_client):
    for n in range(2):
        Resource.objects.create(
            title=f"Pending {n}", url=f"https://blog.example.org/{n}/", status=Status.PENDING
        )
    content = admin_client.get("/admin/catalog/pendingresource/").content.decode()
    assert "2 items to review" in content


def test_review_queue_bulk_approves(admin_client):
    pending = Resource.objects.create(
        title="P", url="https://blog.example.org/p/", status=Status.PENDING
    )
    admin_client.post(
        "/admin/catalog/pendingresource/",
        {"action": "approve_selected", "_selected_action": [pending.pk]},
    )
    pending.refresh_from_db()
    assert pending.status == Status.APPROVED


def approve_as_they_are(admin_client, resources: list[Resource]) -> list[str]:
    """The review queue's "Approve selected as they are"; the messages it leaves."""
    response = admin_client.post(
        "/admin/catalog/pendingresource/",
        {"action": "approve_selected", "_selected_action": [r.pk for r in resources]},
        follow=True,
    )
    return [str(message) for message in response.context["messages"]]


def test_bulk_approving_items_without_a_security_area_says_they_serve_no_focus(admin_client):
    # A walk-through's bulk-approved feed item kept the default labels without a word.
    labelled = ResourceFactory(status=Status.PENDING, security_areas=[SecurityAreaFactory()])
    bare = ResourceFactory(status=Status.PENDING)
    said = approve_as_they_are(admin_client, [labelled, bare])
    assert said == [
        "2 resources approved as they were: 1 of them has no security area, so it serves "
        "no learner's focus until labelled. Label them on the Resources page; “Apply suggested "
        "labels and approve” labels them first."
    ]
    assert Resource.objects.filter(status=Status.APPROVED).count() == 2


def test_approving_one_item_as_it_is_speaks_of_one(admin_client):
    # "1 resource approved as they were; 1 of them has no security area, so they serve …"
    said = approve_as_they_are(admin_client, [ResourceFactory(status=Status.PENDING)])
    assert said == [
        "1 resource approved as it was: it has no security area, so it serves no learner's "
        "focus until labelled. Label it on the Resources page; “Apply suggested labels and "
        "approve” labels it first."
    ]


def test_bulk_approving_feed_entries_still_labelled_as_they_arrived_says_beginners_get_them(
    admin_client,
):
    # A curator's walk-through approved a KMS and a PodSecurityPolicy post as they were: both
    # were Getting started and Beginner, and a new learner's Up next offered one of them.
    arrived = ResourceFactory(
        status=Status.PENDING, origin="feed", security_areas=[SecurityAreaFactory()]
    )
    staged = ResourceFactory(
        status=Status.PENDING,
        origin="feed",
        stage="security",
        difficulty=2,
        security_areas=[SecurityAreaFactory()],
    )
    said = approve_as_they_are(admin_client, [arrived, staged])
    assert said == [
        "2 resources approved as they were: 1 is still labelled as feed entries arrive, "
        "Getting started and Beginner, so beginners are offered it among the basics until a "
        "curator sets the stage (a feed's “stage of new entries” labels its next ones). Label "
        "them on the Resources page; “Apply suggested labels and approve” labels them first."
    ]


def test_a_feeds_labels_for_new_entries_label_what_its_first_poll_files(add_feed, blog):
    response, feed = add_feed(blog.url_for("/rss.xml"), entry_stage="security", entry_difficulty=2)
    assert response.status_code == 202, response.json()
    assert response.json()["entry_stage"] == "security"
    labels = set(Resource.objects.filter(feed=feed).values_list("stage", "difficulty"))
    assert labels == {("security", 2)}


def test_a_feed_without_labels_for_new_entries_files_them_as_basics(add_feed, blog):
    _, feed = add_feed(blog.url_for("/rss.xml"))
    assert feed.entry_stage == "getting-started" and feed.entry_difficulty == 1
    labels = set(Resource.objects.filter(feed=feed).values_list("stage", "difficulty"))
    assert labels == {("getting-started", 1)}


def test_a_feeds_labels_for_new_entries_are_checked(curator_api, blog):
    response = curator_api.post(
        "/api/feeds/",
        {"url": blog.url_for("/rss.xml"), "entry_stage": "expert", "entry_difficulty": 9},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"entry_stage", "entry_difficulty"}
    assert not Feed.objects.exists()


def test_a_curator_changes_a_feeds_labels_for_new_entries(curator_api):
    feed = Feed.objects.create(url="https://blog.example.org/feed.xml")
    response = curator_api.patch(
        f"/api/feeds/{feed.pk}/", {"entry_stage": "production-ready"}, format="json"
    )
    assert response.status_code == 200, response.json()
    feed.refresh_from_db()
    assert feed.entry_stage == "production-ready"


def test_opml_export_then_import_round_trips(admin_client, settings):
    settings.FEEDS_ALLOW_PRIVATE_NETWORKS = True  # the exported addresses are on loopback
    Feed.objects.create(url="http://127.0.0.1:9/one.xml", title="One")
    Feed.objects.create(url="http://127.0.0.1:9/two.xml", title="Two")
    response = admin_client.post(
        "/admin/catalog/feed/",
        {
            "action": "export_opml",
            "_selected_action": list(Feed.objects.values_list("pk", flat=True)),
        },
    )
    assert response["Content-Type"] == "text/x-opml"
    exported = response.content
    Feed.objects.all().delete()
    upload = SimpleUploadedFile("feeds.opml", exported, content_type="text/x-opml")
    response = admin_client.post("/admin/catalog/feed/import-opml/", {"file": upload}, follow=True)
    assert response.status_code == 200
    assert sorted(Feed.objects.values_list("title", flat=True)) == ["One", "Two"]


def test_opml_import_refuses_private_addresses_by_default(db, settings):
    settings.FEEDS_ALLOWED_NETWORKS = []
    from catalog.feeds.opml import OpmlOutline, opml_export
    from catalog.feeds.services import feeds_import_opml

    content = opml_export([OpmlOutline(xml_url="http://169.254.169.254/latest/", title="meta")])
    result = feeds_import_opml(content=content)
    assert result.refused and not Feed.objects.exists()


def test_opml_import_says_which_outlines_it_left_out(db, settings):
    from catalog.feeds.services import feeds_import_opml

    settings.FEEDS_ALLOWED_NETWORKS = ["127.0.0.1/32"]  # an IP literal: no DNS in tests
    content = (
        b'<opml version="2.0"><body>'
        b'<outline text="Good" xmlUrl="http://127.0.0.1:9/feed.xml"/>'
        b'<outline text="Old" xmlUrl="ftp://files.example.org/feed.xml"/>'
        b"</body></opml>"
    )
    result = feeds_import_opml(content=content)
    assert result.added == ["http://127.0.0.1:9/feed.xml"]
    assert result.refused == [("ftp://files.example.org/feed.xml", "not an http(s) feed address")]
    assert "1 refused (ftp://files.example.org/feed.xml: not an http(s)" in result.summary()


def test_opml_commands(tmp_path, settings):
    settings.FEEDS_ALLOW_PRIVATE_NETWORKS = True
    Feed.objects.create(url="http://127.0.0.1:9/one.xml", title="One")
    target = tmp_path / "feeds.opml"
    call_command("export_opml", "--output", str(target))
    Feed.objects.all().delete()
    out = StringIO()
    call_command("import_opml", str(target), stdout=out)
    assert "1 feed added" in out.getvalue()


def test_poll_feeds_command_prints_a_summary(blog):
    Feed.objects.create(url=blog.url_for("/rss.xml"), title="Dana")
    out = StringIO()
    call_command("poll_feeds", stdout=out)
    text = out.getvalue()
    assert "1 feeds: 3 new, 0 updated, 0 unchanged, 0 skipped, 0 failed." in text


def test_poll_feeds_prints_a_failed_polls_whole_reason(db, settings):
    import socket

    settings.FEEDS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    Feed.objects.create(url=f"http://127.0.0.1:{port}/a-long-address/feed.xml", title="Down")
    out = StringIO()
    call_command("poll_feeds", stdout=out)
    reason = Feed.objects.get().last_error
    assert len(reason) > 60 and f"    {reason}" in out.getvalue()  # not cut at 60 characters


def test_enqueue_refuses_a_feed_already_being_polled(blog):
    feed = Feed.objects.create(url=blog.url_for("/rss.xml"))
    from catalog.feeds import schedule

    assert schedule.feed_claim(feed_id=feed.pk)
    assert feed_services.feed_poll_enqueue(feed_id=feed.pk) is False


def test_the_feed_list_marks_a_damaged_document_and_filters_by_it(admin_client):
    damaged = Feed.objects.create(
        url="https://blog.example.org/damaged.xml",
        last_success_at=timezone.now(),
        last_warning="not well-formed (invalid token) at line 3",
    )
    healthy = Feed.objects.create(
        url="https://blog.example.org/fine.xml", last_success_at=timezone.now()
    )
    page = admin_client.get("/admin/catalog/feed/").content.decode()
    assert (
        '<span class="kl-warning">warning</span><br><small class="kl-reason" title="not well-'
        in (page)
    )
    listed = admin_client.get("/admin/catalog/feed/", {"health": "warning"}).context["cl"]
    assert [feed.pk for feed in listed.result_list] == [damaged.pk]
    listed = admin_client.get("/admin/catalog/feed/", {"health": "ok"}).context["cl"]
    assert [feed.pk for feed in listed.result_list] == [healthy.pk]


@pytest.mark.parametrize(("allowed", "said"), [(False, "are refused"), (True, "are allowed")])
def test_the_opml_page_says_what_this_server_does_with_private_addresses(
    admin_client, settings, allowed, said
):
    settings.FEEDS_ALLOW_PRIVATE_NETWORKS = allowed
    page = admin_client.get("/admin/catalog/feed/import-opml/").content.decode()
    assert f"private-network addresses {said}" in page


def feed_history(feed: Feed) -> list[tuple[str, str]]:
    """A feed's History as the admin lists it: (who, what), oldest first."""
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Feed), object_id=str(feed.pk)
    ).order_by("action_time", "pk")
    return [(entry.user.username, entry.get_change_message()) for entry in entries]


def test_trusting_distrusting_and_deactivating_a_feed_are_in_its_history(admin_client):
    # Trusting a feed sends its entries to learners unreviewed: who did it is worth knowing.
    changed = Feed.objects.create(url="http://127.0.0.1:9/one.xml")
    already = Feed.objects.create(url="http://127.0.0.1:9/two.xml", trusted=True)
    both = {"_selected_action": [changed.pk, already.pk]}
    url = "/admin/catalog/feed/"
    admin_client.post(url, {"action": "trust", **both})
    admin_client.post(url, {"action": "distrust", "_selected_action": [changed.pk]})
    admin_client.post(url, {"action": "deactivate", **both})
    admin_client.post(url, {"action": "deactivate", **both})  # inactive already: nothing more
    assert feed_history(changed) == [
        ("root", "Trusted: its entries are approved at once."),
        ("root", "No longer trusted: its entries wait for review."),
        ("root", "Deactivated."),
    ]
    assert feed_history(already) == [("root", "Deactivated.")]
    page = admin_client.get(f"/admin/catalog/feed/{changed.pk}/history/").content.decode()
    assert "Trusted: its entries are approved at once." in page


def test_feeds_added_from_an_opml_file_say_so_in_their_history(admin_client, settings):
    settings.FEEDS_ALLOW_PRIVATE_NETWORKS = True
    Feed.objects.create(url="http://127.0.0.1:9/known.xml")
    content = opml_export(
        [
            OpmlOutline(xml_url="http://127.0.0.1:9/known.xml", title="Known"),
            OpmlOutline(xml_url="http://127.0.0.1:9/new.xml", title="New"),
        ]
    )
    upload = SimpleUploadedFile("feeds.opml", content, content_type="text/x-opml")
    admin_client.post("/admin/catalog/feed/import-opml/", {"file": upload, "trusted": "on"})
    assert feed_history(Feed.objects.get(title="New")) == [
        ("root", "Added from an OPML import, trusted: its entries are approved at once.")
    ]
    assert feed_history(Feed.objects.get(url="http://127.0.0.1:9/known.xml")) == []


def test_a_feed_changed_through_the_api_says_what_in_its_history(curator_api, carol):
    feed = Feed.objects.create(url="http://127.0.0.1:9/one.xml")
    response = curator_api.patch(f"/api/feeds/{feed.pk}/", {"trusted": True}, format="json")
    assert response.status_code == 200, response.content
    assert feed_history(feed) == [(carol.username, "Changed trusted through the API.")]


def test_the_review_lists_open_links_are_named_by_their_items(admin_client):
    # A screen reader's list of links read "open", "open", "open" (a walk-through).
    for title in ("Pod security admission", "Network policies"):
        Resource.objects.create(
            title=title, url=f"https://blog.example.org/{len(title)}/", status=Status.PENDING
        )
    page = admin_client.get("/admin/catalog/pendingresource/").content.decode()
    assert 'aria-label="Open Pod security admission on its site">open</a>' in page
    assert 'aria-label="Open Network policies on its site">open</a>' in page
