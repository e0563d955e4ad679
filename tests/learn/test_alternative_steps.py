"""Alternative path steps: the seed's "if you run macOS ... Docker for Mac, otherwise ...
Minikube" is two steps of which a learner needs one. A Linux learner had to find out for
themselves that the macOS step could be skipped, and a Mac learner was queued Minikube after
Docker Desktop."""

from __future__ import annotations

import datetime as dt

from catalog.models import Deprecation, PathStep, Resource, StalenessFlag, Status
from learn.templatetags.learn_tags import lower_first
from recommender.models import Progress, ProgressState
from recommender.selectors import path_alternatives
from recommender.services import progress_set
from tests.factories import LearningPathFactory, PathStepFactory, ResourceFactory

DOCKER = "docker-for-mac-kubernetes"
MINIKUBE = "minikube"


def _queued(api) -> list[str]:
    return [
        item["resource"]["slug"] for item in api.get("/api/me/queue/?limit=50").json()["results"]
    ]


def _complete(user, slug: str, state: str = ProgressState.COMPLETED) -> Resource:
    resource = Resource.objects.get(slug=slug)
    progress_set(user=user, resource=resource, state=state, rating=None)
    return resource


def test_the_seed_makes_docker_desktop_and_minikube_two_ways_to_one_step(seed):
    docker, minikube = (Resource.objects.get(slug=slug).pk for slug in (DOCKER, MINIKUBE))
    assert path_alternatives() == {docker: frozenset({minikube}), minikube: frozenset({docker})}


def test_alternatives_are_grouped_within_one_path_and_among_approved_steps(db):
    first, second = LearningPathFactory(), LearningPathFactory()
    a = PathStepFactory(path=first, one_of="local").resource_id
    b = PathStepFactory(path=first, one_of="local").resource_id
    PathStepFactory(path=first, one_of="local", resource=ResourceFactory(status=Status.PENDING))
    PathStepFactory(path=second, one_of="local")  # the same word on another path
    PathStepFactory(path=second, one_of="alone")  # no other way to it
    PathStepFactory(path=first)
    assert path_alternatives() == {a: frozenset({b}), b: frozenset({a})}


def test_completing_minikube_takes_docker_desktop_out_of_the_queue(alice, alice_api, seed):
    order = _queued(alice_api)
    assert order.index(DOCKER) < order.index(MINIKUBE)
    _complete(alice, MINIKUBE)
    order = _queued(alice_api)
    assert DOCKER not in order
    # It holds nothing back: the step after the pair is queued.
    after = seed.steps.get(resource__slug=MINIKUBE).position + 1
    assert seed.steps.get(position=after).resource.slug in order


def test_completing_docker_desktop_takes_minikube_out_of_the_queue(alice, alice_api, seed):
    _complete(alice, DOCKER)
    assert MINIKUBE not in _queued(alice_api)


def test_completing_docker_desktop_takes_katacoda_out_of_the_queue_too(alice, alice_api, seed):
    # Katacoda is shut down and names Minikube instead; Docker Desktop is Minikube's other way.
    # A walk-through's learner who completed Docker Desktop was still queued Katacoda (4 h).
    assert "katacoda" in _queued(alice_api)
    _complete(alice, DOCKER)
    assert "katacoda" not in _queued(alice_api)


def test_skipping_one_way_leaves_the_other_in_the_queue(alice, alice_api, seed):
    # A Linux learner skips the macOS step: Minikube is still the way for them.
    _complete(alice, DOCKER, ProgressState.SKIPPED)
    assert MINIKUBE in _queued(alice_api)


def test_the_up_next_card_names_the_other_way_to_its_step(alice_web, seed):
    minikube = Resource.objects.get(slug=MINIKUBE)
    position = seed.steps.get(resource=minikube).position
    page = alice_web.get("/?minutes=120").content.decode()
    assert (
        "On macOS, turn on the Kubernetes cluster bundled with Docker so you can learn by doing. "
        f'Or instead, step {position}: <a href="/resources/{minikube.pk}/">Minikube</a> '
        "(on other systems, use Minikube to run a local cluster). You need only one of them: "
        "once you mark one done, the other leaves your queue."
    ) in page


def test_the_path_page_counts_the_other_way_as_not_needed(alice, alice_web, seed):
    docker = Resource.objects.get(slug=DOCKER)
    first = [step.resource.slug for step in seed.steps.order_by("position")[:4]]
    for slug in [*first, MINIKUBE]:
        _complete(alice, slug)
    response = alice_web.get("/path/")
    page = response.content.decode()
    assert "Not needed: you completed Minikube" in page
    # Behind the learner, not something they could still do before their path starts.
    assert "Optional: before your path starts" not in page
    view = response.context["path"]
    covered = [s.step.resource.slug for stage in view.stages for s in stage.steps if s.covered]
    # Katacoda too: Minikube is today's way for it (its page says so already).
    assert covered == [DOCKER, "katacoda"]
    assert view.finished == 7 and "5 completed, 2 not needed" in page
    # No "Done" to press on a step the learner does not need.
    assert f'action="/progress/{docker.pk}/" class="step-done"' not in page


