"""Learners and API clients see link state and staleness; the recommender acts on them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.health.links import LinkOutcome, Outcome
from catalog.health.models import LinkStatus, ResourceLink
from catalog.health.services import link_accept_proposed, link_record, links_sync
from catalog.models import Resource
from catalog.seeding import seed_catalog_load
from catalog.services import DuplicateAddress
from recommender.queue import QueueItem, _demote
from recommender.services import model_refit, progress_set
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


def record(resource: Resource, outcome: str, *, days: float = 0, **fields) -> ResourceLink:
    links_sync()
    link = ResourceLink.objects.get(pk=resource.pk)
    result = LinkOutcome(outcome, resource.url or "", **fields)
    return link_record(link=link, outcome=result, now=timezone.now() + timedelta(days=days))


def make_gone(resource: Resource) -> None:
    for day in (-4, -2, 0):
        record(resource, Outcome.NOT_FOUND, days=day, http_status=404, error="HTTP 404")
    assert ResourceLink.objects.get(pk=resource.pk).status == LinkStatus.GONE


def test_a_resource_shows_its_link_state(api):
    resource = ResourceFactory()
    record(resource, Outcome.FAILED, http_status=500, error="HTTP 500")
    body = api.get(f"/api/resources/{resource.pk}/").json()
    assert body["link_status"] == "failing"
    assert body["link_checked_at"] is not None
    listed = api.get("/api/resources/").json()["results"][0]
    assert listed["link_status"] == "failing"


def test_an_unchecked_resource_says_so(api):
    ResourceFactory()
    row = api.get("/api/resources/").json()["results"][0]
    assert (row["link_status"], row["link_checked_at"], row["staleness"]) == ("unchecked", None, [])


def test_filters_by_link_status_and_staleness(api):
    failing, fine = ResourceFactory(), ResourceFactory(summary="Practise on Katacoda")
    record(failing, Outcome.FAILED, error="HTTP 500")
    seed_catalog_load()  # the deprecations table, and a scan

    def ids(query: str) -> set[int]:
        body = api.get(f"/api/resources/?page_size=100&{query}").json()
        return {r["id"] for r in body["results"]}

    assert ids("link_status=failing") == {failing.pk}
    assert fine.pk in ids("stale=true")
    assert failing.pk in ids("stale=false") and fine.pk not in ids("stale=false")
    assert api.get("/api/resources/?stale=maybe").status_code == 400
    assert api.get("/api/resources/?link_status=").status_code == 400


def test_accepting_a_proposed_address_refuses_a_duplicate(carol):
    ResourceFactory(url="https://new.example/post")
    resource = ResourceFactory(url="https://old.example/post")
    link = record(
        resource,
        Outcome.REDIRECTED,
        http_status=200,
        final_url="https://new.example/post",
        permanent_url="https://new.example/post",
    )
    with pytest.raises(DuplicateAddress):
        link_accept_proposed(link=link, by=carol)


def test_accepting_a_proposed_address_moves_the_resource(carol):
    resource = ResourceFactory(url="https://old.example/post")
    link = record(
        resource,
        Outcome.REDIRECTED,
        http_status=200,
        final_url="https://new.example/post",
        permanent_url="https://new.example/post",
    )
    link_accept_proposed(link=link, by=carol)
    resource.refresh_from_db()
    assert resource.url == "https://new.example/post"
    assert ResourceLink.objects.get(pk=resource.pk).proposed_url == ""


@pytest.fixture
def seed(db):
    seed_catalog_load()
    model_refit()


def path_first(seed) -> Resource:
    return Resource.objects.get(slug="learn-kubernetes-seed")


def test_a_gone_resource_is_never_recommended(alice_api, seed):
    first = path_first(seed)
    make_gone(first)
    model_refit()
    ids = [i["resource"]["id"] for i in alice_api.get("/api/me/queue/?limit=50").json()["results"]]
    assert ids and first.pk not in ids


def test_a_gone_resource_is_dropped_from_answers_computed_before_the_refit(seed):
    from recommender.selectors import resources_by_id

    first, failing = path_first(seed), Resource.objects.get(slug="minikube")
    make_gone(first)
    record(failing, Outcome.FAILED, error="HTTP 500")
    assert set(resources_by_id([first.pk, failing.pk])) == {failing.pk}


def test_a_failing_link_is_a_reason(alice_api, seed):
    first = path_first(seed)
    record(first, Outcome.FAILED, error="HTTP 500")
    item = alice_api.get("/api/me/next/").json()["recommendation"]
    assert item["resource"]["id"] == first.pk
    texts = [reason["text"] for reason in item["reasons"]]
    assert any(text.startswith("The link has been failing since") for text in texts)


def test_a_link_that_starts_failing_shows_in_the_next_computed_answer(alice_api, seed, settings):
    # Health reasons come from the per-process card cache: a change of link state must
    # reach the very next computed answer, not wait for the card to age out.
    settings.RECOMMENDER_RESPONSE_CACHE_SECONDS = 0
    first = path_first(seed)
    before = alice_api.get("/api/me/next/").json()["recommendation"]
    assert before["resource"]["id"] == first.pk
    assert not any(r["kind"] == "link_failing" for r in before["reasons"])
    record(first, Outcome.FAILED, error="HTTP 500")
    after = alice_api.get("/api/me/next/").json()["recommendation"]
    assert any(r["kind"] == "link_failing" for r in after["reasons"])
    assert after["resource"]["link_status"] == "failing"


def test_a_stale_resource_carries_its_sentence_and_follows_its_successor(alice_api, seed):
    items = alice_api.get("/api/me/queue/?limit=50").json()["results"]
    order = [item["resource"]["slug"] for item in items]
    katacoda = items[order.index("katacoda")]
    assert any(r["kind"] == "stale" and "Katacoda" in r["text"] for r in katacoda["reasons"])
    assert order.index("minikube") < order.index("katacoda")


def _items(*pks: int) -> list[QueueItem]:
    return [QueueItem(resource=Resource(pk=pk), score=0.0, reasons=[]) for pk in pks]


def at(positions: dict[int, int]):
    """Path positions as _demote reads them: 0 off the path."""
    return lambda pk: positions.get(pk, 0)


def test_a_stale_item_moves_after_its_successor():
    items = _items(1, 2, 3, 4)
    _demote(items, stale_id=1, successor_id=3, position=at({}))
    assert [item.resource.pk for item in items] == [2, 3, 1, 4]


def test_a_stale_path_step_never_moves_behind_a_later_step():
    items = _items(1, 2, 3)
    _demote(items, stale_id=1, successor_id=3, position=at({1: 5, 2: 6}))
    assert [item.resource.pk for item in items] == [1, 2, 3]


def test_a_stale_path_step_moves_after_its_successor_later_on_the_path():
    # PodSecurityPolicy's talk (step 29) and Pod Security Admission (step 31): the current
    # advice first, with step 30 between them staying where it is.
    items = _items(1, 2, 3, 4)
    _demote(items, stale_id=1, successor_id=3, position=at({1: 29, 2: 30, 3: 31, 4: 32}))
    assert [item.resource.pk for item in items] == [2, 3, 1, 4]


def test_a_stale_path_step_whose_successor_is_beyond_the_queue_goes_last_and_says_why():
    # A queue of 10 showed the 2017 talk 8th; its successor, 16th in a longer queue, not at all.
    items = _items(1, 2, 3)
    items[0].reasons = [
        {"kind": "path_step", "text": "Step 29 of the learning path — your next step"}
    ]
    _demote(items, stale_id=1, successor_id=9, position=at({1: 29, 2: 30, 3: 0, 9: 31}))
    assert [item.resource.pk for item in items] == [2, 3, 1]
    assert items[2].reasons[0]["text"] == (
        "Step 29 of the learning path — read after step 31, which replaces its advice"
    )


def test_a_stale_path_step_goes_where_its_successor_would_stand_not_behind_a_later_step():
    items = _items(1, 2, 3)
    _demote(items, stale_id=1, successor_id=9, position=at({1: 29, 3: 35, 9: 31}))
    assert [item.resource.pk for item in items] == [2, 1, 3]


def test_a_stale_step_ahead_of_the_path_goes_after_the_step_before_its_successor():
    # A focused learner's queue: the 2017 talk (step 29) above the RBAC page (step 30), its
    # successor (step 31) not queued, "Securing a Cluster" (step 36) further on.
    items = _items(1, 2, 3)
    _demote(items, stale_id=1, successor_id=9, position=at({1: 29, 2: 30, 3: 36, 9: 31}))
    assert [item.resource.pk for item in items] == [2, 1, 3]


def test_the_successor_of_a_stale_next_step_becomes_the_next_step():
    items = _items(1, 3)
    items[0].reasons = [
        {"kind": "path_step", "text": "Step 29 of the learning path — your next step"}
    ]
    items[1].reasons = [
        {
            "kind": "focus",
            "text": "Covers your focus: Admission control — ahead of your path, step 31; "
            "your path has reached its stage",
        }
    ]
    _demote(items, stale_id=1, successor_id=3, position=at({1: 29, 3: 31}))
    assert [item.resource.pk for item in items] == [3, 1]
    assert [reason["text"] for reason in items[0].reasons] == [
        "Step 31 of the learning path — your next step, in place of step 29, whose advice is "
        "outdated",
        "Covers your focus: Admission control",
    ]


def test_a_step_between_a_stale_next_step_and_its_successor_becomes_the_next_step():
    # A walk-through's queue read step 30 first, then "Step 31 — your next step, in place of
    # step 29", then step 29: the next step was the first card, not the second.
    items = _items(1, 2, 3)
    items[0].reasons = [
        {"kind": "path_step", "text": "Step 29 of the learning path — your next step"}
    ]
    items[1].reasons = [{"kind": "path_step", "text": "Step 30 of the learning path"}]
    items[2].reasons = [{"kind": "path_step", "text": "Step 31 of the learning path"}]
    _demote(items, stale_id=1, successor_id=3, position=at({1: 29, 2: 30, 3: 31}))
    assert [item.resource.pk for item in items] == [2, 3, 1]
    assert [item.reasons[0]["text"] for item in items] == [
        "Step 30 of the learning path — your next step",
        "Step 31 of the learning path, in place of step 29, whose advice is outdated",
        "Step 29 of the learning path — read after step 31, which replaces its advice",
    ]


def test_the_podsecuritypolicy_talk_follows_pod_security_admission_on_the_path(alice_api, seed):
    # The walk-through's queue: the 2017 talk on PodSecurityPolicy (removed in 1.25) queued
    # directly above the page about Pod Security Admission that its warning recommends.
    focus = [{"area": "container-hardening"}, {"area": "admission-control"}]
    alice_api.patch("/api/me/profile/", {"focus": focus}, format="json")
    items = alice_api.get("/api/me/queue/?limit=50").json()["results"]
    order = [item["resource"]["slug"] for item in items]
    talk = items[order.index("datacenter-orchestration-security-insecurity")]
    assert any(r["kind"] == "stale" for r in talk["reasons"])
    assert order.index("pod-security-admission-docs") < order.index(
        "datacenter-orchestration-security-insecurity"
    )


def _queued(api) -> list[dict]:
    return api.get("/api/me/queue/").json()["results"]


TALK, SUCCESSOR = "datacenter-orchestration-security-insecurity", "pod-security-admission-docs"


@pytest.fixture
def talk_ahead(alice, alice_api, seed):
    """Alice, focused on container hardening and admission control, has read everything the
    queue put before the outdated PodSecurityPolicy talk except its successor."""
    focus = [{"area": "container-hardening"}, {"area": "admission-control"}]
    alice_api.patch("/api/me/profile/", {"focus": focus}, format="json")
    for _ in range(20):
        ahead = [item for item in _queued(alice_api) if item["resource"]["slug"] != SUCCESSOR]
        if ahead[0]["resource"]["slug"] == TALK:
            return alice
        resource = Resource.objects.get(pk=ahead[0]["resource"]["id"])
        progress_set(user=alice, resource=resource, state="completed", rating=None)
    raise AssertionError("the talk never came first")


def test_next_is_the_successor_when_the_outdated_talk_would_head_the_queue(alice_api, talk_ahead):
    # `next` is the queue's head: both are the page about Pod Security Admission, not the talk
    # the queue puts after it.
    assert [item["resource"]["slug"] for item in _queued(alice_api)][:2] == [SUCCESSOR, TALK]
    answer = alice_api.get("/api/me/next/").json()
    assert answer["recommendation"]["resource"]["slug"] == SUCCESSOR


def test_the_path_page_puts_the_learner_at_the_successor_the_queue_leads_with(client, talk_ahead):
    client.force_login(talk_ahead)
    successor = Resource.objects.get(slug=SUCCESSOR)
    page = client.get("/path/").content.decode()
    assert f'Your next step: <a href="#step-{successor.path_steps.get().position}">' in page


def test_the_talk_ahead_of_its_successor_no_longer_says_it_is_the_next_step(alice_api, talk_ahead):
    items = _queued(alice_api)
    assert [item["resource"]["slug"] for item in items][:2] == [SUCCESSOR, TALK]
    assert items[0]["reasons"][0]["text"].endswith(
        "— your next step, in place of step 29, whose advice is outdated"
    )
    assert not any(r["text"].endswith("your next step") for r in items[1]["reasons"])


def test_katacoda_leaves_the_queue_of_a_learner_who_completed_minikube(alice, alice_api, seed):
    # A walk-through: a beginner who had completed Minikube was offered Katacoda (shut down
    # in 2022) four hours long, beside its own warning naming Minikube instead.
    assert "katacoda" in _queued_all(alice_api)
    minikube = Resource.objects.get(slug="minikube")
    progress_set(user=alice, resource=minikube, state="completed", rating=None)
    order = _queued_all(alice_api)
    assert "katacoda" not in order
    # It holds nothing back: the step after it is queued.
    step = Resource.objects.get(slug="katacoda").path_steps.get()
    after = step.path.steps.get(position=step.position + 1).resource.slug
    assert after in order


def test_katacodas_page_says_why_it_left_the_queue(client, alice, seed):
    katacoda = Resource.objects.get(slug="katacoda")
    client.force_login(alice)
    assert "Not started yet." in client.get(f"/resources/{katacoda.pk}/").content.decode()
    minikube = Resource.objects.get(slug="minikube")
    progress_set(user=alice, resource=minikube, state="completed", rating=None)
    page = client.get(f"/resources/{katacoda.pk}/").content.decode()
    assert (
        f'You completed <a href="/resources/{minikube.pk}/">Minikube</a>, today\u2019s way: this '
        "step stays out of your queue, and your path goes on past it."
    ) in page


def test_katacodas_page_leads_with_todays_way_and_keeps_its_old_address_second(client, seed):
    # Katacoda, shut down in 2022, led its page with "Open the resource".
    katacoda = Resource.objects.get(slug="katacoda")
    minikube = Resource.objects.get(slug="minikube")
    page = client.get(f"/resources/{katacoda.pk}/").content.decode()
    assert (
        f'<a class="btn btn-primary" href="/resources/{minikube.pk}/">'
        "Today\u2019s way: Minikube</a>"
    ) in page
    assert (
        f'<a class="btn" href="{katacoda.url}" rel="noopener noreferrer">Open its old address'
        in (page)
    )
    assert "Open the resource" not in page


def test_katacodas_card_offers_its_old_address_quietly_not_as_a_reading(client, seed):
    # Its page led with today's way, and its card on Browse still said "Read it on
    # katacoda.com" (a walk-through).
    page = client.get("/browse/", {"search": "katacoda"}).content.decode()
    card = page[page.index(">Katacoda</a>") :]
    card = card[: card.index("</article>")]
    assert "Its old address: <a" in card and "Read it on" not in card
    assert "Today\u2019s way" in card  # the notice's link leads on
    # One that only mentions something removed is still a reading.
    talk = Resource.objects.get(slug=TALK)
    page = client.get("/browse/", {"search": talk.title.split()[0]}).content.decode()
    assert f"Read it on {talk.url.split('/')[2].removeprefix('www.')}" in page


def test_a_page_that_only_mentions_what_was_removed_still_leads_with_itself(client, seed):
    talk = Resource.objects.get(slug=TALK)
    page = client.get(f"/resources/{talk.pk}/").content.decode()
    assert "Open the resource" in page and "Today\u2019s way:" not in page


def test_a_resource_that_only_mentions_what_was_removed_stays_after_its_successor_is_read(
    alice, alice_api, seed
):
    # The 2017 talk covers RBAC, network policy and more; it only mentions PodSecurityPolicy.
    successor = Resource.objects.get(slug=SUCCESSOR)
    progress_set(user=alice, resource=successor, state="completed", rating=None)
    assert TALK in _queued_all(alice_api)


def _queued_all(api) -> list[str]:
    return [
        item["resource"]["slug"] for item in api.get("/api/me/queue/?limit=50").json()["results"]
    ]


def test_an_outdated_resource_links_to_the_resource_about_todays_way(client, alice_api, seed):
    # A walk-through: the warning named 'Minikube' as plain text.
    katacoda, minikube = (
        Resource.objects.get(slug="katacoda"),
        Resource.objects.get(slug="minikube"),
    )
    flags = alice_api.get(f"/api/resources/{katacoda.pk}/").json()["staleness"]
    assert [flag["successor"] for flag in flags] == [minikube.pk]
    page = client.get(f"/resources/{katacoda.pk}/").content.decode()
    notice = page.split('class="health-notice"')[1].split("</div>")[0]
    assert f'<a href="/resources/{minikube.pk}/" aria-label="Today\u2019s way' in notice
