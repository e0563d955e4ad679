from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.html import escape

from catalog.health.models import ResourceLink
from catalog.models import Feed, FeedPoll, Resource, Status
from catalog.seeding import seed_catalog_load
from kubelearn.wording import counted
from tests.factories import (
    CuratorFactory,
    ResourceFactory,
    SecurityAreaFactory,
    TagFactory,
    admin_resource_form,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", password="x-admin-pass-123")
    client.force_login(user)
    return client


def test_a_member_of_the_curators_group_signs_in_to_the_admin_and_curates(client):
    # A walk-through's second curator, in the group and not staff, was refused at sign-in as
    # not "a staff account"; made staff, she could "view or edit nothing".
    CuratorFactory(username="cora")
    pending = ResourceFactory(status=Status.PENDING)
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "cora", "password": "correct horse battery staple", "next": "/admin/"},
    )
    assert response.status_code == 302
    assert client.get("/admin/catalog/pendingresource/").status_code == 200
    assert client.get("/admin/catalog/feed/add/").status_code == 200
    client.post(
        "/admin/catalog/resource/",
        {"action": "approve_selected", "_selected_action": [pending.pk]},
    )
    pending.refresh_from_db()
    assert pending.status == Status.APPROVED
    # Learners' progress is not the catalog's.
    assert client.get("/admin/recommender/progress/").status_code == 403


def test_a_learner_is_refused_at_the_admins_sign_in_with_where_to_go(client, alice):
    response = client.post(
        "/admin/login/", {"username": "alice", "password": "correct horse battery staple"}
    )
    assert response.status_code == 200
    assert "of a curator account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_resource_changelist_loads_with_every_filter(admin_client):
    seed_catalog_load()
    url = "/admin/catalog/resource/"
    for query in [
        "",
        "?status__exact=approved",
        "?stage__exact=security",
        "?kind__exact=book",
        "?needs_link=yes",
        "?needs_link=no",
        "?q=etcd",
    ]:
        response = admin_client.get(url + query)
        assert response.status_code == 200, query


def test_needs_a_link_filter_lists_only_resources_without_an_address(admin_client):
    ResourceFactory(title="Linked resource")
    ResourceFactory(title="Unlinked resource", url=None)
    ResourceFactory(title="Guide served here", slug="kubelearn-on-kubernetes", url=None)
    content = admin_client.get("/admin/catalog/resource/?needs_link=yes").content.decode()
    assert "Unlinked resource" in content
    assert "Linked resource" not in content
    assert "Guide served here" not in content  # its text is here: no address to find
    content = admin_client.get("/admin/catalog/resource/?needs_link=no").content.decode()
    assert "Guide served here" in content and "Unlinked resource" not in content


def test_bulk_approve_action_publishes_pending_resources(admin_client):
    pending = ResourceFactory.create_batch(3, status=Status.PENDING)
    response = admin_client.post(
        "/admin/catalog/resource/",
        {"action": "approve_selected", "_selected_action": [r.pk for r in pending]},
        follow=True,
    )
    assert response.status_code == 200
    assert set(Resource.objects.values_list("status", flat=True)) == {Status.APPROVED}
    assert Resource.objects.filter(reviewed_by__username="root").count() == 3


def test_bulk_reject_action_hides_resources(admin_client):
    resource = ResourceFactory()
    admin_client.post(
        "/admin/catalog/resource/",
        {"action": "reject_selected", "_selected_action": [resource.pk]},
    )
    resource.refresh_from_db()
    assert resource.status == Status.REJECTED


