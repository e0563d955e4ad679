"""The learner pages' forms: how their choices map onto what the API stores."""

from __future__ import annotations

import pytest

from learn.forms import focus_label, focus_level


@pytest.mark.parametrize(
    ("weight", "level", "label"),
    [
        (None, "", "Not a focus"),
        (0.05, "0.25", "A little"),
        (0.3, "0.25", "A little"),
        (0.5, "0.5", "Some"),
        (0.7, "0.75", "A lot"),
        (0.9, "1", "Main focus"),
        (1.0, "1", "Main focus"),
    ],
)
def test_a_focus_weight_reads_as_the_nearest_level(weight, level, label):
    assert focus_level(weight) == level
    assert focus_label(weight) == label
