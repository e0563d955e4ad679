"""The learner pages: what each shows, who may see it, and that they agree with the API."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone
from django.utils.html import escape
from rest_framework.authtoken.models import Token

from catalog.models import Kind, Resource, SecurityArea, Status
from learn import views
from recommender import queue, services
from recommender.models import LearnerProfile, Note, Progress
from tests.factories import AuthorFactory, ResourceFactory, TagFactory
from tests.learn.conftest import path_ids

pytestmark = pytest.mark.django_db


def queue_titles(response) -> list[str]:
    return [item["card"]["title"] for item in response.context["items"]]


def api_queue_titles(api_client, **params) -> list[str]:
    body = api_client.get("/api/me/queue/", params).json()
    return [item["resource"]["title"] for item in body["results"]]


# --- home / Up next ---------------------------------------------------------------------------


def test_home_welcomes_visitors_and_invites_them_to_sign_up(client, seed):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sign up to get your queue" in body
    assert "kubelearn" in body
    assert "Django" not in body


def test_the_focus_tip_stops_once_a_learner_without_focus_has_read_a_few_items(
    alice, alice_web, seed
):
    # A walk-through's learner, who chose no focus, saw it on every visit through 49
    # completions.
    tip = "<strong>Tip:</strong>"
    assert tip in alice_web.get("/").content.decode()
    steps = [Resource.objects.get(pk=pk) for pk in path_ids(seed)]
    for resource in steps[: views.FOCUS_TIP_UNTIL_COMPLETED - 1]:
        services.progress_set(user=alice, resource=resource, state="completed", rating=None)
    assert tip in alice_web.get("/").content.decode()
    services.progress_set(
        user=alice, resource=steps[views.FOCUS_TIP_UNTIL_COMPLETED], state="completed", rating=None
    )
    assert tip not in alice_web.get("/").content.decode()


def test_a_learner_with_a_focus_gets_no_tip_to_choose_one(alice_web, seed):
    alice_web.post("/focus/", {"area__rbac": "1"})
    assert "<strong>Tip:</strong>" not in alice_web.get("/").content.decode()


def test_up_next_is_the_same_queue_the_api_gives_with_reasons(alice_web, alice_api, seed):
    response = alice_web.get("/")
    assert response.status_code == 200
    assert response.context["items"], "a new learner gets a queue"
    assert queue_titles(response) == api_queue_titles(alice_api)
    first = response.context["items"][0]
    assert first["card"]["id"] == path_ids(seed)[0]
    body = response.content.decode()
    for reason in first["reasons"]:
        assert reason["text"] in body


@pytest.mark.parametrize("minutes", [15, 30, 60])
def test_time_packs_fit_the_budget_and_match_the_api(alice_web, alice_api, seed, minutes):
    response = alice_web.get("/", {"minutes": minutes})
    assert response.status_code == 200
    assert response.context["total_minutes"] <= minutes
    assert queue_titles(response) == api_queue_titles(alice_api, minutes=minutes)


def test_a_time_pack_says_which_path_step_waits_for_a_longer_session(alice_web, alice, seed):
    steps = Resource.objects.filter(pk__in=path_ids(seed)).in_bulk()
    path = [steps[pk] for pk in path_ids(seed)]
    for resource in path[:4]:
        Progress.objects.create(user=alice, resource=resource, state="completed")
    response = alice_web.get("/", {"minutes": 15})
    assert response.status_code == 200 and response.context["items"]
    body = unescape(response.content.decode())
    assert f"Your next step, “{path[4].title}”" in body
    assert "waits for a longer session" in body


def test_a_step_longer_than_the_whole_budget_can_be_started_to_read_in_parts(
    alice_web, alice, seed
):
    # With 15 minutes a day, a 30-minute step would wait for good: the page offers to start
    # it, and once started the path goes on past it.
    path = [Resource.objects.get(pk=pk) for pk in path_ids(seed)]
    for resource in path[:4]:
        Progress.objects.create(user=alice, resource=resource, state="completed")
    assert path[4].estimated_minutes > 15
    body = alice_web.get("/", {"minutes": 15}).content.decode()
    form = body.split('class="read-in-parts"')[1].split("</form>")[0]
    assert f'action="/progress/{path[4].pk}/"' in form
    assert 'name="state" value="in_progress"' in form
    assert "Start it and read it in parts" in form
    alice_web.post(f"/progress/{path[4].pk}/", {"state": "in_progress"})
    response = alice_web.get("/", {"minutes": 15})
    body = unescape(response.content.decode())
    assert [item["card"]["id"] for item in response.context["reading"]] == [path[4].pk]
    assert f"“{path[4].title}”" not in response.context["note"]
    assert f'action="/progress/{path[4].pk}/"' not in body.split('id="reading-list"')[0]
    later = {pk for pk in path_ids(seed)[5:]}
    assert later & {item["card"]["id"] for item in response.context["items"]}


def test_a_step_that_only_misses_what_is_left_is_not_offered_to_read_in_parts(
    alice_web, alice, seed
):
    path = [Resource.objects.get(pk=pk) for pk in path_ids(seed)]
    for resource in path[:4]:
        Progress.objects.create(user=alice, resource=resource, state="completed")
    budget = path[4].estimated_minutes
    response = alice_web.get("/", {"minutes": budget})
    assert path[4].pk in [item["card"]["id"] for item in response.context["items"]]
    assert 'class="read-in-parts"' not in response.content.decode()


@pytest.mark.parametrize("query", [{"minutes": "abc"}, {"minutes": "0"}, {"limit": "999"}])
def test_a_bad_time_budget_is_a_400_page_that_still_shows_the_queue(alice_web, seed, query):
    # A walk-through's ?minutes=abc showed the error above an empty queue.
    response = alice_web.get("/", query)
    assert response.status_code == 400
    assert "time budget" in response.content.decode()
    first = Resource.objects.get(pk=path_ids(seed)[0])
    assert [item["card"]["id"] for item in response.context["items"]][:1] == [first.pk]


def test_marking_done_with_a_rating_moves_the_queue_on(alice_web, alice, seed):
    first = path_ids(seed)[0]
    response = alice_web.post(
        f"/progress/{first}/", {"state": "completed", "rating": "4", "next": "/?minutes=30"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/?minutes=30"
    progress = Progress.objects.get(user=alice, resource_id=first)
    assert (progress.state, progress.rating) == ("completed", 4)
    page = alice_web.get("/")
    assert first not in [item["card"]["id"] for item in page.context["items"]]
    assert "Marked “" in page.content.decode()


@pytest.mark.parametrize("state", ["in_progress", "skipped"])
def test_starting_or_skipping_takes_an_item_out_of_the_queue(alice_web, alice, seed, state):
    first = path_ids(seed)[0]
    assert alice_web.post(f"/progress/{first}/", {"state": state}).status_code == 302
    assert Progress.objects.get(user=alice, resource_id=first).state == state
    assert first not in [item["card"]["id"] for item in alice_web.get("/").context["items"]]


def test_starting_an_item_says_it_waits_under_reading_now(alice_web, seed):
    off_path = ResourceFactory(title="Vault in practice")
    response = alice_web.post(f"/progress/{off_path.pk}/", {"state": "in_progress"}, follow=True)
    body = unescape(response.content.decode())
    assert "Started “Vault in practice”. It waits under Reading now." in body
    assert "path" not in body.split("Started “")[1].split("</")[0]


def test_a_started_item_is_listed_under_reading_now_and_the_path_goes_on(alice_web, seed):
    first, second = path_ids(seed)[:2]
    alice_web.post(f"/progress/{first}/", {"state": "in_progress"})
    page = alice_web.get("/")
    assert [item["card"]["id"] for item in page.context["reading"]] == [first]
    assert page.context["reading"][0]["state"].state == "in_progress"
    assert page.context["items"][0]["card"]["id"] == second
    body = page.content.decode()
    assert "Reading now" in body
    assert "not counted in your" not in body  # no time pack asked for
    # With one, the page says the pack is for what comes next, not for what is started.
    packed = alice_web.get("/", {"minutes": 15}).content.decode()
    assert "It is not counted in your 15 minutes: those are for what comes next." in packed
    # Finishing it from there takes it off the list.
    alice_web.post(f"/progress/{first}/", {"state": "completed"})
    assert alice_web.get("/").context["reading"] == []


def test_done_with_a_rating_says_the_rating_and_done_alone_does_not(alice_web, seed):
    # A walk-through could not tell whether the rating was kept.
    first, second = Resource.objects.filter(pk__in=path_ids(seed)[:2]).order_by("pk")
    form = {"state": "completed", "rating": "4", "next": "/"}
    rated = alice_web.post(f"/progress/{first.pk}/", form, follow=True).content.decode()
    assert f"Marked “{escape(views.message_title(first.title))}” done, rated 4 of 5." in rated
    form = {"state": "completed", "next": "/"}
    plain = alice_web.post(f"/progress/{second.pk}/", form, follow=True).content.decode()
    assert f"Marked “{escape(views.message_title(second.title))}” done.<" in plain


def test_the_notes_page_marks_history_as_the_section_it_is_in(alice_web, seed):
    page = alice_web.get("/notes/").content.decode()
    assert '<a href="/history/" aria-current="true">History</a>' in page


def _areas_on_up_next(response) -> set[str]:
    cards = [item["card"] for item in [*response.context["reading"], *response.context["items"]]]
    return {area["slug"] for card in cards for area in card["security_areas"]}


def test_up_next_links_a_main_focus_nothing_on_it_serves_to_the_catalog(alice_web, alice, seed):
    # A walk-through's beginner, focused on secrets at 15 minutes a day, read only that it
    # comes in at step 26.
    services.profile_update(user=alice, focus={"secrets": 1.0}, level=1, minutes_budget=15)
    response = alice_web.get("/")
    assert "secrets" not in _areas_on_up_next(response)
    page = response.content.decode()
    assert "Nothing here is on your main focus yet" in page
    assert '<a href="/browse/?area=secrets">Secrets and encryption at rest</a>' in page


def test_up_next_lists_the_queue_note_a_point_at_a_time(alice_web, alice, seed):
    # A beginner's note ran to 70 words in one paragraph (a walk-through): where the focus
    # comes in, the steps that wait for the next session and the catalog's link, each its own.
    services.profile_update(user=alice, focus={"secrets": 1.0}, level=1, minutes_budget=15)
    response = alice_web.get("/")
    note = response.content.decode().split('<div class="queue-note">', 1)[1].split("</ul>")[0]
    points = [
        " ".join(point.split(">", 1)[1].split("</li>")[0].split())
        for point in note.split("<li")[1:]
    ]
    assert [point.split(",")[0] for point in points] == [
        "Your focus (Secrets and encryption at rest) comes in at step 26",
        "Step 2",
        "Nothing here is on your main focus yet. To read on it now",
    ]
    assert " ".join(points[:2]) == " ".join(escape(response.context["note"]).split())


def test_up_next_names_only_the_main_areas_it_does_not_serve(alice_web, alice, seed):
    # Ken (three areas "Main focus", 45 minutes) read "Nothing here is on your main focus yet"
    # above cards saying "Covers your focus: Container hardening" (a walk-through).
    focus = {"container-hardening": 1.0, "rbac": 1.0, "secrets": 1.0}
    services.profile_update(user=alice, focus=focus, level=3, minutes_budget=45)
    response = alice_web.get("/")
    assert {"container-hardening", "secrets"} <= _areas_on_up_next(response)
    assert "rbac" not in _areas_on_up_next(response)
    point = response.content.decode().split('queue-focus-elsewhere">')[1].split("</li>")[0]
    assert point == (
        'Nothing here is on <a href="/browse/?area=rbac">RBAC and authorization</a> yet, which '
        "is also your main focus: see what the catalog has on it."
    )


def test_several_area_links_in_a_sentence_are_quoted_one_alone_is_not():
    # "Nothing here is on RBAC and authorization and Secrets and encryption at rest yet".
    rbac = SecurityArea(slug="rbac", name="RBAC and authorization")
    secrets = SecurityArea(slug="secrets", name="Secrets and encryption at rest")
    link = '<a href="/browse/?area={}">{}</a>'
    assert render_to_string("learn/_area_links.html", {"areas": [rbac, secrets]}) == (
        f"“{link.format('rbac', rbac.name)}” and “{link.format('secrets', secrets.name)}”"
    )
    assert render_to_string("learn/_area_links.html", {"areas": [rbac]}) == link.format(
        "rbac", rbac.name
    )


def test_up_next_says_nothing_of_the_kind_when_its_items_serve_the_main_focus(
    alice_web, alice, seed
):
    services.profile_update(user=alice, focus={"container-hardening": 1.0}, level=3)
    response = alice_web.get("/")
    assert "container-hardening" in _areas_on_up_next(response)
    assert "Nothing here is on your main focus yet" not in response.content.decode()


def test_a_start_posted_after_done_keeps_the_item_done(alice_web, alice, seed):
    # A double click: Done, then the Start that was still on the page.
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "completed", "rating": "5"})
    response = alice_web.post(f"/progress/{first}/", {"state": "in_progress", "next": "/"})
    assert response.status_code == 302
    progress = Progress.objects.get(user=alice, resource_id=first)
    assert (progress.state, progress.rating) == ("completed", 5)
    page = alice_web.get("/")
    assert page.context["reading"] == []
    assert "so it stays marked done" in page.content.decode()


def test_clearing_progress_forgets_it(alice_web, alice, seed):
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "skipped"})
    assert alice_web.post(f"/progress/{first}/forget/", {"next": "/path/"})["Location"] == "/path/"
    assert not Progress.objects.filter(user=alice).exists()


@pytest.mark.parametrize(
    "payload",
    [{"state": "done"}, {"state": "completed", "rating": "6"}, {"state": "skipped", "rating": "3"}],
)
def test_bad_progress_posts_are_400s(alice_web, alice, seed, payload):
    response = alice_web.post(f"/progress/{path_ids(seed)[0]}/", payload)
    assert response.status_code == 400
    assert not Progress.objects.filter(user=alice).exists()


def test_progress_on_a_hidden_or_missing_resource_is_a_404(alice_web, seed):
    pending = ResourceFactory(status=Status.PENDING)
    assert alice_web.post(f"/progress/{pending.pk}/", {"state": "completed"}).status_code == 404
    assert alice_web.post("/progress/999999/", {"state": "completed"}).status_code == 404


def test_progress_needs_a_signed_in_learner_and_a_post(client, alice_web, seed):
    first = path_ids(seed)[0]
    response = client.post(f"/progress/{first}/", {"state": "completed"})
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")
    assert not Progress.objects.exists()
    assert alice_web.get(f"/progress/{first}/").status_code == 405


def test_a_click_after_the_session_ended_signs_in_back_to_the_page_not_the_form(client, seed):
    # Signed out in another tab, then "Done" on the queue: Django's login_required would
    # send the learner, once signed in, to a GET of the POST-only form address (a 405).
    first = path_ids(seed)[0]
    response = client.post(f"/progress/{first}/", {"state": "completed", "next": "/?minutes=30"})
    assert response.status_code == 302
    assert response["Location"] == "/signin/?next=/%3Fminutes%3D30"
    htmx = client.post(
        f"/progress/{first}/forget/", {"next": "/path/"}, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 204 and htmx["HX-Redirect"] == "/signin/?next=/path/"
    off_site = client.post(f"/progress/{first}/", {"next": "https://evil.example.org/"})
    assert off_site["Location"] == "/signin/?next=/"


def test_a_click_after_a_new_password_elsewhere_is_said_on_the_sign_in_page(alice, seed):
    # The phone's session ended when the laptop set a new password; its Start was lost
    # without a word (a walk-through).
    from django.test import Client

    phone = Client()
    phone.force_login(alice)
    alice.set_password("another long passphrase 7")
    alice.save()
    first = path_ids(seed)[0]
    page = phone.post(f"/progress/{first}/", {"state": "in_progress", "next": "/"}, follow=True)
    assert page.redirect_chain[-1][0].startswith("/signin/")
    assert "so that click did nothing. Sign in and you are back" in page.content.decode()
    assert not Progress.objects.exists()


def test_progress_never_redirects_off_site(alice_web, seed):
    response = alice_web.post(
        f"/progress/{path_ids(seed)[0]}/",
        {"state": "completed", "next": "https://evil.example.org/"},
    )
    assert response["Location"] == "/"


# --- path and resource pages ------------------------------------------------------------------


def test_path_shows_every_step_by_stage_with_progress(alice_web, seed):
    steps = path_ids(seed)
    alice_web.post(f"/progress/{steps[0]}/", {"state": "completed"})
    alice_web.post(f"/progress/{steps[1]}/", {"state": "skipped"})
    response = alice_web.get("/path/")
    assert response.status_code == 200
    path = response.context["path"]
    assert [stage.stage for stage in path.stages] == [
        "getting-started",
        "production-ready",
        "security",
    ]
    assert path.total == len(steps)
    assert path.finished == 2
    first_stage = path.stages[0]
    assert (first_stage.completed, first_stage.skipped) == (1, 1)
    body = response.content.decode()
    assert f"2 of {len(steps)}" in body
    assert f"2 of {first_stage.total} behind you" in body
    assert "1 completed, 1 skipped" in body  # a skip is not called done
    for resource in Resource.objects.filter(pk__in=steps):
        assert escape(resource.title) in body


def test_visitors_see_the_path_without_progress(client, seed):
    response = client.get("/path/")
    assert response.status_code == 200
    assert "Sign up" in response.content.decode()
    assert response.context["path"].finished == 0


def test_a_visitor_landing_on_a_resource_page_learns_what_the_site_is(client, seed):
    # A walk-through arrived from a search engine and read only "Sign up to mark this done".
    resource_id = path_ids(seed)[5]
    page = client.get(f"/resources/{resource_id}/").content.decode()
    intro = page[page.index('class="callout visitor-intro"') :].split("</div>")[0]
    assert "curated path through Kubernetes and its security" in intro
    assert f'href="/signup/?next=%2Fresources%2F{resource_id}%2F"' in intro
    assert 'href="/path/"' in intro


def test_learners_see_only_their_own_progress(alice_web, bob_web, seed):
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "completed", "rating": "5"})
    assert bob_web.get("/path/").context["path"].finished == 0
    assert bob_web.get(f"/resources/{first}/").context["state"] is None
    assert alice_web.get(f"/resources/{first}/").context["state"].rating == 5
    assert first in [item["card"]["id"] for item in bob_web.get("/").context["items"]]
    # bob cannot clear alice's progress: forgetting only ever touches the signed-in learner.
    bob_web.post(f"/progress/{first}/forget/")
    assert Progress.objects.filter(resource_id=first).count() == 1


def test_a_step_page_says_why_and_lists_similar_resources(client, alice_api, seed):
    step = seed.steps.order_by("position").select_related("resource").first()
    response = client.get(f"/resources/{step.resource_id}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Why it is here" in body
    assert f"Step {step.position} of" in body
    similar_api = alice_api.get(f"/api/resources/{step.resource_id}/similar/").json()["results"]
    assert [item["card"]["id"] for item in response.context["similar"]] == [
        item["resource"]["id"] for item in similar_api
    ]
    assert similar_api, "the seed has neighbours for its first step"


def test_a_completed_resource_offers_a_new_rating_and_clear_but_not_start(alice_web, seed):
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "completed", "rating": "4"})
    body = alice_web.get(f"/resources/{first}/").content.decode()
    assert "You marked this <strong>completed</strong> and rated it 4 of 5." in body
    assert '<option value="4" selected>' in body
    assert "Save rating<" in body
    assert "Clear progress<" in body
    assert 'value="in_progress"' not in body
    assert 'value="skipped"' not in body
    assert "Start<" not in body and "Skip<" not in body


def test_a_started_resource_offers_done_skip_and_stop_reading(alice_web, seed):
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "in_progress"})
    body = alice_web.get(f"/resources/{first}/").content.decode()
    for button in ("Done<", "Skip<", "Stop reading<"):
        assert button in body
    assert "Start<" not in body and "Clear progress<" not in body
    # What it did, in the button's words.
    response = alice_web.post(f"/progress/{first}/forget/", {"next": "/"}, follow=True)
    assert "Stopped reading “" in response.content.decode()
    assert "”: back in your queue." in response.content.decode()


def test_a_resource_without_a_confirmed_address_offers_a_web_search_for_its_title(client, db):
    author = AuthorFactory(name="Julia Evans")
    drawing = ResourceFactory(
        title="Julia Evans's drawing of the Kubernetes components", url=None, authors=[author]
    )
    body = client.get(f"/resources/{drawing.pk}/").content.decode()
    assert "have not confirmed this resource" in body
    search = re.search(r'href="(https://duckduckgo\.com/\?q=[^"]+)"', body)
    assert search is not None
    query = parse_qs(urlsplit(unescape(search.group(1))).query)["q"]
    assert query == ["Julia Evans's drawing of the Kubernetes components Julia Evans"]
    assert "Open the resource" not in body


def test_a_card_without_a_confirmed_address_says_so(client, db):
    ResourceFactory(title="Linked", url="https://example.org/linked")
    ResourceFactory(title="Unlinked", url=None)
    body = client.get("/browse/").content.decode()
    assert body.count("No confirmed link yet") == 1


def test_a_hidden_resource_page_is_a_404(client, seed):
    pending = ResourceFactory(status=Status.PENDING)
    assert client.get(f"/resources/{pending.pk}/").status_code == 404
    response = client.get("/resources/999999/")
    assert response.status_code == 404
    assert "kubelearn" in response.content.decode()


# --- focus ----------------------------------------------------------------------------------


def test_focus_needs_sign_in(client, seed):
    response = client.get("/focus/")
    assert response.status_code == 302
    assert response["Location"] == "/signin/?next=/focus/"


def test_focus_saved_says_where_a_beginners_focus_comes_in(alice_web, seed):
    # It said "Your queue now leans towards it." while a beginner's queue stayed the basics.
    page = alice_web.post("/focus/", {"area__rbac": "1", "level": "1"}, follow=True)
    said = [str(message) for message in page.context["messages"]]
    assert len(said) == 1
    assert said[0].startswith(
        "Focus saved: RBAC and authorization (main focus), with no time budget. "
        "Your focus (RBAC and authorization) comes in at step"
    )
    assert "so your path starts with the basics" in said[0]


def test_focus_saved_says_the_queue_leans_towards_it_when_it_starts_there(alice_web, seed):
    page = alice_web.post("/focus/", {"area__rbac": "1", "level": "3"}, follow=True)
    said = " ".join(str(message) for message in page.context["messages"])
    assert said.startswith(
        "Focus saved: RBAC and authorization (main focus), with no time budget. "
    )
    assert "starts with the basics" not in said


def saved_message(page) -> str:
    (said,) = [str(message) for message in page.context["messages"]]
    return said


def test_focus_saved_without_an_area_says_the_queue_follows_the_path(alice_web, seed):
    # It said "Your queue now leans towards it." of no focus at all (a walk-through).
    for payload in ({"level": "1"}, {"area__rbac": "", "area__network-policy": ""}):
        page = alice_web.post("/focus/", payload, follow=True)
        assert saved_message(page).startswith(
            "Focus saved, with no time budget. No security area is chosen. Your queue follows "
            "the path in order."
        )


def test_focus_saved_says_a_changed_level_and_only_a_changed_one(alice_web, seed):
    # A walk-through's learner went from Beginner to Advanced and was told only of the focus
    # and the time budget.
    said = saved_message(alice_web.post("/focus/", {"level": "1"}, follow=True))
    assert said.endswith(" Your level is now Beginner.")
    said = saved_message(alice_web.post("/focus/", {"level": "1"}, follow=True))
    assert "Your level" not in said
    said = saved_message(alice_web.post("/focus/", {"level": "3"}, follow=True))
    assert said.endswith(" Your level is now Advanced.")
    said = saved_message(alice_web.post("/focus/", {"level": ""}, follow=True))
    assert said.endswith(" Your level is no longer set: it is judged by what you complete.")


def test_focus_saved_without_an_area_says_where_the_level_starts_the_path(alice_web, seed):
    page = alice_web.post("/focus/", {"level": "2"}, follow=True)
    assert saved_message(page).startswith(
        "Focus saved, with no time budget. No security area is chosen. Your level "
        "(Intermediate) starts your path at step "
    )


@pytest.fixture
def on_the_path(alice, seed):
    """Alice has read the path's first step."""
    first = Resource.objects.get(pk=path_ids(seed)[0])
    services.progress_set(user=alice, resource=first, state="completed", rating=None)


