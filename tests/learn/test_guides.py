"""Guides kubelearn serves itself (learn.guides): the catalog's own hardened deployment had no
public address, and its card offered only a web search for its title."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.models import Resource, Status
from catalog.seeding import seed_catalog_load
from learn import guides
from recommender.services import progress_set

pytestmark = pytest.mark.django_db

GUIDE = "/guides/kubelearn-on-kubernetes/"


@pytest.fixture
def seeded(db) -> Resource:
    seed_catalog_load()
    return Resource.objects.get(slug="kubelearn-on-kubernetes")


@pytest.fixture
def fresh_guides():
    guides.guide_html.cache_clear()
    yield
    guides.guide_html.cache_clear()


def test_every_guide_has_its_text_and_its_resource_in_the_seed(settings, seeded):
    for slug, name in guides.GUIDES.items():
        assert (settings.BASE_DIR / "docs" / name).is_file(), name
        assert Resource.objects.filter(slug=slug, url__isnull=True).exists(), slug


def test_the_guide_is_served_with_its_sections_and_links_to_the_areas_it_names(client, seeded):
    response = client.get(GUIDE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>kubelearn on Kubernetes: a hardened deployment, file by file</h1>" in page
    assert "<h2>What runs</h2>" in page and '<table tabindex="0">' in page
    assert page.count("<h1>") == 1  # the document's own title is the page's heading
    assert '<a href="/browse/?area=network-policy" rel="noopener noreferrer">' in page
    assert f'href="/resources/{seeded.pk}/"' in page


def test_the_guides_card_and_page_offer_it_here_not_a_web_search(client, seeded):
    page = client.get(f"/resources/{seeded.pk}/").content.decode()
    assert f'href="{GUIDE}">Read it here' in page
    assert "Search the web for it" not in page
    assert "have not confirmed this resource" not in page
    found = client.get("/browse/?search=kubelearn+hardened").content.decode()
    assert f'<a href="{GUIDE}" aria-label="Read it here, on kubelearn' in found
    assert "No confirmed link yet" not in found


def test_a_guide_nobody_may_see_or_that_does_not_exist_is_a_404(client, seeded):
    assert client.get("/guides/no-such-guide/").status_code == 404
    Resource.objects.filter(pk=seeded.pk).update(status=Status.REJECTED)
    assert client.get(GUIDE).status_code == 404
    assert Client().post(GUIDE).status_code == 405


def test_a_guides_address_in_capitals_leads_to_its_one_address(client, seeded):
    response = client.get("/guides/Kubelearn-On-Kubernetes/")
    assert response.status_code == 301
    assert response["Location"] == "/guides/kubelearn-on-kubernetes/"


def test_a_guides_markdown_cannot_bring_its_own_html_or_script_links(
    settings, tmp_path, monkeypatch, fresh_guides
):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "hostile.md").write_text(
        "# Title\n\n<script>alert(1)</script>\n\n[click](javascript:alert(1)) "
        '<img src=x onerror="alert(1)"> [rbac] [not-an-area]\n',
        encoding="utf-8",
    )
    settings.BASE_DIR = tmp_path
    monkeypatch.setitem(guides.GUIDES, "hostile", "hostile.md")
    html = guides.guide_html("hostile", frozenset({"rbac"}))
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="/browse/?area=rbac" rel="noopener noreferrer">[rbac]</a>' in html
    assert "[not-an-area]" in html and "Title" not in html


def test_the_guide_says_the_learners_state_as_its_page_does(alice, alice_web, seeded):
    assert "state-pill" not in alice_web.get(GUIDE).content.decode()
    progress_set(user=alice, resource=seeded, state="completed", rating=4)
    page = alice_web.get(GUIDE).content.decode()
    assert '<span class="pill state-pill state-completed">' in page and "rated 4/5" in page
