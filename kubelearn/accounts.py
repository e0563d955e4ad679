"""Learner accounts for API clients: registration, token sign-in, and the account itself (its
reset address, its deletion), as the account page offers them in the browser."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth import models as auth_models
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from kubelearn.api import StrictInputSerializer, learner
from kubelearn.parsers import SafeJSONParser, StrictFormParser, StrictMultiPartParser
from kubelearn.password_validation import PASSWORD_MAX_CHARS
from kubelearn.signin import users_named
from learn import emails as learn_emails
from learn import selectors as learn_selectors
from learn import services as learn_services
from learn.models import PendingEmail

User = get_user_model()


class UsernameField(serializers.RegexField):
    """A username: text (a number is read as its digits). A list or an object was told "Use
    letters, digits and @/./+/-/_ only." (a hostile-input sweep).

    Normalised as the web's sign-up form and `create_user` normalise it (NFKC) before it is
    checked: "jose" in full-width letters passed the any-case check against "Jose" and was then
    stored as "jose", a second account differing only by case; a name typed with a combining
    accent ("Jose" + U+0301, as some keyboards send "José") was told to use letters only."""

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, bool) or not isinstance(data, str | int):
            raise serializers.ValidationError("Give the username as text.")
        return super().to_internal_value(User.normalize_username(str(data)))


class RegisterSerializer(StrictInputSerializer):
    username = UsernameField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        error_messages={"invalid": "Use letters, digits and @/./+/-/_ only."},
    )
    password = serializers.CharField(
        write_only=True, max_length=PASSWORD_MAX_CHARS, style={"input_type": "password"}
    )
    email = serializers.EmailField(
        required=False,
        allow_blank=True,
        max_length=254,  # the user table's column
        validators=[learn_emails.deliverable_address_check],
        help_text="Mailed a link: it receives password-reset links once that link is opened.",
    )

    def validate_username(self, value: str) -> str:
        if users_named(value).exists():
            raise serializers.ValidationError("This username is taken.")
        return value

    def validate(self, attrs: dict) -> dict:
        candidate = User(username=attrs["username"], email=attrs.get("email", ""))
        try:
            password_validation.validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    username = serializers.CharField()


class RegisterResponseSerializer(TokenResponseSerializer):
    email_pending = serializers.CharField(
        allow_null=True,
        help_text="The address given, waiting for its owner to open the link mailed to it; "
        "null when none was given.",
    )
    detail = serializers.CharField(
        required=False, help_text="With an address: whether its link went out, for a person."
    )


def account_register(*, username: str, password: str) -> tuple[AbstractUser, Token]:
    """Create a learner account and its API token in one transaction. An e-mail address is
    asked for after it (learn.services.account_email_request): it waits to be confirmed."""
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password)
        token = Token.objects.create(user=user)
    return user, token


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_scope = "auth"
    throttle_classes = [ScopedRateThrottle]  # as the token endpoint: its own limit only

    @extend_schema(
        summary="Create a learner account",
        request=RegisterSerializer,
        responses={
            201: RegisterResponseSerializer,
            400: OpenApiResponse(description="Invalid username or password, per field."),
            429: OpenApiResponse(description="Too many attempts; retry later."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            user, token = account_register(username=data["username"], password=data["password"])
        except IntegrityError:
            # Two registrations for one name raced past validation.
            raise serializers.ValidationError({"username": ["This username is taken."]}) from None
        body: dict[str, Any] = {
            "token": token.key,
            "username": user.username,
            "email_pending": None,
        }
        if data.get("email"):
            # Reset links go to it once its owner opens the link mailed to it.
            learner = cast(auth_models.User, user)
            change = learn_services.account_email_request(
                user=learner, email=data["email"], link_for=learn_emails.link_for(request)
            )
            body["email_pending"] = change.email
            body["detail"] = learn_services.email_change_message(
                change, user=learner, resend_where="PATCH /api/me/account/ (the same address)"
            )
        return Response(body, status=status.HTTP_201_CREATED, headers=SECRET_ANSWER_HEADERS)


class SignInSerializer(StrictInputSerializer, AuthTokenSerializer):
    """Username and password, nothing else: `{"username": …, "pasword": …}` was answered as a
    missing password while an unknown field elsewhere in the API is named (a walk-through)."""


# An answer carrying a token is kept by no cache, shared or the client's own (an API
# walk-through found only `Vary: Accept` on them).
SECRET_ANSWER_HEADERS = {"Cache-Control": "no-store"}


class TokenView(ObtainAuthToken):
    serializer_class = SignInSerializer
    throttle_scope = "auth"
    # ObtainAuthToken ships with no throttling at all; sign-in is the brute-force target. Its
    # own limit only, not the anonymous reads': a class's browsing used those up, and then
    # nobody in the room could get a token (a classroom walk-through).
    throttle_classes = [ScopedRateThrottle]
    # ObtainAuthToken pins DRF's plain parsers; use the project's, which refuse hostile JSON.
    parser_classes = [SafeJSONParser, StrictFormParser, StrictMultiPartParser]

    @extend_schema(
        summary="Exchange username and password for an API token",
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(description="Wrong credentials or missing fields."),
            429: OpenApiResponse(description="Too many attempts; retry later."),
        },
        auth=[],
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # django-axes refused the sign-in before checking the password; say so (its
            # middleware only sees Django's request, not DRF's, so it cannot answer for us).
            if getattr(request, "axes_locked_out", False):
                hours = settings.AXES_COOLOFF_TIME
                return Response(
                    {
                        "detail": "Too many failed sign-ins for this account; retry in "
                        f"{hours} hour{'' if hours == 1 else 's'}."
                    },
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                    # At most: the lock lifts that long after the last failed attempt.
                    headers={"Retry-After": str(int(hours) * 3600)},
                )
            raise serializers.ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        token, _ = Token.objects.get_or_create(user=user)
        return Response(
            {"token": token.key, "username": user.username}, headers=SECRET_ANSWER_HEADERS
        )

    @extend_schema(
        summary="Revoke your API token: every client using it is signed out",
        description="Signing in again (`POST` here) makes a new token. A new password, set on "
        "the Account page or from a reset link, revokes it too.",
        request=None,
        responses={204: OpenApiResponse(description="Revoked (or there was none).")},
    )
    def delete(self, request: Request, *args, **kwargs) -> Response:
        learn_services.api_token_revoke(user=learner(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def get_permissions(self) -> list:
        # Signing in needs nobody signed in; revoking needs the token (or session) revoked.
        return [IsAuthenticated()] if self.request.method == "DELETE" else []

    def get_throttles(self) -> list[BaseThrottle]:
        # Only a password check counts toward sign-in's limit.
        return [] if self.request.method == "DELETE" else super().get_throttles()


class AccountSerializer(serializers.Serializer):
    username = serializers.CharField(read_only=True)
    # Text, not EmailField: its schema said `format: email`, which "" (no address) is not, and
    # clients generated from the schema refused the answer (an API client's walk-through).
    email = serializers.CharField(
        read_only=True,
        help_text="Where password-reset links go, confirmed by its owner; empty when there is "
        "none.",
    )
    email_pending = serializers.SerializerMethodField(
        help_text="An address asked for and waiting for its owner to open the link mailed to "
        "it; null when none waits."
    )
    email_pending_sent_at = serializers.SerializerMethodField(
        help_text="When its last link went out; null if none could be sent yet."
    )
    date_joined = serializers.DateTimeField(read_only=True)

    def _pending(self, user: auth_models.User) -> PendingEmail | None:
        if not hasattr(self, "_pending_email"):
            self._pending_email = learn_selectors.pending_email(user=user)
        return self._pending_email

    def get_email_pending(self, user: auth_models.User) -> str | None:
        pending = self._pending(user)
        return pending.email if pending else None

    def get_email_pending_sent_at(self, user: auth_models.User) -> datetime | None:
        pending = self._pending(user)
        return pending.sent_at if pending else None


class AccountChangeSerializer(AccountSerializer):
    detail = serializers.CharField(
        read_only=True, help_text="What the change did and what to do next, for a person."
    )


class PasswordConfirmedSerializer(StrictInputSerializer):
    """The account's password, asked again: a token alone (copied from a script, a laptop
    left open) must not be enough to redirect password resets or to delete everything."""

    password = serializers.CharField(
        write_only=True,
        max_length=PASSWORD_MAX_CHARS,
        trim_whitespace=False,
        style={"input_type": "password"},
    )

    def validate_password(self, value: str) -> str:
        if not self.context["user"].check_password(value):
            raise serializers.ValidationError("That is not your password; nothing was changed.")
        return value


class AccountEmailSerializer(PasswordConfirmedSerializer):
    # AccountSerializer's and AccountChangeSerializer's: an answer may be sent back as it is.
    echoed = frozenset(
        {"username", "date_joined", "email_pending", "email_pending_sent_at", "detail"}
    )
    email = serializers.EmailField(
        max_length=254,
        allow_blank=True,
        validators=[learn_emails.deliverable_address_check],
        help_text="A new address waits (`email_pending`) until its owner opens the link mailed "
        "to it; `email` keeps the confirmed one until then. The waiting address again sends "
        "its link again; the confirmed one again drops the waiting one; empty removes both. "
        "Each address is confirmed on one account at most: one another account has is "
        "answered alike, and its owner is told instead of mailed a link.",
    )


def _confirmed(
    request: Request, serializer_class: type[PasswordConfirmedSerializer]
) -> tuple[auth_models.User, dict[str, Any]]:
    """The signed-in learner and the request's fields, once their password is checked
    (400 with a message per field otherwise)."""
    user = learner(request)
    serializer = serializer_class(data=request.data, context={"user": user})
    serializer.is_valid(raise_exception=True)
    return user, serializer.validated_data


ACCOUNT_DELETE_RESPONSES = {
    204: OpenApiResponse(description="Deleted."),
    400: OpenApiResponse(description="Wrong or missing password; nothing was deleted."),
    403: OpenApiResponse(description="A curator account; nothing was deleted."),
    429: OpenApiResponse(description="Too many attempts; retry later."),
}


class AccountView(APIView):
    """The signed-in learner's account: read it, change its reset address, delete it."""

    permission_classes = [IsAuthenticated]
    # The password is checked here: as rate-limited as signing in.
    throttle_scope = "auth"
    throttle_classes = [ScopedRateThrottle]

    def get_throttles(self) -> list[BaseThrottle]:
        # Reading the account checks no password: only the writes share sign-in's limit.
        return [] if self.request.method == "GET" else super().get_throttles()

    @extend_schema(summary="Your account", responses={200: AccountSerializer})
    def get(self, request: Request) -> Response:
        return Response(AccountSerializer(learner(request)).data)

    @extend_schema(
        summary="Change or remove the address password-reset links go to",
        description="A new address is mailed a link; it becomes `email` when that link is "
        "opened (and the address it replaces is told). `detail` says whether the link went "
        "out: a few mails an hour at most, per account and per address.",
        request=AccountEmailSerializer,
        responses={
            200: AccountChangeSerializer,
            400: OpenApiResponse(description="Wrong password or an invalid address, per field."),
            429: OpenApiResponse(description="Too many attempts; retry later."),
        },
    )
    def patch(self, request: Request) -> Response:
        user, data = _confirmed(request, AccountEmailSerializer)
        change = learn_services.account_email_request(
            user=user, email=data["email"], link_for=learn_emails.link_for(request)
        )
        detail = learn_services.email_change_message(
            change, user=user, resend_where="here (the same address)"
        )
        return Response({**AccountSerializer(user).data, "detail": detail})

    @extend_schema(
        summary="Delete your account and everything in it",
        description="Progress, notes, focus, the queue's feed address and the API token go "
        "with it. Curator accounts are removed by another curator in the admin. **Send your "
        'password as a JSON body**, `{"password": "…"}` with `Content-Type: application/json`: '
        "OpenAPI 3.0 has no way to describe the body of a DELETE, so this page and clients "
        "generated from it do not show it; without it the answer is 400. "
        "`POST /api/me/account/delete/` does the same with a body the schema describes.",
        request=PasswordConfirmedSerializer,
        responses=ACCOUNT_DELETE_RESPONSES,
    )
    def delete(self, request: Request) -> Response:
        return _account_delete(request)


def _account_delete(request: Request) -> Response:
    user, _ = _confirmed(request, PasswordConfirmedSerializer)
    try:
        learn_services.account_delete(user=user)
    except learn_services.AccountNotDeletable as exc:
        raise PermissionDenied(str(exc)) from exc
    return Response(status=status.HTTP_204_NO_CONTENT)


class AccountDeleteView(APIView):
    """`DELETE /api/me/account/` as a POST: a generated client sends no body with a DELETE
    (OpenAPI 3.0 describes none) and many HTTP stacks drop one (an API walk-through)."""

    permission_classes = [IsAuthenticated]
    throttle_scope = "auth"  # a password check, as AccountView's writes
    throttle_classes = [ScopedRateThrottle]

    @extend_schema(
        summary="Delete your account and everything in it (as a POST)",
        description="The same as `DELETE /api/me/account/`, with the password in a body this "
        "schema describes.",
        request=PasswordConfirmedSerializer,
        responses=ACCOUNT_DELETE_RESPONSES,
    )
    def post(self, request: Request) -> Response:
        return _account_delete(request)
