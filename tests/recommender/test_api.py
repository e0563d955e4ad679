"""The learner's API: progress, profile, next, queue, similar — on the seed catalog."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import LearningPath, Resource, Status
from catalog.seeding import seed_catalog_load
from recommender.models import Progress
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed(db):
    seed_catalog_load()
    return LearningPath.objects.get()


def path_ids(path) -> list[int]:
    return list(path.steps.order_by("position").values_list("resource_id", flat=True))


def queue_ids(client, **params) -> list[int]:
    response = client.get("/api/me/queue/", params)
    assert response.status_code == 200, response.json()
    return [item["resource"]["id"] for item in response.json()["results"]]


def test_learner_endpoints_need_a_signed_in_user(api):
    for url in ("/api/me/progress/", "/api/me/profile/", "/api/me/next/", "/api/me/queue/"):
        assert api.get(url).status_code == 401, url


def test_put_progress_is_idempotent(alice_api, seed):
    resource_id = path_ids(seed)[0]
    url = f"/api/me/progress/{resource_id}/"
    first = alice_api.put(url, {"state": "completed", "rating": 5}, format="json")
    again = alice_api.put(url, {"state": "completed", "rating": 5}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert Progress.objects.count() == 1
    assert again.json()["state"] == "completed"
    assert again.json()["completed_at"]


def test_put_progress_never_undoes_a_completion(alice_api, seed):
    url = f"/api/me/progress/{path_ids(seed)[0]}/"
    alice_api.put(url, {"state": "completed", "rating": 5}, format="json")
    late = alice_api.put(url, {"state": "in_progress"}, format="json")
    assert late.status_code == 200
    assert (late.json()["state"], late.json()["rating"]) == ("completed", 5)
    assert alice_api.get(url).json()["state"] == "completed"


def test_a_late_retry_of_done_keeps_the_rating_given_since_and_null_removes_it(alice_api, seed):
    # An API client's walk-through: the first Done, retried after the learner rated, erased
    # the rating.
    url = f"/api/me/progress/{path_ids(seed)[0]}/"
    alice_api.put(url, {"state": "completed"}, format="json")
    alice_api.put(url, {"state": "completed", "rating": 5}, format="json")
    retried = alice_api.put(url, {"state": "completed"}, format="json")
    assert (retried.json()["state"], retried.json()["rating"]) == ("completed", 5)
    removed = alice_api.put(url, {"state": "completed", "rating": None}, format="json")
    assert removed.json()["rating"] is None


def test_a_retried_start_and_then_done_keep_a_rating_given_while_reading(alice_api, seed):
    # An API client's walk-through: a retried Start without a rating erased it.
    url = f"/api/me/progress/{path_ids(seed)[0]}/"
    alice_api.put(url, {"state": "in_progress", "rating": 4}, format="json")
    retried = alice_api.put(url, {"state": "in_progress"}, format="json")
    assert (retried.json()["state"], retried.json()["rating"]) == ("in_progress", 4)
    done = alice_api.put(url, {"state": "completed"}, format="json")
    assert (done.json()["state"], done.json()["rating"]) == ("completed", 4)
    other = f"/api/me/progress/{path_ids(seed)[1]}/"
    alice_api.put(other, {"state": "in_progress", "rating": 2}, format="json")
    skipped = alice_api.put(other, {"state": "skipped"}, format="json")
    assert skipped.json()["rating"] is None  # a skip is not read: no rating


def test_marking_a_read_completion_known_keeps_the_reading_and_its_rating(alice_api, seed):
    url = f"/api/me/progress/{path_ids(seed)[0]}/"
    alice_api.put(url, {"state": "completed", "rating": 5}, format="json")
    known = alice_api.put(url, {"state": "completed", "known": True}, format="json")
    assert (known.json()["known"], known.json()["rating"]) == (False, 5)


@pytest.mark.parametrize("state", ["in_progress", "skipped", "planned"])
def test_any_other_state_on_a_known_resource_makes_it_read(alice_api, seed, state):
    url = f"/api/me/progress/{path_ids(seed)[0]}/"
    alice_api.put(url, {"state": "completed", "known": True}, format="json")
    changed = alice_api.put(url, {"state": state}, format="json")
    assert (changed.json()["state"], changed.json()["known"]) == (state, False)


@pytest.mark.parametrize(
    ("path", "typo"),
    [
        ("/api/me/queue/", "minute"),
        ("/api/me/queue/", "page"),
        ("/api/me/next/", "foo"),
        ("/api/resources/{first}/similar/", "limt"),
    ],
)
def test_the_recommenders_endpoints_refuse_a_parameter_they_do_not_take(
    alice_api, seed, path, typo
):
    # "?minute=30" (a typo) answered a whole queue with no time budget.
    url = path.format(first=path_ids(seed)[0])
    response = alice_api.get(url, {typo: "30"})
    assert response.status_code == 400
    assert response.json()[typo][0].startswith("Not a parameter here. This takes:")
    assert alice_api.get(url, {"format": "json"}).status_code == 200


def test_progress_list_keeps_only_the_states_asked_for(alice_api, seed):
    first, second, third = path_ids(seed)[:3]
    for resource_id, state in ((first, "completed"), (second, "skipped"), (third, "in_progress")):
        alice_api.put(f"/api/me/progress/{resource_id}/", {"state": state}, format="json")
    history = alice_api.get("/api/me/progress/?state=completed&state=skipped").json()
    assert sorted(row["state"] for row in history["results"]) == ["completed", "skipped"]
    assert alice_api.get("/api/me/progress/").json()["count"] == 3


def test_progress_list_gives_what_changed_since_a_moment_for_a_syncing_client(alice_api, seed):
    first, second = path_ids(seed)[:2]
    alice_api.put(f"/api/me/progress/{first}/", {"state": "completed"}, format="json")
    held = alice_api.get("/api/me/progress/").json()["results"][0]["updated_at"]
    alice_api.put(f"/api/me/progress/{second}/", {"state": "planned"}, format="json")
    changed = alice_api.get("/api/me/progress/", {"updated_since": held}).json()["results"]
    assert [row["resource"]["id"] for row in changed] == [second]
    for bad_value in ("yesterday", ""):
        bad = alice_api.get("/api/me/progress/", {"updated_since": bad_value})
        assert bad.status_code == 400 and "updated_since" in bad.json(), bad_value


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_moment_outside_what_utc_can_hold_is_a_400_not_a_500(alice_api, moment):
    # An OverflowError when the query converted it to UTC: a 500 with Django's HTML page.
    response = alice_api.get("/api/me/progress/", {"updated_since": moment})
    assert response.status_code == 400
    assert response.json() == {
        "updated_since": ["Give a moment between the years 1 and 9999 in UTC."]
    }


def test_progress_list_refuses_an_unknown_state_by_name(alice_api):
    response = alice_api.get("/api/me/progress/", {"state": "finished"})
    assert response.status_code == 400
    assert "finished" in str(response.json()["state"])


def test_learners_see_and_change_only_their_own_progress(alice_api, bob_api, seed):
    resource_id = path_ids(seed)[0]
    alice_api.put(f"/api/me/progress/{resource_id}/", {"state": "completed"}, format="json")
    assert bob_api.get("/api/me/progress/").json()["count"] == 0
    assert bob_api.get(f"/api/me/progress/{resource_id}/").status_code == 404
    assert bob_api.delete(f"/api/me/progress/{resource_id}/").status_code == 404
    assert alice_api.get("/api/me/progress/").json()["count"] == 1
    assert alice_api.delete(f"/api/me/progress/{resource_id}/").status_code == 204
    assert Progress.objects.count() == 0


def test_progress_on_a_hidden_resource_is_a_404(alice_api):
    pending = ResourceFactory(status=Status.PENDING)
    response = alice_api.put(f"/api/me/progress/{pending.pk}/", {"state": "completed"})
    assert response.status_code == 404


@pytest.mark.parametrize("payload", [{"state": "done"}, {"state": "completed", "rating": 6}, {}])
def test_bad_progress_payloads_are_400s(alice_api, seed, payload):
    resource_id = path_ids(seed)[0]
    response = alice_api.put(f"/api/me/progress/{resource_id}/", payload, format="json")
    assert response.status_code == 400


def test_a_profile_field_misspelt_is_a_400_naming_the_fields_it_takes(alice_api, alice, seed):
    # A walk-through's typo answered 200 and changed nothing.
    response = alice_api.patch("/api/me/profile/", {"minute_budget": 30}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "minute_budget": ["Not a field here. This takes: focus, level, minutes_budget."]
    }
    assert alice_api.get("/api/me/profile/").json()["minutes_budget"] is None


def test_a_focus_items_misspelt_weight_is_a_400_not_a_weight_of_one(alice_api, seed):
    response = alice_api.patch(
        "/api/me/profile/", {"focus": [{"area": "rbac", "wieght": 0.2}]}, format="json"
    )
    assert response.status_code == 400
    assert "wieght" in str(response.json())
    assert alice_api.get("/api/me/profile/").json()["focus"] == []


def test_the_profile_as_read_patches_back_unchanged(alice_api, seed):
    alice_api.patch("/api/me/profile/", {"focus": [{"area": "rbac"}]}, format="json")
    profile = alice_api.get("/api/me/profile/").json()  # focus items carry their name too
    response = alice_api.patch("/api/me/profile/", profile, format="json")
    assert response.status_code == 200
    assert response.json() == profile


def test_a_profile_patch_as_a_form_is_a_415_not_a_silent_200(alice_api, seed):
    response = alice_api.patch(
        "/api/me/profile/", "focus=garbage", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


def test_progress_as_read_puts_back_and_an_unknown_field_is_a_400(alice_api, seed):
    resource_id = path_ids(seed)[0]
    url = f"/api/me/progress/{resource_id}/"
    progress = alice_api.put(url, {"state": "in_progress"}, format="json").json()
    assert alice_api.put(url, {**progress, "state": "completed"}, format="json").status_code in {
        200,
        201,
    }
    response = alice_api.put(url, {"state": "completed", "finished": True}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["finished"]


def test_a_later_days_refused_names_the_days_there_are(alice_api, seed):
    resource_id = path_ids(seed)[0]
    response = alice_api.put(
        f"/api/me/progress/{resource_id}/",
        {"state": "planned", "later": True, "later_days": 3},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"later_days": ["“3” is not one of: 1, 7, 30."]}


def test_progress_on_a_withdrawn_resource_is_read_but_a_change_is_a_404_saying_why(
    alice_api, alice
):
    resource = ResourceFactory()
    alice_api.put(f"/api/me/progress/{resource.pk}/", {"state": "completed"}, format="json")
    Resource.objects.filter(pk=resource.pk).update(status=Status.REJECTED)
    assert alice_api.get(f"/api/me/progress/{resource.pk}/").status_code == 200
    response = alice_api.put(
        f"/api/me/progress/{resource.pk}/", {"state": "skipped"}, format="json"
    )
    assert response.status_code == 404
    assert response.json() == {
        "detail": "No resource in the catalog has this id: it may have been withdrawn."
    }


def test_profile_sets_focus_level_and_budget(alice_api, seed):
    response = alice_api.patch(
        "/api/me/profile/",
        {"focus": [{"area": "rbac"}, {"area": "network-policy", "weight": 0.5}], "level": 2},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = alice_api.get("/api/me/profile/").json()
    assert {item["area"]: item["weight"] for item in body["focus"]} == {
        "rbac": 1.0,
        "network-policy": 0.5,
    }
    assert body["level"] == 2
    assert body["minutes_budget"] is None


def test_a_focus_item_may_be_just_its_areas_slug(alice_api, seed):
    response = alice_api.patch(
        "/api/me/profile/", {"focus": ["rbac", {"area": "secrets", "weight": 0.5}]}, format="json"
    )
    assert response.status_code == 200, response.json()
    focus = alice_api.get("/api/me/profile/").json()["focus"]
    assert {item["area"]: item["weight"] for item in focus} == {"rbac": 1.0, "secrets": 0.5}


def test_an_unknown_slug_as_a_focus_item_is_a_400(alice_api, seed):
    response = alice_api.patch("/api/me/profile/", {"focus": ["rbca"]}, format="json")
    assert response.status_code == 400
    assert "rbca" in str(response.json())


def test_profile_rejects_unknown_areas(alice_api, seed):
    response = alice_api.patch("/api/me/profile/", {"focus": [{"area": "nope"}]}, format="json")
    assert response.status_code == 400


def test_a_new_learner_without_focus_starts_at_the_first_path_step(alice_api, seed):
    body = alice_api.get("/api/me/next/").json()
    assert body["finished"] is False
    recommendation = body["recommendation"]
    assert recommendation["resource"]["id"] == path_ids(seed)[0]
    assert recommendation["reasons"]


def test_next_follows_the_path_as_steps_are_completed_or_skipped(alice_api, seed):
    steps = path_ids(seed)
    alice_api.put(f"/api/me/progress/{steps[0]}/", {"state": "completed"}, format="json")
    alice_api.put(f"/api/me/progress/{steps[1]}/", {"state": "skipped"}, format="json")
    assert alice_api.get("/api/me/next/").json()["recommendation"]["resource"]["id"] == steps[2]


def test_the_queue_never_repeats_what_was_completed_skipped_or_started(alice_api, seed):
    steps = path_ids(seed)
    for resource_id, state in zip(steps[:3], ["completed", "skipped", "in_progress"], strict=True):
        alice_api.put(f"/api/me/progress/{resource_id}/", {"state": state}, format="json")
    assert not set(queue_ids(alice_api, limit=20)) & set(steps[:3])


def test_an_rbac_focus_brings_rbac_resources_to_the_front(alice_api, seed):
    alice_api.patch("/api/me/profile/", {"focus": [{"area": "rbac"}]}, format="json")
    first_three = queue_ids(alice_api, limit=3)
    rbac = set(Resource.objects.filter(security_areas__slug="rbac").values_list("pk", flat=True))
    assert set(first_three) & rbac
    reasons = alice_api.get("/api/me/queue/", {"limit": 3}).json()["results"]
    texts = " ".join(r["text"] for item in reasons for r in item["reasons"])
    assert "RBAC" in texts


def test_queue_items_carry_reasons_in_words(alice_api, seed):
    steps = path_ids(seed)
    alice_api.put(
        f"/api/me/progress/{steps[0]}/", {"state": "completed", "rating": 5}, format="json"
    )
    for item in alice_api.get("/api/me/queue/", {"limit": 5}).json()["results"]:
        assert item["reasons"], item["resource"]["title"]
        assert all(reason["text"] for reason in item["reasons"])


def test_queue_with_minutes_fits_the_budget(alice_api, seed):
    body = alice_api.get("/api/me/queue/", {"minutes": 30, "limit": 10}).json()
    assert body["count"] >= 1
    assert body["total_minutes"] <= 30
    assert body["minutes_budget"] == 30


def test_queue_rejects_bad_parameters(alice_api, seed):
    assert alice_api.get("/api/me/queue/", {"limit": 0}).status_code == 400
    assert alice_api.get("/api/me/queue/", {"minutes": "soon"}).status_code == 400


def test_a_learner_who_has_done_everything_gets_a_clear_message(alice_api):
    resource = ResourceFactory()
    alice_api.put(f"/api/me/progress/{resource.pk}/", {"state": "completed"}, format="json")
    body = alice_api.get("/api/me/next/").json()
    assert body["finished"] is True
    assert body["recommendation"] is None
    assert body["shortfall"] == "finished"
    assert "everything we can recommend" in body["detail"]


def test_similar_returns_nearest_approved_resources(api, seed):
    rbac_docs = Resource.objects.get(slug="kubernetes-rbac-docs")
    body = api.get(f"/api/resources/{rbac_docs.pk}/similar/", {"limit": 3}).json()
    assert len(body["results"]) == 3
    assert rbac_docs.pk not in [item["resource"]["id"] for item in body["results"]]
    assert body["results"][0]["similarity"] > 0


def test_similar_of_a_hidden_resource_is_a_404(api, seed):
    pending = ResourceFactory(status=Status.PENDING)
    assert api.get(f"/api/resources/{pending.pk}/similar/").status_code == 404


def test_approving_a_resource_refits_the_model(
    alice_api, curator_api, seed, django_capture_on_commit_callbacks
):
    alice_api.get("/api/me/next/")  # fits and stores a model for the seed catalog
    fresh = ResourceFactory(
        title="Kubernetes RBAC deep dive: roles, bindings and least privilege",
        summary="RBAC roles and cluster roles explained.",
        status=Status.PENDING,
        stage="security",
    )
    with django_capture_on_commit_callbacks(execute=True):
        curator_api.post(f"/api/resources/{fresh.pk}/approve/")
    similar_ids = [
        item["resource"]["id"]
        for item in alice_api.get(
            f"/api/resources/{Resource.objects.get(slug='kubernetes-rbac-docs').pk}/similar/",
            {"limit": 10},
        ).json()["results"]
    ]
    assert fresh.pk in similar_ids, [(i, Resource.objects.get(pk=i).title) for i in similar_ids]


def test_queue_query_count_does_not_grow_with_the_queue(alice_api, seed):
    alice_api.get("/api/me/queue/", {"limit": 1})  # load the model outside the measurement

    def count(limit: int) -> int:
        with CaptureQueriesContext(connection) as context:
            assert alice_api.get("/api/me/queue/", {"limit": limit}).status_code == 200
        return len(context.captured_queries)

    assert count(2) == count(20)


def test_the_browsable_api_renders_the_queue_for_a_signed_in_learner(client, alice, seed):
    client.force_login(alice)
    response = client.get("/api/me/queue/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "So I Heard You Want to Learn Kubernetes" in response.content.decode()


def test_an_edited_resource_shows_its_new_title_in_the_queue(alice_api, curator_api, seed):
    first = path_ids(seed)[0]
    assert alice_api.get("/api/me/next/").json()["recommendation"]["resource"]["id"] == first
    curator_api.patch(f"/api/resources/{first}/", {"title": "A renamed first step"}, format="json")
    body = alice_api.get("/api/me/next/").json()
    assert body["recommendation"]["resource"]["title"] == "A renamed first step"


def test_similar_query_count_does_not_grow_with_the_limit(api, seed):
    rbac_docs = Resource.objects.get(slug="kubernetes-rbac-docs")
    api.get(f"/api/resources/{rbac_docs.pk}/similar/", {"limit": 1})

    def count(limit: int) -> int:
        from recommender.runtime import runtime

        runtime.reset()
        with CaptureQueriesContext(connection) as context:
            api.get(f"/api/resources/{rbac_docs.pk}/similar/", {"limit": limit})
        return len(context.captured_queries)

    assert count(2) == count(10)


def test_next_on_an_empty_catalog_says_there_is_nothing_approved_yet(alice_api):
    body = alice_api.get("/api/me/next/").json()
    assert body["finished"] is True
    assert body["shortfall"] == "finished"
    assert body["detail"] == "There are no approved resources yet."


def test_an_empty_queue_parameter_is_refused_not_taken_as_the_default(alice_api, seed):
    response = alice_api.get("/api/me/queue/?limit=&minutes=")
    assert response.status_code == 400
    assert set(response.json()) == {"limit", "minutes"}


def test_a_queue_parameter_given_twice_is_refused_not_the_last_one_taken(alice_api, api, seed):
    response = alice_api.get("/api/me/queue/?limit=2&limit=3")
    assert response.status_code == 400
    assert response.json() == {"limit": ["Give this parameter once."]}
    first = seed.steps.first().resource_id
    assert api.get(f"/api/resources/{first}/similar/?limit=1&limit=2").status_code == 400


def test_progress_on_an_id_beyond_any_row_is_a_404(alice_api):
    huge = 2**64 + 5
    assert alice_api.get(f"/api/me/progress/{huge}/").status_code == 404
    assert alice_api.delete(f"/api/me/progress/{huge}/").status_code == 404


def test_a_completion_can_be_marked_known_and_a_later_put_makes_it_read(alice_api, seed):
    url = f"/api/me/progress/{path_ids(seed)[0]}/"
    marked = alice_api.put(url, {"state": "completed", "known": True}, format="json")
    assert marked.status_code == 201 and marked.json()["known"] is True
    read = alice_api.put(url, {"state": "completed", "rating": 4}, format="json")
    assert (read.json()["known"], read.json()["rating"]) == (False, 4)
    assert alice_api.get("/api/me/progress/").json()["results"][0]["known"] is False


@pytest.mark.parametrize(
    "payload",
    [{"state": "planned", "known": True}, {"state": "completed", "known": True, "rating": 5}],
)
def test_only_a_completion_without_a_rating_can_be_known(alice_api, seed, payload):
    response = alice_api.put(f"/api/me/progress/{path_ids(seed)[0]}/", payload, format="json")
    assert response.status_code == 400 and "known" in response.json()
    assert not Progress.objects.exists()


def next_id(client) -> int:
    return client.get("/api/me/next/").json()["recommendation"]["resource"]["id"]


def test_a_saved_resource_can_be_put_off_and_leaves_next_until_a_later_put(alice_api, seed):
    first = path_ids(seed)[0]
    assert next_id(alice_api) == first
    url = f"/api/me/progress/{first}/"
    put_off = alice_api.put(url, {"state": "planned", "later": True}, format="json")
    assert put_off.status_code == 201 and put_off.json()["later_until"]
    assert next_id(alice_api) != first
    back = alice_api.put(url, {"state": "planned"}, format="json")
    assert back.json()["later_until"] is None
    assert next_id(alice_api) == first
    refused = alice_api.put(url, {"state": "completed", "later": True}, format="json")
    assert refused.status_code == 400 and "later" in refused.json()


@pytest.mark.parametrize("state", ["skipped", "planned"])
def test_a_skip_or_save_with_a_rating_is_a_400_and_stores_nothing(alice_api, alice, seed, state):
    resource = seed.steps.first().resource
    response = alice_api.put(
        f"/api/me/progress/{resource.pk}/", {"state": state, "rating": 2}, format="json"
    )
    assert response.status_code == 400
    assert "rating" in response.json()
    assert not Progress.objects.filter(user=alice).exists()


def test_a_resource_put_off_comes_back_after_the_days_asked_for(alice_api, alice, seed):
    url = f"/api/me/progress/{Resource.objects.get(slug='kubernetes-rbac-docs').pk}/"
    month = alice_api.put(url, {"state": "planned", "later": True, "later_days": 30}, format="json")
    assert month.status_code == 201
    later_until = Progress.objects.get(user=alice).later_until
    assert timedelta(days=29) < later_until - timezone.now() <= timedelta(days=30)
    for odd in ({"later": True, "later_days": 5}, {"later_days": 1}):
        refused = alice_api.put(url, {"state": "planned", **odd}, format="json")
        assert refused.status_code == 400 and "later_days" in refused.json()
    assert Progress.objects.get(user=alice).later_until == later_until


def test_similar_leaves_out_a_resource_without_an_address_as_the_queue_does(
    alice_api, curator_api, seed, django_capture_on_commit_callbacks
):
    # A walk-through's Secrets page listed resources with "No confirmed link yet".
    alice_api.get("/api/me/next/")
    twin = ResourceFactory(
        title="Kubernetes RBAC deep dive: roles, bindings and least privilege",
        summary="RBAC roles and cluster roles explained.",
        status=Status.PENDING,
        stage="security",
        url=None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        curator_api.post(f"/api/resources/{twin.pk}/approve/")
    rbac_docs = Resource.objects.get(slug="kubernetes-rbac-docs")
    body = alice_api.get(f"/api/resources/{rbac_docs.pk}/similar/", {"limit": 10}).json()
    listed = [item["resource"]["id"] for item in body["results"]]
    assert len(listed) == 10 and twin.pk not in listed


def test_similar_leaves_out_a_path_step_without_an_address_too(alice_api, seed):
    # A walk-through's RBAC page listed two path steps with "No confirmed link yet" among its
    # five similar resources: the queue keeps them (the path names them), similar need not.
    linkless = set(
        Resource.objects.filter(url__isnull=True, path_steps__isnull=False).values_list(
            "pk", flat=True
        )
    )
    assert linkless
    alice_api.get("/api/me/next/")
    for resource in Resource.objects.filter(path_steps__isnull=False):
        body = alice_api.get(f"/api/resources/{resource.pk}/similar/", {"limit": 10}).json()
        listed = {item["resource"]["id"] for item in body["results"]}
        assert not listed & linkless, resource.slug


def test_a_progress_delete_with_if_match_keeps_a_completion_made_elsewhere(alice_api, alice, seed):
    # The web's stale "Stop reading" erased a completion and its 5/5 made on another device
    # (a walk-through); an API client gets the notes' way to say "only what I read".
    step = path_ids(seed)[0]
    read = alice_api.put(f"/api/me/progress/{step}/", {"state": "in_progress"}, format="json")
    version = read["ETag"]
    assert alice_api.get(f"/api/me/progress/{step}/")["ETag"] == version
    done = alice_api.put(
        f"/api/me/progress/{step}/", {"state": "completed", "rating": 5}, format="json"
    )
    assert done["ETag"] != version
    refused = alice_api.delete(f"/api/me/progress/{step}/", HTTP_IF_MATCH=version)
    assert refused.status_code == 412
    assert refused.json()["detail"] == (
        "The progress changed since you read it: your If-Match names another version. "
        "Nothing was forgotten; 'current' is the progress as it is now."
    )
    assert refused.json()["current"]["state"] == "completed"
    assert refused["ETag"] == done["ETag"]
    assert Progress.objects.get(user=alice, resource_id=step).rating == 5
    forgotten = alice_api.delete(f"/api/me/progress/{step}/", HTTP_IF_MATCH=done["ETag"])
    assert forgotten.status_code == 204
    assert not Progress.objects.filter(user=alice, resource_id=step).exists()


def test_a_progress_delete_without_if_match_forgets_as_before(alice_api, seed):
    step = path_ids(seed)[0]
    alice_api.put(f"/api/me/progress/{step}/", {"state": "completed"}, format="json")
    assert alice_api.delete(f"/api/me/progress/{step}/").status_code == 204
    assert alice_api.delete(f"/api/me/progress/{step}/").status_code == 404


def test_the_same_state_sent_twice_is_the_same_progress_version(alice_api, seed):
    step = path_ids(seed)[0]
    first = alice_api.put(f"/api/me/progress/{step}/", {"state": "skipped"}, format="json")
    again = alice_api.put(f"/api/me/progress/{step}/", {"state": "skipped"}, format="json")
    assert first["ETag"] == again["ETag"]


def test_if_match_any_on_no_progress_is_a_412(alice_api, seed):
    step = path_ids(seed)[0]
    response = alice_api.delete(f"/api/me/progress/{step}/", HTTP_IF_MATCH="*")
    assert response.status_code == 412
    assert response.json()["current"] is None
    assert response.json()["detail"].startswith(
        "There is no progress now, and your If-Match names one."
    )


def test_a_weak_if_match_on_progress_is_told_it_never_matches(alice, alice_api, seed):
    # A sweep's weak tag was told the progress "changed since you read it"; it had not.
    step = path_ids(seed)[0]
    tag = alice_api.put(f"/api/me/progress/{step}/", {"state": "in_progress"}, format="json")[
        "ETag"
    ]
    refused = alice_api.put(
        f"/api/me/progress/{step}/", {"state": "skipped"}, format="json", HTTP_IF_MATCH=f"W/{tag}"
    )
    assert refused.status_code == 412
    assert refused.json()["detail"].startswith("If-Match compares entity tags strongly")
    assert refused.json()["detail"].endswith(
        "Nothing was changed; 'current' is the progress as it is now."
    )
    assert Progress.objects.get(user=alice, resource_id=step).state == "in_progress"


def test_through_the_api_a_day_put_off_is_24_hours_from_now(alice_api, alice, seed, settings):
    # At 21:10Z, "1 day" came back at 00:00Z: the start of a UTC day, under three hours later.
    url = f"/api/me/progress/{path_ids(seed)[0]}/"
    before = timezone.now()
    alice_api.put(url, {"state": "planned", "later": True, "later_days": 1}, format="json")
    later_until = Progress.objects.get(user=alice).later_until
    assert before + timedelta(days=1) <= later_until <= timezone.now() + timedelta(days=1)


def test_a_put_off_progress_sent_back_as_it_was_read_stays_put_off(alice_api, alice, seed):
    # The README lets a client send back a body as it read it; that body has `later_until`
    # but no `later`, and the PUT had brought the item back into the queue.
    url = f"/api/me/progress/{path_ids(seed)[0]}/"
    alice_api.put(url, {"state": "planned", "later": True}, format="json")
    read = alice_api.get(url).json()
    assert read["later_until"]
    again = alice_api.put(url, read, format="json")
    assert again.status_code == 200
    assert again.json()["later_until"] == read["later_until"]
    brought_back = alice_api.put(url, {"state": "planned"}, format="json")
    assert brought_back.json()["later_until"] is None


def test_api_moments_are_utc_whatever_time_zone_cookie_a_browser_sends(api, alice_api, seed):
    # A `tz` cookie turned the API's moments into "+09:00", and the shared catalog page kept
    # that for every later client.
    api.cookies["tz"] = "Asia/Tokyo"
    listed = api.get("/api/resources/", {"page_size": 3}).json()["results"]
    assert all(row["created_at"].endswith("Z") for row in listed)
    alice_api.cookies["tz"] = "America/Los_Angeles"
    url = f"/api/me/progress/{path_ids(seed)[0]}/"
    alice_api.put(url, {"state": "planned", "later": True}, format="json")
    row = alice_api.get(url).json()
    assert row["updated_at"].endswith("Z") and row["later_until"].endswith("Z")


@pytest.mark.parametrize("odd", ["\uff15", "+5", "5.0", " 5", "--1"])
def test_a_number_parameter_takes_digits_only_as_page_does(alice_api, odd):
    # A full-width 5, "+5" and "5.0" were a limit of 5 here and a 400 for `page` and `page_size`.
    response = alice_api.get("/api/me/queue/", {"limit": odd})
    assert response.status_code == 400
    assert response.json() == {"limit": ["Give a whole number in digits, such as 10."]}
    assert "greater than or equal to 1" in str(alice_api.get("/api/me/queue/?limit=-1").json())
