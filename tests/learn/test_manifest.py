"""The web app manifest: what "Add to home screen" reads."""

from __future__ import annotations

import struct

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static

pytestmark = pytest.mark.django_db


def manifest(client) -> dict:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    return response.json()


def png_size(path: str) -> tuple[int, int]:
    with open(path, "rb") as image:
        head = image.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def static_path(url: str) -> str:
    found = finders.find(url.removeprefix(static("")))
    assert found, f"{url} is not a static file"
    return str(found)


def test_the_manifest_names_the_site_and_opens_on_up_next_inside_its_scope(client):
    app = manifest(client)
    assert app["name"] == "kubelearn"
    assert app["start_url"] == "/" and app["scope"] == "/"
    assert app["display"] == "minimal-ui"
    assert all(shortcut["url"].startswith("/") for shortcut in app["shortcuts"])


def test_every_png_icon_in_the_manifest_has_the_size_it_declares(client):
    icons = manifest(client)["icons"]
    pngs = [icon for icon in icons if icon["type"] == "image/png"]
    assert {icon["sizes"] for icon in pngs} >= {"192x192", "512x512"}
    assert any(icon.get("purpose") == "maskable" for icon in pngs)
    for icon in pngs:
        width, height = png_size(static_path(icon["src"]))
        assert icon["sizes"] == f"{width}x{height}", icon["src"]
    svg = next(icon for icon in icons if icon["type"] == "image/svg+xml")
    static_path(svg["src"])


def test_the_apple_touch_icon_is_180_px(client):
    assert png_size(static_path(static("learn/apple-touch-icon.png"))) == (180, 180)


def test_the_pages_link_the_manifest_and_colour_the_browser_bar_like_the_header(client):
    body = client.get("/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in body
    assert 'name="theme-color" content="#ffffff" media="(prefers-color-scheme: light)"' in body
    assert 'name="theme-color" content="#181f2e" media="(prefers-color-scheme: dark)"' in body


def test_the_manifest_answers_only_reads(client):
    assert client.post("/manifest.webmanifest").status_code == 405
