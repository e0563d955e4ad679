"""A queue card: why it is next, and apart from that, what is wrong with it."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from learn.templatetags.learn_tags import site_name
from recommender.runtime import runtime
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


def card_html(reasons: list[dict]) -> str:
    card = runtime.cards([ResourceFactory(title="Katacoda")])[0]
    return render_to_string("learn/_card.html", {"card": card, "reasons": reasons})


def test_health_warnings_stand_apart_from_the_reasons_to_read_it():
    # The fourth walk-through read "shut down in 2022" as a bullet under "Why this is next".
    html = card_html(
        [
            {"kind": "path_step", "text": "Step 15 of the learning path"},
            {"kind": "stale", "text": "Katacoda shut down in 2022; read Minikube instead."},
            {"kind": "link_failing", "text": "The link has been failing since 1 May 2026."},
        ]
    )
    why = html[html.index('<div class="reasons">') : html.index("</div>", html.index("reasons"))]
    assert "Step 15 of the learning path" in why
    assert "Katacoda shut down" not in why and "failing" not in why
    notice = html[html.index('<div class="health-notice" role="note">') :]
    assert "Outdated advice: Katacoda shut down in 2022; read Minikube instead." in notice
    assert "The link has been failing since 1 May 2026." in notice


def test_a_card_with_only_warnings_has_no_empty_why_box():
    html = card_html([{"kind": "stale", "text": "Removed in Kubernetes 1.25."}])
    assert "Why this is next" not in html
    assert "Outdated advice: Removed in Kubernetes 1.25." in html


def test_a_card_links_straight_to_the_reading_in_a_new_tab_named_by_its_site():
    # Reading took two clicks: the title leads to our page about it (walk-through).
    card = runtime.cards(
        [ResourceFactory(title="RBAC", url="https://www.kubernetes.io/docs/rbac/")]
    )
    html = render_to_string("learn/_card.html", {"card": card[0]})
    assert (
        '<a href="https://www.kubernetes.io/docs/rbac/" target="_blank" '
        'rel="noopener noreferrer" aria-label="Read it on kubernetes.io: “RBAC”, in a new tab">'
        "Read it on kubernetes.io"
    ) in html


def test_a_card_without_a_confirmed_link_offers_a_web_search_instead_of_a_reading_link():
    # A walk-through's queue led with a path step without an address, and its card offered
    # nothing to open; its page offered a web search.
    card = runtime.cards([ResourceFactory(title="Lost and found (1)", url="")])
    html = render_to_string("learn/_card.html", {"card": card[0]})
    assert "Read it on" not in html and "No confirmed link yet" in html
    # The catalog's own numbering left out of the search, and no exact phrase (it found
    # nothing for such titles).
    assert (
        '<a href="https://duckduckgo.com/?q=Lost+and+found" target="_blank" '
        'rel="noopener noreferrer" aria-label="Search the web for it: “Lost and found (1)”, '
        'on DuckDuckGo, in a new tab">Search the web for it'
    ) in html


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://kubernetes.io/docs/", "kubernetes.io"),
        ("https://WWW.Example.org:8443/a", "example.org"),
        ("https://xn--kbernetes-q9a.io/", "xn--kbernetes-q9a.io"),  # a look-alike stays visible
    ],
)
def test_site_name_is_the_host_a_reader_knows(url, site):
    assert site_name(url) == site


def test_an_outdated_cards_warning_links_to_the_resource_about_todays_way():
    card = runtime.cards([ResourceFactory(title="Katacoda")])[0]
    sentence = "Mentions Katacoda, shut down; read 'Minikube' for today's way."
    card = {**card, "staleness": [{"sentence": sentence, "successor": 4242}]}
    reasons = [{"kind": "stale", "text": sentence}]
    html = render_to_string("learn/_card.html", {"card": card, "reasons": reasons})
    notice = html[html.index('<div class="health-notice" role="note">') :]
    assert '<a href="/resources/4242/" aria-label="Today\u2019s way, instead of Katacoda"' in notice
