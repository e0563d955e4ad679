from __future__ import annotations

from datetime import UTC
from typing import Any, cast

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.serializers import BaseSerializer

from catalog import pages, selectors, services
from catalog.addresses import InvalidAddress
from catalog.feeds import services as feed_services
from catalog.filters import (
    AuthorUpdateFilter,
    ResourceFilter,
    ResourceOrderingFilter,
    ResourceSearchFilter,
)
from catalog.history import ADDED, CHANGED, feed_history_add, history_add, history_deleted
from catalog.models import Author, AuthorUpdate, Feed, SecurityArea, Tag
from catalog.serializers import (
    AuthorSerializer,
    AuthorUpdateKeepSerializer,
    AuthorUpdateSerializer,
    AuthorUpdateTakeSerializer,
    FeedPollQueuedSerializer,
    FeedSerializer,
    LearningPathSerializer,
    ResourceSerializer,
    ResourceWriteSerializer,
    SecurityAreaSerializer,
    TagSerializer,
)
from kubelearn.api import IsCurator, IsCuratorOrReadOnly, UnknownParametersRefused
from kubelearn.converters import ID_REGEX

_WRITE_ERRORS = {
    400: OpenApiResponse(description="Invalid fields, with a message per field."),
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Signed in, but not a curator."),
}


