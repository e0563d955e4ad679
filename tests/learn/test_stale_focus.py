"""A Focus page, or an API client, that saves a profile read before it changed elsewhere does
not write over the newer choices: the learner saved "Network policy" on the phone, then the
laptop's Focus page, open since the morning, saved its old choices over it."""

from __future__ import annotations

import re
from html import unescape

import pytest

from recommender import services
from recommender.models import LearnerProfile

pytestmark = pytest.mark.django_db


def shown_version(page) -> str:
    match = re.search(r'name="shown" value="([0-9a-f]+)"', page.content.decode())
    assert match, "the Focus form carries the version it was made with"
    return match.group(1)


def saved_focus(user) -> dict[str, float]:
    profile = LearnerProfile.objects.get(user=user)
    return {item.area.slug: item.weight for item in profile.focus.select_related("area")}


def test_an_old_focus_page_does_not_save_over_a_focus_changed_since(alice, alice_web, seed):
    laptop = shown_version(alice_web.get("/focus/"))
    # Meanwhile, on the phone:
    services.profile_update(user=alice, focus={"network-policy": 1.0}, minutes_budget=30)
    page = alice_web.post(
        "/focus/", {"area__rbac": "1", "level": "2", "shown": laptop}, follow=True
    )
    assert page.status_code == 409
    assert saved_focus(alice) == {"network-policy": 1.0}
    profile = LearnerProfile.objects.get(user=alice)
    assert (profile.level, profile.minutes_budget) == (None, 30)
    text = unescape(page.content.decode())
    assert "Not saved: your focus was changed after this page was loaded" in text
    assert "Saved now: Network policy (main focus), with 30 minutes a session, no level set" in (
        text
    )
    # The laptop's choices are still on the page, nothing typed is lost.
    assert page.context["form"]["area__rbac"].value() == "1"
    assert page.context["form"]["level"].value() == "2"


def test_saving_again_after_being_told_replaces_the_newer_focus(alice, alice_web, seed):
    laptop = shown_version(alice_web.get("/focus/"))
    services.profile_update(user=alice, focus={"network-policy": 1.0})
    refused = alice_web.post("/focus/", {"area__rbac": "1", "shown": laptop})
    assert refused.status_code == 409
    again = alice_web.post("/focus/", {"area__rbac": "1", "shown": shown_version(refused)})
    assert again.status_code == 302
    assert saved_focus(alice) == {"rbac": 1.0}


def test_a_focus_page_saves_over_its_own_earlier_save(alice, alice_web, seed):
    first = alice_web.post(
        "/focus/", {"area__rbac": "1", "shown": shown_version(alice_web.get("/focus/"))}
    )
    assert first.status_code == 302
    page = alice_web.get("/focus/")
    second = alice_web.post("/focus/", {"area__secrets": "0.5", "shown": shown_version(page)})
    assert second.status_code == 302
    assert saved_focus(alice) == {"secrets": 0.5}


def test_two_tabs_saving_the_same_choices_are_not_told_they_disagree(alice, alice_web, seed):
    tab = shown_version(alice_web.get("/focus/"))
    services.profile_update(user=alice, focus={"rbac": 1.0}, level=2)
    same = alice_web.post("/focus/", {"area__rbac": "1", "level": "2", "shown": tab})
    assert same.status_code == 302
    assert saved_focus(alice) == {"rbac": 1.0}


def test_a_mangled_version_is_a_409_that_says_so_and_saving_again_works(alice, alice_web, seed):
    # A sweep's 10,000-character `shown` was a 400 with no message, and so was every save after.
    refused = alice_web.post("/focus/", {"area__rbac": "1", "shown": "a" * 10_000})
    assert refused.status_code == 409
    assert "Not saved: your focus was changed after this page was loaded" in unescape(
        refused.content.decode()
    )
    again = alice_web.post("/focus/", {"area__rbac": "1", "shown": shown_version(refused)})
    assert again.status_code == 302
    assert saved_focus(alice) == {"rbac": 1.0}


