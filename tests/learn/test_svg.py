"""Server-drawn charts: well-formed SVG, proportional bars, escaped text, a text alternative."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from defusedxml import ElementTree

from learn import svg as charts
from learn.selectors import AreaCoverage
from learn.svg import coverage_chart, progress_bar

STYLESHEET = Path(charts.__file__).parent / "static" / "learn" / "kubelearn.css"

SVG = "{http://www.w3.org/2000/svg}"


def area(
    name: str, completed: int, available: int, weight: float | None = None, known: int = 0
) -> AreaCoverage:
    return AreaCoverage(
        slug=name.lower(),
        name=name,
        description="",
        completed=completed,
        available=available,
        focus_weight=weight,
        known=known,
    )


def share(rect) -> float:
    """A bar's width as a share of the chart's (the chart is as wide as its column)."""
    width = rect.get("width")
    assert width.endswith("%"), width
    return float(width[:-1])


def test_coverage_chart_draws_each_areas_share_done_on_its_own_track():
    areas = [area("RBAC", 1, 4, 1.0), area("etcd", 0, 2), area("Audit", 1, 1)]
    svg = ElementTree.fromstring(coverage_chart(areas))
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Coverage by security area"
    assert "covered resources in 2 of 3 areas" in svg.find(f"{SVG}desc").text
    bars = [(rect.get("class"), share(rect)) for rect in svg.findall(f"{SVG}rect")]
    # RBAC: a quarter done; etcd: nothing done, so nothing but its empty track (the walk-
    # throughs read a full "offered" bar beside "0 of 7" as done); Audit: all done.
    assert bars == [
        ("c-track", 100.0),
        ("c-done", 25.0),
        ("c-track", 100.0),
        ("c-track", 100.0),
        ("c-done", 100.0),
    ]
    texts = "".join(svg.itertext())
    assert "1 of 4" in texts and "0 of 2" in texts and "★" in texts


def test_coverage_chart_draws_what_was_marked_known_apart_from_what_was_read():
    svg = ElementTree.fromstring(
        coverage_chart([area("RBAC", 1, 4, known=2), area("etcd", 0, 2, known=2)])
    )
    bars = [(rect.get("class"), share(rect)) for rect in svg.findall(f"{SVG}rect")]
    # Known under read, both from the start of the track: a quarter read, three quarters covered.
    assert bars == [
        ("c-track", 100.0),
        ("c-known", 75.0),
        ("c-done", 25.0),
        ("c-track", 100.0),
        ("c-known", 100.0),
    ]
    texts = "".join(svg.itertext())
    assert "3 of 4" in texts and "2 of 2" in texts
    assert "covered resources in 2 of 2 areas" in svg.find(f"{SVG}desc").text


def test_coverage_chart_escapes_area_names():
    markup = coverage_chart([area("<script>alert(1)</script> & co", 0, 1)])
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    ElementTree.fromstring(markup)


def test_coverage_chart_of_an_empty_catalog_is_still_valid():
    ElementTree.fromstring(coverage_chart([]))
    ElementTree.fromstring(coverage_chart([area("RBAC", 0, 0)]))


def test_progress_bar_is_decorative_and_proportional():
    svg = ElementTree.fromstring(progress_bar(done=3, total=12, stage="security"))
    assert svg.get("aria-hidden") == "true"
    rects = svg.findall(f"{SVG}rect")
    assert int(rects[1].get("width")) == round(int(rects[0].get("width")) / 4)
    assert len(ElementTree.fromstring(progress_bar(done=0, total=0)).findall(f"{SVG}rect")) == 1


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def scheme_colours(scheme: str) -> dict[str, str]:
    """The stylesheet's colour roles in a scheme: light's :root, dark's overriding it."""
    css = STYLESHEET.read_text()
    light = re.search(r"^:root \{(.*?)^\}", css, re.S | re.M)
    dark = re.search(r"@media \(prefers-color-scheme: dark\) \{\s*:root \{(.*?)\}", css, re.S)
    assert light and dark

    def roles(block: str) -> dict[str, str]:
        return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\b", block))

    colours = roles(light.group(1))
    return {**colours, **roles(dark.group(1))} if scheme == "dark" else colours


def test_contrast_matches_wcag_examples():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("bar", ["chart-done", "chart-known"])
def test_the_done_and_known_bars_meet_3_to_1_against_their_track_and_the_panel(scheme, bar):
    colours = scheme_colours(scheme)
    assert contrast(colours[bar], colours["chart-track"]) >= 3
    assert contrast(colours[bar], colours["surface"]) >= 3


def test_chart_fallback_colours_are_the_stylesheets_light_ones():
    colours = scheme_colours("light")
    assert (
        colours["chart-track"],
        colours["chart-done"],
        colours["chart-known"],
        colours["surface"],
    ) == (charts.TRACK, charts.DONE, charts.KNOWN, charts.SURFACE)