def test_focus_saved_counts_the_queue_items_there_for_it(alice_web, alice, on_the_path):
    page = alice_web.post("/focus/", {"area__rbac": "1", "level": "3"}, follow=True)
    serving = sum(
        1
        for item in queue.queue_build(user=alice, limit=10).items
        if any(reason["kind"] == "focus" for reason in item.reasons)
    )
    assert serving
    verb = "is" if serving == 1 else "are"
    assert saved_message(page) == (
        f"Focus saved: RBAC and authorization (main focus), with no time budget. {serving} of "
        f"the 10 items in your queue {verb} there for your focus. Your level is now Advanced."
    )


def test_focus_saved_says_when_the_queue_has_nothing_for_it_yet(alice_web, on_the_path):
    # A beginner on the path: the basics come first, the focus later (a walk-through was told
    # "Your queue now leans towards it." of a queue that had not changed).
    page = alice_web.post("/focus/", {"area__etcd-protection": "1", "level": "1"}, follow=True)
    assert saved_message(page) == (
        "Focus saved: etcd protection (main focus), with no time budget. Your focus (etcd "
        "protection) comes in at step 36, in "
        "the security stage: once you have the basics (the getting-started steps done), it "
        "joins your queue. Your level is now Beginner."
    )


def test_focus_saved_says_when_everything_in_it_is_behind_the_learner(alice_web, alice, seed):
    for resource in Resource.objects.filter(security_areas__slug="etcd-protection"):
        services.progress_set(user=alice, resource=resource, state="skipped", rating=None)
    page = alice_web.post("/focus/", {"area__etcd-protection": "1", "level": "3"}, follow=True)
    assert "Everything the catalog has in it is behind you (completed, known or skipped)" in (
        saved_message(page)
    )


