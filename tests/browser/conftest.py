"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live_server.

One browser per test module. Locally the tests skip when /usr/bin/chromium is absent;
in CI (CI set) a missing browser is a failure, never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PASSWORD = "a-long-passphrase-42"
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module.

    Playwright's sync API keeps an event loop running in this thread while it is started, so
    Django would refuse every database call as "async-unsafe" until it stops. Nothing runs
    concurrently with those calls, so the browser's lifetime allows them, and only it: the
    variable must not leak into later tests (`check --deploy` rejects it).
    """
    if not CHROMIUM.exists():
        message = (
            f"Browser tests need Debian's chromium at {CHROMIUM} "
            "(apt-get install chromium); .ci/run installs it."
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI: {message}")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def http_settings(settings):
    """live_server speaks plain HTTP; production-style secure cookies would never be sent."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return settings


@pytest.fixture
def seeded(transactional_db):
    from catalog.seeding import seed_catalog_load

    seed_catalog_load()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def signed_in_page(
    browser: Any, live_server: Any, user: Any, *, width: int = 1280, color_scheme: str = "light"
) -> Any:
    """A new page in a new context, signed in as `user` (a session cookie, no sign-in form)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=color_scheme
    )
    context.set_default_timeout(5000)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context.new_page()


def signed_out_and_in_in_another_tab(page: Any, live_server: Any, user: Any) -> None:
    """Another tab of `page`'s browser signs out and in again (by its forms, as UserFactory's
    password), which rotates the CSRF token: the forms on `page` carry the old one."""
    other = page.context.new_page()
    other.goto(live_server.url + "/")
    other.get_by_role("button", name="Sign out").click()
    other.get_by_role("banner").get_by_role("link", name="Sign in").click()
    other.get_by_label("Username").fill(user.username)
    other.get_by_label("Password:", exact=True).fill("correct horse battery staple")
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("link", name=f"Account: {user.username}")).to_be_visible()
    other.close()