def test_i_know_these_leaves_a_step_the_learner_does_not_need_as_it_is(alice, alice_web, seed):
    docker = _complete(alice, MINIKUBE)
    docker = Resource.objects.get(slug=DOCKER)
    basics = PathStep.objects.filter(path=seed, resource__stage="getting-started").count()
    left = basics - 3  # Minikube done; Docker Desktop and Katacoda not needed
    assert f"mark the {left} steps left as known" in alice_web.get("/path/").content.decode()
    response = alice_web.post("/path/getting-started/done/", follow=True)
    assert f"Marked {left} steps of “Getting started” as known" in response.content.decode()
    assert not Progress.objects.filter(user=alice, resource=docker).exists()
    stage = response.context["path"].stages[0]
    assert stage.finished == stage.total


def test_the_resource_page_offers_the_other_way_and_then_says_why_it_left_the_queue(
    alice, alice_web, seed
):
    docker = Resource.objects.get(slug=DOCKER)
    minikube = Resource.objects.get(slug=MINIKUBE)
    position = seed.steps.get(resource=minikube).position
    page = alice_web.get(f"/resources/{docker.pk}/").content.decode()
    assert (
        f'Or instead, step {position}, <a href="/resources/{minikube.pk}/">Minikube</a>: you '
        "need only one of them."
    ) in page
    assert "Not started yet." in page
    # Only there: the similar resources' cards below do not repeat it.
    assert page.count("Or instead") == 1
    _complete(alice, MINIKUBE)
    page = alice_web.get(f"/resources/{docker.pk}/").content.decode()
    assert (
        f'You completed <a href="/resources/{minikube.pk}/">Minikube</a>, the other way to this '
        "step: you need only one of them, so this one stays out of your queue, and your path "
        "goes on past it."
    ) in page


def test_the_api_path_says_which_steps_are_alternatives(api, seed):
    steps = {
        s["resource"]["slug"]: s["one_of"]
        for s in api.get(f"/api/paths/{seed.slug}/").json()["steps"]
    }
    assert steps[DOCKER] == steps[MINIKUBE] == "local-cluster"
    assert steps["kubelet-docs"] == ""


def test_a_note_runs_on_in_brackets_with_its_first_letter_lowered():
    assert lower_first("On other systems, use Minikube.") == "on other systems, use Minikube"
    assert lower_first("RBAC first.") == "RBAC first"
    assert lower_first("") == ""


def test_an_outdated_step_whose_successor_is_off_the_path_is_not_needed_and_named(
    alice, alice_web, db
):
    # The queue leaves it out once the successor is completed, wherever that successor is;
    # the Path page counted it as still to do when the successor was not a path step.
    path = LearningPathFactory()
    gone = PathStepFactory(path=path, position=1, resource=ResourceFactory(title="Katacoda"))
    PathStepFactory(path=path, position=2)
    successor = ResourceFactory(title="Killercoda")
    deprecation = Deprecation.objects.create(
        slug="katacoda",
        what="Katacoda",
        patterns="Katacoda",
        removal="shut down",
        removed_on=dt.date(2022, 6, 15),
        successor="Killercoda",
        successor_resource=successor,
    )
    StalenessFlag.objects.create(
        resource=gone.resource, deprecation=deprecation, sentence="Katacoda shut down."
    )
    progress_set(user=alice, resource=successor, state=ProgressState.COMPLETED, rating=None)
    page = alice_web.get("/path/").content.decode()
    assert "Not needed: you completed Killercoda" in page
    assert alice_web.get("/path/").context["path"].finished == 1


def test_a_not_needed_step_the_learner_saves_is_theirs_again(alice, alice_web, alice_api, seed):
    # A walk-through saved Docker Desktop after completing Minikube: the Path page called it
    # "not needed" and "your next step" at once.
    _complete(alice, MINIKUBE)
    _complete(alice, DOCKER, ProgressState.PLANNED)
    response = alice_web.get("/path/")
    # Katacoda's only (Minikube is today's way for it).
    assert response.content.decode().count("Not needed: you completed Minikube") == 1
    view = response.context["path"]
    covered = [s.step.resource.slug for st in view.stages for s in st.steps if s.covered]
    assert covered == ["katacoda"]
    assert DOCKER in _queued(alice_api)


def test_a_card_does_not_offer_the_other_way_the_learner_skipped(alice, alice_web, seed):
    minikube = Resource.objects.get(slug=MINIKUBE)
    _complete(alice, DOCKER, ProgressState.SKIPPED)
    items = alice_web.get("/?minutes=600").context["items"]
    card = next(item for item in items if item["card"]["id"] == minikube.pk)
    assert card["other_ways"] is None
    assert "Or instead" not in alice_web.get("/?minutes=600").content.decode()
    # Its page neither, and it still says which step it is.
    page = alice_web.get(f"/resources/{minikube.pk}/").content.decode()
    assert "Or instead" not in page and "Not started yet." in page


def test_the_queues_total_counts_one_of_two_alternative_steps(alice_api, seed):
    # "You need only one of them", yet the total counted Docker Desktop and Minikube both.
    body = alice_api.get("/api/me/queue/?limit=50").json()
    slugs = [item["resource"]["slug"] for item in body["results"]]
    assert DOCKER in slugs and MINIKUBE in slugs
    every = sum(item["resource"]["estimated_minutes"] or 0 for item in body["results"])
    minikube = Resource.objects.get(slug=MINIKUBE).estimated_minutes
    assert minikube and body["total_minutes"] == every - minikube
