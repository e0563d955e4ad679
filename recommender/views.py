from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.db.models import Model, Prefetch, QuerySet
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors as catalog_selectors
from catalog.models import Resource
from kubelearn.api import (
    UnknownParametersRefused,
    etag,
    etag_precondition,
    learner,
    precondition_refusal,
)
from kubelearn.parsers import SafeJSONParser
from recommender import queue, selectors, services
from recommender.filters import ProgressFilter
from recommender.models import LATER_DAYS, LearnerProfile, Note, Progress
from recommender.runtime import runtime
from recommender.serializers import (
    NextParamsSerializer,
    NextSerializer,
    NoteSerializer,
    NoteWriteSerializer,
    ProfileOutSerializer,
    ProfileSerializer,
    ProgressSerializer,
    ProgressWriteSerializer,
    QueueParamsSerializer,
    QueueSerializer,
    SimilarParamsSerializer,
    SimilarSerializer,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_Row = TypeVar("_Row", bound=Model)

_AUTH = {401: OpenApiResponse(description="Sign in first (Authorization: Token <key>).")}


def _with_cards(rows: QuerySet[_Row]) -> QuerySet[_Row]:
    """Rows of a learner's list (progress, notes) with what their resource cards show, fetched
    in one query per relation."""
    return rows.prefetch_related(
        "resource__tags",
        "resource__authors",
        "resource__security_areas",
        "resource__path_steps__path",
        Prefetch("resource__staleness_flags", queryset=catalog_selectors.staleness_flags_shown()),
    )


class ProgressListView(generics.ListAPIView):
    """Your progress, newest first; `?state=` (repeatable) keeps only those states, e.g. a
    history of `completed` and `skipped`."""

    serializer_class = ProgressSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [UnknownParametersRefused, DjangoFilterBackend]
    filterset_class = ProgressFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # The schema generator asks for the model (for the state filter) with no learner.
            return Progress.objects.none()
        return _with_cards(selectors.progress_list(user=learner(self.request)))


def _catalog_resource(request: Request, resource_id: int) -> Resource:
    """A resource the learner may read, or a 404 that says what an id outside the catalog
    may be: DRF's "No Resource matches the given query." left a walk-through's client to
    guess why progress it could still read and delete (GET, DELETE) could not be changed."""
    resource = catalog_selectors.resource_list(user=request.user).filter(pk=resource_id).first()
    if resource is None:
        raise NotFound("No resource in the catalog has this id: it may have been withdrawn.")
    return resource


def _etag_header(description: str) -> OpenApiParameter:
    """The ETag a 200 or 201 answers with, for the schema."""
    return OpenApiParameter(
        "ETag", str, OpenApiParameter.HEADER, response=[200, 201], description=description
    )


def _precondition_failed(
    name: str, current: serializers.Serializer, description: str
) -> OpenApiResponse:
    """A 412's body for the schema: why, and the row as it is now (`current`)."""
    return OpenApiResponse(
        inline_serializer(name, {"detail": serializers.CharField(), "current": current}),
        description=description,
    )


_PROGRESS_ETAG = _etag_header("The progress's version, for If-Match on a DELETE.")
_PROGRESS_IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='Forget only this version of the progress: its ETag, e.g. "3f2a…".',
)
_PROGRESS_PRECONDITION_FAILED = _precondition_failed(
    "ProgressPreconditionFailed",
    ProgressSerializer(allow_null=True),
    "The progress changed or was forgotten since it was read; nothing was forgotten.",
)
_PROGRESS_IF_MATCH_WRITE = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='Change only this version of the progress: its ETag, e.g. "3f2a…".',
)
_PROGRESS_UNCHANGED = _precondition_failed(
    "ProgressUnchanged",
    ProgressSerializer(allow_null=True),
    "The progress changed or was forgotten since it was read; nothing was changed.",
)