def test_focus_saves_areas_weights_and_level(alice_web, alice, seed):
    response = alice_web.post(
        "/focus/", {"area__rbac": "1", "area__network-policy": "0.5", "level": "2"}
    )
    assert response.status_code == 302
    profile = LearnerProfile.objects.get(user=alice)
    assert {f.area.slug: f.weight for f in profile.focus.select_related("area")} == {
        "rbac": 1.0,
        "network-policy": 0.5,
    }
    assert profile.level == 2
    page = alice_web.get("/focus/")
    assert page.context["form"]["area__rbac"].value() == "1"


def focus_cells(response) -> dict[str, str]:
    """The focus said after each area's name in the coverage table, as a reader hears it."""
    rows = re.findall(r'<th scope="row">([^<]+)(.*?)</th>', response.content.decode())
    return {
        unescape(name).strip(): re.sub(
            r'<span[^>]*aria-hidden="true">.*?</span>|<[^>]+>', "", focus
        ).strip()
        for name, focus in rows
    }


def test_the_coverage_table_names_the_focus_in_words_not_weights(alice_web, seed):
    alice_web.post("/focus/", {"area__rbac": "1", "area__network-policy": "0.5"})
    cells = focus_cells(alice_web.get("/focus/"))
    assert cells["RBAC and authorization"] == "Main focus"
    assert cells["Network policy"] == "Some"
    assert cells["Audit logging"] == "Not a focus"
    assert not any(re.search(r"\d", cell) for cell in cells.values()), cells


def test_a_security_areas_description_is_shown_as_text_on_the_focus_page(alice_web, seed):
    # A curator's description reached every learner's Focus page as markup: a penetration
    # test's meta refresh sent them elsewhere.
    hostile = '<meta http-equiv="refresh" content="0;url=https://phish.example/"><b>x</b>'
    SecurityArea.objects.filter(slug="rbac").update(description=hostile)
    page = alice_web.get("/focus/").content.decode()
    assert "<meta http-equiv" not in page.split("</head>", 1)[1] and "<b>x</b>" not in page
    assert escape(hostile) in page


def test_the_coverage_tables_area_column_is_read_as_area(alice_web, seed):
    # Its visible key "(★ your focus)" was read as "Area ( your focus)", the star hidden; each
    # row says its own focus in words.
    page = alice_web.get("/focus/").content.decode()
    assert (
        '<th scope="col">Area <span class="muted" aria-hidden="true">(<span class="star">★</span>'
        " your focus)</span></th>"
    ) in page


def test_a_weight_set_through_the_api_shows_at_its_nearest_level(alice_web, alice_api, seed):
    alice_api.patch("/api/me/profile/", {"focus": [{"area": "rbac", "weight": 0.3}]}, format="json")
    page = alice_web.get("/focus/")
    # The select shows "A little", so saving the form keeps the focus (it used to show none,
    # and saving dropped it).
    assert page.context["form"]["area__rbac"].value() == "0.25"
    assert focus_cells(page)["RBAC and authorization"] == "A little"


def test_a_saved_time_budget_is_set_on_the_focus_page_and_shown_on_up_next(alice_web, alice, seed):
    assert alice_web.post("/focus/", {"area__rbac": "1", "minutes_budget": "30"}).status_code == 302
    assert LearnerProfile.objects.get(user=alice).minutes_budget == 30
    assert alice_web.get("/focus/").context["form"]["minutes_budget"].value() == 30
    page = alice_web.get("/")
    assert page.context["minutes"] == 30 and page.context["total_minutes"] <= 30
    body = page.content.decode()
    assert 'href="?minutes=30" aria-current="true"' in body  # the chip in force
    assert "30 minutes is your saved budget" in body
    # The whole queue stays one click away (the walk-through found no way back to it).
    assert '<a class="chip" href="/?minutes=any">no limit</a>' in body
    whole = alice_web.get("/", {"minutes": "any"})
    assert whole.status_code == 200 and whole.context["minutes"] is None
    assert whole.context["total_minutes"] > 30
    assert 'href="/?minutes=any" aria-current="true">no limit' in whole.content.decode()
    assert "The whole queue, this once" in whole.content.decode()
    # Emptied: no limit again.
    alice_web.post("/focus/", {"area__rbac": "1", "minutes_budget": ""})
    assert LearnerProfile.objects.get(user=alice).minutes_budget is None
    assert alice_web.get("/").context["minutes"] is None


def test_a_saved_budget_that_is_no_time_pack_gets_a_chip_of_its_own(alice_web, alice, seed):
    services.profile_update(user=alice, minutes_budget=20)
    body = alice_web.get("/").content.decode()
    chips = re.findall(r'<a class="chip" href="\?minutes=(\d+)"( aria-current="true")?', body)
    assert chips == [("15", ""), ("20", ' aria-current="true"'), ("30", ""), ("60", "")]
    other = alice_web.get("/", {"minutes": 60}).content.decode()
    # One tap back to the saved budget.
    assert 'href="?minutes=20">20<span class="wide-only"> minutes</span>' in other
    assert 'href="?minutes=60" aria-current="true"' in other


@pytest.mark.parametrize("typed", ["1e2", "100.0", " 100 "])
def test_a_time_budget_the_browser_accepts_as_a_whole_number_is_saved(
    alice_web, alice, seed, typed
):
    # A number field takes "1e2" as valid; Django's IntegerField refused it, far below.
    response = alice_web.post("/focus/", {"area__rbac": "1", "minutes_budget": typed})
    assert response.status_code == 302
    assert LearnerProfile.objects.get(user=alice).minutes_budget == 100


@pytest.mark.parametrize(
    "typed", ["1.5", "1e999999", "nan", "-inf", "12abc", "1e3000", "-5", "0", "1441"]
)
def test_a_time_budget_out_of_bounds_is_refused_in_up_nexts_words_with_focus_on_it(
    alice_web, alice, seed, typed
):
    response = alice_web.post("/focus/", {"area__rbac": "1", "minutes_budget": typed})
    assert response.status_code == 400
    body = response.content.decode()
    assert (
        "Give a whole number of minutes from 1 to 1440 (a day), or leave it empty for no limit."
    ) in body
    field = re.search(r'<input[^>]*name="minutes_budget"[^>]*>', body)
    assert field and "autofocus" in field.group(0)


def test_up_next_says_why_a_queue_is_short(alice_web, seed):
    page = alice_web.get("/", {"minutes": 5})
    assert page.context["detail"]
    assert page.context["detail"] in page.content.decode()


