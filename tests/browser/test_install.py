"""Add to home screen, as Chromium judges it: the manifest parses and nothing stops installing."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_chromium_finds_the_site_installable_with_its_manifest(browser, live_server, seeded):
    page = browser.new_page()
    page.goto(f"{live_server.url}/")
    cdp = page.context.new_cdp_session(page)
    app = cdp.send("Page.getAppManifest")
    assert app["url"] == f"{live_server.url}/manifest.webmanifest"
    assert app["errors"] == []
    assert app["manifest"]["name"] == "kubelearn"
    assert app["manifest"]["startUrl"] == f"{live_server.url}/"
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # A test browser's context is always "incognito" to Chromium (no profile on disk): that
    # one says nothing about the site; a missing icon, start address or manifest would.
    assert [error["errorId"] for error in errors if error["errorId"] != "in-incognito"] == []
    page.close()