def test_a_focus_page_made_before_the_check_saves_as_before(alice, alice_web, seed):
    services.profile_update(user=alice, focus={"network-policy": 1.0})
    response = alice_web.post("/focus/", {"area__rbac": "1"})
    assert response.status_code == 302
    assert saved_focus(alice) == {"rbac": 1.0}


def test_the_profile_answers_with_its_version(alice, alice_api, seed):
    empty = alice_api.get("/api/me/profile/")
    changed = alice_api.patch("/api/me/profile/", {"level": 2}, format="json")
    assert empty["ETag"] and changed["ETag"] and empty["ETag"] != changed["ETag"]
    assert alice_api.get("/api/me/profile/")["ETag"] == changed["ETag"]


def test_a_patch_with_a_stale_if_match_is_a_412_with_the_profile_as_it_is(alice, alice_api, seed):
    read = alice_api.get("/api/me/profile/")["ETag"]
    services.profile_update(user=alice, focus={"network-policy": 1.0})
    response = alice_api.patch(
        "/api/me/profile/",
        {"focus": [{"area": "rbac"}], "level": 3},
        format="json",
        HTTP_IF_MATCH=read,
    )
    assert response.status_code == 412
    body = response.json()
    assert body["current"]["focus"] == [
        {"area": "network-policy", "name": "Network policy", "weight": 1.0}
    ]
    assert body["current"]["level"] is None
    assert response["ETag"] == alice_api.get("/api/me/profile/")["ETag"]
    assert saved_focus(alice) == {"network-policy": 1.0}
    assert LearnerProfile.objects.get(user=alice).level is None


def test_a_patch_with_the_current_if_match_is_applied(alice, alice_api, seed):
    read = alice_api.get("/api/me/profile/")["ETag"]
    response = alice_api.patch(
        "/api/me/profile/", {"focus": [{"area": "rbac"}]}, format="json", HTTP_IF_MATCH=read
    )
    assert response.status_code == 200
    assert saved_focus(alice) == {"rbac": 1.0}
    stale = alice_api.patch(
        "/api/me/profile/", {"focus": [{"area": "secrets"}]}, format="json", HTTP_IF_MATCH=read
    )
    assert stale.status_code == 412
    assert saved_focus(alice) == {"rbac": 1.0}


def test_a_patch_whose_if_match_names_no_entity_tag_is_a_400(alice, alice_api, seed):
    response = alice_api.patch(
        "/api/me/profile/", {"level": 1}, format="json", HTTP_IF_MATCH="garbage"
    )
    assert response.status_code == 400
    assert "If-Match" in response.json()
    assert not LearnerProfile.objects.filter(user=alice, level=1).exists()


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        (
            lambda tag: {"HTTP_IF_MATCH": "W/" + tag},
            "If-Match compares entity tags strongly, so a weak one",
        ),
        (
            lambda tag: {"HTTP_IF_NONE_MATCH": tag},
            "The profile is the version your If-None-Match names.",
        ),
        (
            lambda tag: {"HTTP_IF_NONE_MATCH": "*"},
            "The profile exists, and your If-None-Match: * asks that it not.",
        ),
        (
            lambda tag: {"HTTP_IF_MATCH": '"0123"'},
            "The profile changed since you read it: your If-Match names another version.",
        ),
    ],
    ids=["weak-if-match", "if-none-match-as-it-is", "if-none-match-star", "stale-if-match"],
)
def test_a_refused_precondition_says_why_in_the_clients_terms(alice_api, seed, headers, detail):
    # A sweep's weak If-Match and its If-None-Match naming the version as it is were both told
    # the profile "changed since you read it", which it had not.
    tag = alice_api.get("/api/me/profile/")["ETag"]
    response = alice_api.patch("/api/me/profile/", {"level": 1}, format="json", **headers(tag))
    assert response.status_code == 412
    assert response.json()["detail"].startswith(detail)
    assert response.json()["detail"].endswith(
        "Nothing was changed; 'current' is the profile as it is now."
    )
