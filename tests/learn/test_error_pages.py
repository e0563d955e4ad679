"""Error pages in the site's layout: a form posted with a stale CSRF token, a 403."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory

from kubelearn.api import json_permission_denied
from recommender.models import Progress
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

OUT_OF_DATE = "The page you used was out of date"


@pytest.fixture
def alice_checked(alice) -> Client:
    """alice in a browser that checks CSRF tokens, as a real one does (the test Client skips it)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get("/")  # the CSRF cookie, as the page with the form sets it
    return client


def test_a_post_without_a_csrf_token_gets_a_403_page_in_the_site_layout(alice, alice_checked):
    resource = ResourceFactory()
    response = alice_checked.post(f"/progress/{resource.pk}/", {"state": "completed"})
    assert response.status_code == 403
    assert response.templates[0].name == "learn/csrf_failure.html"
    body = response.content.decode()
    assert OUT_OF_DATE in body
    assert 'class="site-header"' in body
    assert "CSRF verification failed" not in body
    # No Referer: the way back is the start page.
    assert '<a class="btn btn-primary" href="/">Reload the page</a>' in body
    assert not Progress.objects.filter(user=alice).exists()


def test_a_stale_csrf_token_links_back_to_the_page_the_form_was_on(alice, alice_checked):
    resource = ResourceFactory()
    response = alice_checked.post(
        f"/progress/{resource.pk}/",
        {"state": "completed", "csrfmiddlewaretoken": "x" * 64},
        headers={"referer": "http://testserver/browse/?search=rbac&page=2"},
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert OUT_OF_DATE in body
    assert 'href="http://testserver/browse/?search=rbac&amp;page=2">Reload the page</a>' in body
    assert not Progress.objects.filter(user=alice).exists()


@pytest.mark.parametrize(
    "referer", ["https://evil.example/", "javascript:alert(1)", "//evil.example/x", "\x00"]
)
def test_the_csrf_page_links_home_when_the_referer_is_another_site(alice_checked, referer):
    resource = ResourceFactory()
    response = alice_checked.post(
        f"/progress/{resource.pk}/", {"state": "completed"}, headers={"referer": referer}
    )
    assert response.status_code == 403
    assert '<a class="btn btn-primary" href="/">Reload the page</a>' in response.content.decode()


def test_a_stale_csrf_token_on_sign_in_gets_the_same_page(client, alice):
    checked = Client(enforce_csrf_checks=True)
    response = checked.post("/signin/", {"username": "alice", "password": "whatever"})
    assert response.status_code == 403
    assert OUT_OF_DATE in response.content.decode()


def test_a_permission_denied_page_is_in_the_site_layout(alice):
    request = RequestFactory().get("/history/")
    request.user = alice
    response = json_permission_denied(request, PermissionDenied("not yours"))
    assert response.status_code == 403
    body = response.content.decode()
    assert "<h1>Not allowed</h1>" in body
    assert 'class="site-header"' in body
    assert "403 Forbidden" not in body


def test_a_nul_character_in_a_page_address_gets_the_sites_page_and_the_api_json(client, db):
    page = client.get("/browse/", {"stage": "\x00"})
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
    body = page.content.decode()
    assert "That address does not work" in body and "NUL character" in body
    assert "Content-Security-Policy" in page.headers
    api = client.get("/api/resources/", {"search": "\x00"})
    assert api.status_code == 400
    assert api.json() == {"detail": "The address contains a NUL character, which is not allowed."}


def test_opening_a_buttons_address_says_so_instead_of_an_empty_405(alice_web, db):
    # A walk-through opened /progress/99999/ in the address bar: Chrome showed its own error.
    response = alice_web.get("/progress/99999/")
    assert response.status_code == 405 and response["Allow"] == "POST"
    body = response.content.decode()
    assert "This address belongs to a button" in body and "Nothing was changed." in body
    assert "Content-Security-Policy" in response.headers
    api = alice_web.get("/api/me/next/", REQUEST_METHOD="DELETE")
    assert api.status_code == 405 and api.json()["detail"]


@pytest.mark.parametrize("address", ["/api/resources/", "/api/me/next/", "/api/", "/api/schema/"])
def test_too_many_query_parameters_are_a_json_400_on_the_api_not_a_500(client, db, address):
    # DRF read request.GET while choosing a renderer, and failed without one (a walk-through).
    query = "&".join(["a=1"] * 1001)
    response = client.get(f"{address}?{query}")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The address has more than 1,000 query parameters, which is not allowed."
    }
    assert client.get(f"{address}?{'&'.join(['a=1'] * 999)}").status_code != 500


def test_too_many_query_parameters_on_a_page_get_the_sites_page(client, db):
    response = client.get("/browse/?" + "&".join(["tag=rbac"] * 1001))
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    assert "more than 1,000 query parameters" in response.content.decode()
