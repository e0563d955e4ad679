"""Every page, at a phone's and a laptop's width: no serious or critical axe-core violations,
no sideways scrolling. Screenshots of each go to var/screenshots/ for a human to look at."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client

from catalog.models import LearningPath
from learn import services as learn_services
from recommender import services as recommender_services
from tests.browser.conftest import screenshot
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)
# (width, colour scheme) each page is looked at in; axe runs at the phone's width, in both.
VIEWS = ((375, "light"), (1280, "light"), (375, "dark"), (1280, "dark"))


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    signed_in: bool


PAGES = [
    Page("welcome", "/", False),
    Page("sign-up", "/signup/", False),
    Page("sign-in", "/signin/", False),
    Page("password-reset", "/password-reset/", False),
    Page("path-visitor", "/path/", False),
    Page("browse", "/browse/", False),
    Page("resource-visitor", "/resource/first/", False),
    Page("guide", "/guides/kubelearn-on-kubernetes/", False),
    Page("not-found", "/no-such-page/", False),
    Page("up-next", "/", True),
    Page("up-next-15", "/?minutes=15", True),
    Page("path", "/path/", True),
    Page("resource", "/resource/first/", True),
    Page("focus", "/focus/", True),
    Page("browse-filtered", "/browse/?stage=security&search=kubernetes", True),
    Page("history", "/history/", True),
    Page("history-unknown-show", "/history/?show=done", True),
    Page("notes", "/notes/", True),
    Page("account", "/account/", True),
    Page("password", "/account/password/", True),
    Page("account-delete", "/account/delete/", True),
    Page("sign-out", "/signout/", True),
]


SPACE_BEFORE_PUNCTUATION = re.compile(r"\w [:,.]")
CONTROL_ROLES = {"button", "link", "DisclosureTriangle", "combobox", "textbox", "checkbox"}


def control_names(page) -> list[str]:
    """The names Chromium computes for the page's buttons, links and form controls (its
    accessibility tree, as a screen reader gets it; axe computes its own)."""
    tree = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")
    return [
        node["name"]["value"]
        for node in tree["nodes"]
        if node.get("role", {}).get("value") in CONTROL_ROLES and node.get("name", {}).get("value")
    ]


@pytest.fixture
def learner_session(seeded, http_settings) -> tuple[str, int]:
    """A learner part-way along: a focus, one step done, one started, two notes, a feed
    address."""
    user = UserFactory(username="erin")
    steps = list(
        LearningPath.objects.get().steps.order_by("position").values_list("resource", flat=True)
    )
    recommender_services.profile_update(user=user, focus={"rbac": 1.0, "secrets": 0.5})
    from catalog.models import Resource

    resources = Resource.objects.in_bulk(steps[:2])
    recommender_services.progress_set(
        user=user, resource=resources[steps[0]], state="completed", rating=4
    )
    recommender_services.progress_set(
        user=user, resource=resources[steps[1]], state="in_progress", rating=None
    )
    # A note with markup, line breaks and an unbroken command (the page must not widen).
    recommender_services.note_set(
        user=user,
        resource=resources[steps[0]],
        text=(
            "RBAC: <script>alert(1)</script> stays text.\n\n"
            "kubectl auth can-i --list --as=system:serviceaccount:default:default\n"
            "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#role-and-clusterrole"
        ),
    )
    recommender_services.note_set(
        user=user, resource=resources[steps[1]], text="Read the part on aggregated roles again."
    )
    learn_services.queue_feed_create(user=user)
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value, steps[0]


@pytest.mark.parametrize("page_spec", PAGES, ids=[page.name for page in PAGES])
def test_page_is_accessible_and_fits_phone_and_laptop(
    browser, live_server, learner_session, page_spec
):
    session, first_step = learner_session
    url = live_server.url + page_spec.url.replace("/resource/first/", f"/resources/{first_step}/")
    problems: list[str] = []
    for width, scheme in VIEWS:
        context = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
        context.set_default_timeout(5000)
        if page_spec.signed_in:
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
            )
        page = context.new_page()
        response = page.goto(url)
        assert response is not None
        expected = {"not-found": 404, "history-unknown-show": 400}.get(page_spec.name, 200)
        assert response.status == expected, f"{page_spec.name}: {response.status}"
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            problems.append(f"{width}px: scrolls sideways by {overflow}px")
        screenshot(page, f"{page_spec.name}-{width}" + ("-dark" if scheme == "dark" else ""))
        if width != WIDTHS[0]:
            context.close()
            continue  # axe at the phone's width only, where the layout is tightest
        # axe reports neither as serious; a keyboard walk-through found both (an h1 followed by
        # card h3s, the Focus page's two "coverage-title" ids).
        duplicates = page.evaluate(
            "(() => { const seen = {}; document.querySelectorAll('[id]').forEach(e => "
            "{ seen[e.id] = (seen[e.id] || 0) + 1; }); "
            "return Object.keys(seen).filter(id => seen[id] > 1); })()"
        )
        if duplicates:
            problems.append(f"{width}px: ids used twice: {duplicates}")
        levels = page.evaluate(
            "Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6'), h => +h.tagName[1])"
        )
        skips = [(a, b) for a, b in zip([1, *levels], levels, strict=False) if b > a + 1]
        if skips:
            problems.append(f"{width}px: heading levels skip: {skips}")
        # Chrome's own accessible names: a visually hidden span (absolutely positioned) is
        # read as a block, so "Done<span>: Title</span>" was named "Done : Title".
        spaced = [name for name in control_names(page) if SPACE_BEFORE_PUNCTUATION.search(name)]
        if spaced:
            problems.append(f"{width}px: names with a space before punctuation: {spaced[:3]}")
        results = Axe().run(page)
        for violation in results.response["violations"]:
            if violation["impact"] in {"serious", "critical"}:
                targets = [node["target"] for node in violation["nodes"]][:3]
                problems.append(
                    f"{width}px {scheme}: {violation['id']} ({violation['impact']}) {targets}"
                )
        context.close()
    assert problems == []
