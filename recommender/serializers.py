from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from catalog.models import SecurityArea
from catalog.serializers import ResourceSerializer, SlugReferenceField
from kubelearn.api import ClearChoiceField, StrictInputSerializer, UnknownParametersRefused
from recommender.engine.records import REASON_KINDS, SHORTFALLS
from recommender.models import (
    LATER_DAYS_CHOICES,
    MINUTES_MAX,
    MINUTES_MIN,
    NOTE_MAX_CHARS,
    Note,
    Progress,
    ProgressState,
)
from recommender.queue import HEALTH_KINDS


class ProgressSerializer(serializers.ModelSerializer):
    resource = ResourceSerializer(read_only=True)

    class Meta:
        model = Progress
        fields = [
            "resource",
            "state",
            "rating",
            "known",
            "later_until",
            "created_at",
            "updated_at",
            "completed_at",
        ]
        # Set by "Not now" (a PUT with `later`); any other PUT clears it.
        read_only_fields = ["later_until"]
        # The schema said 0 to 32767 (the column's type), where the write takes 1 to 5.
        extra_kwargs = {"rating": {"min_value": 1, "max_value": 5}}


class ProgressWriteSerializer(StrictInputSerializer):
    echoed = frozenset(ProgressSerializer.Meta.fields)
    state = ClearChoiceField(choices=ProgressState.choices)
    rating = serializers.IntegerField(
        min_value=1,
        max_value=5,
        required=False,
        allow_null=True,
        help_text="1 to 5, or null for none. Left out, a completed resource keeps its rating.",
    )
    known = serializers.BooleanField(
        default=False,
        help_text=(
            "With `completed`: the learner knew it already and did not read it here (the Path "
            "page's 'I know these'). It counts as done on the path but not as reading, taste "
            "or where the learner took up the path."
        ),
    )

    later = serializers.BooleanField(
        default=False,
        help_text=(
            "With `planned`: not now. The resource stays saved and is left out of `next` and "
            "the queue for `later_days` days (`later_until`), as the pages' 'Not now' does."
        ),
    )
    later_days = ClearChoiceField(
        choices=LATER_DAYS_CHOICES,
        required=False,
        help_text=(
            "With `later`: back in the queue after 1, 7 (the default) or 30 days, counted "
            "as 24 hours each from now (`later_until`, in UTC)."
        ),
    )

    def validate(self, attrs: dict) -> dict:
        if attrs["later"] and attrs["state"] != ProgressState.PLANNED:
            raise serializers.ValidationError(
                {"later": "Only a saved (planned) resource can be put off."}
            )
        if "later_days" in attrs and not attrs["later"]:
            raise serializers.ValidationError(
                {"later_days": "Only a resource put off (`later`) comes back after some days."}
            )
        if attrs["known"] and attrs["state"] != ProgressState.COMPLETED:
            raise serializers.ValidationError({"known": "Only a completed resource can be known."})
        if attrs["state"] == ProgressState.SKIPPED and attrs.get("rating") is not None:
            # A skip is not read: the recommender ignores such a rating, and the CSV showed
            # "Skipped, 2" as if it meant something.
            raise serializers.ValidationError(
                {"rating": "A skipped resource has no rating; rate what you read."}
            )
        if attrs["state"] == ProgressState.PLANNED and attrs.get("rating") is not None:
            # Saved is not read yet (the pages offer no rating there either); a rating would
            # read as taste the learner never expressed.
            raise serializers.ValidationError(
                {"rating": "A saved resource is not read yet; rate it while or after reading."}
            )
        if attrs["known"] and attrs.get("rating") is not None:
            raise serializers.ValidationError(
                {"known": "A resource known without reading it here has no rating."}
            )
        return attrs


class NoteSerializer(serializers.ModelSerializer):
    resource = ResourceSerializer(read_only=True)

    class Meta:
        model = Note
        fields = ["resource", "text", "created_at", "updated_at"]


class NoteWriteSerializer(StrictInputSerializer):
    echoed = frozenset(NoteSerializer.Meta.fields)
    # Whitespace and the length are services.note_set's rules (it counts after trimming and
    # after "\r\n" becomes "\n"); the field only takes the text to it, so there is one check.
    text = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text=(
            f"Plain text, up to {NOTE_MAX_CHARS:,} characters (surrounding whitespace is "
            "removed first). Empty: the note is deleted (204)."
        ),
    )


