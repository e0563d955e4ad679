from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Kind, Resource, Stage, Status
from tests.factories import (
    AuthorFactory,
    LearningPathFactory,
    PathStepFactory,
    ResourceFactory,
    SecurityAreaFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/api/resources/"


def titles(response) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


def test_anyone_reads_approved_resources(api):
    ResourceFactory(title="Approved one")
    response = api.get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert titles(response) == ["Approved one"]


def test_pending_and_rejected_resources_are_hidden_from_learners(api, alice_api):
    ResourceFactory(title="Public")
    pending = ResourceFactory(title="Pending", status=Status.PENDING)
    ResourceFactory(title="Rejected", status=Status.REJECTED)
    assert titles(api.get(LIST)) == ["Public"]
    assert titles(alice_api.get(LIST)) == ["Public"]
    assert api.get(f"{LIST}{pending.pk}/").status_code == 404


@pytest.mark.parametrize("status", ["pending", "rejected"])
def test_asking_for_a_status_only_curators_see_is_a_400_for_anyone_else(api, alice_api, status):
    ResourceFactory(title="Pending", status=Status.PENDING)
    for client in (api, alice_api):
        response = client.get(LIST, {"status": status})
        assert response.status_code == 400
        assert "Only curators see pending and rejected resources" in str(response.json())
    assert titles(api.get(LIST, {"status": "approved"})) == []


def test_curators_see_every_status(curator_api):
    ResourceFactory(title="Public")
    ResourceFactory(title="Pending", status=Status.PENDING)
    ResourceFactory(title="Rejected", status=Status.REJECTED)
    assert titles(curator_api.get(LIST)) == ["Pending", "Public", "Rejected"]
    assert titles(curator_api.get(LIST, {"status": "pending"})) == ["Pending"]


def test_staff_users_are_curators(db):
    from rest_framework.test import APIClient

    staff = UserFactory(username="sam", is_staff=True)
    client = APIClient()
    client.force_authenticate(staff)
    ResourceFactory(title="Pending", status=Status.PENDING)
    assert titles(client.get(LIST)) == ["Pending"]


def test_anonymous_writes_get_401(api):
    resource = ResourceFactory()
    assert api.post(LIST, {"title": "x"}, format="json").status_code == 401
    assert api.patch(f"{LIST}{resource.pk}/", {"title": "x"}, format="json").status_code == 401
    assert api.delete(f"{LIST}{resource.pk}/").status_code == 401
    assert api.post(f"{LIST}{resource.pk}/approve/").status_code == 401
    assert api.post(f"{LIST}{resource.pk}/reject/").status_code == 401


def test_learners_writes_get_403(alice_api):
    resource = ResourceFactory(status=Status.PENDING)
    assert alice_api.post(LIST, {"title": "x"}, format="json").status_code == 403
    assert (
        alice_api.patch(f"{LIST}{resource.pk}/", {"title": "x"}, format="json").status_code == 403
    )
    assert alice_api.delete(f"{LIST}{resource.pk}/").status_code == 403
    assert alice_api.post(f"{LIST}{resource.pk}/approve/").status_code == 403
    resource.refresh_from_db()
    assert resource.status == Status.PENDING


def test_curator_creates_a_resource_with_taxonomy_by_slug(curator_api):
    TagFactory(slug="rbac", name="RBAC")
    AuthorFactory(slug="jane", name="Jane")
    SecurityAreaFactory(slug="rbac", name="RBAC / authorization")
    response = curator_api.post(
        LIST,
        {
            "title": "RBAC in practice",
            "url": "HTTPS://Example.ORG/rbac?utm_source=feed#intro",
            "kind": "article",
            "stage": "security",
            "difficulty": 2,
            "tags": ["rbac"],
            "authors": ["jane"],
            "security_areas": ["rbac"],
            "estimated_minutes": 12,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["url"] == "https://example.org/rbac"
    assert body["tags"] == [{"slug": "rbac", "name": "RBAC"}]
    assert body["security_areas"][0]["slug"] == "rbac"
    assert body["status"] == "pending"


def test_creating_a_second_spelling_of_a_stored_address_is_a_400(curator_api):
    existing = ResourceFactory(url="https://example.org/post")
    response = curator_api.post(
        LIST, {"title": "Dup", "url": "https://EXAMPLE.org:443/post#x"}, format="json"
    )
    assert response.status_code == 400
    assert str(existing.pk) in response.json()["url"][0]
    assert Resource.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x", "url": "javascript:alert(1)"}, "url"),
        ({"title": "x", "kind": "podcastish"}, "kind"),
        ({"title": "x", "stage": "expert"}, "stage"),
        ({"title": "x", "difficulty": 9}, "difficulty"),
        ({"title": "x", "tags": ["no-such-tag"]}, "tags"),
        ({"title": "x", "estimated_minutes": -5}, "estimated_minutes"),
        ({"title": "x" * 301}, "title"),
    ],
)
def test_bad_payloads_get_a_400_naming_the_field(curator_api, payload, field):
    response = curator_api.post(LIST, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_resources_without_an_address_may_coexist(curator_api):
    for title in ("First unknown", "Second unknown"):
        response = curator_api.post(LIST, {"title": title, "url": ""}, format="json")
        assert response.status_code == 201
        assert response.json()["needs_link"] is True


def test_curator_approves_and_rejects(curator_api, carol):
    resource = ResourceFactory(status=Status.PENDING)
    response = curator_api.post(f"{LIST}{resource.pk}/approve/")
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    resource.refresh_from_db()
    assert resource.reviewed_by == carol
    assert curator_api.post(f"{LIST}{resource.pk}/reject/").json()["status"] == "rejected"


def test_curator_edits_and_deletes(curator_api):
    resource = ResourceFactory(title="Old")
    response = curator_api.patch(f"{LIST}{resource.pk}/", {"title": "New"}, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "New"
    assert curator_api.delete(f"{LIST}{resource.pk}/").status_code == 204
    assert not Resource.objects.filter(pk=resource.pk).exists()


def test_filters_by_kind_stage_tag_area_and_author(api):
    rbac = TagFactory(slug="rbac")
    area = SecurityAreaFactory(slug="network-policy")
    author = AuthorFactory(slug="julia-evans")
    ResourceFactory(title="Book", kind="book")
    ResourceFactory(title="Tagged", tags=[rbac])
    ResourceFactory(title="Area", security_areas=[area], stage=Stage.SECURITY)
    ResourceFactory(title="Authored", authors=[author], stage=Stage.PRODUCTION_READY)
    assert titles(api.get(LIST, {"kind": "book"})) == ["Book"]
    assert titles(api.get(LIST, {"stage": "security"})) == ["Area"]
    assert titles(api.get(LIST, {"tag": "rbac"})) == ["Tagged"]
    assert titles(api.get(LIST, {"area": "network-policy"})) == ["Area"]
    assert titles(api.get(LIST, {"author": "julia-evans"})) == ["Authored"]


def test_needs_link_filter(api):
    ResourceFactory(title="Linked")
    ResourceFactory(title="Unlinked", url=None)
    assert titles(api.get(LIST, {"needs_link": "true"})) == ["Unlinked"]


def test_a_guide_kubelearn_serves_itself_is_read_here_and_needs_no_link(api, client):
    # An API client got the guide with url null and needs_link true: nothing to open.
    guide = ResourceFactory(title="Guide", slug="kubelearn-on-kubernetes", url=None)
    ResourceFactory(title="Unlinked", url=None)
    ResourceFactory(title="Linked")
    body = api.get(f"{LIST}{guide.pk}/").json()
    assert body["url"] is None
    assert body["needs_link"] is False
    assert body["read_here"] == "/guides/kubelearn-on-kubernetes/"
    assert client.get(body["read_here"]).status_code == 200
    assert titles(api.get(LIST, {"needs_link": "true"})) == ["Unlinked"]
    assert titles(api.get(LIST, {"needs_link": "false"})) == ["Guide", "Linked"]
    listed = {row["title"]: row["read_here"] for row in api.get(LIST).json()["results"]}
    assert listed == {"Guide": "/guides/kubelearn-on-kubernetes/", "Linked": None, "Unlinked": None}


def test_search_matches_title_summary_and_tags_once(api):
    etcd = TagFactory(slug="etcd", name="etcd")
    ResourceFactory(title="Backing store", tags=[etcd], summary="Where etcd keeps data")
    ResourceFactory(title="Unrelated", summary="Pods")
    ResourceFactory(title="etcd encryption")
    assert sorted(titles(api.get(LIST, {"search": "etcd"}))) == ["Backing store", "etcd encryption"]


def test_ordering_is_whitelisted(api):
    ResourceFactory(title="A", difficulty=3)
    ResourceFactory(title="B", difficulty=1)
    assert titles(api.get(LIST, {"ordering": "difficulty"})) == ["B", "A"]
    assert titles(api.get(LIST, {"ordering": "-difficulty,title"})) == ["A", "B"]
    assert titles(api.get(LIST, {"ordering": ""})) == ["A", "B"]  # the default order
    # An unknown field is a 400 naming the allowed ones: it neither leaks a column nor answers
    # in an order nobody asked for (a walk-through's "ordering=bogus" was a silent 200).
    assert titles(api.get(LIST, {"ordering": " -difficulty , title"})) == ["A", "B"]
    for ordering in ("reviewed_by__password", "bogus", "-title,password", ",", "title,,", " "):
        response = api.get(LIST, {"ordering": ordering})
        assert response.status_code == 400, ordering
        assert "Order by one or more of title, published_at" in response.json()["ordering"][0]


def test_a_one_value_filter_given_twice_is_a_400_not_the_last_one(api):
    ResourceFactory(kind="article")
    ResourceFactory(kind="book")
    response = api.get(LIST + "?kind=article&kind=book")
    assert response.status_code == 400
    assert response.json() == {"kind": ["Give this parameter once."]}
    assert api.get(LIST + "?kind=book").json()["count"] == 1


def test_bad_filter_values_get_a_400(api):
    response = api.get(LIST, {"kind": "nonsense"})
    assert response.status_code == 400
    assert "kind" in response.json()


def test_page_size_of_one_hundred_is_served_whole(api):
    ResourceFactory.create_batch(105)
    body = api.get(LIST, {"page_size": 100}).json()
    assert len(body["results"]) == 100
    assert body["count"] == 105


@pytest.mark.parametrize("page_size", ["1000", "0", "-3", "ten", "null", "٣"])
def test_page_size_outside_its_bounds_is_refused_with_the_bounds(api, page_size):
    response = api.get(LIST, {"page_size": page_size})
    assert response.status_code == 400
    assert response.json() == {"page_size": ["A whole number from 1 to 100, given once."]}


def test_page_size_given_twice_is_refused(api):
    response = api.get(f"{LIST}?page_size=5&page_size=50")
    assert response.status_code == 400


def test_list_query_count_does_not_grow_with_rows(api, settings):
    settings.CATALOG_PAGE_CACHE_SECONDS = 0  # the uncached path (tests/catalog/test_pages.py)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert api.get(LIST).status_code == 200
        return len(context.captured_queries)

    path = LearningPathFactory()
    tag, area, author = TagFactory(), SecurityAreaFactory(), AuthorFactory()
    for _ in range(3):
        resource = ResourceFactory(tags=[tag], security_areas=[area], authors=[author])
        PathStepFactory(path=path, resource=resource)
    few = count_queries()
    for _ in range(15):
        resource = ResourceFactory(tags=[tag], security_areas=[area], authors=[author])
        PathStepFactory(path=path, resource=resource)
    assert count_queries() == few
    assert few <= 3


def test_paths_list_their_steps_in_order(api):
    path = LearningPathFactory(slug="k8s")
    second = ResourceFactory(title="Second")
    first = ResourceFactory(title="First")
    PathStepFactory(path=path, resource=second, position=2)
    PathStepFactory(path=path, resource=first, position=1)
    body = api.get("/api/paths/k8s/").json()
    assert [step["resource"]["title"] for step in body["steps"]] == ["First", "Second"]
    assert [step["position"] for step in body["steps"]] == [1, 2]


def test_paths_hide_unapproved_steps_from_learners(api):
    path = LearningPathFactory(slug="k8s")
    PathStepFactory(path=path, resource=ResourceFactory(title="Shown"), position=1)
    PathStepFactory(
        path=path, resource=ResourceFactory(title="Hidden", status=Status.PENDING), position=2
    )
    steps = api.get("/api/paths/k8s/").json()["steps"]
    assert [step["resource"]["title"] for step in steps] == ["Shown"]


def test_taxonomy_endpoints_read_for_all_write_for_curators(api, alice_api, curator_api):
    TagFactory(slug="pods", name="Pods")
    assert api.get("/api/tags/").json()["results"] == [{"slug": "pods", "name": "Pods"}]
    assert api.post("/api/tags/", {"slug": "x", "name": "X"}).status_code == 401
    assert alice_api.post("/api/tags/", {"slug": "x", "name": "X"}).status_code == 403
    assert curator_api.post("/api/tags/", {"slug": "x", "name": "X"}).status_code == 201
    assert curator_api.post("/api/tags/", {"slug": "x", "name": "X"}).status_code == 400
    assert api.get("/api/authors/").status_code == 200
    assert api.get("/api/security-areas/").status_code == 200


def test_a_page_past_the_end_is_a_json_404_that_names_the_last_page(api):
    ResourceFactory()
    response = api.get(LIST, {"page": 7})
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no page 7: the last is 1."}


@pytest.mark.parametrize("page", ["abc", "0", "-1", "", "1.5", ["1", "2"]])
def test_a_page_that_is_no_page_number_is_a_400_that_says_what_is(api, page):
    # DRF's 404 "Invalid page." for each left a walk-through's client to guess.
    response = api.get(LIST, {"page": page})
    assert response.status_code == 400
    assert response.json() == {"page": ["A whole number from 1 (or “last”), given once."]}


def test_the_last_page_is_asked_for_by_name(api):
    ResourceFactory.create_batch(3)
    response = api.get(LIST, {"page": "last", "page_size": 2})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_an_unroutable_api_address_is_a_json_404(api):
    response = api.post(f"{LIST}0.5/approve/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_nul_characters_in_the_query_are_a_400_not_a_server_error(api):
    response = api.get(LIST, {"search": "etcd\x00"})
    assert response.status_code == 400


def test_malformed_slug_references_are_a_400(curator_api):
    response = curator_api.post(
        LIST, {"title": "x", "security_areas": ["\x00bad slug"]}, format="json"
    )
    assert response.status_code == 400
    assert "not a valid slug" in response.json()["security_areas"][0]


def test_a_slug_reference_that_is_no_text_is_refused_without_pythons_repr(curator_api):
    response = curator_api.post(
        LIST, {"title": "x", "security_areas": [{"a": {"b": 1}}]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["security_areas"] == ["Give a slug as text."]


def test_a_kind_that_is_none_is_refused_with_the_kinds_there_are(curator_api):
    response = curator_api.post(LIST, {"title": "x", "kind": {"x": 1}}, format="json")
    assert response.status_code == 400
    assert response.json()["kind"] == [f"That is not one of: {', '.join(Kind.values)}."]


@pytest.mark.parametrize("name", ["estimated_minutes__gt", "are", "q"])
def test_a_query_parameter_the_list_does_not_take_is_a_400_naming_those_it_does(api, name):
    # A walk-through's ?estimated_minutes__gt=5 answered the whole list, as if filtered.
    response = api.get(LIST, {name: "5"})
    assert response.status_code == 400
    [message] = response.json()[name]
    assert message.startswith("Not a parameter here. This takes: ")
    assert {"area", "search", "ordering", "page", "page_size"} <= set(
        message.removeprefix("Not a parameter here. This takes: ").rstrip(".").split(", ")
    )


def test_the_format_override_and_every_documented_parameter_are_taken(api):
    ResourceFactory()
    response = api.get(
        LIST,
        {
            "format": "json",
            "kind": "article",
            "search": "kubernetes",
            "ordering": "title",
            "page": "1",
            "page_size": "5",
        },
    )
    assert response.status_code == 200


def test_needs_link_filter_refuses_a_value_that_is_not_true_or_false(api):
    response = api.get(LIST, {"needs_link": "null"})
    assert response.status_code == 400
    assert response.json() == {"needs_link": ["Use true or false."]}


@pytest.mark.parametrize("kept", ["progress", "note"])
def test_deleting_a_resource_learners_used_is_a_409_that_keeps_their_data(curator_api, alice, kept):
    # The API deleted the resource with every learner's progress and notes on it (a cascade).
    from recommender.models import Note, Progress

    resource = ResourceFactory()
    if kept == "progress":
        Progress.objects.create(user=alice, resource=resource, state="completed")
    else:
        Note.objects.create(user=alice, resource=resource, text="kubectl auth can-i")
    response = curator_api.delete(f"{LIST}{resource.pk}/")
    assert response.status_code == 409
    assert "reject it instead" in response.json()["detail"]
    assert Resource.objects.filter(pk=resource.pk).exists()
    assert Progress.objects.filter(user=alice).count() + Note.objects.filter(user=alice).count()


def test_deleting_a_resource_no_learner_used_is_a_204(curator_api, alice):
    from recommender.models import Progress

    used, unused = ResourceFactory(), ResourceFactory()
    Progress.objects.create(user=alice, resource=used, state="completed")
    assert curator_api.delete(f"{LIST}{unused.pk}/").status_code == 204
    assert list(Resource.objects.values_list("pk", flat=True)) == [used.pk]


def test_a_superuser_is_refused_through_the_api_too(alice):
    # No confirmation page lists what would go with it: the admin's delete page is the way.
    from rest_framework.test import APIClient

    from recommender.models import Progress

    resource = ResourceFactory()
    Progress.objects.create(user=alice, resource=resource, state="skipped")
    client = APIClient()
    client.force_authenticate(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.delete(f"{LIST}{resource.pk}/").status_code == 409
    assert Progress.objects.filter(resource=resource).exists()