def test_an_empty_time_pack_names_the_next_step_and_links_to_the_whole_queue(alice_web, seed):
    first = Resource.objects.get(pk=path_ids(seed)[0])
    page = alice_web.get("/", {"minutes": 3})
    assert page.context["items"] == []
    body = unescape(page.content.decode())
    assert (
        f"Nothing fits in 3 minutes: your next step, “{first.title}”, takes about "
        f"{first.estimated_minutes} minutes: start it and read it in parts, or it waits for a "
        "longer session."
    ) in body
    assert '<a href="/">See the whole queue</a>' in body
    # Nothing fits, not even the next step: it can be started and read in parts all the same.
    form = body.split('class="read-in-parts"')[1].split("</form>")[0]
    assert f'action="/progress/{first.pk}/"' in form and 'value="in_progress"' in form


@pytest.mark.parametrize("payload", [{"area__rbac": "7"}, {"level": "9"}, {"minutes_budget": "0"}])
def test_bad_focus_input_is_a_400(alice_web, alice, seed, payload):
    assert alice_web.post("/focus/", payload).status_code == 400
    assert not LearnerProfile.objects.filter(user=alice).exists()


def test_coverage_counts_completed_against_offered_per_area(alice_web, seed):
    rbac = list(
        Resource.objects.filter(security_areas__slug="rbac", status=Status.APPROVED).values_list(
            "pk", flat=True
        )
    )
    alice_web.post(f"/progress/{rbac[0]}/", {"state": "completed"})
    alice_web.post(f"/progress/{rbac[1]}/", {"state": "skipped"})  # skipped is not covered
    response = alice_web.get("/focus/")
    rows = {area.slug: area for area in response.context["coverage"]}
    assert (rows["rbac"].completed, rows["rbac"].available) == (1, len(rbac))
    assert (
        sum(area.completed for area in rows.values())
        == Resource.objects.get(pk=rbac[0]).security_areas.count()
    )
    body = response.content.decode()
    assert "<svg" in body
    assert '<table class="coverage-table">' in body
    started = sum(1 for area in rows.values() if area.completed)
    assert f"you have covered resources in {started} of {len(rows)} areas" in body


def test_coverage_counts_steps_marked_known_apart_from_those_read(alice_web, alice, seed):
    # A walk-through learner who had read nothing saw "6 of 7" under "Done" after "I know these".
    alice_web.post("/path/security/done/")
    rows = {area.slug: area for area in alice_web.get("/focus/").context["coverage"]}
    assert sum(area.completed for area in rows.values()) == 0
    rbac = rows["rbac"]
    known_rbac = Progress.objects.filter(
        user=alice, known=True, resource__security_areas__slug="rbac"
    ).count()
    assert known_rbac and (rbac.known, rbac.covered) == (known_rbac, known_rbac)
    body = alice_web.get("/focus/").content.decode()
    completed = '<span class="wide-only">Completed</span><span class="narrow-only">Done</span>'
    assert f'{completed}</th><th scope="col">Known</th>' in body
    assert f"{rbac.name}<span" in body
    assert f"</th><td>0</td><td>{known_rbac}</td><td>{rbac.available}</td></tr>" in body


# --- browse ---------------------------------------------------------------------------------


def test_browse_is_open_and_filters_like_the_api(client, api, seed):
    response = client.get("/browse/", {"stage": "security", "area": "rbac"})
    assert response.status_code == 200
    ids = [item["card"]["id"] for item in response.context["items"]]
    api_ids = [
        r["id"]
        for r in api.get("/api/resources/", {"stage": "security", "area": "rbac"}).json()["results"]
    ]
    assert ids == api_ids and ids


@pytest.mark.parametrize("search", ["rbac", "etcd", "network"])
def test_browse_search_matches_the_api_search(client, api, seed, search):
    ids = [
        item["card"]["id"] for item in client.get("/browse/", {"search": search}).context["items"]
    ]
    api_ids = [r["id"] for r in api.get("/api/resources/", {"search": search}).json()["results"]]
    assert ids == api_ids and ids


def test_browse_shows_only_approved_resources(client, carol, seed):
    pending = ResourceFactory(status=Status.PENDING, title="Pending thing")
    client.force_login(carol)  # even a curator browses the approved catalog here
    ids = [
        item["card"]["id"] for item in client.get("/browse/", {"page_size": 100}).context["items"]
    ]
    assert pending.pk not in ids


def test_browse_paginates(client, seed):
    first = client.get("/browse/")
    assert len(first.context["items"]) == 20
    total = first.context["page"].paginator.count
    assert total == Resource.objects.filter(status=Status.APPROVED).count()
    last = client.get("/browse/", {"page": first.context["page"].paginator.num_pages})
    assert last.status_code == 200
    # An odd page number shows the nearest page that exists, not a 404.
    num_pages = first.context["page"].paginator.num_pages
    assert client.get("/browse/", {"page": 999}).context["page"].number == num_pages
    assert client.get("/browse/", {"page": "abc"}).context["page"].number == 1


@pytest.mark.parametrize("number", ["0", "-1", "-999"])
def test_browse_shows_the_first_page_for_a_page_number_below_one(client, seed, number):
    # Paginator.get_page counts these as past the end and would show the last page.
    assert client.get("/browse/").context["page"].paginator.num_pages > 1
    assert client.get("/browse/", {"page": number}).context["page"].number == 1


@pytest.mark.parametrize("query", [{"stage": "bogus"}, {"kind": "nope"}, {"difficulty": "9"}])
def test_browse_rejects_bad_filters_with_a_400(client, seed, query):
    response = client.get("/browse/", query)
    assert response.status_code == 400
    assert "could not be used" in response.content.decode()


def test_browse_names_a_refused_filter_by_its_label(client, seed):
    response = client.get("/browse/", {"stage": "bogus"})
    assert response.context["filter_errors"][0][0] == "Stage"


def test_browse_words_a_refused_filter_as_its_form_names_it(client, seed):
    # A walk-through read "Tags slug: Give this parameter once." and Django's "Select a valid
    # choice. nonsense is not one of the available choices."
    tags = list(client.get("/browse/").context["choices"]["tag"])[:2]
    response = client.get("/browse/", {"tag": [slug for slug, _ in tags]})
    assert response.status_code == 400
    assert response.context["filter_errors"] == [("Topic", "Choose one topic at a time.")]
    # Unknown ones given twice are refused as given twice, once.
    response = client.get("/browse/", {"tag": ["a", "b"]})
    assert response.context["filter_errors"] == [("Topic", "Choose one topic at a time.")]
    # Above the form: on a phone the opened filters pushed it under the first screen.
    page = response.content.decode()
    assert page.index("Some choices could not be used") < page.index('class="filters"')
    errors = dict(
        client.get("/browse/", {"stage": "nonsense", "kind": "zzz"}).context["filter_errors"]
    )
    assert errors == {
        "Stage": "There is no stage “nonsense”; choose one of “Getting started”, "
        "“Production-ready”, “Security”.",
        "Kind": "There is no kind “zzz”; choose one of "
        + ", ".join(f"“{label}”" for _, label in Kind.choices)
        + ".",
    }


def test_browse_form_left_at_any_filters_nothing_out(client, seed):
    # What the form sends when only the search box is filled: every select, empty.
    form = {"search": "rbac", "stage": "", "kind": "", "area": "", "tag": "", "author": ""}
    response = client.get("/browse/", form)
    assert response.status_code == 200
    ids = [item["card"]["id"] for item in response.context["items"]]
    expected = [
        item["card"]["id"] for item in client.get("/browse/", {"search": "rbac"}).context["items"]
    ]
    assert ids and ids == expected


@pytest.mark.parametrize(
    ("query", "in_use"),
    [
        ({}, 0),
        ({"search": "rbac", "stage": "", "kind": ""}, 0),
        ({"stage": "security"}, 1),
        ({"search": "rbac", "kind": "article", "area": "rbac"}, 2),
        # Refused: its select shows "Any stage", so it is not counted as in use.
        ({"stage": "bogus"}, 0),
        ({"stage": "bogus", "kind": "article"}, 1),
    ],
)
def test_browse_counts_the_folded_filters_in_use_and_opens_them_only_for_a_refused_one(
    client, seed, query, in_use
):
    # Search stays in view, so only the folded selects count; a refused one opens them, so
    # the learner sees the field the message names.
    response = client.get("/browse/", query)
    page = response.content.decode()
    assert response.context["filters_in_use"] == in_use
    assert ('<details class="filter-more" open>' in page) == (response.status_code == 400)
    assert (f"({in_use} in use)" in page) == bool(in_use)


def test_browse_says_what_narrows_the_list_each_with_a_link_without_it(client, seed):
    page = client.get("/browse/", {"search": "rbac", "area": "rbac", "kind": "article"})
    body = page.content.decode()
    narrowed = {(f["label"], f["value"]): f["without"] for f in page.context["narrowed_by"]}
    assert narrowed == {
        ("Kind", "Article"): "search=rbac&area=rbac",
        ("Security area", "RBAC and authorization"): "search=rbac&kind=article",
    }
    assert '<a href="?search=rbac&amp;kind=article" class="narrowed-remove">Remove' in body