class FocusItemSerializer(StrictInputSerializer):
    echoed = frozenset({"name"})  # FocusItemOutSerializer's
    area = SlugReferenceField(slug_field="slug", queryset=SecurityArea.objects.all())
    weight = serializers.FloatField(min_value=0.05, max_value=1.0, default=1.0)

    def to_internal_value(self, data: Any) -> Any:
        # `"focus": ["rbac"]` is what a client writes first (a walk-through did): a bare slug
        # is the item with that area and the default weight, not "Expected a dictionary".
        if isinstance(data, str):
            data = {"area": data}
        return super().to_internal_value(data)


class FocusItemOutSerializer(serializers.Serializer):
    area = serializers.CharField()
    name = serializers.CharField()
    weight = serializers.FloatField()


class ProfileSerializer(StrictInputSerializer):
    focus = FocusItemSerializer(
        many=True,
        required=False,
        help_text=(
            "Security areas to focus on, each with an optional weight in (0, 1]. An item may "
            'be just the area\'s slug: `["rbac"]` is `[{"area": "rbac", "weight": 1.0}]`.'
        ),
    )
    level = serializers.IntegerField(
        min_value=1,
        max_value=3,
        required=False,
        allow_null=True,
        help_text="1 beginner, 2 intermediate, 3 advanced; null: inferred from your progress.",
    )
    minutes_budget = serializers.IntegerField(
        min_value=MINUTES_MIN,
        max_value=MINUTES_MAX,
        required=False,
        allow_null=True,
        help_text="Default time budget for /api/me/queue/.",
    )

    def to_internal_value(self, data: Any) -> Any:
        # Each area may appear once, so a longer list is refused as it is, before each item is
        # looked up and answered: 100,000 items were 100,000 queries and as many errors (a
        # hostile-input sweep).
        focus = data.get("focus") if isinstance(data, Mapping) else None
        if isinstance(data, Mapping) and "focus" in data and not isinstance(focus, list):
            # DRF's answer was {"focus": {"non_field_errors": ["Expected a list of items but
            # got type \"str\"."]}}, for `"focus": "rbac"`.
            raise serializers.ValidationError(
                {"focus": ['Give a list of areas, such as ["rbac"] ([] for no focus).']}
            )
        if isinstance(focus, list) and len(focus) > (areas := SecurityArea.objects.count()):
            raise serializers.ValidationError(
                {"focus": [f"At most {areas} items: there are {areas} areas, each given once."]}
            )
        return super().to_internal_value(data)

    def validate_focus(self, value: list[dict]) -> list[dict]:
        # PATCH makes nested fields optional too (DRF's partial reaches into lists), so an item
        # without its area gets here: it is still an error, not a focus on nothing.
        if any("area" not in item for item in value):
            raise serializers.ValidationError("Each focus item needs an `area` (a slug).")
        slugs = [item["area"].slug for item in value]
        if len(slugs) != len(set(slugs)):
            raise serializers.ValidationError("Each area may appear once.")
        return value


class ProfileOutSerializer(serializers.Serializer):
    focus = FocusItemOutSerializer(many=True)
    level = serializers.IntegerField(allow_null=True)
    minutes_budget = serializers.IntegerField(allow_null=True)


class ReasonSerializer(serializers.Serializer):
    # The engine's reasons, and the catalog's health notes the queue adds (queue.HEALTH_KINDS).
    kind = serializers.ChoiceField(choices=[*REASON_KINDS, *HEALTH_KINDS])
    text = serializers.CharField()


class RecommendationSerializer(serializers.Serializer):
    resource = ResourceSerializer()
    score = serializers.FloatField()
    reasons = ReasonSerializer(many=True)


class NextSerializer(serializers.Serializer):
    finished = serializers.BooleanField()
    shortfall = serializers.ChoiceField(
        choices=["finished", "waiting", "budget"],
        allow_null=True,
        help_text="Why there is no recommendation (null when there is one).",
    )
    detail = serializers.CharField()
    note = serializers.CharField(
        allow_blank=True,
        help_text=(
            "Set while recommendations are warming up, or when your next path step needs more "
            "than your saved time budget and waits for a longer session (as on the queue)."
        ),
    )
    recommendation = RecommendationSerializer(allow_null=True)


class QueueSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    limit = serializers.IntegerField(help_text="The number of items asked for.")
    fill_ratio = serializers.FloatField(help_text="count / limit: 1.0 for a full queue.")
    total_minutes = serializers.IntegerField()
    minutes_budget = serializers.IntegerField(allow_null=True)
    note = serializers.CharField(
        allow_blank=True,
        help_text=(
            "Set while recommendations are warming up (path order), or when path steps wait "
            "for a longer session (see deferred)."
        ),
    )
    budget_fill = serializers.FloatField(
        allow_null=True,
        help_text=(
            "Share of the minutes budget the queue uses (unknown lengths count as 15 minutes); "
            "null without a budget."
        ),
    )
    shortfall = serializers.ChoiceField(
        choices=list(SHORTFALLS),
        allow_null=True,
        help_text=(
            "Why the queue is shorter than the limit: finished (nothing left), budget (nothing "
            "else fits in the minutes), waiting (the rest opens up as you progress); "
            "null when full."
        ),
    )
    detail = serializers.CharField(help_text="The shortfall in words; empty when full.")
    relaxed_level = serializers.IntegerField(
        allow_null=True,
        help_text=(
            "Difficulty the level cap was raised to because too few resources at your level "
            "were open; null when not raised."
        ),
    )
    deferred = serializers.ListField(
        child=serializers.IntegerField(),
        help_text=(
            "Resource ids (not step positions) of the path steps the queue passed over because "
            "they need more than the minutes budget (or than was left of it); later steps of "
            "the same stage come first. Empty without a budget."
        ),
    )
    results = RecommendationSerializer(many=True)


class SimilarItemSerializer(serializers.Serializer):
    resource = ResourceSerializer()
    similarity = serializers.FloatField()


class SimilarSerializer(serializers.Serializer):
    results = SimilarItemSerializer(many=True)


class QueryParamsSerializer(serializers.Serializer):
    """Query parameters, where `?limit=` (given but empty) is an error, not the default, and
    so is `?limit=2&limit=3` (it took the last one without a word, as the filters did), and
    so is a parameter it does not take, as on the lists (`?minute=30` answered a queue
    without a budget; an API client's walk-through)."""

    ALWAYS = UnknownParametersRefused.ALWAYS

    def to_internal_value(self, data):
        takes = sorted(str(name) for name in self.fields)
        problems: dict[str, list[str]] = {
            name: [f"Not a parameter here. This takes: {', '.join(takes) or 'none'}."]
            for name in sorted(set(data) - set(takes) - self.ALWAYS)
        }
        for name, field in self.fields.items():
            values = data.getlist(name) if hasattr(data, "getlist") and name in data else []
            if "" in values:
                problems[str(name)] = ["Give a value, or leave the parameter out."]
            elif len(values) > 1:
                problems[str(name)] = ["Give this parameter once."]
            elif values and isinstance(field, serializers.IntegerField):
                # Digits only, as `page` and `page_size` take them: the full-width 5, "+5"
                # and "5.0" were 5 here and a 400 there (an API client's walk-through).
                digits = values[0].removeprefix("-")  # -1 is told the bounds
                if not (digits.isascii() and digits.isdigit()):
                    problems[str(name)] = ["Give a whole number in digits, such as 10."]
        if problems:
            raise serializers.ValidationError(problems)
        return super().to_internal_value(data)


class QueueParamsSerializer(QueryParamsSerializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=50, default=10, help_text="How many items (1-50, default 10)."
    )
    minutes = serializers.IntegerField(
        min_value=MINUTES_MIN,
        max_value=MINUTES_MAX,
        required=False,
        help_text="Pack the best items that fit this many minutes (1-1440).",
    )


class NextParamsSerializer(QueryParamsSerializer):
    """`next` takes no parameters."""


class SimilarParamsSerializer(QueryParamsSerializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=50, default=5, help_text="How many (1-50, default 5)."
    )