@extend_schema_view(
    list=extend_schema(
        summary="List resources",
        description="Approved resources for everyone; curators also see pending and rejected.",
    ),
    retrieve=extend_schema(summary="One resource", responses={200: ResourceSerializer, 404: None}),
    create=extend_schema(
        summary="Add a resource (curators)",
        request=ResourceWriteSerializer,
        responses={201: ResourceSerializer, **_WRITE_ERRORS},
    ),
    update=extend_schema(
        summary="Replace a resource (curators)",
        request=ResourceWriteSerializer,
        responses={200: ResourceSerializer, 404: None, **_WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit a resource (curators)",
        request=ResourceWriteSerializer,
        responses={200: ResourceSerializer, 404: None, **_WRITE_ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete a resource (curators)",
        description=(
            "Refused (409) while learners have progress or notes on the resource: reject it "
            "instead, which takes it out of the catalog and keeps their history."
        ),
        responses={
            204: None,
            404: None,
            401: _WRITE_ERRORS[401],
            403: _WRITE_ERRORS[403],
            409: OpenApiResponse(description="Learners have progress or notes on it."),
        },
    ),
)
class ResourceViewSet(viewsets.ModelViewSet):
    lookup_value_regex = ID_REGEX
    serializer_class = ResourceSerializer
    permission_classes = [IsCuratorOrReadOnly]
    filterset_class = ResourceFilter
    filter_backends = [
        UnknownParametersRefused,
        DjangoFilterBackend,
        ResourceSearchFilter,
        ResourceOrderingFilter,
    ]
    ordering_fields = ["title", "published_at", "created_at", "difficulty", "estimated_minutes"]
    ordering = ["title", "id"]

    def get_queryset(self):
        # A list page reads its relations flat (ResourceListSerializer), not by prefetching.
        return selectors.resource_list(
            user=self.request.user,
            relations=self.action != "list",
            curator=selectors.request_user_is_curator(self.request),
        )

    def list(self, request: Request, *args, **kwargs) -> Response:
        # Everyone but curators sees the same approved catalog: such a page is shared, and
        # cached until the catalog changes (catalog.pages). Curators' pages are never cached.
        if not pages.enabled() or selectors.request_user_is_curator(request):
            return super().list(request, *args, **kwargs)
        key = pages.page_key(
            address=request.build_absolute_uri(request.path),
            params=dict(request.query_params.lists()),
        )
        if key is None:
            return super().list(request, *args, **kwargs)
        page = pages.page_get(key)
        if page is None:
            response = super().list(request, *args, **kwargs)
            pages.page_set(key, response.data)
            return response
        return Response(page)

    def _save(self, request: Request, *, instance, partial: bool) -> Response:
        serializer = ResourceWriteSerializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        try:
            resource = services.resource_save(
                resource=instance, fields=dict(serializer.validated_data), by=request.user
            )
        except services.DuplicateAddress as exc:
            raise ValidationError({"url": [str(exc)]}) from exc
        except InvalidAddress as exc:
            raise ValidationError({"url": [str(exc)]}) from exc
        history_add(
            by=request.user,
            resource_ids=[resource.pk],
            flag=ADDED if instance is None else CHANGED,
            message="Added through the API."
            if instance is None
            else f"Changed {', '.join(sorted(serializer.validated_data)) or 'nothing'} "
            "through the API.",
        )
        resource = self.get_queryset().get(pk=resource.pk)
        code = status.HTTP_201_CREATED if instance is None else status.HTTP_200_OK
        return Response(ResourceSerializer(resource).data, status=code)

    def create(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request, instance=None, partial=False)

    def update(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request, instance=self.get_object(), partial=kwargs.get("partial", False))

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        found = self.get_object()
        resource_id, name = found.pk, str(found)  # Django forgets the pk on delete
        try:
            services.resource_delete(resource=found, by=request.user)
        except services.UsedByLearners as refused:
            # Learners' progress and notes are theirs: never deleted with a resource, here or
            # in the admin, whoever asks.
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        history_deleted(
            by=request.user, resource_id=resource_id, name=name, message="Deleted through the API."
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Approve a resource (curators)",
        request=None,
        responses={
            200: ResourceSerializer,
            404: None,
            401: _WRITE_ERRORS[401],
            403: _WRITE_ERRORS[403],
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsCurator])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._decided(request, services.resource_approve, "Approved")

    @extend_schema(
        summary="Reject a resource (curators)",
        request=None,
        responses={
            200: ResourceSerializer,
            404: None,
            401: _WRITE_ERRORS[401],
            403: _WRITE_ERRORS[403],
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsCurator])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._decided(request, services.resource_reject, "Rejected")

    def _decided(self, request: Request, decide: Any, said: str) -> Response:
        """Approve or reject the resource; a change of status goes in its History."""
        found = self.get_object()
        was = found.status
        resource = decide(resource=found, by=request.user)
        if resource.status != was:
            history_add(
                by=request.user,
                resource_ids=[resource.pk],
                flag=CHANGED,
                message=f"{said} through the API.",
            )
        return Response(ResourceSerializer(self.get_queryset().get(pk=resource.pk)).data)


class _TaxonomyViewSet(viewsets.ModelViewSet):
    """Tags, authors and areas: the serializer validates, a catalog service writes."""

    permission_classes = [IsCuratorOrReadOnly]
    lookup_field = "slug"
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "slug"]
    ordering = ["name"]

    def service_save(self, row: Any, fields: dict[str, Any]) -> Any:
        raise NotImplementedError

    def service_delete(self, rows: QuerySet[Any]) -> None:
        raise NotImplementedError

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = self.service_save(None, dict(serializer.validated_data))

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = self.service_save(
            serializer.instance, dict(serializer.validated_data)
        )

    def perform_destroy(self, instance: Any) -> None:
        self.service_delete(type(instance).objects.filter(pk=instance.pk))


@extend_schema_view(list=extend_schema(summary="List tags"))
class TagViewSet(_TaxonomyViewSet):
    queryset = Tag.objects.all()
    serializer_class = TagSerializer

    def service_save(self, row: Tag | None, fields: dict[str, Any]) -> Tag:
        return services.tag_save(tag=row, fields=fields, by=self.request.user)

    def service_delete(self, rows: QuerySet[Tag]) -> None:
        services.tags_delete(tags=rows, by=self.request.user)


@extend_schema_view(list=extend_schema(summary="List authors"))
class AuthorViewSet(_TaxonomyViewSet):
    queryset = Author.objects.all()
    serializer_class = AuthorSerializer

    def service_save(self, row: Author | None, fields: dict[str, Any]) -> Author:
        return services.author_save(author=row, fields=fields, by=self.request.user)

    def service_delete(self, rows: QuerySet[Author]) -> None:
        services.authors_delete(authors=rows, by=self.request.user)


@extend_schema_view(list=extend_schema(summary="List security areas"))
class SecurityAreaViewSet(_TaxonomyViewSet):
    queryset = SecurityArea.objects.all()
    serializer_class = SecurityAreaSerializer

    def service_save(self, row: SecurityArea | None, fields: dict[str, Any]) -> SecurityArea:
        return services.area_save(area=row, fields=fields, by=self.request.user)

    def service_delete(self, rows: QuerySet[SecurityArea]) -> None:
        services.areas_delete(areas=rows, by=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List learning paths with their ordered steps"),
    retrieve=extend_schema(summary="One learning path with its ordered steps"),
)
class LearningPathViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = LearningPathSerializer
    lookup_field = "slug"
    filter_backends: list = [UnknownParametersRefused]

    def get_queryset(self):
        return selectors.path_list(user=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List feeds with their health (curators)"),
    retrieve=extend_schema(summary="One feed with its health (curators)"),
    create=extend_schema(
        summary="Add a feed by its address or a page that links to it (curators)",
        description=(
            "Answers at once: 202 with the feed in the `checking` state while a worker fetches "
            "the address and discovers its feed; follow `Location` (the feed) until `state` is "
            "`ready` (then its first poll is queued) or `failed` (`last_error` says why). "
            "An address already followed answers 200 with its feed; one whose check failed is "
            "checked again."
        ),
        responses={
            202: FeedSerializer,
            200: OpenApiResponse(FeedSerializer, description="Already followed."),
            **_WRITE_ERRORS,
        },
    ),
    update=extend_schema(summary="Edit a feed (curators)"),
    partial_update=extend_schema(summary="Edit a feed: trust, activate, author (curators)"),
    destroy=extend_schema(summary="Remove a feed; its resources stay (curators)"),
)
class FeedViewSet(viewsets.ModelViewSet):
    lookup_value_regex = ID_REGEX
    serializer_class = FeedSerializer
    permission_classes = [IsCurator]
    queryset = Feed.objects.select_related("author")
    search_fields = ["url", "title"]
    ordering_fields = ["title", "last_polled_at", "consecutive_failures", "next_poll_at"]
    ordering = ["title", "url"]

    def perform_update(self, serializer: BaseSerializer) -> None:
        # An update always has the instance DRF looked up (get_object).
        feed = cast(Feed, serializer.instance)
        serializer.instance = feed_services.feed_save(
            feed=feed, fields=dict(serializer.validated_data)
        )
        feed_history_add(
            by=self.request.user,
            feed_ids=[feed.pk],
            flag=CHANGED,
            message=f"Changed {', '.join(sorted(serializer.validated_data)) or 'nothing'} "
            "through the API.",
        )

    def perform_destroy(self, instance: Feed) -> None:
        feed_services.feeds_delete(feeds=Feed.objects.filter(pk=instance.pk))

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        author = data.get("author")
        try:
            feed, queued = feed_services.feed_add_request(
                address=data["url"],
                trusted=data.get("trusted", False),
                author_id=author.pk if author else None,
                title=data.get("title", ""),
                entry_labels=data,
            )
        except feed_services.FeedAddError as exc:
            raise ValidationError({"url": [str(exc)]}) from exc
        feed.refresh_from_db()  # an in-process worker (no broker) may have checked it already
        return Response(
            FeedSerializer(feed).data,
            status=status.HTTP_202_ACCEPTED if queued else status.HTTP_200_OK,
            headers={"Location": reverse("feed-detail", args=[feed.pk], request=request)},
        )

    @extend_schema(
        summary="Poll a feed now (curators)",
        request=None,
        responses={
            202: FeedPollQueuedSerializer,
            404: None,
            409: OpenApiResponse(description="A poll of this feed is already running."),
            503: OpenApiResponse(description="The task queue is unavailable; retry later."),
            **{k: v for k, v in _WRITE_ERRORS.items() if k != 400},
        },
    )
    @action(detail=True, methods=["post"])
    def poll(self, request: Request, pk: str | None = None) -> Response:
        feed = self.get_object()
        try:
            queued = feed_services.feed_poll_enqueue(feed_id=feed.pk)
        except feed_services.QueueUnavailable as exc:
            return Response(
                {"feed_id": feed.pk, "queued": False, "detail": str(exc)},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        if not queued:
            # Until when: a poll whose worker died holds its claim until then, and "already
            # running" alone kept an operator retrying a poll that was not (a walk-through).
            feed.refresh_from_db(fields=["claimed_until"])
            until = feed.claimed_until
            lapse = (
                f" If it has stopped (its worker died), it is polled again after "
                f"{until.astimezone(UTC):%H:%M:%S} UTC, when its claim lapses."
                if until
                else ""
            )
            return Response(
                {
                    "feed_id": feed.pk,
                    "queued": False,
                    "detail": f"A poll is already running.{lapse}",
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(
            {"feed_id": feed.pk, "queued": True, "detail": "Poll queued."},
            status=status.HTTP_202_ACCEPTED,
        )


_DECIDED = OpenApiResponse(
    description="Decided already (by another curator, or an earlier request), or the author "
    "edited it again since the `version` sent: nothing changed; `update` is as it is now."
)


@extend_schema_view(
    list=extend_schema(
        summary="Authors' edits of reviewed resources (curators)",
        description="Each waits for a curator to take the author's version or keep theirs; "
        "`?state=waiting` lists what needs a decision. Newest first.",
    ),
    retrieve=extend_schema(summary="One author's update (curators)"),
)
class AuthorUpdateViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_REGEX
    serializer_class = AuthorUpdateSerializer
    permission_classes = [IsCurator]
    queryset = AuthorUpdate.objects.select_related("resource").order_by("-seen_at", "-id")
    filterset_class = AuthorUpdateFilter
    search_fields = ["resource__title", "title"]
    ordering_fields = ["seen_at"]

    def _answer(self, outcome: str, update: AuthorUpdate) -> Response:
        update.refresh_from_db()
        if outcome == services.DECIDED:
            return Response(AuthorUpdateSerializer(update).data)
        detail = (
            "Decided already: nothing changed."
            if outcome == services.DECIDED_ALREADY
            else "The author edited it again since that version: nothing changed. "
            "`update` is the newest; decide on it."
        )
        return Response(
            {"detail": detail, "update": AuthorUpdateSerializer(update).data},
            status=status.HTTP_409_CONFLICT,
        )

    @extend_schema(
        summary="Take fields of the author's version (curators)",
        description="The chosen fields are written over the resource as a curator's edit "
        "(later polls keep it); the update is settled.",
        request=AuthorUpdateTakeSerializer,
        responses={200: AuthorUpdateSerializer, 404: None, 409: _DECIDED, **_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def take(self, request: Request, pk: str | None = None) -> Response:
        update = self.get_object()
        serializer = AuthorUpdateTakeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return self._answer(
            services.author_update_take(
                update=update, fields=data["take"], by=request.user, version=data.get("version")
            ),
            update,
        )

    @extend_schema(
        summary="Keep the curator's version (curators)",
        description="The author's version is remembered as seen: the same text is not asked "
        "about again; a newer edit is.",
        request=AuthorUpdateKeepSerializer,
        responses={200: AuthorUpdateSerializer, 404: None, 409: _DECIDED, **_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def keep(self, request: Request, pk: str | None = None) -> Response:
        update = self.get_object()
        serializer = AuthorUpdateKeepSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = serializer.validated_data.get("version")
        return self._answer(
            services.author_update_keep(update=update, by=request.user, version=version), update
        )
