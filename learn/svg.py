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

# Colours meet 4.5:1 against white (text) and 3:1 against the track (graphics).
INK = "#1f2937"
MUTED = "#4b5563"
TRACK = "#e5e7eb"
OFFERED = "#b9c7e6"
DONE = "#2457c5"
FOCUS = "#92400e"
STAGE_COLOURS = {
    "getting-started": "#0f766e",
    "production-ready": "#1d4ed8",
    "security": "#7e22ce",
}

_WIDTH = 640
_ROW = 50
_BAR = 14


def coverage_chart(areas: Sequence[AreaCoverage], *, chart_id: str = "coverage") -> SafeString:
    """One row per security area: a pale bar for what the catalog offers, a solid bar over it
    for what the learner completed, both on one scale (the area with most resources is full
    width), and the two numbers at the right."""
    scale = max((area.available for area in areas), default=0) or 1
    label_width = _WIDTH - 120
    height = _ROW * len(areas) + 8
    done_total = sum(area.completed for area in areas)
    offered_total = sum(area.available for area in areas)
    parts = [
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" height="{height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-title">Coverage by security area</title>',
        f'<desc id="{chart_id}-desc">You completed {done_total} of {offered_total} resources '
        "across the security areas; the table beside the chart lists each area.</desc>",
    ]
    for row, area in enumerate(areas):
        top = row * _ROW + 4
        bar_y = top + 24
        offered = round(label_width * area.available / scale)
        done = round(label_width * area.completed / scale)
        name = escape(area.name)
        focus = ""
        if area.focus_weight:
            focus = f'<tspan fill="{FOCUS}" font-weight="600"> · in your focus</tspan>'
        parts.append(
            f'<text x="0" y="{top + 15}" font-size="15" fill="{INK}">{name}{focus}</text>'
            f'<rect x="0" y="{bar_y}" width="{label_width}" height="{_BAR}" rx="4" '
            f'fill="{TRACK}"/>'
            f'<rect x="0" y="{bar_y}" width="{offered}" height="{_BAR}" rx="4" '
            f'fill="{OFFERED}"/>'
        )
        if done:
            parts.append(
                f'<rect x="0" y="{bar_y}" width="{done}" height="{_BAR}" rx="4" fill="{DONE}"/>'
            )
        parts.append(
            f'<text x="{_WIDTH}" y="{bar_y + 12}" font-size="15" fill="{MUTED}" '
            f'text-anchor="end">{area.completed} of {area.available}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every interpolated text is escaped above


def progress_bar(*, done: int, total: int, stage: str | None = None) -> SafeString:
    """A thin bar for a sentence that already says "done of total" (hidden from readers)."""
    width = 300
    filled = round(width * done / total) if total else 0
    colour = STAGE_COLOURS.get(stage or "", DONE)
    fill = (
        f'<rect x="0" y="0" width="{filled}" height="10" rx="5" fill="{colour}"/>' if filled else ""
    )
    return mark_safe(  # noqa: S308 — numbers and fixed colours only
        f'<svg class="bar" viewBox="0 0 {width} 10" preserveAspectRatio="none" '
        f'aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">'
        f'<rect x="0" y="0" width="{width}" height="10" rx="5" fill="{TRACK}"/>{fill}</svg>'
    )
