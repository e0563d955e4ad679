from __future__ import annotations

import re
from typing import Any, cast

from django.db import models
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog import selectors
from catalog.addresses import InvalidAddress
from catalog.models import (
    FEED_FIELDS,
    RESOURCE_MINUTES_MAX,
    Author,
    AuthorUpdate,
    Feed,
    LearningPath,
    LinkStatus,
    PathStep,
    Resource,
    SecurityArea,
    StalenessFlag,
    Tag,
)
from catalog.selectors import ResourceRelations
from catalog.services import DuplicateAddress, address_check
from kubelearn.api import ClearChoiceField, StrictInputSerializer

_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,120}")


class SlugReferenceField(serializers.SlugRelatedField):
    """A reference by slug that refuses malformed slugs before querying the database."""

    default_error_messages = {
        **serializers.SlugRelatedField.default_error_messages,
        "invalid_slug": "“{value}” is not a valid slug (letters, digits, - and _ only).",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            # Not Python's repr of it: '"{'a': {'b': 1}}" is not a valid slug' (walk-through).
            raise serializers.ValidationError("Give a slug as text.")
        if not _SLUG.fullmatch(data):
            self.fail("invalid_slug", value=data[:80])
        return super().to_internal_value(data)


class TagSerializer(StrictInputSerializer, serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["slug", "name"]


class AuthorSerializer(StrictInputSerializer, serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["slug", "name", "homepage"]


class SecurityAreaSerializer(StrictInputSerializer, serializers.ModelSerializer):
    class Meta:
        model = SecurityArea
        fields = ["slug", "name", "description"]


class PathPlacementSerializer(serializers.ModelSerializer):
    path: serializers.SlugRelatedField[LearningPath] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = PathStep
        fields = ["path", "position"]


# DRF's own datetime output (format and time zone from settings), without building this
# serializer's fields on every request.
_MOMENT = serializers.DateTimeField()


class ResourceListSerializer(serializers.ListSerializer):
    """A page of resources: their relations in four flat queries, not four prefetches."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        resources = list(data.all() if isinstance(data, models.manager.BaseManager) else data)
        child = cast(ResourceSerializer, self.child)
        if all(_prefetched(resource) for resource in resources):
            return [child.to_representation(resource) for resource in resources]
        relations = selectors.resource_relations([resource.pk for resource in resources])
        return [child.represent(resource, relations[resource.pk]) for resource in resources]


def _prefetched(resource: Resource) -> bool:
    cache = getattr(resource, "_prefetched_objects_cache", {})
    return all(
        name in cache
        for name in ("tags", "authors", "security_areas", "path_steps", "staleness_flags")
    )


class StalenessFlagSerializer(serializers.ModelSerializer):
    deprecation: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="The deprecations table's row."
    )
    successor = serializers.IntegerField(
        source="deprecation.successor_resource_id",
        read_only=True,
        allow_null=True,
        help_text="The id of the catalog resource about today's way, where there is one.",
    )

    class Meta:
        model = StalenessFlag
        fields = ["deprecation", "sentence", "state", "successor"]


class ResourceSerializer(serializers.ModelSerializer):
    """What readers get: taxonomy expanded to slug + name."""

    tags = TagSerializer(many=True, read_only=True)
    authors = AuthorSerializer(many=True, read_only=True)
    security_areas = SecurityAreaSerializer(many=True, read_only=True)
    path_steps = PathPlacementSerializer(many=True, read_only=True)
    needs_link = serializers.BooleanField(
        read_only=True,
        help_text="No address yet, and not served here: a curator has one to find.",
    )
    read_here = serializers.SerializerMethodField(
        help_text="For a resource whose text kubelearn serves itself (it has no address "
        "elsewhere): the path of its page on this service, to resolve against this API's own "
        "address. Null for every other resource."
    )
    link_status = serializers.ChoiceField(
        choices=LinkStatus.choices,
        read_only=True,
        help_text="The address's health: ok, redirected, failing, gone (unchecked until the "
        "first check).",
    )
    link_checked_at = serializers.DateTimeField(read_only=True, allow_null=True)
    link_final_url = serializers.CharField(
        read_only=True, allow_null=True, help_text="Where the address redirects to, if it does."
    )
    staleness = StalenessFlagSerializer(
        many=True,
        read_only=True,
        help_text="Outdated advice: the resource mentions something Kubernetes has removed.",
    )

    class Meta:
        model = Resource
        fields = [
            "id",
            "slug",
            "title",
            "url",
            "needs_link",
            "read_here",
            "kind",
            "summary",
            "authors",
            "tags",
            "stage",
            "difficulty",
            "security_areas",
            "estimated_minutes",
            "published_at",
            "status",
            "origin",
            "path_steps",
            "link_status",
            "link_checked_at",
            "link_final_url",
            "staleness",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        list_serializer_class = ResourceListSerializer

    def to_representation(self, instance: Resource) -> dict[str, Any]:
        return self.represent(instance, _relations_of(instance))

    def get_read_here(self, instance: Resource) -> str | None:
        # A path, not an absolute address: cards are cached per process, for every host.
        return reverse("learn:guide", args=[instance.slug]) if instance.served_here else None

    def represent(self, instance: Resource, relations: ResourceRelations) -> dict[str, Any]:
        """The declared fields, built directly: a list page serialises up to 100 of these.

        DRF's generic path costs a field lookup, a nested serializer and an ordered dict per
        relation per row; this is the same output (tests compare the two) at a fraction of
        the cost. `relations` come from the instance's prefetched relations, or for a list
        from selectors.resource_relations (no model instances at all).
        """
        moment = _MOMENT.to_representation
        published = instance.published_at
        link = instance.link_health
        checked = link.checked_at if link is not None else None
        return {
            "id": instance.pk,
            "slug": instance.slug,
            "title": instance.title,
            "url": instance.url,
            "needs_link": instance.needs_link,
            "read_here": self.get_read_here(instance),
            "kind": instance.kind,
            "summary": instance.summary,
            "authors": relations["authors"],
            "tags": relations["tags"],
            "stage": instance.stage,
            "difficulty": instance.difficulty,
            "security_areas": relations["security_areas"],
            "estimated_minutes": instance.estimated_minutes,
            "published_at": moment(published) if published is not None else None,
            "status": instance.status,
            "origin": instance.origin,
            "path_steps": relations["path_steps"],
            "link_status": link.status if link is not None else LinkStatus.UNCHECKED.value,
            "link_checked_at": moment(checked) if checked is not None else None,
            "link_final_url": (link.final_url or None) if link is not None else None,
            "staleness": relations["staleness"],
            "created_at": moment(instance.created_at),
            "updated_at": moment(instance.updated_at),
        }


def _relations_of(resource: Resource) -> ResourceRelations:
    return {
        "authors": [
            {"slug": a.slug, "name": a.name, "homepage": a.homepage} for a in resource.authors.all()
        ],
        "tags": [{"slug": t.slug, "name": t.name} for t in resource.tags.all()],
        "security_areas": [
            {"slug": a.slug, "name": a.name, "description": a.description}
            for a in resource.security_areas.all()
        ],
        "path_steps": [
            {"path": step.path.slug, "position": step.position}
            for step in resource.path_steps.all()
        ],
        "staleness": [
            {
                "deprecation": flag.deprecation.slug,
                "sentence": flag.sentence,
                "state": flag.state,
                "successor": flag.deprecation.successor_resource_id,
            }
            for flag in resource.staleness
        ],
    }


class ResourceWriteSerializer(StrictInputSerializer, serializers.ModelSerializer):
    """What curators send: taxonomy by slug. Status changes go through approve/reject."""

    serializer_choice_field = ClearChoiceField  # kind, stage, difficulty
    # A typo ("titel") answered 200 and changed nothing (a hostile-input sweep); what a GET of
    # the resource answers may come back unchanged.
    echoed = frozenset(ResourceSerializer.Meta.fields)

    url = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Absolute http(s) address; stored in canonical form. Empty when not known yet.",
    )
    tags = SlugReferenceField(
        slug_field="slug", queryset=Tag.objects.all(), many=True, required=False
    )
    authors = SlugReferenceField(
        slug_field="slug", queryset=Author.objects.all(), many=True, required=False
    )
    security_areas = SlugReferenceField(
        slug_field="slug", queryset=SecurityArea.objects.all(), many=True, required=False
    )
    estimated_minutes = serializers.IntegerField(
        min_value=1, max_value=RESOURCE_MINUTES_MAX, required=False, allow_null=True
    )

    class Meta:
        model = Resource
        fields = [
            "title",
            "url",
            "kind",
            "summary",
            "authors",
            "tags",
            "stage",
            "difficulty",
            "security_areas",
            "estimated_minutes",
            "published_at",
        ]

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A title cannot be blank.")
        return value.strip()

    def validate_url(self, value: str | None) -> str | None:
        try:
            return address_check(value, resource_pk=getattr(self.instance, "pk", None))
        except InvalidAddress as exc:
            raise serializers.ValidationError(str(exc)) from exc
        except DuplicateAddress as exc:
            owner = exc.existing
            raise serializers.ValidationError(
                f"Resource {owner.pk} (“{owner.title}”) already has this address."
            ) from exc


class PathStepResourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Resource
        fields = ["id", "slug", "title", "url", "kind", "stage", "estimated_minutes"]


class PathStepSerializer(serializers.ModelSerializer):
    resource = PathStepResourceSerializer(read_only=True)

    class Meta:
        model = PathStep
        fields = ["position", "note", "one_of", "resource"]


class LearningPathSerializer(serializers.ModelSerializer):
    steps = PathStepSerializer(many=True, read_only=True)

    class Meta:
        model = LearningPath
        fields = ["slug", "title", "description", "steps"]


class CurationResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()


class FeedSerializer(StrictInputSerializer, serializers.ModelSerializer):
    """A feed with its health; `url` may be a blog page, whose feed is then discovered."""

    url = serializers.CharField(
        max_length=2000,
        help_text="The feed's address, or a page that links to its feed (it is discovered).",
    )
    author = SlugReferenceField(
        slug_field="slug", queryset=Author.objects.all(), required=False, allow_null=True
    )
    health = serializers.CharField(
        read_only=True,
        help_text="checking (its address is being checked), check failed (last_error says "
        "why), inactive, failing "
        "(last_error says why), new (not polled yet), warning (the last document was damaged: "
        "last_warning says how; what could be read was stored) or ok.",
    )
    added_address = serializers.SerializerMethodField(
        help_text="The address a curator added (a feed, or a page that links to one); null "
        "for feeds that came from the seed or OPML."
    )
    site_url = serializers.SerializerMethodField(
        help_text="The site the feed belongs to; null until the feed names one."
    )

    class Meta:
        model = Feed
        fields = [
            "id",
            "url",
            "site_url",
            "title",
            "author",
            "active",
            "trusted",
            *Feed.ENTRY_LABELS,
            "state",
            "added_address",
            "health",
            *Feed.HEALTH_FIELDS,
            "created_at",
        ]
        read_only_fields = [
            "site_url",
            "state",
            "added_address",
            "health",
            *Feed.HEALTH_FIELDS,
            "created_at",
        ]

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_site_url(self, feed: Feed) -> str | None:
        # Stored as "" when unknown; the schema promises a URI, so unknown is null.
        return feed.site_url or None

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_added_address(self, feed: Feed) -> str | None:
        return feed.added_address or None

    def validate_url(self, value: str) -> str:
        if self.instance is not None and value != self.instance.url:
            raise serializers.ValidationError(
                "A feed's address cannot be edited; add the new address as a feed."
            )
        return value


class FeedPollQueuedSerializer(serializers.Serializer):
    feed_id = serializers.IntegerField()
    queued = serializers.BooleanField()
    detail = serializers.CharField()


class AuthorUpdateSerializer(serializers.ModelSerializer):
    """An author's edit of a resource a curator already decided on: the author's version of
    the fields a feed writes, waiting for a curator to take or keep theirs."""

    resource_title = serializers.CharField(
        source="resource.title",
        read_only=True,
        help_text="The resource's title as learners see it.",
    )
    changed = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The fields whose author's version differed from the resource's when found.",
    )
    version = serializers.CharField(
        read_only=True,
        help_text="Names this author's text: send it with take or keep, and a later edit "
        "that arrived meanwhile is never decided on unseen (409).",
    )

    class Meta:
        model = AuthorUpdate
        fields = [
            "id",
            "resource",
            "resource_title",
            "state",
            "changed",
            "title",
            "summary",
            "content_html",
            "published_at",
            "estimated_minutes",
            "seen_at",
            "decided_at",
            "version",
        ]
        read_only_fields = fields


class AuthorUpdateKeepSerializer(StrictInputSerializer):
    version = serializers.CharField(
        required=False,
        max_length=64,
        help_text="The `version` you were shown; refused with 409 when the author edited again.",
    )


class AuthorUpdateTakeSerializer(AuthorUpdateKeepSerializer):
    take = serializers.ListField(
        child=serializers.ChoiceField(choices=list(FEED_FIELDS)),
        allow_empty=False,
        help_text="The fields to take from the author's version: any of "
        + ", ".join(FEED_FIELDS)
        + ".",
    )
