"""Server-drawn charts: well-formed SVG, proportional bars, escaped text, a text alternative."""

from __future__ import annotations

from defusedxml import ElementTree

from learn.selectors import AreaCoverage
from learn.svg import coverage_chart, progress_bar

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