class ProgressDetailView(APIView):
    permission_classes = [IsAuthenticated]

    def _resource(self, request: Request, resource_id: int):
        return _catalog_resource(request, resource_id)

    @extend_schema(
        summary="Your progress on one resource",
        description="Answers with the progress's `ETag`, for `If-Match` on a DELETE.",
        parameters=[_PROGRESS_ETAG],
        responses={200: ProgressSerializer, 404: None, **_AUTH},
    )
    def get(self, request: Request, resource_id: int) -> Response:
        progress = get_object_or_404(
            selectors.progress_list(user=learner(request)), resource_id=resource_id
        )
        return _progress_response(progress)

    @extend_schema(
        summary="Set your progress on a resource (idempotent)",
        description=(
            "A completed resource stays completed: asking for `in_progress`, `planned` or "
            "`skipped` leaves it as it is (the answer shows the state kept), so a late or "
            "repeated request cannot undo a completion, and so does `completed` with `known` "
            "(reading stays reading). A completion that is only `known` (known already, not "
            "read here) is not a reading: any other state replaces it. Setting `completed` "
            "again changes the rating if the body has one (`null` removes it); without `rating`"
            " it keeps the one given before, so a late retry of the first request does not "
            "erase it. DELETE the progress first to start over. To change only the progress you"
            " read (a skip must not end a reading another device began since), send `If-Match` "
            "with its `ETag`: when it is not that one any more, nothing changes and the answer "
            "is 412 with the progress as it is now."
        ),
        request=ProgressWriteSerializer,
        parameters=[_PROGRESS_ETAG, _PROGRESS_IF_MATCH_WRITE],
        responses={
            200: ProgressSerializer,
            201: ProgressSerializer,
            400: None,
            404: None,
            412: _PROGRESS_UNCHANGED,
            **_AUTH,
        },
    )
    def put(self, request: Request, resource_id: int) -> Response:
        resource = self._resource(request, resource_id)
        serializer = ProgressWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sent = cast(Mapping[str, Any], request.data)  # an object: the serializer said so
        try:
            progress, created = services.progress_set(
                user=learner(request),
                resource=resource,
                state=serializer.validated_data["state"],
                rating=serializer.validated_data.get("rating", ...),
                known=serializer.validated_data["known"],
                later=serializer.validated_data["later"],
                later_days=serializer.validated_data.get("later_days", LATER_DAYS),
                # The API knows no learner's day: 1 day is 24 hours from now.
                later_at_day_start=False,
                # A body read and sent back as it was keeps the put-off it shows (it has no
                # `later`): the round trip the README allows had brought the item back.
                later_kept="later" not in sent and bool(sent.get("later_until")),
                only_if=_progress_precondition(request),
            )
        except services.ProgressChanged as changed:
            return _progress_changed(request, changed, "Nothing was changed")
        progress = Progress.objects.select_related("resource", "resource__link").get(pk=progress.pk)
        return _progress_response(
            progress, status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(
        summary="Forget your progress on a resource",
        description=(
            "To forget only the progress you read (never a completion another device made "
            "since), send `If-Match` with its `ETag`: when it is not that one any more, "
            "nothing is forgotten and the answer is 412 with the progress as it is now."
        ),
        parameters=[_PROGRESS_IF_MATCH],
        responses={204: None, 404: None, 412: _PROGRESS_PRECONDITION_FAILED, **_AUTH},
    )
    def delete(self, request: Request, resource_id: int) -> Response:
        try:
            forgotten = services.progress_forget(
                user=learner(request),
                resource_id=resource_id,
                only_if=_progress_precondition(request),
            )
        except services.ProgressChanged as changed:
            return _progress_changed(request, changed, "Nothing was forgotten")
        if not forgotten:
            return Response({"detail": "No progress recorded for this resource."}, status=404)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _progress_precondition(request: Request) -> Callable[[Progress | None], bool] | None:
    """The services' `only_if` for the request's If-Match (None without one)."""
    holds = etag_precondition(request)
    if holds is None:
        return None
    return lambda progress: holds(services.progress_version(progress) if progress else "")


def _progress_changed(request: Request, changed: services.ProgressChanged, kept: str) -> Response:
    """412: the progress is not the version the client's If-Match names; `kept` says what was
    not done. The body carries the progress as it is now (null: there is none)."""
    current = changed.current
    version = services.progress_version(current) if current else ""
    body = {
        "detail": precondition_refusal(request, version, "the progress", kept),
        "current": ProgressSerializer(current).data if current else None,
    }
    headers = {"ETag": etag(version)} if current else {}
    return Response(body, status=status.HTTP_412_PRECONDITION_FAILED, headers=headers)


def _progress_response(progress: Progress, code: int = status.HTTP_200_OK) -> Response:
    """Progress with its entity tag, for If-Match on a DELETE."""
    return Response(
        ProgressSerializer(progress).data,
        status=code,
        headers={"ETag": etag(services.progress_version(progress))},
    )


class NoteListView(generics.ListAPIView):
    """Your notes, the most recently written first (only on resources you can see now)."""

    serializer_class = NoteSerializer
    permission_classes = [IsAuthenticated]
    # No search or ordering here: without this the schema offered the defaults' ?search= and
    # ?ordering=, which did nothing.
    filter_backends: list = [UnknownParametersRefused]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Note.objects.none()
        return _with_cards(selectors.note_list(user=learner(self.request)))


_IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='Write only over this version of the note: its ETag, e.g. "3f2a…", or * for '
    "any existing note.",
)
_IF_NONE_MATCH_WRITE = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="* to write only when there is no note yet.",
)
_IF_NONE_MATCH_READ = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="The ETag you hold: 304 without a body while the note is still that one.",
)
_ETAG = _etag_header("The note's version, for If-Match on the next write.")
_PRECONDITION_FAILED = _precondition_failed(
    "NotePreconditionFailed",
    NoteSerializer(allow_null=True),
    "The note changed or was removed since it was read; nothing was written.",
)