def test_rejecting_an_approved_resource_says_learners_no_longer_see_it(admin_client):
    resource = ResourceFactory()
    response = admin_client.post(
        "/admin/catalog/resource/",
        {"action": "reject_selected", "_selected_action": [resource.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "1 resource rejected; learners no longer see it. Changed your mind?" in page


def test_bulk_reject_says_how_to_take_it_back_and_the_link_lists_just_those(admin_client):
    # A walk-through's curator read "1 resource(s) rejected." with no confirmation or undo.
    chosen = [ResourceFactory(status=Status.PENDING), ResourceFactory()]
    ResourceFactory(status=Status.REJECTED, title="Rejected before")
    response = admin_client.post(
        "/admin/catalog/pendingresource/",
        {"action": "reject_selected", "_selected_action": [chosen[0].pk]},
        follow=True,
    )
    page = response.content.decode()
    # From the review queue: never in learners' sight, so not said to have left it.
    assert "1 resource rejected. Changed your mind?" in page
    assert ">Show it</a>, select it and approve it again." in page
    link = page.split('Changed your mind? <a href="', 1)[1].split('"', 1)[0]
    listed = admin_client.get(link.replace("&amp;", "&"))
    assert [row.pk for row in listed.context["cl"].result_list] == [chosen[0].pk]
    approved = admin_client.post(
        link.replace("&amp;", "&"),
        {"action": "approve_selected", "_selected_action": [chosen[0].pk]},
        follow=True,
    )
    assert "1 resource approved; learners see it now." in approved.content.decode()
    chosen[0].refresh_from_db()
    assert chosen[0].status == Status.APPROVED


def test_a_pending_resources_page_leads_to_its_review_page_to_approve_or_reject(admin_client):
    # The resource's own page has only Save: a walk-through's curator found no way to decide.
    pending = ResourceFactory(status=Status.PENDING)
    approved = ResourceFactory()
    page = admin_client.get(f"/admin/catalog/resource/{pending.pk}/change/").content.decode()
    review = f"/admin/catalog/pendingresource/{pending.pk}/change/"
    assert f'href="{review}">Approve or reject it on its review page</a>' in page
    assert admin_client.get(review).status_code == 200
    page = admin_client.get(f"/admin/catalog/resource/{approved.pk}/change/").content.decode()
    assert "on its review page" not in page


def resource_added(client, **fields):
    """POST the admin's Add resource form (tests.factories.admin_resource_form)."""
    return client.post("/admin/catalog/resource/add/", admin_resource_form(**fields))


def test_admin_form_refuses_a_second_spelling_of_a_stored_address(admin_client):
    ResourceFactory(url="https://example.org/post")
    response = resource_added(
        admin_client, title="Copy", slug="copy", url="HTTPS://EXAMPLE.ORG/post?utm_source=x"
    )
    assert response.status_code == 200
    assert "already has this address" in response.content.decode()
    assert Resource.objects.count() == 1


@pytest.mark.parametrize(
    ("minutes", "refusal"),
    [
        ("0", "greater than or equal to 1."),
        # Not "greater than or equal to 0" first, then "1" (a walk-through).
        ("-3", "greater than or equal to 1."),
        ("100001", "less than or equal to 100000."),
        ("99999999999999", "less than or equal to 100000."),
    ],
)
def test_admin_form_refuses_a_reading_time_the_api_refuses(admin_client, minutes, refusal):
    # A walk-through's curator typed 99999999999999 and approved it: learners read
    # "1666666666666 h 39 min". The API refused it all along (1 to 100,000).
    response = resource_added(
        admin_client,
        title="Long",
        slug="long",
        url="https://example.org/long",
        kind="book",
        stage="production-ready",
        difficulty=2,
        estimated_minutes=minutes,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Ensure this value is {refusal}" in page
    assert page.count("Ensure this value") == 1
    assert not Resource.objects.exists()


@pytest.mark.parametrize(
    "address", ["file:///etc/passwd", "javascript:alert(1)", "ftp://x.example/"]
)
def test_admin_form_says_what_is_wrong_with_an_address(admin_client, address):
    # "Enter a valid URL." (Django's) where the API and the feed form say why.
    response = resource_added(admin_client, title="Odd", slug="odd", url=address)
    assert response.status_code == 200
    assert "is not an http(s) address." in response.content.decode()
    assert not Resource.objects.exists()


def test_link_health_before_any_check_says_none_was_made_and_how_to_start_one(admin_client):
    # A walk-through's curator read "0 link health" and could not tell broken from not started.
    resource = ResourceFactory()
    page = admin_client.get("/admin/catalog/resourcelink/").content.decode()
    assert "No address has been checked yet." in page
    assert "check_links" in page
    ResourceLink.objects.update_or_create(
        resource=resource, defaults={"checked_at": timezone.now()}
    )
    page = admin_client.get("/admin/catalog/resourcelink/").content.decode()
    assert "No address has been checked yet." not in page


def test_accepting_a_proposed_address_where_none_is_proposed_says_why(admin_client):
    # "0 address(es) accepted." gave a walk-through's curator no reason.
    link, _ = ResourceLink.objects.update_or_create(
        resource=ResourceFactory(), defaults={"checked_at": timezone.now()}
    )
    response = admin_client.post(
        "/admin/catalog/resourcelink/",
        {"action": "accept_proposed", "_selected_action": [link.pk]},
        follow=True,
    )
    said = [str(message) for message in response.context["messages"]]
    assert said == [
        "1 of the links chosen had no proposed address: one is proposed when the address "
        "redirects for good (the “Proposed address” column)."
    ]


def test_tag_and_author_autocomplete_answers(admin_client):
    TagFactory(slug="rbac", name="RBAC")
    response = admin_client.get(
        "/admin/autocomplete/",
        {"term": "rb", "app_label": "catalog", "model_name": "resource", "field_name": "tags"},
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["text"] == "RBAC"


def test_path_steps_are_editable_on_the_path_page(admin_client):
    seed_catalog_load()
    from catalog.models import LearningPath

    path = LearningPath.objects.get()
    response = admin_client.get(f"/admin/catalog/learningpath/{path.pk}/change/")
    assert response.status_code == 200
    assert "Kubernetes The Hard Way" in response.content.decode()


def test_taxonomy_admin_pages_load(admin_client):
    SecurityAreaFactory()
    for model in ("tag", "author", "securityarea", "learningpath"):
        assert admin_client.get(f"/admin/catalog/{model}/").status_code == 200


@pytest.fixture
def seed_path(db):
    from catalog.models import LearningPath
    from catalog.seeding import seed_catalog_load

    seed_catalog_load()
    return LearningPath.objects.get()


def _titles(path) -> list[str]:
    return list(path.steps.order_by("position").values_list("resource__title", flat=True))


def test_path_page_links_to_reordering(admin_client, seed_path):
    content = admin_client.get(f"/admin/catalog/learningpath/{seed_path.pk}/change/").content
    assert f"/admin/catalog/learningpath/{seed_path.pk}/reorder/".encode() in content


def test_moving_a_step_up_swaps_it_with_the_step_before(admin_client, seed_path):
    before = _titles(seed_path)
    third = seed_path.steps.get(position=3)
    response = admin_client.post(
        f"/admin/catalog/learningpath/{seed_path.pk}/reorder/", {"step": third.pk, "move": "up"}
    )
    assert response.status_code == 302
    after = _titles(seed_path)
    assert after[1] == before[2] and after[2] == before[1]
    assert after[:1] + after[3:] == before[:1] + before[3:]


def test_moving_the_first_step_up_changes_nothing(admin_client, seed_path):
    before = _titles(seed_path)
    first = seed_path.steps.get(position=1)
    admin_client.post(
        f"/admin/catalog/learningpath/{seed_path.pk}/reorder/", {"step": first.pk, "move": "up"}
    )
    assert _titles(seed_path) == before


def test_a_step_of_another_path_cannot_be_moved_through_this_one(admin_client, seed_path):
    from catalog.models import LearningPath

    other = LearningPath.objects.create(title="Other", slug="other")
    step = seed_path.steps.get(position=2)
    response = admin_client.post(
        f"/admin/catalog/learningpath/{other.pk}/reorder/", {"step": step.pk, "move": "up"}
    )
    assert response.status_code == 404


def test_reorder_page_lists_every_step_with_readable_titles(admin_client, seed_path):
    content = admin_client.get(f"/admin/catalog/learningpath/{seed_path.pk}/reorder/").content
    for title in _titles(seed_path):
        assert escape(title).encode() in content


def test_a_feeds_page_says_its_poll_interval_and_history_in_words(admin_client):
    # "Poll interval: 64800" and history rows ending "…: not_modified" (walk-through).
    feed = Feed.objects.create(url="https://blog.example.org/feed.xml", poll_interval=64800)
    now = timezone.now()
    FeedPoll.objects.create(
        feed=feed, started_at=now, finished_at=now, outcome=FeedPoll.Outcome.NOT_MODIFIED
    )
    page = admin_client.get(f"/admin/catalog/feed/{feed.pk}/change/").content.decode()
    assert "every 18 h while healthy" in page
    assert str(FeedPoll.objects.get()).endswith(": Not modified")


def test_a_feeds_poll_history_names_its_counts_in_words(admin_client):
    # "2 unchanged" on a first poll read as a contradiction: they were entries already stored.
    feed = Feed.objects.create(url="https://blog.example.org/feed.xml")
    now = timezone.now()
    FeedPoll.objects.create(
        feed=feed, started_at=now, finished_at=now, outcome=FeedPoll.Outcome.OK, unchanged=2
    )
    page = admin_client.get(f"/admin/catalog/feed/{feed.pk}/change/").content.decode()
    assert "Already stored" in page and "Skipped (no usable link)" in page


def test_the_add_feed_form_asks_only_for_what_adding_needs(admin_client):
    # It showed fifteen empty health rows, the poll history and "State: A feed, polled on
    # schedule" before any check (a curator's walk-through).
    page = admin_client.get("/admin/catalog/feed/add/").content.decode()
    for field in ("url", "title", "author", "trusted", "entry_stage", "entry_difficulty"):
        assert f'name="{field}"' in page, field
    for shown in ("Last polled at", "Consecutive failures", "Etag", "polled on schedule"):
        assert shown not in page, shown
    assert "polls-TOTAL_FORMS" not in page


def test_a_feeds_own_page_still_shows_its_health_and_polls(admin_client):
    feed = Feed.objects.create(url="https://blog.example.org/feed.xml")
    page = admin_client.get(f"/admin/catalog/feed/{feed.pk}/change/").content.decode()
    assert "Last polled at" in page and "Consecutive failures" in page
    assert "polls-TOTAL_FORMS" in page


def test_the_review_queue_points_out_an_item_titled_as_another_resource(admin_client):
    # A walk-through's feed entry titled as seed resource 1, under another address, waited
    # among the others with nothing to say so.
    approved = ResourceFactory(title="So I Heard You Want to Learn Kubernetes")
    twin = ResourceFactory(
        title="So I Heard You Want to Learn Kubernetes",
        url="https://mirror.example.org/learn-k8s/",
        status=Status.PENDING,
    )
    ResourceFactory(title="Something else entirely", status=Status.PENDING)
    page = admin_client.get("/admin/catalog/pendingresource/").content.decode()
    assert page.count('class="kl-twin"') == 1
    assert (
        f'Same title as <a href="/admin/catalog/resource/{approved.pk}/change/">resource '
        f"#{approved.pk}</a> (approved)"
    ) in page
    item = admin_client.get(f"/admin/catalog/pendingresource/{twin.pk}/change/").content.decode()
    assert f"resource #{approved.pk}</a> (approved)" in item


def test_a_feed_address_already_followed_is_refused_naming_the_feed(admin_client):
    # "Feed with this Feed address already exists." named neither the feed nor its number.
    feed = Feed.objects.create(url="https://blog.example.org/feed.xml", title="Kubernetes blog")
    other = Feed.objects.create(url="https://other.example.org/feed.xml", title="Another blog")
    response = admin_client.post(
        f"/admin/catalog/feed/{other.pk}/change/",
        {
            "url": "https://blog.example.org/feed.xml",
            "title": "Another blog",
            "entry_stage": "security",
            "entry_difficulty": 2,
            "polls-TOTAL_FORMS": 0,
            "polls-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert f"“Kubernetes blog” (#{feed.pk}) already follows this address." in (
        response.content.decode()
    )


def test_admin_messages_count_in_words():
    # "1 resource(s) approved" read as a form, not a sentence (a walk-through).
    assert counted(1, "feed poll") == "1 feed poll"
    assert counted(0, "resource") == "0 resources"
    assert counted(3, "link") == "3 links"


def test_the_review_queue_points_out_an_item_at_nearly_another_resources_address(admin_client):
    # A feed entry linked over http, without "www." and with a trailing slash was filed beside
    # the catalog's resource with nothing to say so (a walk-through's near-duplicates).
    approved = ResourceFactory(title="RBAC good practices", url="https://www.example.org/rbac")
    near = ResourceFactory(
        title="Good practices for RBAC", url="http://example.org/rbac/", status=Status.PENDING
    )
    ResourceFactory(title="Elsewhere", url="https://example.org/rbac/other", status=Status.PENDING)
    page = admin_client.get("/admin/catalog/pendingresource/").content.decode()
    assert page.count('class="kl-twin"') == 1
    said = (
        f'Nearly the same address as <a href="/admin/catalog/resource/{approved.pk}/change/">'
        f"resource #{approved.pk}</a> (approved), “RBAC good practices” at "
        "https://www.example.org/rbac: the same page? If it is, reject this one: learners have "
        "that one already."
    )
    assert said in page
    item = admin_client.get(f"/admin/catalog/pendingresource/{near.pk}/change/").content.decode()
    assert said in item


def test_the_review_queue_finds_address_twins_in_one_query(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(5):
        ResourceFactory(url=f"https://example.org/p{n}")
        ResourceFactory(status=Status.PENDING, url=f"https://www.example.org/p{n}")
    with CaptureQueriesContext(connection) as page:
        assert (
            admin_client.get("/admin/catalog/pendingresource/")
            .content.decode()
            .count('class="kl-twin"')
            == 5
        )
    assert sum("www.example.org/p" in query["sql"] for query in page.captured_queries) == 1


def test_adding_a_resource_at_nearly_anothers_address_keeps_it_and_says_so(admin_client):
    existing = ResourceFactory(title="Secrets at rest", url="https://example.org/secrets/")
    response = resource_added(
        admin_client,
        title="Encrypting secrets",
        slug="encrypting-secrets",
        url="http://www.example.org/secrets",
    )
    assert response.status_code == 302
    assert Resource.objects.filter(url="http://www.example.org/secrets").exists()
    page = admin_client.get(response["Location"]).content.decode()
    assert f"resource #{existing.pk}</a> (approved), “Secrets at rest”" in page
    assert "the same page?" in page


@pytest.mark.parametrize("action", ["approve_selected", "apply_suggestions_and_approve"])
def test_a_bulk_approval_leaves_an_item_at_nearly_an_approved_address_waiting(admin_client, action):
    # The review list pointed them out and a bulk approval took them all the same: learners
    # met the same page twice, the copy ranked first (a walk-through).
    approved = ResourceFactory(url="https://kubernetes.io/docs/concepts/network-policies/")
    near = ResourceFactory(
        status=Status.PENDING,
        title="Network policies (www, no slash)",
        url="http://www.kubernetes.io/docs/concepts/network-policies",
    )
    other = ResourceFactory(status=Status.PENDING, url="https://example.org/other")
    response = admin_client.post(
        "/admin/catalog/pendingresource/",
        {"action": action, "_selected_action": [near.pk, other.pk]},
        follow=True,
    )
    said = " ".join(str(message) for message in response.context["messages"])
    assert (
        "Left waiting, at nearly the address of a resource learners have: “Network policies "
        f'(www, no slash)” (like <a href="/admin/catalog/resource/{approved.pk}/change/">'
        f"#{approved.pk}</a>). Reject it if it is the same page, or approve it on its own page "
        "if it is not."
    ) in said
    near.refresh_from_db()
    other.refresh_from_db()
    assert near.status == Status.PENDING and other.status == Status.APPROVED
