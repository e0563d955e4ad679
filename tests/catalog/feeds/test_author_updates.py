"""An author's edit of a resource a curator already decided on is kept for a curator, never
written over their version and never dropped (polled from a real local HTTP server)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from catalog import services
from catalog.feeds import poll, store
from catalog.feeds.parse import parse_feed
from catalog.models import AuthorUpdate, Feed, FeedPoll, Resource, Status
from tests.factories import CuratorFactory
from tests.feedbuilder import posts, rss

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_feeds_allowed(settings):
    settings.FEEDS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.FEEDS_READ_TIMEOUT = 1.0
    settings.FEEDS_TOTAL_DEADLINE = 3.0


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", password="x-admin-pass-123")
    client.force_login(user)
    return client


def serve(httpserver, items: list[dict]) -> None:
    httpserver.clear()
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(items), content_type="application/rss+xml"
    )


def approved_feed(httpserver, items: list[dict], **fields) -> tuple[Feed, Resource]:
    """A feed polled once, its first entry approved by a curator."""
    serve(httpserver, items)
    feed = Feed.objects.create(url=httpserver.url_for("/feed.xml"), **fields)
    poll.feed_poll(feed_id=feed.pk)
    resource = Resource.objects.get(entry_key=items[0]["guid"])
    services.resource_approve(resource=resource, by=CuratorFactory())
    resource.refresh_from_db()
    return feed, resource


def edited(items: list[dict], **changes) -> list[dict]:
    return [{**items[0], **changes}, *items[1:]]


def test_an_authors_edit_of_an_approved_entry_waits_for_a_curator(httpserver):
    items = posts(2)
    feed, resource = approved_feed(httpserver, items)
    serve(httpserver, edited(items, title="Kubernetes post 0, revised"))
    report = poll.feed_poll(feed_id=feed.pk)
    assert (report.updated, report.held, report.unchanged) == (0, 1, 1)
    assert FeedPoll.objects.filter(feed=feed).latest("started_at").held == 1
    resource.refresh_from_db()
    assert resource.title == "Kubernetes post 0"  # learners still read the approved version
    update = AuthorUpdate.objects.get(resource=resource)
    assert update.state == AuthorUpdate.State.WAITING
    assert update.title == "Kubernetes post 0, revised"
    assert update.changed == ["title"]


def test_the_same_edit_seen_again_is_not_filed_twice(httpserver):
    items = posts(2)
    feed, _ = approved_feed(httpserver, items)
    serve(httpserver, edited(items, title="Revised"))
    poll.feed_poll(feed_id=feed.pk)
    first_seen = AuthorUpdate.objects.get().seen_at
    # The entry changes where a resource has nothing of it (a category): it is read again.
    serve(httpserver, [*edited(items, title="Revised", categories=["news"]), *posts(3)[2:]])
    report = poll.feed_poll(feed_id=feed.pk)
    assert (report.new, report.held) == (1, 0)
    assert AuthorUpdate.objects.count() == 1
    assert AuthorUpdate.objects.get().seen_at == first_seen


def test_a_kept_version_is_not_asked_again_but_a_newer_edit_is(httpserver):
    items = posts(1)
    feed, _ = approved_feed(httpserver, items)
    serve(httpserver, edited(items, title="Revised"))
    poll.feed_poll(feed_id=feed.pk)
    update = AuthorUpdate.objects.get()
    assert services.author_update_keep(update=update, by=CuratorFactory()) == services.DECIDED
    # A change that leaves the kept fields as they were (a category): nothing to ask.
    serve(httpserver, edited(items, title="Revised", categories=["news"]))
    assert poll.feed_poll(feed_id=feed.pk).held == 0
    assert AuthorUpdate.objects.get().state == AuthorUpdate.State.KEPT
    serve(httpserver, edited(items, title="Revised again"))
    assert poll.feed_poll(feed_id=feed.pk).held == 1
    update = AuthorUpdate.objects.get()
    assert (update.state, update.title, update.decided_at) == (
        AuthorUpdate.State.WAITING,
        "Revised again",
        None,
    )


def test_taking_an_update_writes_the_chosen_fields_and_keeps_the_rest(httpserver):
    items = posts(1)
    feed, resource = approved_feed(httpserver, items)
    serve(httpserver, edited(items, title="Revised", description="<p>A new summary.</p>"))
    poll.feed_poll(feed_id=feed.pk)
    update = AuthorUpdate.objects.get()
    assert set(update.changed) >= {"title", "summary"}
    curator = CuratorFactory()
    taken = services.author_update_take(update=update, fields=["title"], by=curator)
    assert taken == services.DECIDED
    resource.refresh_from_db()
    assert resource.title == "Revised"
    assert resource.summary == "Notes on pods, RBAC and etcd, part 0."
    assert resource.curator_edited_at is not None
    update.refresh_from_db()
    assert (update.state, update.decided_by) == (AuthorUpdate.State.TAKEN, curator)
    # Decided once: a second decision (another tab) changes nothing.
    again = services.author_update_keep(update=update, by=curator)
    assert again == services.DECIDED_ALREADY
    assert AuthorUpdate.objects.get().state == AuthorUpdate.State.TAKEN


def test_an_entry_a_trusted_feed_approved_follows_its_authors_edits(httpserver):
    items = posts(1)
    serve(httpserver, items)
    feed = Feed.objects.create(url=httpserver.url_for("/feed.xml"), trusted=True)
    poll.feed_poll(feed_id=feed.pk)
    assert Resource.objects.get().status == Status.APPROVED  # by the poll, no curator
    serve(httpserver, edited(items, title="Revised"))
    report = poll.feed_poll(feed_id=feed.pk)
    assert (report.updated, report.held) == (1, 0)
    assert Resource.objects.get().title == "Revised"
    assert not AuthorUpdate.objects.exists()


def test_a_curator_approved_entry_of_a_trusted_feed_still_waits(httpserver):
    items = posts(1)
    feed, resource = approved_feed(httpserver, items, trusted=True)
    Resource.objects.filter(pk=resource.pk).update(status=Status.PENDING)
    services.resource_approve(resource=resource, by=CuratorFactory())
    serve(httpserver, edited(items, title="Revised"))
    assert poll.feed_poll(feed_id=feed.pk).held == 1
    assert Resource.objects.get().title == "Kubernetes post 0"


def test_a_rejected_entry_stays_as_it_was_rejected(httpserver):
    items = posts(1)
    serve(httpserver, items)
    feed = Feed.objects.create(url=httpserver.url_for("/feed.xml"))
    poll.feed_poll(feed_id=feed.pk)
    services.resource_reject(resource=Resource.objects.get(), by=CuratorFactory())
    serve(httpserver, edited(items, title="Revised"))
    report = poll.feed_poll(feed_id=feed.pk)
    assert (report.updated, report.held, report.unchanged) == (0, 0, 1)
    assert not AuthorUpdate.objects.exists()


def test_an_edit_the_author_takes_back_needs_no_decision(httpserver):
    items = posts(1)
    feed, _ = approved_feed(httpserver, items)
    serve(httpserver, edited(items, title="Revised"))
    poll.feed_poll(feed_id=feed.pk)
    assert AuthorUpdate.objects.exists()
    serve(httpserver, [*items, *posts(2, prefix="x")])  # the original title again
    poll.feed_poll(feed_id=feed.pk)
    assert not AuthorUpdate.objects.exists()


def test_the_one_by_one_path_keeps_the_edit_too(httpserver):
    # What a poll falls back to when a concurrent writer got in first.
    items = posts(1)
    feed, resource = approved_feed(httpserver, items)
    document = rss(edited(items, title="Revised"))
    entry = parse_feed(document, url=feed.url).entries[0]
    assert store._upsert_entry(feed, entry, Status.PENDING) == ("held", resource.pk)
    assert AuthorUpdate.objects.get().title == "Revised"
    resource.refresh_from_db()
    assert (resource.title, resource.entry_fingerprint) == ("Kubernetes post 0", entry.fingerprint)


# --- The curators' page ---------------------------------------------------------------------


@pytest.fixture
def waiting_update(httpserver) -> AuthorUpdate:
    items = posts(1)
    feed, _ = approved_feed(httpserver, items)
    hostile = (
        "<p>Notes on pods, RBAC and etcd, part 0.</p>"
        "<p>Now also NetworkPolicy.<script>alert('x')</script></p>"
    )
    serve(httpserver, edited(items, title="Revised", description=hostile))
    poll.feed_poll(feed_id=feed.pk)
    return AuthorUpdate.objects.get()


def test_the_resource_page_says_an_update_waits_and_links_the_comparison(
    admin_client, waiting_update
):
    page = admin_client.get(f"/admin/catalog/resource/{waiting_update.resource_id}/change/")
    body = page.content.decode()
    assert "The author edited this post after review" in body
    assert f"/admin/catalog/authorupdate/{waiting_update.pk}/change/" in body
    listed = admin_client.get("/admin/catalog/resource/?author_update=waiting")
    assert waiting_update.resource.title in listed.content.decode()


def test_the_comparison_shows_both_versions_sanitised(admin_client, waiting_update):
    page = admin_client.get(f"/admin/catalog/authorupdate/{waiting_update.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Kubernetes post 0" in body and "Revised" in body
    assert "Only the author's:</span> Now also NetworkPolicy.</li>" in body
    assert "<script>alert" not in body
    assert 'name="decision" value="take"' in body


def test_taking_the_checked_fields_from_the_page(admin_client, waiting_update):
    response = admin_client.post(
        f"/admin/catalog/authorupdate/{waiting_update.pk}/change/",
        {"take": ["title"], "decision": "take", "version": waiting_update.version},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/resource/{waiting_update.resource_id}/change/")
    resource = Resource.objects.get(pk=waiting_update.resource_id)
    assert resource.title == "Revised"
    assert "NetworkPolicy" not in resource.content_html  # not checked, not taken
    followed = admin_client.get(response["Location"])
    assert "Took the author&#x27;s title. Learners read the new version now." in (
        followed.content.decode()
    )


def test_take_with_nothing_checked_says_what_to_do_and_changes_nothing(
    admin_client, waiting_update
):
    response = admin_client.post(
        f"/admin/catalog/authorupdate/{waiting_update.pk}/change/",
        {"decision": "take", "version": waiting_update.version},
    )
    assert response.status_code == 200
    assert "Check the fields to take" in response.content.decode()
    waiting_update.refresh_from_db()
    assert waiting_update.state == AuthorUpdate.State.WAITING


def test_a_second_decision_is_told_another_curator_came_first(admin_client, waiting_update):
    url = f"/admin/catalog/authorupdate/{waiting_update.pk}/change/"
    version = waiting_update.version
    admin_client.post(url, {"decision": "keep", "version": version})
    response = admin_client.post(
        url, {"take": ["title"], "decision": "take", "version": version}, follow=True
    )
    assert "another curator decided on this update first" in response.content.decode()
    assert Resource.objects.get(pk=waiting_update.resource_id).title == "Kubernetes post 0"


@pytest.mark.parametrize(
    "form", [{"decision": "publish"}, {"decision": "take", "take": ["slug"]}, {}]
)
def test_a_forged_decision_is_a_form_error_not_a_500(admin_client, waiting_update, form):
    response = admin_client.post(f"/admin/catalog/authorupdate/{waiting_update.pk}/change/", form)
    assert response.status_code == 200
    waiting_update.refresh_from_db()
    assert waiting_update.state == AuthorUpdate.State.WAITING


def test_the_list_opens_on_the_updates_that_wait_and_all_stays_one_click_away(
    admin_client, waiting_update
):
    services.author_update_keep(update=waiting_update, by=None)
    assert (
        "Kubernetes post 0" not in admin_client.get("/admin/catalog/authorupdate/").content.decode()
    )
    everything = admin_client.get("/admin/catalog/authorupdate/?state=all").content.decode()
    assert "Kubernetes post 0" in everything
    assert 'href="?state=all"' in everything
    kept = admin_client.get("/admin/catalog/authorupdate/?state=kept").content.decode()
    assert "Kubernetes post 0" in kept


@pytest.mark.parametrize("update_id", ["999", "abc", "1%00"])
def test_an_unknown_update_is_a_404(admin_client, db, update_id):
    response = admin_client.get(f"/admin/catalog/authorupdate/{update_id}/change/")
    assert response.status_code in (400, 404)


def pending_edited_by_both(httpserver) -> Resource:
    """A pending item a curator retitled ("Save, decide later"), then its author edited."""
    items = posts(1)
    serve(httpserver, items)
    feed = Feed.objects.create(url=httpserver.url_for("/feed.xml"))
    poll.feed_poll(feed_id=feed.pk)
    mine = Resource.objects.get()
    services.resource_save(resource=mine, fields={"title": "Curator's title"}, by=None)
    serve(httpserver, edited(items, title="The author's title"))
    assert poll.feed_poll(feed_id=feed.pk).held == 1
    return mine


def test_a_pending_item_a_curator_edited_says_the_authors_edit_waits(httpserver, admin_client):
    mine = pending_edited_by_both(httpserver)
    page = admin_client.get(f"/admin/catalog/pendingresource/{mine.pk}/change/")
    body = page.content.decode()
    assert "Kept for a curator: a curator edited it on" in body
    assert "Compare and decide" in body


def test_a_learner_cannot_open_the_comparison(client, alice, waiting_update):
    client.force_login(alice)
    response = client.get(f"/admin/catalog/authorupdate/{waiting_update.pk}/change/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- The curators' API ----------------------------------------------------------------------


def test_curators_list_the_updates_that_wait_over_the_api(curator_api, waiting_update):
    response = curator_api.get("/api/author-updates/?state=waiting")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["id"], row["resource"], row["state"]) == (
        waiting_update.pk,
        waiting_update.resource_id,
        "waiting",
    )
    assert row["title"] == "Revised" and row["resource_title"] == "Kubernetes post 0"
    assert set(row["changed"]) == {"title", "summary", "content_html"}
    assert curator_api.get("/api/author-updates/?state=kept").json()["results"] == []


def test_curators_list_one_feeds_updates_over_the_api(curator_api, waiting_update):
    other_feed = Feed.objects.create(url="http://127.0.0.1:9/other.xml")
    feed_id = waiting_update.resource.feed_id
    [row] = curator_api.get(f"/api/author-updates/?feed={feed_id}").json()["results"]
    assert row["id"] == waiting_update.pk
    assert curator_api.get(f"/api/author-updates/?feed={other_feed.pk}").json()["results"] == []


@pytest.mark.parametrize("value", ["1.5", "0", "1e141", "abc", "99999999999999999999"])
@pytest.mark.parametrize("name", ["feed", "resource"])
def test_an_id_filter_that_names_no_row_is_a_400_saying_what_it_takes(curator_api, db, name, value):
    # ?resource=99999999999999999999 was a 500 on SQLite (OverflowError: a hostile-input sweep).
    response = curator_api.get(f"/api/author-updates/?{name}={value}")
    assert response.status_code == 400
    assert response.json()[name][0] in {
        "Enter a whole number.",
        "Ensure this value is greater than or equal to 1.",
        "Ensure this value is less than or equal to 999999999999999999.",
    }


def test_taking_fields_over_the_api_then_a_second_decision_is_a_409(curator_api, waiting_update):
    url = f"/api/author-updates/{waiting_update.pk}/"
    response = curator_api.post(f"{url}take/", {"take": ["title"]}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "taken"
    assert Resource.objects.get(pk=waiting_update.resource_id).title == "Revised"
    again = curator_api.post(f"{url}keep/")
    assert again.status_code == 409
    assert again.json()["update"]["state"] == "taken"


def test_keeping_over_the_api_leaves_the_resource_as_it_was(curator_api, waiting_update):
    response = curator_api.post(f"/api/author-updates/{waiting_update.pk}/keep/")
    assert (response.status_code, response.json()["state"]) == (200, "kept")
    assert Resource.objects.get(pk=waiting_update.resource_id).title == "Kubernetes post 0"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"take": []}, "take"),
        ({"take": ["slug"]}, "take"),
        ({"take": "title"}, "take"),
        ({}, "take"),
        ({"take": ["title"], "fields": ["title"]}, "fields"),
    ],
)
def test_a_bad_take_body_is_a_400_naming_the_field(curator_api, waiting_update, body, field):
    response = curator_api.post(
        f"/api/author-updates/{waiting_update.pk}/take/", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    waiting_update.refresh_from_db()
    assert waiting_update.state == AuthorUpdate.State.WAITING


def test_learners_cannot_read_or_decide_author_updates(alice_api, api, waiting_update):
    assert alice_api.get("/api/author-updates/").status_code == 403
    assert alice_api.post(f"/api/author-updates/{waiting_update.pk}/keep/").status_code == 403
    assert api.get("/api/author-updates/").status_code == 401
    assert "author-updates" not in alice_api.get("/api/").json()


@pytest.mark.parametrize("decision", ["take", "keep"])
def test_an_edit_that_arrives_while_the_curator_compares_is_not_decided_unseen(
    httpserver, admin_client, decision
):
    # A walk-through's curator took "REVISED THRICE (unseen)": polled while the page was open.
    items = posts(1)
    feed, resource = approved_feed(httpserver, items)
    serve(httpserver, edited(items, title="Revised"))
    poll.feed_poll(feed_id=feed.pk)
    update = AuthorUpdate.objects.get()
    url = f"/admin/catalog/authorupdate/{update.pk}/change/"
    shown = admin_client.get(url).content.decode()
    assert f'name="version" value="{update.version}"' in shown
    serve(httpserver, edited(items, title="Revised again, unseen"))
    assert poll.feed_poll(feed_id=feed.pk).held == 1
    response = admin_client.post(
        url, {"take": ["title"], "decision": decision, "version": update.version}, follow=True
    )
    assert response.redirect_chain[-1][0] == url
    body = response.content.decode()
    assert "the author edited the post again while you compared" in body
    assert "Revised again, unseen" in body
    resource.refresh_from_db()
    assert resource.title == "Kubernetes post 0"
    assert AuthorUpdate.objects.get().state == AuthorUpdate.State.WAITING


def test_over_the_api_a_stale_version_is_a_409_with_the_newest(httpserver, curator_api):
    items = posts(1)
    feed, _ = approved_feed(httpserver, items)
    serve(httpserver, edited(items, title="Revised"))
    poll.feed_poll(feed_id=feed.pk)
    seen = curator_api.get("/api/author-updates/").json()["results"][0]
    serve(httpserver, edited(items, title="Revised again"))
    poll.feed_poll(feed_id=feed.pk)
    response = curator_api.post(
        f"/api/author-updates/{seen['id']}/take/",
        {"take": ["title"], "version": seen["version"]},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["update"]["title"] == "Revised again"
    newest = response.json()["update"]["version"]
    assert (
        curator_api.post(
            f"/api/author-updates/{seen['id']}/keep/", {"version": newest}, format="json"
        ).json()["state"]
        == "kept"
    )


# --- What tells a curator -------------------------------------------------------------------


def test_the_admin_home_counts_what_waits_for_a_curator(client, waiting_update):
    carol = CuratorFactory(username="cora")
    client.force_login(carol)
    body = client.get("/admin/").content.decode()
    assert "Waiting for you" in body
    assert "<strong>1</strong> author&#x27;s edit to compare" in body
    assert "/admin/catalog/authorupdate/?state=waiting" in body


def test_the_admin_home_lists_the_catalog_first(admin_client):
    # Before the accounts' and the sign-in lockouts' lists (a superuser sees them all).
    body = admin_client.get("/admin/").content.decode()
    captions = re.findall(r'class="section" title="Models in the (\w[\w ]*) application"', body)
    assert captions[0] == "Catalog" and len(captions) > 1


def test_the_admin_home_says_nothing_when_nothing_waits(admin_client):
    assert "Waiting for you" not in admin_client.get("/admin/").content.decode()


def test_approving_an_item_whose_author_edit_waits_says_so(httpserver, admin_client):
    mine = pending_edited_by_both(httpserver)
    page = admin_client.get(f"/admin/catalog/pendingresource/{mine.pk}/change/").content.decode()
    # First on the page, before the title and the preview.
    assert page.index("The author edited this post after a curator") < page.index("id_title")
    assert "This item keeps your version." in page
    form = {
        "title": "Curator's title",
        "url": mine.url,
        "kind": mine.kind,
        "stage": mine.stage,
        "difficulty": mine.difficulty,
        "summary": mine.summary,
        "_approve": "Save and approve",
    }
    response = admin_client.post(
        f"/admin/catalog/pendingresource/{mine.pk}/change/", form, follow=True
    )
    assert "Its author's later edit still waits" in response.content.decode()


def test_poll_feeds_says_how_many_edits_wait_and_where(httpserver):
    from io import StringIO

    from django.core.management import call_command

    items = posts(1)
    feed, _ = approved_feed(httpserver, items)
    serve(httpserver, edited(items, title="Revised"))
    out = StringIO()
    call_command("poll_feeds", "--feed", str(feed.pk), "--processes", "1", stdout=out)
    assert "1 author edit of reviewed resources waits for a curator" in out.getvalue()
    assert "/admin/catalog/authorupdate/" in out.getvalue()


def test_the_text_comparison_keeps_paragraphs_apart_and_marks_what_it_leaves_out():
    from catalog.admin import _text_diff

    ours = "<p>One. Two. Three. Four.</p><p>Click here</p><p>Five. Six.</p>"
    theirs = "<p>One. Two. Three. Four, revised.</p><p>Click here</p><p>Five. Six.</p>"
    assert _text_diff(ours, theirs) == [
        ("…", ""),
        (" ", "Three."),
        ("-", "Four."),
        ("+", "Four, revised."),
        (" ", "Click here"),
        ("…", ""),
    ]