class NoteDetailView(APIView):
    """Your private note on one resource (the id is the resource's)."""

    permission_classes = [IsAuthenticated]

    def _resource(self, request: Request, resource_id: int):
        return _catalog_resource(request, resource_id)

    @extend_schema(
        summary="Your note on one resource",
        description="Answers with the note's `ETag`; `If-None-Match` with it answers 304.",
        parameters=[_IF_NONE_MATCH_READ, _ETAG],
        responses={200: NoteSerializer, 304: None, 404: None, 412: None, **_AUTH},
    )
    def get(self, request: Request, resource_id: int) -> HttpResponseBase:
        resource = self._resource(request, resource_id)
        note = selectors.note_list(user=learner(request)).filter(resource=resource).first()
        if note is None:  # the words DELETE uses, not "No Note matches the given query."
            return Response({"detail": NO_NOTE}, status=status.HTTP_404_NOT_FOUND)
        note.resource = resource  # with its relations prefetched, for the card
        response = _note_response(note)
        # If-None-Match: a client holding this version gets a 304 without the body.
        conditional = get_conditional_response(
            request._request, etag=response["ETag"], response=response
        )
        return conditional or response

    @extend_schema(
        summary="Write your note on a resource (idempotent)",
        description=(
            "Replaces any earlier note. Plain text, kept as typed and shown escaped; trailing "
            "whitespace and leading blank lines are removed (the first line keeps its "
            "indentation). An empty text deletes the note (204). Your progress on the resource "
            "is not changed. To never overwrite a note written elsewhere since you read it, "
            "send `If-Match` with the `ETag` you read (or `If-None-Match: *` to only create): "
            "when the note is not that one any more, nothing is written and the answer is 412 "
            "with the note as it is now."
        ),
        request=NoteWriteSerializer,
        parameters=[_IF_MATCH, _IF_NONE_MATCH_WRITE, _ETAG],
        responses={
            200: NoteSerializer,
            201: NoteSerializer,
            204: None,
            400: None,
            404: None,
            412: _PRECONDITION_FAILED,
            **_AUTH,
        },
    )
    def put(self, request: Request, resource_id: int) -> Response:
        resource = self._resource(request, resource_id)
        serializer = NoteWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            note, created = services.note_set(
                user=learner(request),
                resource=resource,
                text=serializer.validated_data["text"],
                only_if=etag_precondition(request),
            )
        except services.NoteChanged as changed:
            return _note_changed(request, changed, resource)
        if note is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        note.resource = resource
        return _note_response(note, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="Delete your note on a resource",
        description="`If-Match` with the `ETag` you read deletes only that version (else 412).",
        parameters=[_IF_MATCH],
        responses={204: None, 404: None, 412: _PRECONDITION_FAILED, **_AUTH},
    )
    def delete(self, request: Request, resource_id: int) -> Response:
        resource = self._resource(request, resource_id)
        try:
            deleted = services.note_delete(
                user=learner(request), resource_id=resource.pk, only_if=etag_precondition(request)
            )
        except services.NoteChanged as changed:
            return _note_changed(request, changed, resource)
        if not deleted:
            return Response({"detail": NO_NOTE}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _note_response(note: Note, code: int = status.HTTP_200_OK) -> Response:
    """A note with its entity tag, for If-Match on the next write."""
    return Response(
        NoteSerializer(note).data,
        status=code,
        headers={"ETag": etag(services.note_version(note.text))},
    )


def _note_changed(request: Request, changed: services.NoteChanged, resource: Resource) -> Response:
    """412: the note is not the one the client's If-Match / If-None-Match named; nothing was
    written. The body carries the note as it is now (null: there is none), so the client can
    merge without another request."""
    current = changed.current
    version = services.note_version(current.text) if current is not None else ""
    headers = {}
    if current is not None:
        current.resource = resource
        headers["ETag"] = etag(version)
    return Response(
        {
            "detail": precondition_refusal(request, version, "the note"),
            "current": NoteSerializer(current).data if current is not None else None,
        },
        status=status.HTTP_412_PRECONDITION_FAILED,
        headers=headers,
    )


NO_NOTE = "No note on this resource."


def _profile_out(profile: LearnerProfile | None) -> dict:
    if profile is None:
        return {"focus": [], "level": None, "minutes_budget": None}
    return {
        "focus": [
            {"area": item.area.slug, "name": item.area.name, "weight": item.weight}
            for item in profile.focus.all()
        ],
        "level": profile.level,
        "minutes_budget": profile.minutes_budget,
    }


def _profile_response(user: User) -> Response:
    """The profile with its entity tag, for If-Match on the next PATCH."""
    profile = selectors.learner_profile(user=user)
    return Response(
        _profile_out(profile),
        headers={"ETag": etag(services.profile_version(profile))},
    )


_PROFILE_ETAG = _etag_header("The profile's version, for If-Match on the next PATCH.")
_PROFILE_IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='Change only this version of the profile: its ETag, e.g. "3f2a…".',
)
_PROFILE_UNCHANGED = _precondition_failed(
    "ProfileUnchanged",
    ProfileOutSerializer(),
    "The profile changed since it was read (another device, another client); nothing was changed.",
)


