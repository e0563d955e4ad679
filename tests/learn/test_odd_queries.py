"""Every learner page a link can open answers an odd query string with a page, never a 500:
whatever a shared, truncated, hand-edited or hostile address carries."""

from __future__ import annotations

import pytest

from recommender import services
from tests.learn.conftest import path_ids

pytestmark = pytest.mark.django_db

PAGES = ["/", "/path/", "/browse/", "/history/", "/notes/", "/focus/", "/account/"]

ODD_QUERIES = [
    "page=-1&sort=zzz&stage=<x>",
    "page=99999999999999999999999&show=%ff%fe",
    "q=%ED%A0%80&search=%ED%A0%80",  # an encoded lone surrogate
    "q=" + "é" * 3000 + "&search=" + "%F0%9F%98%80" * 500,
    "q=%E2%80%AE%D7%A9%D7%9C%D7%95%D7%9D&search=%22%27%3E%3Cscript%3E",  # RTL, a script
    "area=&topic=&author=&kind=&stage=&sort=&page=",
    "area=a&area=b&page=1&page=2&limit=-5&limit=x",
    "q=%25_%5C&search=%25%25%25",  # LIKE's own characters
]


@pytest.fixture
def busy_learner(alice, seed):
    first, second, *_ = path_ids(seed)
    services.progress_set(
        user=alice, resource=seed.steps.get(resource_id=first).resource, state="completed", rating=4
    )
    services.note_set(
        user=alice,
        resource=seed.steps.get(resource_id=second).resource,
        text="50% of RBAC_rules\\ here",
    )
    return alice


@pytest.mark.parametrize("query", ODD_QUERIES)
@pytest.mark.parametrize("page", PAGES)
def test_a_learner_page_answers_an_odd_query_with_a_page(busy_learner, alice_web, page, query):
    response = alice_web.get(f"{page}?{query}")
    assert response.status_code in (200, 400), response.status_code
    assert b"<h1" in response.content


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_a_signed_out_visitor_gets_a_page_for_an_odd_query(client, seed, query):
    for page in ("/", "/path/", "/browse/"):
        response = client.get(f"{page}?{query}")
        assert response.status_code in (200, 400), (page, response.status_code)
