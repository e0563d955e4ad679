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


def area(name: str, completed: int, available: int, weight: float | None = None) -> AreaCoverage:
    return AreaCoverage(
        slug=name.lower(),
        name=name,
        description="",
        completed=completed,
        available=available,
        focus_weight=weight,
    )


def test_coverage_chart_draws_offered_and_done_bars_on_one_scale():
    svg = ElementTree.fromstring(coverage_chart([area("RBAC", 1, 4, 1.0), area("etcd", 0, 2)]))
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Coverage by security area"
    assert "You completed 1 of 6" in svg.find(f"{SVG}desc").text
    widths = [int(rect.get("width")) for rect in svg.findall(f"{SVG}rect")]
    track = widths[0]
    # RBAC: track, offered (full scale), done (a quarter); etcd: track, offered (half), no done.
    assert widths == [track, track, round(track / 4), track, round(track / 2)]
    texts = "".join(svg.itertext())
    assert "1 of 4" in texts and "0 of 2" in texts and "★" in texts


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
def test_coverage_bars_meet_3_to_1_against_what_they_touch(scheme):
    colours = scheme_colours(scheme)
    # Offered on its track; done is parted from offered by a line in the panel's colour.
    assert contrast(colours["chart-offered"], colours["chart-track"]) >= 3
    assert contrast(colours["chart-offered"], colours["surface"]) >= 3
    assert contrast(colours["chart-done"], colours["surface"]) >= 3


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_offered_bar_is_an_outline_so_it_never_reads_as_progress(scheme):
    # A third walk-through saw a full, dark "offered" bar beside "0 of 7" and read it as done.
    css = " ".join(STYLESHEET.read_text().split())
    assert (
        ".c-offered { fill: var(--chart-offered-fill); stroke: var(--chart-offered); "
        "stroke-width: 1.5px; }"
    ) in css
    colours = scheme_colours(scheme)
    assert contrast(colours["chart-offered"], colours["chart-offered-fill"]) >= 3
    assert contrast(colours["chart-done"], colours["chart-offered-fill"]) >= 3


def test_the_done_bar_is_parted_from_the_offered_bar_by_the_panel_colour():
    css = " ".join(STYLESHEET.read_text().split())
    assert ".chart .c-done { stroke: var(--surface); stroke-width: 2px; }" in css
    svg = ElementTree.fromstring(coverage_chart([area("RBAC", 1, 4)]))
    done = svg.find(f"{SVG}rect[@class='c-done']")
    assert done.get("stroke") == charts.SURFACE


def test_chart_fallback_colours_are_the_stylesheets_light_ones():
    colours = scheme_colours("light")
    assert (
        colours["chart-track"],
        colours["chart-offered"],
        colours["chart-done"],
        colours["surface"],
    ) == (charts.TRACK, charts.OFFERED, charts.DONE, charts.SURFACE)
