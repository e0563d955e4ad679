"""The API's front door lists every endpoint family and carries the product's name."""

from __future__ import annotations

import logging

import pytest


def test_api_root_lists_catalog_learner_account_and_docs_endpoints(client):
    response = client.get("/api/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    links = response.json()
    for label in ("resources", "paths", "me/queue", "me/next", "auth/token", "docs", "redoc"):
        assert label in links, label
    assert links["me/queue"].endswith("/api/me/queue/")
    assert links["auth/register"].endswith("/api/auth/register/")


@pytest.mark.django_db
def test_api_root_shows_a_learner_no_feeds_door_they_would_meet_403_at(alice_api):
    links = alice_api.get("/api/", HTTP_ACCEPT="application/json").json()
    assert "feeds" not in links
    assert "me/queue" in links
    assert alice_api.get("/api/feeds/").status_code == 403


@pytest.mark.django_db
def test_api_root_shows_a_curator_the_feeds(curator_api):
    links = curator_api.get("/api/", HTTP_ACCEPT="application/json").json()
    assert links["feeds"].endswith("/api/feeds/")


def test_api_root_signed_out_lists_the_feeds_a_curator_may_sign_in_for(client):
    assert "feeds" in client.get("/api/", HTTP_ACCEPT="application/json").json()


def test_browsable_api_says_kubelearn_not_the_framework(client):
    page = client.get("/api/", HTTP_ACCEPT="text/html").content.decode()
    assert "kubelearn API" in page
    assert "Django REST framework" not in page


@pytest.mark.django_db
def test_in_process_tasks_log_no_broker_warning(caplog):
    from recommender.tasks import recommender_refit

    with caplog.at_level(logging.WARNING):
        recommender_refit.apply_async(countdown=1)
    assert not [record for record in caplog.records if record.name.startswith("kombu")]


def test_the_favicon_address_browsers_ask_for_leads_to_the_sites_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("learn/favicon.svg")
