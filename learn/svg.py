"""Charts drawn on the server as SVG: no chart library, no script, nothing from a CDN.

Every chart is paired on its page with the same numbers as text (a table or a sentence), so
the picture is a convenience, never the only way to read them. Text is escaped here because
the markup is marked safe for the template.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from learn.selectors import AreaCoverage

# Fallbacks for the stylesheet's light colours (kubelearn.css, --chart-*): text 4.5:1 against
# white, the done and known bars 3:1 against their track and the panel (tests/learn/test_svg.py).
INK = "#1f2937"
MUTED = "#4b5563"
SURFACE = "#ffffff"
TRACK = "#e5e7eb"
DONE = "#2457c5"
KNOWN = "#0e7490"
FOCUS = "#92400e"
STAGE_COLOURS = {
    "getting-started": "#0f766e",
    "production-ready": "#1d4ed8",
    "security": "#7e22ce",
}

_ROW = 40
_BAR = 12


def coverage_chart(areas: Sequence[AreaCoverage], *, chart_id: str = "coverage") -> SafeString:
    """One row per security area: its name and "covered of offered" on one line, and below
    them a progress bar on a full-width track: the share of the area's resources the learner
    read here, then, in another colour, the share they marked as already known. Areas in the
    learner's focus are starred.

    Three walk-throughs read the earlier design (a bar for what the catalog offers, scaled to
    the largest area, with the done bar over it) as progress: "0 of 7" beside a full bar. How
    much an area offers is in its "of 7"; the bar only ever shows what the learner did. A
    later one read "6 of 7 done" after "I know these", having read nothing: known is apart."""
    height = _ROW * len(areas) + 4
    # Not "N of M resources": a resource in two areas would count twice.
    started = sum(1 for area in areas if area.covered)
    # As wide as its column, with no viewBox: the bars are shares of the width and the text
    # keeps its size. A 320-wide drawing scaled to fit stopped at 60% of a laptop's panel
    # (its width was capped there, or its text would have grown with it).
    parts = [
        f'<svg class="chart" width="100%" height="{height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">Coverage by security area</title>',
        f'<desc id="{chart_id}-desc">For each security area, the share of its resources you '
        "completed here and, in another colour, those you marked as already known; you have "
        f"covered resources in {started} of {len(areas)} areas. The table beside the chart "
        "lists each area's numbers.</desc>",
    ]
    for row, area in enumerate(areas):
        top = row * _ROW + 2
        bar_y = top + 19
        read = _share(area.completed, area.available)
        covered = _share(area.covered, area.available)
        star = f'<tspan class="c-focus" fill="{FOCUS}">★ </tspan>' if area.focus_weight else ""
        parts.append(
            f'<text x="0" y="{top + 13}" font-size="13" class="c-ink" fill="{INK}">'
            f"{star}{escape(area.name)}</text>"
            f'<text x="100%" y="{top + 13}" font-size="13" class="c-muted" fill="{MUTED}" '
            f'text-anchor="end">{area.covered} of {area.available}</text>'
            f'<rect x="0" y="{bar_y}" width="100%" height="{_BAR}" rx="4" '
            f'class="c-track" fill="{TRACK}"/>'
        )
        # Known first and under: the read bar, drawn over its start, keeps its rounded end.
        if covered > read:
            parts.append(
                f'<rect x="0" y="{bar_y}" width="{covered:g}%" height="{_BAR}" rx="4" '
                f'class="c-known" fill="{KNOWN}"/>'
            )
        if read:
            parts.append(
                f'<rect x="0" y="{bar_y}" width="{read:g}%" height="{_BAR}" rx="4" '
                f'class="c-done" fill="{DONE}"/>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every interpolated text is escaped above


def _share(part: int, whole: int) -> float:
    """``part`` of ``whole`` as a percentage of the chart's width, to a tenth."""
    return round(100 * part / whole, 1) if whole else 0.0


def progress_bar(*, done: int, total: int, stage: str | None = None) -> SafeString:
    """A thin bar for a sentence that already says "done of total" (hidden from readers)."""
    width = 300
    filled = round(width * done / total) if total else 0
    colour = STAGE_COLOURS.get(stage or "", DONE)
    role = f"c-stage-{stage}" if stage in STAGE_COLOURS else "c-done"
    fill = (
        f'<rect x="0" y="0" width="{filled}" height="10" rx="5" class="{role}" fill="{colour}"/>'
        if filled
        else ""
    )
    return mark_safe(  # noqa: S308 — numbers and fixed colours only
        f'<svg class="bar" viewBox="0 0 {width} 10" preserveAspectRatio="none" '
        f'aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">'
        f'<rect x="0" y="0" width="{width}" height="10" rx="5" class="c-track" fill="{TRACK}"/>'
        f"{fill}</svg>"
    )