def test_browse_says_when_nothing_matches(client, seed):
    response = client.get("/browse/", {"search": "zzzzqqqq"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "0 resources" in page
    assert "Nothing matches “zzzzqqqq”." in page
    assert "Try another word, or the start of this one" in page
    several = client.get("/browse/", {"search": "zzzzqqqq rbac"}).content.decode()
    assert "try fewer or other words" in several


def test_an_empty_search_with_filters_offers_the_same_words_over_the_whole_catalog(client, seed):
    page = client.get("/browse/", {"search": "zzzzqqqq", "kind": "book"}).content.decode()
    assert "Nothing matches “zzzzqqqq” with these filters." in page
    assert '<a href="?search=zzzzqqqq">search the whole catalog</a>' in page


def test_an_empty_result_repeats_a_very_long_search_shortened(client, seed):
    # All 3,000 characters pushed the "search the whole catalog" link screens down.
    words = "zzzzqqqq " * 333
    page = client.get("/browse/", {"search": words, "kind": "book"}).content.decode()
    said = page.split("Nothing matches “", 1)[1].split("”", 1)[0]
    assert len(said) <= 80
    assert said.startswith("zzzzqqqq zzzzqqqq")
    assert "search the whole catalog" in page


# --- accounts -------------------------------------------------------------------------------


def test_sign_up_creates_a_learner_with_an_api_token_and_signs_in(client, seed):
    response = client.post(
        "/signup/",
        {
            "username": "dana",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert Token.objects.filter(user__username="dana").exists()
    assert client.get("/").context["user"].username == "dana"


SIGN_UP = {"password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"}


def test_a_resource_page_links_sign_up_and_sign_in_with_the_way_back(client, seed):
    resource = seed.steps.first().resource
    body = client.get(f"/resources/{resource.pk}/").content.decode()
    assert f'href="/signup/?next=%2Fresources%2F{resource.pk}%2F">Sign up</a>' in body  # header
    assert f'href="/signin/?next=%2Fresources%2F{resource.pk}%2F"' in body
    assert body.count(f"/signup/?next=%2Fresources%2F{resource.pk}%2F") == 2  # and the callout
    # Home is where signing in lands anyway: no `next` there.
    assert 'href="/signup/">Sign up</a>' in client.get("/").content.decode()


def test_signing_up_from_a_resource_page_comes_back_to_it(client, seed):
    resource = seed.steps.first().resource
    here = f"/resources/{resource.pk}/"
    form_page = client.get("/signup/", {"next": here}).content.decode()
    assert f'<input type="hidden" name="next" value="{here}">' in form_page
    assert f'href="/signin/?next=%2Fresources%2F{resource.pk}%2F">Sign in</a>' in form_page
    response = client.post("/signup/", {"username": "dana", "next": here, **SIGN_UP}, follow=True)
    assert response.redirect_chain == [(here, 302)]
    assert [str(m) for m in response.context["messages"]] == [views.SIGNED_UP_BACK_MESSAGE]


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/"]
)
def test_signing_up_with_a_foreign_or_home_next_lands_on_up_next(client, seed, target):
    assert 'name="next" value=""' in client.get("/signup/", {"next": target}).content.decode()
    response = client.post("/signup/", {"username": "dana", "next": target, **SIGN_UP})
    assert response["Location"] == "/"


def test_a_refused_sign_up_keeps_the_way_back(client, seed):
    response = client.post("/signup/", {"username": "", "next": "/path/", **SIGN_UP})
    assert response.status_code == 400
    assert '<input type="hidden" name="next" value="/path/">' in response.content.decode()


def test_the_sign_in_page_passes_its_way_back_on_to_sign_up(client, seed):
    body = client.get("/signin/", {"next": "/browse/?stage=security"}).content.decode()
    assert 'href="/signup/?next=%2Fbrowse%2F%3Fstage%3Dsecurity">Create an account</a>' in body


def test_sign_up_takes_the_learners_level_for_their_profile(client, seed):
    # A walk-through found the level only on the Focus page, below thirteen dropdowns.
    form = {"password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"}
    assert client.post("/signup/", {"username": "dana", "level": "1", **form}).status_code == 302
    assert LearnerProfile.objects.get(user__username="dana").level == 1
    assert client.get("/focus/").context["form"]["level"].value() == 1
    client.post("/signout/")
    assert client.post("/signup/", {"username": "erin", **form}).status_code == 302
    assert not LearnerProfile.objects.filter(user__username="erin", level__isnull=False).exists()
    client.post("/signout/")
    refused = client.post("/signup/", {"username": "finn", "level": "7", **form})
    assert refused.status_code == 400 and "level" in refused.context["form"].errors


def autofocused(body: str) -> list[str]:
    """The names of the inputs the page puts focus in."""
    return re.findall(r'<input [^>]*name="([^"]+)"[^>]*autofocus', body)


def test_passwords_that_do_not_match_bring_focus_back_to_the_first_password(client, db):
    # Both come back empty: the first is typed again first (focus was on the confirmation).
    response = client.post(
        "/signup/",
        {"username": "dana", "password1": "a long unusual passphrase 1", "password2": "other"},
    )
    assert "password2" in response.context["form"].errors
    assert autofocused(response.content.decode()) == ["password1"]


def test_passwords_that_do_not_match_are_said_to_the_first_password_where_focus_is(client, db):
    # A keyboard walk-through: focus in the first box, the error only on the confirmation; a
    # screen reader heard the first box's rules and never why the form came back.
    response = client.post(
        "/signup/",
        {"username": "dana", "password1": "a long unusual passphrase 1", "password2": "other"},
    )
    body = response.content.decode()
    first = re.search(r'<input type="password" name="password1"[^>]*>', body)
    assert first and "autofocus" in first.group(0) and 'aria-invalid="true"' in first.group(0)
    described = re.search(r'aria-describedby="([^"]+)"', first.group(0))
    assert described and described.group(1).split()[0] == "id_password2_error"
    assert 'id="id_password2_error"' in body
    assert "id_password1_helptext" in described.group(1).split()  # the rules, after the error


def test_a_failed_sign_in_brings_focus_to_the_password_not_the_filled_username(client, alice):
    response = client.post("/signin/", {"username": "alice", "password": "wrong password"})
    assert response.status_code == 400
    assert autofocused(response.content.decode()) == ["password"]


def test_a_wrong_password_when_deleting_the_account_brings_focus_back_to_it(alice, alice_web):
    response = alice_web.post("/account/delete/", {"password": "not it"})
    assert "password" in response.context["form"].errors
    assert autofocused(response.content.decode()) == ["password"]


def test_a_too_common_password_is_said_under_the_password_not_its_confirmation(client, db):
    response = client.post(
        "/signup/", {"username": "dana", "password1": "password", "password2": "password"}
    )
    errors = response.context["form"].errors
    assert "This password is too common." in errors["password1"]
    assert "password2" not in errors
    body = response.content.decode()
    assert body.count("autofocus") == 1
    assert re.search(r'<input type="password" name="password1"[^>]*autofocus', body)


@pytest.mark.parametrize(
    "payload",
    [
        {
            "username": "ALICE",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
        {"username": "dana", "password1": "password", "password2": "password"},
        {"username": "dana", "password1": "a-long-passphrase-42", "password2": "different-one-42"},
        {
            "username": "bad name!",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
        {
            # Longer than the user table's e-mail column.
            "username": "dana",
            "email": "a" * 300 + "@example.org",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    ],
)
def test_sign_up_refuses_bad_input(client, alice, payload):
    response = client.post("/signup/", payload)
    assert response.status_code == 400
    assert not Token.objects.exists()


class _InputAttributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("type") != "hidden" and named.get("name"):
            self.inputs[named["name"] or ""] = named


def autocomplete_hints(response) -> dict[str, str | None]:
    parser = _InputAttributes()
    parser.feed(response.content.decode())
    return {name: attrs.get("autocomplete") for name, attrs in parser.inputs.items()}


def test_sign_up_fields_tell_the_browser_what_to_fill_in(client, db):
    assert autocomplete_hints(client.get("/signup/")) == {
        "username": "username",
        "email": "email",
        "password1": "new-password",
        "password2": "new-password",
    }


def test_sign_in_and_password_change_fields_tell_the_browser_what_to_fill_in(client, alice):
    assert autocomplete_hints(client.get("/signin/")) == {
        "username": "username",
        "password": "current-password",
    }
    client.force_login(alice)
    assert autocomplete_hints(client.get("/account/password/")) == {
        "old_password": "current-password",
        "new_password1": "new-password",
        "new_password2": "new-password",
    }


def test_sign_in_and_sign_out(client, alice, seed):
    response = client.post(
        "/signin/", {"username": "alice", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/focus/").status_code == 200
    assert client.post("/signout/").status_code == 302
    assert client.get("/focus/").status_code == 302


@pytest.mark.parametrize(("data", "lands_on"), [({}, "/"), ({"next": "/path/"}, "/path/")])
def test_sign_out_says_so_on_the_page_it_lands_on(alice_web, seed, data, lands_on):
    response = alice_web.post("/signout/", data, follow=True)
    assert response.redirect_chain == [(lands_on, 302)]
    main = response.content.decode().split("<main", 1)[1]
    assert '<p class="message message-success">You are signed out.</p>' in main
    # Said once: the next page has no message.
    assert "You are signed out." not in alice_web.get(lands_on).content.decode()


def test_sign_out_by_get_shows_a_sign_out_button_and_keeps_the_session(alice_web, alice):
    response = alice_web.get("/signout/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>Sign out?</h1>" in body
    assert "signed in as <strong>alice</strong>" in body
    form = body.split("<main", 1)[1].split(
        '<form method="post" action="/signout/" data-signout>', 1
    )[1]
    assert 'name="csrfmiddlewaretoken"' in form.split("</form>", 1)[0]
    assert alice_web.get("/focus/").status_code == 200, "a GET does not sign out"


def test_sign_out_by_get_keeps_a_safe_next_for_the_button(alice_web):
    assert 'name="next" value="/path/"' in alice_web.get("/signout/?next=/path/").content.decode()
    off_site = alice_web.get("/signout/?next=https://evil.example.org/").content.decode()
    assert 'name="next"' not in off_site.split("<main", 1)[1]
    response = alice_web.post("/signout/", {"next": "/path/"})
    assert response["Location"] == "/path/"


def test_sign_out_by_get_sends_a_visitor_home(client, db):
    response = client.get("/signout/")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_password_change(alice_web, alice):
    assert alice_web.get("/account/password/").status_code == 200
    response = alice_web.post(
        "/account/password/",
        {
            "old_password": "correct horse battery staple",
            "new_password1": "another-long-passphrase-7",
            "new_password2": "another-long-passphrase-7",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("another-long-passphrase-7")


def test_a_password_change_signs_out_the_other_browsers_and_says_so(alice_web, alice):
    other = Client()
    other.force_login(alice)
    response = alice_web.post(
        "/account/password/",
        {
            "old_password": "correct horse battery staple",
            "new_password1": "another-long-passphrase-7",
            "new_password2": "another-long-passphrase-7",
        },
        follow=True,
    )
    # It named only the API's apps (a walk-through's other browser was signed out too).
    assert "other browsers and devices" in response.content.decode()
    assert other.get("/account/").status_code == 302  # to sign in
    assert alice_web.get("/account/").status_code == 200


def test_a_refused_password_change_is_a_400_and_changes_nothing(alice_web, alice):
    response = alice_web.post(
        "/account/password/",
        {
            "old_password": "not the password",
            "new_password1": "another-long-passphrase-7",
            "new_password2": "another-long-passphrase-7",
        },
    )
    assert response.status_code == 400
    assert "Your old password was entered incorrectly" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password("correct horse battery staple")


def test_a_refused_sign_in_is_a_400(client, alice):
    response = client.post("/signin/", {"username": "alice", "password": "wrong guess"})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    # Not Django's "both fields may be case-sensitive": the username is not.
    assert "The password is case-sensitive; the username is not." in response.content.decode()


@pytest.mark.parametrize("url", ["/account/", "/account/password/", "/focus/"])
def test_account_pages_need_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")


def test_pages_carry_security_headers_and_a_strict_csp(client, seed):
    response = client.get("/path/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    body = response.content.decode()
    for tag in body.split("<script")[1:]:
        assert "src=" in tag.split(">")[0], "every script is a file"
    assert "/static/learn/vendor/htmx-2.0.11.min.js" in body


def test_swagger_ui_is_served_from_our_static_files_without_inline_script(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in body
    assert "cdn" not in body.lower()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "script-src 'self' 'unsafe-inline'" not in csp
    for tag in body.split("<script")[1:]:
        assert "src=" in tag.split(">")[0], "every script is a file"


@pytest.mark.parametrize(
    ("minutes", "said"), [(45, "45 min"), (60, "1 h"), (75, "1 h 15 min"), (900, "15 h")]
)
def test_every_page_says_a_length_the_same_way(client, db, minutes, said):
    # The walk-through read "900 min" on a card, "about 1075 minutes" on Up next and
    # "1 h 55 min" on History.
    resource = ResourceFactory(estimated_minutes=minutes)
    assert f"<span>{said}</span>" in client.get(f"/resources/{resource.pk}/").content.decode()
    assert f"<span>{said}</span>" in client.get("/browse/").content.decode()


def test_browse_offers_topics_by_name_whatever_their_case(client, db):
    for name in ("kubelet", "Docker", "etcd", "Networking"):
        ResourceFactory(tags=[TagFactory(name=name, slug=name.lower())])
    topics = [name for _, name in client.get("/browse/").context["choices"]["tag"]]
    assert topics == ["Docker", "etcd", "kubelet", "Networking"]


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({"area": "zzz"}, "There is no security area “zzz” in the catalog."),
        ({"author": "nobody"}, "There is no author “nobody” in the catalog."),
        ({"tag": "<b>x</b>"}, "There is no topic “&lt;b&gt;x&lt;/b&gt;” in the catalog."),
    ],
)
def test_browse_says_when_a_filter_names_nothing_in_the_catalog(client, db, query, said):
    ResourceFactory()
    response = client.get("/browse/", query)
    assert response.status_code == 400
    assert said in response.content.decode()


def test_browse_takes_a_slug_the_catalog_offers(client, db):
    ResourceFactory(title="Tagged", tags=[TagFactory(name="etcd", slug="etcd")])
    response = client.get("/browse/", {"tag": "etcd"})
    assert response.status_code == 200 and "Tagged" in response.content.decode()


def test_a_newcomers_focus_page_begins_with_the_choices(alice_web, seed):
    # A walk-through: on a phone the choices began 1,900 px down, below a chart and a table
    # of nothing but zeros.
    body = alice_web.get("/focus/").content.decode()
    assert body.index('id="focus-form-title"') < body.index('id="coverage-heading"')
    assert "Go to the choices" not in body
    assert '<a href="/">See your queue</a>' in body


def test_once_something_is_covered_the_focus_page_shows_it_first_and_links_to_the_choices(
    alice_web, seed
):
    first = path_ids(seed)[0]
    Resource.objects.get(pk=first).security_areas.add(SecurityArea.objects.first())
    alice_web.post(f"/progress/{first}/", {"state": "completed"})
    body = alice_web.get("/focus/").content.decode()
    assert body.index('id="coverage-heading"') < body.index('id="focus-form-title"')
    assert '<a href="#focus-form-title">Go to the choices</a>' in body


def test_the_focus_page_takes_the_same_time_budgets_as_up_next(alice, alice_web, seed):
    # Up next took 1 minute; the Focus page refused anything under 5.
    assert alice_web.get("/", {"minutes": "1"}).status_code == 200
    assert alice_web.post("/focus/", {"area__rbac": "1", "minutes_budget": "1"}).status_code == 302
    assert LearnerProfile.objects.get(user=alice).minutes_budget == 1
    body = " ".join(alice_web.get("/").content.decode().split())
    assert "1 minute is your saved budget" in body and "1 minutes" not in body
    assert alice_web.get("/", {"minutes": "1441"}).status_code == 400
    assert alice_web.post("/focus/", {"minutes_budget": "1441"}).status_code == 400


def test_browse_offers_authors_in_reading_order_whatever_their_accents(client, db):
    # "Jérôme Petazzoni" came after "Justin Domingus" (é sorted after every plain letter).
    for name in ("Justin Domingus", "Jérôme Petazzoni", "jane Doe", "Zoë Z"):
        ResourceFactory(authors=[AuthorFactory(name=name)])
    names = [name for _, name in client.get("/browse/").context["choices"]["author"]]
    assert names == ["jane Doe", "Jérôme Petazzoni", "Justin Domingus", "Zoë Z"]


def test_the_resource_page_of_a_queued_item_says_where_it_is_and_offers_not_now(
    alice, alice_web, seed
):
    first = alice_web.get("/").context["items"][0]["card"]["id"]
    body = alice_web.get(f"/resources/{first}/").content.decode()
    assert "next in your queue</a>" in body
    assert ">Not now<" in body and "Save for later" not in body
    # Further down the queue too: Up next offers "Not now" there, and the page offered "Save
    # for later" (a walk-through could not tell whether the two did the same).
    items = alice_web.get("/").context["items"]
    second = items[1]["card"]["id"]
    body = alice_web.get(f"/resources/{second}/").content.decode()
    assert "next in your queue" not in body
    assert 'It is number 2 in <a href="/">your queue</a>.' in body
    assert ">Not now<" in body and "Save for later" not in body
    queued = {item["card"]["id"] for item in items}
    elsewhere = Resource.objects.exclude(pk__in=queued).filter(status="approved").first()
    body = alice_web.get(f"/resources/{elsewhere.pk}/").content.decode()
    assert "in your queue" not in body and "Save for later" in body and ">Not now<" not in body


def test_each_cards_rating_and_action_group_are_named_with_its_title(alice, alice_web, seed):
    # A screen reader's list of form controls read "Rating, combo box" ten times over. (Only
    # a finished item's card has one: History's "completed" list.)
    first = seed.steps.order_by("position").first().resource
    services.progress_set(user=alice, resource=first, state="completed", rating=None)
    body = alice_web.get("/history/").content.decode()
    title = escape(first.title)
    assert f'<fieldset class="actions" aria-label="Your progress on {title}"' in body
    assert f'Rating<span class="visually-hidden"> for {title}</span></label>' in body
    assert body.count('<span class="visually-hidden"> for ') == body.count('name="rating"')


def test_browse_takes_q_as_the_search(client, seed):
    response = client.get("/browse/", {"q": "rbac", "stage": "security"})
    assert response.status_code == 302
    assert response["Location"] == "/browse/?stage=security&search=rbac"
    assert client.get("/browse/", {"q": "x", "search": "rbac"}).status_code == 200


def test_browse_names_a_refused_filter_by_its_label_after_the_api_docs_were_read(client, seed):
    # Generating the API schema built the filters' form fields before a model named them, and
    # the Browse page then said "None" where it says "Stage" (found by running the schema
    # tests before this page's).
    assert client.get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 200
    response = client.get("/browse/", {"stage": "bogus"})
    assert response.context["filter_errors"][0][0] == "Stage"


def test_a_learner_who_runs_kubernetes_in_production_starts_at_the_security_stage(client, seed):
    # A walk-through's learner declared "Advanced: I run it in production", chose no focus,
    # and was served "So I Heard You Want to Learn Kubernetes" first.
    client.post("/signup/", {"username": "priya", "level": "3", **SIGN_UP})
    page = client.get("/")
    steps = {step.resource_id: step for step in seed.steps.select_related("resource")}
    first_security = min(
        step.position for step in steps.values() if step.resource.stage == "security"
    )
    first = page.context["items"][0]
    assert steps[first["card"]["id"]].position == first_security
    assert page.context["note"].startswith(
        f"Your level (Advanced) starts your path at step {first_security}, in the security stage."
    )
    assert "To start at step 1, set your level to Beginner." in page.context["note"]


def test_an_empty_time_budget_in_the_address_means_no_budget(alice_web, seed):
    # ?minutes= (a form sent with the box empty) answered 400.
    page = alice_web.get("/", {"minutes": "", "limit": " "})
    assert page.status_code == 200
    assert page.context["items"]
    assert alice_web.get("/", {"minutes": "abc"}).status_code == 400


def test_a_focus_does_not_start_the_path_at_a_step_flagged_as_outdated(alice_web, seed):
    # A walk-through's first item was a 2017 talk on PodSecurityPolicy, flagged "Outdated
    # advice", while current documentation on her focus came three steps later.
    from catalog.health.models import StalenessFlag

    flagged = set(
        StalenessFlag.objects.filter(resource__path_steps__isnull=False).values_list(
            "resource_id", flat=True
        )
    )
    steps = dict(seed.steps.values_list("resource_id", "position"))
    served_first = min(
        (steps[r.pk], r.pk)
        for r in Resource.objects.filter(pk__in=steps, security_areas__slug="admission-control")
    )
    assert served_first[1] in flagged  # the seed's own case: the first admission step is flagged
    alice_web.post("/focus/", {"area__admission-control": "1", "level": "3"})
    items = alice_web.get("/").context["items"]
    on_path = [item["card"]["id"] for item in items if item["card"]["id"] in steps]
    assert on_path[0] not in flagged
    assert steps[on_path[0]] > served_first[0]
    assert served_first[1] not in [item["card"]["id"] for item in items]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("rbca", "rbac"), ("netwrok policy", "network policy"), ("pod secrity", "pod security")],
)
def test_a_misspelt_search_that_finds_nothing_offers_the_spelling_that_does(
    client, seed, typed, meant
):
    # A walk-through's "rbca" and "netwrok policy" found nothing, with no suggestion.
    page = client.get("/browse/", {"search": typed, "stage": "security"})
    body = page.content.decode()
    suggestion = page.context["suggestion"]
    assert suggestion is not None and suggestion.startswith(meant)
    link = escape(page.context["suggestion_query"])
    assert f'Did you mean <a href="?{link}">{suggestion}</a>?' in body
    assert "stage=security" in page.context["suggestion_query"]  # the filters stay
    assert client.get("/browse/", {"search": suggestion}).context["page"].paginator.count


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("kubeclt", "kubectl"), ("beginer", "beginner"), ("serviceacount", "serviceaccount")],
)
def test_a_suggestion_prefers_swapped_letters_and_knows_searchs_own_words(
    client, seed, typed, meant
):
    # "kubeclt" was offered "kubelet"; "beginer" and "serviceacount" nothing.
    assert client.get("/browse/", {"search": typed}).context["suggestion"] == meant


def test_a_suggestion_leaves_a_word_that_starts_a_known_one(client, seed):
    # "admision controller" was offered "admission controllers".
    page = client.get("/browse/", {"search": "admision controller", "kind": "book"})
    assert page.context["suggestion"] in (None, "admission controller")


@pytest.mark.parametrize(("typed", "wrong"), [("kind", "mind"), ("test", "rest")])
def test_a_suggestion_keeps_the_first_letter_typed(client, seed, typed, wrong):
    # A walk-through's "kind" (Kubernetes in Docker) was offered "mind", its "test" "rest".
    suggestion = client.get("/browse/", {"search": typed}).context["suggestion"]
    assert suggestion != wrong
    assert suggestion is None or suggestion[0] == typed[0]


def test_an_empty_search_offers_the_stages_and_the_path(client, seed):
    body = client.get("/browse/", {"search": "zzzzqqqq"}).content.decode()
    assert '<a href="/browse/?stage=getting-started">Getting started</a>' in body
    assert '<a href="/path/">the learning path</a>' in body


def test_no_suggestion_when_the_words_are_spelt_as_the_catalog_spells_them(client, seed):
    assert client.get("/browse/", {"search": "zzzzqqqq"}).context["suggestion"] is None
    assert client.get("/browse/", {"search": "rbac"}).context["suggestion"] is None


def test_a_misspelt_search_narrowed_by_filters_offers_the_whole_catalog_spelt_right(client, seed):
    # "Search the whole catalog" kept the typo and led to a second page of nothing.
    page = client.get("/browse/", {"search": "minkube", "stage": "security"})
    assert page.context["suggestion"] is None  # nothing in the security stage either way
    body = page.content.decode()
    assert '<a href="?search=minikube">search the whole catalog for “minikube”</a>' in body
    assert client.get("/browse/", {"search": "minikube"}).context["page"].paginator.count


def test_a_search_narrowed_to_nothing_keeps_its_words_when_they_find_something_elsewhere(
    client, seed
):
    body = client.get("/browse/", {"search": "minikube", "stage": "security"}).content.decode()
    assert '<a href="?search=minikube">search the whole catalog</a>' in body


def _away(user, days: float) -> None:
    Progress.objects.filter(user=user).update(updated_at=timezone.now() - timedelta(days=days))


def test_up_next_welcomes_a_learner_back_after_a_week_with_what_they_did_last(
    alice_web, alice, seed
):
    # A walk-through's learner, back after a month, was shown the page of the day before.
    first = Resource.objects.get(pk=path_ids(seed)[0])
    alice_web.post(f"/progress/{first.pk}/", {"state": "completed"})
    _away(alice, 30)
    Resource.objects.update(created_at=timezone.now() - timedelta(days=60))
    newer = ResourceFactory(title="Kubernetes 1.35: what is new")  # joined since
    body = " ".join(alice_web.get("/").content.decode().split())
    assert "<strong>Welcome back.</strong> The last thing you did here, on " in body
    assert f"was mark “{escape(first.title)}” done." in body
    link = re.search(r'<a href="(/browse/\?sort=added&amp;since=[^"]+)">1 resource joined', body)
    assert link, "no link to what joined since"
    assert titles_recently_added(alice_web)[0] == newer.title
    # The link marks what joined since the last visit (a returning learner could not tell).
    added = " ".join(alice_web.get(unescape(link.group(1))).content.decode().split())
    assert "1 resource has joined the catalog since you were last here, " in added
    assert added.count('<span class="pill pill-new">New</span> Added') == 1
    new_card = added.split('<span class="pill pill-new">New</span> Added', 1)[1]
    assert new_card.split("</li>", 1)[0].count(escape(newer.title)) >= 1


def titles_recently_added(web) -> list[str]:
    return [item["card"]["title"] for item in web.get("/browse/?sort=added").context["items"]]


@pytest.mark.parametrize(
    "since",
    [
        "yesterday",
        "2026-12-01T10:00:00",  # without its offset
        pytest.param("9" * 5000, id="5000-digits"),
        "\u0662" * 4,  # Arabic-Indic digits
    ],
)
def test_recently_added_ignores_a_since_it_cannot_read(alice_web, seed, since):
    # A hand-edited or cut link (or one without its offset): nothing marked, nothing refused.
    page = alice_web.get("/browse/", {"sort": "added", "since": since})
    assert page.status_code == 200
    assert page.context["new_since"] is None
    assert "pill-new" not in page.content.decode()


def test_recently_added_says_nothing_of_a_last_visit_to_a_visitor(client, seed):
    page = client.get("/browse/", {"sort": "added", "since": "2026-11-17T01:08:42+00:00"})
    assert page.status_code == 200 and page.context["new_since"] is None
    assert "since you were last here" not in page.content.decode()


def test_up_next_says_no_welcome_back_within_a_week_or_to_a_newcomer(alice_web, alice, seed):
    assert "Welcome back" not in alice_web.get("/").content.decode()
    alice_web.post(f"/progress/{path_ids(seed)[0]}/", {"state": "skipped"})
    _away(alice, 6)
    assert "Welcome back" not in alice_web.get("/").content.decode()


def test_a_note_written_since_the_last_click_counts_as_being_here(alice_web, alice, seed):
    # Welcomed back to a click three weeks old by a learner who had written a note yesterday.
    first, second = (Resource.objects.get(pk=pk) for pk in path_ids(seed)[:2])
    alice_web.post(f"/progress/{first.pk}/", {"state": "completed"})
    _away(alice, 21)
    services.note_set(user=alice, resource=second, text="Mesos is gone now.")
    assert "Welcome back" not in alice_web.get("/").content.decode()
    Note.objects.filter(user=alice).update(updated_at=timezone.now() - timedelta(days=9))
    body = " ".join(alice_web.get("/").content.decode().split())
    assert f"was write a note on “{escape(second.title)}”." in body


def test_welcome_back_after_i_know_these_names_the_stage_not_one_step(alice_web, alice, seed):
    alice_web.post("/path/getting-started/done/")
    _away(alice, 10)
    body = " ".join(alice_web.get("/").content.decode().split())
    assert "was mark the 16 steps of “Getting started” as known." in body


def test_focus_saved_names_every_area_chosen_and_leaves_the_budgets_detail_to_up_next(
    alice_web, seed
):
    # A walk-through: the message named only the main area, and went on about a step that
    # did not fit in the minutes left of a queue not seen yet.
    page = alice_web.post(
        "/focus/",
        {"area__rbac": "1", "area__network-policy": "0.75", "level": "1", "minutes_budget": "20"},
        follow=True,
    )
    said = saved_message(page)
    assert said.startswith(
        "Focus saved: RBAC and authorization (main focus) and Network policy (a lot), "
        "with 20 minutes a session. Your focus (RBAC and authorization) comes in at step"
    )
    assert "did not fit" not in said
    assert "did not fit in what was left of your 20 minutes" in " ".join(
        alice_web.get("/").content.decode().split()
    )


def test_a_look_ahead_at_a_lighter_focus_area_is_named_not_called_the_main_focus(alice, seed):
    # A walk-through: Secrets the main focus, RBAC "a lot", 30 minutes; the note said of
    # Secrets "one look ahead at it is in your queue" of an item on RBAC alone, beside
    # "Nothing here is on your main focus yet".
    services.profile_update(
        user=alice, focus={"secrets": 1.0, "rbac": 0.75}, level=1, minutes_budget=30
    )
    answer = queue.queue_answer(user=alice, limit=10, minutes=None)
    areas = [
        {area["slug"] for area in item["resource"]["security_areas"]} for item in answer["results"]
    ]
    looks = [
        item["resource"]["title"]
        for item, slugs in zip(answer["results"], areas, strict=True)
        if slugs & {"secrets", "rbac"}
    ]
    assert looks and not any("secrets" in slugs for slugs in areas)
    assert "Your focus (Secrets and encryption at rest) comes in at step" in answer["note"]
    assert (
        f"Meanwhile, one look ahead at RBAC and authorization is in your queue: "
        f"\u201c{looks[0]}\u201d."
    ) in answer["note"]


@pytest.mark.parametrize("minutes", ["", "20"])
def test_focus_saved_names_a_look_ahead_only_when_the_queue_at_the_saved_budget_holds_it(
    alice, alice_web, seed, minutes
):
    # A walk-through saved 20 minutes and was told of a look ahead at RBAC that only the
    # whole queue held, not the 20 minutes of it that Up next showed.
    page = alice_web.post(
        "/focus/", {"area__rbac": "1", "level": "1", "minutes_budget": minutes}, follow=True
    )
    said = saved_message(page)
    titles = [item.resource.title for item in queue.queue_build(user=alice, limit=10).items]
    looks = [title for title in titles if "RBAC" in title or "Role Based" in title]
    if looks:
        assert f"Meanwhile, one look ahead at it is in your queue: \u201c{looks[0]}\u201d." in said
    else:
        assert "look ahead" not in said
    assert bool(looks) == (minutes == "")  # both cases are met


def test_focus_saved_names_the_time_budget_saved_with_it(alice_web, seed):
    # A walk-through saved 30 minutes and was told only of a step that did not fit in 5.
    page = alice_web.post("/focus/", {"level": "1", "minutes_budget": "30"}, follow=True)
    assert saved_message(page).startswith("Focus saved, with 30 minutes a session. ")
    page = alice_web.post("/focus/", {"level": "1", "minutes_budget": "1"}, follow=True)
    assert saved_message(page).startswith("Focus saved, with 1 minute a session. ")


def test_the_removed_platform_is_not_offered_as_similar_reading(client, alice_api, seed):
    # A walk-through: the first step's page listed Katacoda (shut down in 2022) among its
    # similar resources, as "Its old address: katacoda.com".
    katacoda = Resource.objects.get(title="Katacoda")
    first = path_ids(seed)[0]
    assert katacoda.staleness_flags.exists()
    response = client.get(f"/resources/{first}/")
    shown = [item["card"]["id"] for item in response.context["similar"]]
    assert len(shown) == 5 and katacoda.pk not in shown
    similar_api = alice_api.get(f"/api/resources/{first}/similar/").json()["results"]
    assert [item["resource"]["id"] for item in similar_api] == shown
    # Today's way is still offered beside the resources that mention the removed platform.
    minikube = Resource.objects.get(title="Minikube")
    near_katacoda = alice_api.get(f"/api/resources/{katacoda.pk}/similar/").json()["results"]
    assert minikube.pk in [item["resource"]["id"] for item in near_katacoda]


def test_a_beginners_similar_resources_put_those_above_their_level_last(
    client, alice, alice_web, seed
):
    # A walk-through's beginner met "Kubernetes The Hard Way" (8 h, Advanced) among the first
    # step's similar resources; the queue holds back what is two levels above theirs.
    first = path_ids(seed)[0]
    anyone = [item["card"] for item in client.get(f"/resources/{first}/").context["similar"]]
    assert any(card["difficulty"] == 3 for card in anyone[:-1]), "an Advanced one comes early"
    services.profile_update(user=alice, focus={}, level=1)
    mine = [item["card"] for item in alice_web.get(f"/resources/{first}/").context["similar"]]
    levels = [card["difficulty"] for card in mine]
    assert levels == sorted(levels, key=lambda level: level > 2), levels
    assert len(mine) == len(anyone) and 3 not in levels[:-1]


def test_a_queued_resources_page_gives_the_queues_reason_for_it(alice, alice_web, seed):
    # A walk-through: the page said "Part of the Security stage of the catalog" of an item
    # the queue had for "Covers your focus: Secrets and encryption at rest".
    alice_web.post("/focus/", {"area__secrets": "1", "level": "2"})
    results = queue.queue_answer(user=alice, limit=10, minutes=None)["results"]
    focused = [
        item
        for item in results
        if any(reason["kind"] == "focus" for reason in item["reasons"])
        and not any(reason["kind"] == "path_step" for reason in item["reasons"])
    ]
    assert focused
    item = focused[0]
    body = " ".join(alice_web.get(f"/resources/{item['resource']['id']}/").content.decode().split())
    reason = next(r["text"] for r in item["reasons"] if r["kind"] == "focus")
    assert f'In <a href="/">your queue</a>: {reason[0].lower()}{reason[1:]}' in body
    # Its other reasons on the same line: three lines began "In your queue —".
    assert body.count('In <a href="/">your queue</a>') == 1


def test_a_queued_resources_reasons_share_one_line_separated_by_semicolons(alice_web, seed):
    alice_web.post("/focus/", {"area__rbac": "1"})
    good_practices = Resource.objects.get(title__startswith="Role Based Access Control Good")
    alice_web.post(f"/progress/{good_practices.pk}/", {"state": "completed"})
    securing = Resource.objects.get(title__startswith="Securing a Cluster")
    page = alice_web.get(f"/resources/{securing.pk}/")
    texts = [reason["text"] for reason in page.context["queue_reasons"]]
    assert len(texts) >= 2
    body = " ".join(page.content.decode().split())
    line = body.split('In <a href="/">your queue</a>: ', 1)[1].split("</li>", 1)[0]
    assert line.count("; ") == len(texts) - 1 and line.endswith(".")


def test_a_path_steps_page_does_not_repeat_the_step_as_a_queue_reason(alice_web, seed):
    first = path_ids(seed)[0]
    body = alice_web.get(f"/resources/{first}/").content.decode()
    assert "Step 1 of" in body and "your queue</a>: step" not in body


LEVEL_NOTE = "The basics are behind you and your level still says Beginner"


def test_a_beginner_past_the_basics_is_told_once_why_the_queue_is_above_their_level(
    alice_web, alice, seed
):
    # A walk-through's beginner marked the basics as known and found six items "above your
    # level: added because only 5 resources … are left for you now", and no word on what to do.
    services.profile_update(user=alice, level=1)
    alice_web.post("/path/getting-started/done/")
    response = alice_web.get("/")
    level_note = response.context["note_parts"][-1]
    assert level_note.startswith(f"{LEVEL_NOTE}, so ")
    assert level_note.endswith("Past Beginner now? Set your level to Intermediate.")
    above = [
        reason["text"]
        for item in response.context["items"]
        for reason in item["reasons"]
        if reason["kind"] == "level"
    ]
    assert f"so {len(above)} Advanced items in your queue are marked as above it" in level_note
    assert above and all(
        text.startswith("Advanced, above your level (Beginner): ") for text in above
    )
    assert escape(level_note) in response.content.decode()


def test_no_level_note_before_the_basics_are_done_or_for_a_declared_intermediate(
    alice_web, alice, seed
):
    services.profile_update(user=alice, level=1)
    assert LEVEL_NOTE not in alice_web.get("/").content.decode()
    services.profile_update(user=alice, level=2)
    alice_web.post("/path/getting-started/done/")
    assert LEVEL_NOTE not in alice_web.get("/").content.decode()


def test_the_level_a_queue_note_asks_for_is_one_click_away(alice_web, alice, seed):
    # The note said "Set your level to Intermediate" and left the learner to find where.
    services.profile_update(user=alice, level=1)
    alice_web.post("/path/getting-started/done/")
    body = alice_web.get("/").content.decode()
    assert 'action="/focus/level/"' in body and "Set my level to Intermediate" in body
    response = alice_web.post("/focus/level/", {"level": "2", "next": "/"}, follow=True)
    assert LearnerProfile.objects.get(user=alice).level == 2
    assert response.redirect_chain[-1][0] == "/"
    body = response.content.decode()
    assert "Your level is now Intermediate" in body and LEVEL_NOTE not in body
    assert 'action="/focus/level/"' not in body


def test_a_focused_newcomer_is_offered_beginner_to_start_at_step_1(alice_web, alice, seed):
    alice_web.post("/focus/", {"area__rbac": "1"})
    body = alice_web.get("/").content.decode()
    assert "set your level to Beginner" in body and "Set my level to Beginner" in body
    alice_web.post("/focus/level/", {"level": "1", "next": "/"})
    steps = alice_web.get("/").context["items"]
    assert "Step 1 of the learning path" in steps[0]["reasons"][0]["text"]


def test_an_advanced_learners_focus_note_says_where_their_level_starts_and_offers_no_level(
    alice_web, alice, seed
):
    # A walk-through's Advanced learner, her focus at step 33, read "To start at step 1, set
    # your level to Beginner or clear your focus" (clearing it starts her at step 25) beside
    # one button: "Set my level to Beginner".
    alice_web.post("/focus/", {"area__network-policy": "1", "level": "3"})
    body = unescape(alice_web.get("/").content.decode())
    assert "starts your path at step 33" in body
    assert "Without a focus, your level (Advanced) starts it at step 25." in body
    assert "clear your focus" not in body
    assert 'action="/focus/level/"' not in body and "Set my level to" not in body


@pytest.mark.parametrize("level", ["", "0", "4", "x", "2.5"])
def test_a_level_outside_the_choices_is_a_400_and_changes_nothing(alice_web, alice, level):
    services.profile_update(user=alice, level=3)
    assert alice_web.post("/focus/level/", {"level": level}).status_code == 400
    assert LearnerProfile.objects.get(user=alice).level == 3


def test_setting_the_level_needs_sign_in_and_a_post(client, alice_web):
    response = client.post("/focus/level/", {"level": "2", "next": "/"})
    assert response.status_code == 302 and response["Location"].startswith("/signin/")
    assert alice_web.get("/focus/level/").status_code == 405


def test_setting_the_level_goes_back_only_to_this_site(alice_web):
    response = alice_web.post("/focus/level/", {"level": "2", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_up_next_asks_whether_the_queue_misses_when_most_ratings_are_low(alice, alice_web, seed):
    # A walk-through's learner rated nearly all he finished 1 or 2 of 5; no page took notice.
    steps = [Resource.objects.get(pk=pk) for pk in path_ids(seed)]
    for resource, rating in zip(steps[:4], [1, 2, 1, 4], strict=True):
        services.progress_set(user=alice, resource=resource, state="completed", rating=rating)
    assert "you gave" not in alice_web.get("/").content.decode()  # four ratings: too few
    services.progress_set(user=alice, resource=steps[4], state="completed", rating=2)
    body = alice_web.get("/").content.decode()
    assert "Of the 5 items you rated, you gave 4 a 1 or 2 of 5." in body
    assert "<strong>Tip:</strong>" not in body  # one callout naming the Focus page, not two
    services.progress_set(user=alice, resource=steps[5], state="completed", rating=5)
    services.progress_set(user=alice, resource=steps[6], state="completed", rating=5)
    assert "you gave" not in alice_web.get("/").content.decode()  # 4 of 7: not most


@pytest.mark.parametrize(
    ("level", "focus", "asked"),
    [
        (None, None, "set your level or a security focus"),
        (3, None, "choose a security focus"),
        (None, {"rbac": 1.0}, "set your level"),
        (3, {"rbac": 1.0}, "change your level or your security focus"),
    ],
)
def test_the_low_ratings_note_asks_for_what_the_learner_has_not_set(
    alice, alice_web, seed, level, focus, asked
):
    # "set your level or a security focus" was said to a learner who had set both.
    services.profile_update(user=alice, level=level, focus=focus)
    for resource in Resource.objects.order_by("pk")[:5]:
        services.progress_set(user=alice, resource=resource, state="completed", rating=1)
    body = alice_web.get("/").content.decode()
    assert f'<a href="/focus/">{asked}</a>.</p>' in body


def test_the_footer_leads_developers_to_the_api_docs_not_to_raw_json(alice_web, seed):
    body = alice_web.get("/").content.decode()
    assert '<a href="/api/docs/">The API, for developers</a>' in body
    assert 'href="/api/"' not in body  # the browsable API's root: JSON to a learner


def test_focus_saved_with_a_budget_that_holds_none_of_it_says_so(alice_web, alice, on_the_path):
    # A walk-through's learner with 30 minutes a session was told that her focus's resources
    # "come later on your path or above your level"; without the budget three of ten served it.
    page = alice_web.post(
        "/focus/", {"area__rbac": "1", "level": "3", "minutes_budget": "5"}, follow=True
    )
    packed = queue.queue_build(user=alice, limit=10)
    assert not any(r["kind"] == "focus" for item in packed.items for r in item.reasons)
    whole = queue.queue_build(user=alice, limit=10, unlimited=True)
    serving = sum(1 for item in whole.items if any(r["kind"] == "focus" for r in item.reasons))
    assert serving and not packed.path_note
    assert saved_message(page) == (
        f"Focus saved: RBAC and authorization (main focus), with 5 minutes a session. {serving} "
        "of the next 10 items in your queue are there for your focus, but none fits in this "
        "session's 5 minutes (“no limit” on Up next shows them). Your level is now Advanced."
    )


def test_a_resource_page_marks_which_of_its_areas_are_the_learners_focus(alice, alice_web, seed):
    # Out of her queue, "Role Based Access Control Good Practices" said only "Part of the
    # Security stage of the catalog" to a learner whose main focus it is (a walk-through).
    services.profile_update(user=alice, focus={"rbac": 1.0, "secrets": 0.75})
    securing = Resource.objects.get(title__startswith="Securing a Cluster")
    body = alice_web.get(f"/resources/{securing.pk}/").content.decode()
    assert 'RBAC and authorization</a> <span class="pill pill-focus">Your main focus</span>' in body
    assert 'encryption at rest</a> <span class="pill pill-focus">Your focus: a lot</span>' in body
    assert body.count("pill-focus") == 2


def test_an_empty_search_of_several_words_offers_each_word_that_finds_something(alice_web, seed):
    # "kubectl auth can-i" found nothing, and the page only said to try fewer words.
    body = alice_web.get("/browse/", {"search": "kubectl auth can-i"}).content.decode()
    assert "Nothing matches" in body
    offered = re.findall(r'<a href="\?search=(\w+)">\w+</a> \((\d+)\)', body)
    assert ("kubectl", "1") in offered
    for word, count in offered:
        found = alice_web.get("/browse/", {"search": word}).content.decode()
        assert f"{count} resource" in found
    one = alice_web.get("/browse/", {"search": "kubectl"}).content.decode()
    assert "Some of your words" not in one


def page_title(response) -> str:
    content = response.content.decode()
    return unescape(content[content.index("<title>") + 7 : content.index("</title>")])


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ({}, "Browse · kubelearn"),
        ({"search": "rbac"}, "“rbac” in Browse · kubelearn"),
        ({"stage": "security"}, "Browse, filtered · kubelearn"),
        ({"page": "2"}, "Browse, page 2 · kubelearn"),
    ],
)
def test_browses_title_says_what_is_searched_or_filtered(alice_web, seed, query, title):
    # A screen reader reads a page's title first: after a search it still said "Browse".
    assert page_title(alice_web.get("/browse/", query)) == title


@pytest.mark.parametrize(
    ("show", "title"),
    [
        ("all", "History · kubelearn"),
        ("completed", "History: Completed · kubelearn"),
        ("unrated", "History: Not rated yet · kubelearn"),
        ("saved", "Saved · kubelearn"),
    ],
)
def test_historys_title_names_the_view(alice_web, seed, show, title):
    assert page_title(alice_web.get("/history/", {"show": show})) == title