class ProfileView(APIView):
    permission_classes = [IsAuthenticated]
    # JSON only: a form body cannot say a list of {area, weight}, and `focus=…` in one was
    # dropped without a word (a walk-through's PATCH answered 200 and changed nothing).
    parser_classes = [SafeJSONParser]

    @extend_schema(
        summary="Your learner profile",
        parameters=[_PROFILE_ETAG],
        responses={200: ProfileOutSerializer, **_AUTH},
    )
    def get(self, request: Request) -> Response:
        return _profile_response(learner(request))

    @extend_schema(
        summary="Change your focus, level or time budget",
        description=(
            "To change only the profile you read (not one another device changed since), send "
            "`If-Match` with its `ETag`: when it is not that one any more, the answer is 412 "
            "with the profile as it is now in `current`, and nothing is changed."
        ),
        request=ProfileSerializer,
        parameters=[_PROFILE_IF_MATCH, _PROFILE_ETAG],
        responses={
            200: ProfileOutSerializer,
            400: None,
            412: _PROFILE_UNCHANGED,
            **_AUTH,
        },
    )
    def patch(self, request: Request) -> Response:
        serializer = ProfileSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            services.profile_update(
                user=learner(request),
                focus=(
                    {item["area"].slug: item.get("weight", 1.0) for item in data["focus"]}
                    if "focus" in data
                    else None
                ),
                level=data.get("level", ...),
                minutes_budget=data.get("minutes_budget", ...),
                only_if=etag_precondition(request),
            )
        except services.ProfileChanged:
            current = selectors.learner_profile(user=learner(request))
            version = services.profile_version(current)
            return Response(
                {
                    "detail": precondition_refusal(request, version, "the profile"),
                    "current": _profile_out(current),
                },
                status=status.HTTP_412_PRECONDITION_FAILED,
                headers={"ETag": etag(version)},
            )
        return _profile_response(learner(request))


class NextView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="What to read next, and why",
        responses={200: NextSerializer, 400: None, **_AUTH},
    )
    def get(self, request: Request) -> Response:
        NextParamsSerializer(data=request.query_params).is_valid(raise_exception=True)
        return Response(queue.next_answer(user=learner(request)))


class QueueView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Your reading queue, in order, with reasons",
        # The serializer that validates the query documents it, bounds included.
        parameters=[QueueParamsSerializer],
        responses={200: QueueSerializer, 400: None, **_AUTH},
    )
    def get(self, request: Request) -> Response:
        params = QueueParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response(
            queue.queue_answer(
                user=learner(request),
                limit=params.validated_data["limit"],
                minutes=params.validated_data.get("minutes"),
            )
        )


class SimilarView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Approved resources most like this one",
        parameters=[SimilarParamsSerializer],
        responses={200: SimilarSerializer, 400: None, 404: None},
    )
    def get(self, request: Request, resource_id: int) -> Response:
        get_object_or_404(catalog_selectors.resource_list(user=request.user), pk=resource_id)
        params = SimilarParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        pairs = (
            queue.resource_similar(resource_id=resource_id, limit=params.validated_data["limit"])
            or []
        )
        resources = runtime.cards([resource for resource, _ in pairs])  # rows fetched already
        return Response(
            {
                "results": [
                    {"resource": resource, "similarity": score}
                    for resource, (_, score) in zip(resources, pairs, strict=True)
                ]
            }
        )
