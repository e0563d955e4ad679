"""Labels for raw values: in API cards (kind, stage, difficulty), as the models name them, and
focus weights, as the focus form names them."""

from __future__ import annotations

from django import template

from catalog.models import Difficulty, Kind, Stage
from learn import forms

register = template.Library()

_KINDS = dict(Kind.choices)
_STAGES = dict(Stage.choices)
_DIFFICULTIES = dict(Difficulty.choices)


@register.filter
def kind_label(value: str) -> str:
    return _KINDS.get(value, value)


@register.filter
def stage_label(value: str) -> str:
    return _STAGES.get(value, value)


@register.filter
def difficulty_label(value: int) -> str:
    return _DIFFICULTIES.get(value, str(value))


@register.filter
def focus_label(weight: float | None) -> str:
    return forms.focus_label(weight)


@register.filter
def path_position(card: dict, path_slug: str) -> int | None:
    """The card's step number on a path, if it is on it."""
    for placement in card.get("path_steps", ()):
        if placement["path"] == path_slug:
            return placement["position"]
    return None
