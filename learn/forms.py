"""Forms for the learner pages. Validation rules are the API's, reused where they live."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    SetPasswordForm,
    UserCreationForm,
)
from django.contrib.auth.models import User
from django.utils.html import escape

from catalog.models import SecurityArea
from kubelearn.signin import users_named
from learn import emails, services
from recommender.models import (
    LATER_DAYS,
    LATER_DAYS_CHOICES,
    MINUTES_MAX,
    MINUTES_MIN,
    NOTE_MAX_CHARS,
    ProgressState,
)
from recommender.serializers import ProfileSerializer

RATING_CHOICES = [("", "No rating"), *((str(n), f"{n} of 5") for n in range(1, 6))]


def reset_address_field(help_text: str) -> forms.EmailField:
    """The optional address password-reset links go to (sign-up and the account page)."""
    return forms.EmailField(
        required=False,
        max_length=254,  # the user table's column
        validators=[emails.deliverable_address_check],
        label="E-mail address",
        help_text=help_text,
        # Django's own fields say username / new-password; browsers fill this one too.
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


def focus_where_to_type(form: forms.BaseForm) -> None:
    """After errors, the page comes back with focus where the learner types next: the first
    wrong field; when that is a password, the first password field (every one of them comes
    back empty, so the first must be typed again first); with only an error for the whole
    form (a failed sign-in), the first password field too. Not Django's autofocus on the
    first field, which is often one that was right and is still filled in."""
    if not form.errors:
        return
    for field in form.fields.values():
        field.widget.attrs.pop("autofocus", None)
    passwords = [n for n, f in form.fields.items() if isinstance(f.widget, forms.PasswordInput)]
    wrong = next((name for name in form.fields if name in form.errors), None)
    if (wrong is None or wrong in passwords) and passwords:
        wrong = passwords[0]
    if wrong:
        form.fields[wrong].widget.attrs["autofocus"] = True
    # The password boxes' errors, read where focus is: a mismatch is the confirmation's error,
    # and a screen reader in the first box heard its rules and never why the form came back.
    others = [name for name in passwords if name != wrong and name in form.errors]
    if wrong in passwords and others:
        bound: dict[str, forms.BoundField] = {name: form[name] for name in passwords}
        described = [
            f"{bound[name].auto_id}_error" for name in [wrong, *others] if name in form.errors
        ]
        if bound[wrong].help_text:
            described.append(f"{bound[wrong].auto_id}_helptext")
        form.fields[wrong].widget.attrs["aria-describedby"] = " ".join(described)
        # Invalid only when it is (or its confirmation says so: password1 beside password2's
        # mismatch); the old password beside a new pair that does not match is not, and a
        # screen reader heard "Old password, invalid" (a walk-through).
        if wrong in form.errors or f"{wrong.removesuffix('1')}2" in others:
            form.fields[wrong].widget.attrs["aria-invalid"] = "true"


class WholeNumberField(forms.IntegerField):
    """An IntegerField that takes every whole number a browser's number field accepts as
    valid: "1e3" and "60.0" too (Django's own refuses them with "Enter a whole number.",
    which the learner was never told by the browser)."""

    def to_python(self, value: Any) -> int | None:
        try:
            return super().to_python(value)
        except forms.ValidationError as refused:
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                raise refused from None
            # Far past any bound here: refused before turning a "1e999999" into an int.
            if not number.is_finite() or abs(number) > 10**9:
                raise refused from None
            if number != number.to_integral_value():
                raise refused from None
            return int(number)


# A choice that is not offered says so without repeating it: Django's "Select a valid choice.
# <value> is not one of the available choices." put a forged 10,000-character value on the
# page (a hostile-input sweep). The pages only offer choices, so such a value was never typed.
NOT_OFFERED = "That is not one of the choices offered here."


class OfferedChoiceField(forms.ChoiceField):
    default_error_messages = {"invalid_choice": NOT_OFFERED}


class OfferedTypedChoiceField(forms.TypedChoiceField):
    default_error_messages = {"invalid_choice": NOT_OFFERED}


#: From this many attempts left before the lock, a failed sign-in says how many remain.
WARN_WHEN_ATTEMPTS_LEFT = 2


class SignInForm(AuthenticationForm):
    # Django's says "Note that both fields may be case-sensitive.": the username is not here
    # (kubelearn.signin), and a sweep read it as a reason to retype it.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter a correct username and password. The password is case-sensitive; "
            "the username is not."
        ),
    }

    def full_clean(self) -> None:
        super().full_clean()
        self._warn_of_the_lock()
        focus_where_to_type(self)

    def _warn_of_the_lock(self) -> None:
        """After a failed sign-in, the attempts left before django-axes locks the account for
        this network, when few are: a walk-through's learner met the lock with no warning,
        and then the right password was refused for an hour."""
        if self.request is None or not any(
            error.code == "invalid_login" for error in self.errors.as_data().get("__all__", [])
        ):
            return
        # Imported here: django-axes' handler module reads settings and models at import.
        from axes.handlers.proxy import AxesProxyHandler

        credentials = {"username": self.data.get("username", "")}
        left = settings.AXES_FAILURE_LIMIT - AxesProxyHandler.get_failures(
            self.request, credentials
        )
        if 0 < left <= WARN_WHEN_ATTEMPTS_LEFT:
            attempts = "One more failed attempt" if left == 1 else f"{left} more failed attempts"
            hours = settings.AXES_COOLOFF_TIME
            lasting = "an hour" if hours == 1 else f"{hours} hours"
            self.add_error(
                None,
                f"{attempts} will lock this account for {lasting} for sign-ins from your "
                "network. Forgotten the password? Reset it below.",
            )


# Sign-up asks the level in a newcomer's words, each beside the Focus page's name for it.
SIGNUP_LEVEL_CHOICES = [
    ("", "Not sure: judge by what I read"),
    ("1", "Beginner: new to it"),
    ("2", "Intermediate: I use it"),
    ("3", "Advanced: I run it in production"),
]


class SetPasswordTypingForm(SetPasswordForm):
    """Django's new password from a reset link, its errors said where focus comes back
    (focus_where_to_type). A new password signs the API's clients out
    (services.api_token_revoke)."""

    def full_clean(self) -> None:
        super().full_clean()
        focus_where_to_type(self)

    def validate_password_for_user(self, user: Any, *args: Any, **kwargs: Any) -> None:
        # The new password's own faults under it, and said at once: Django checks the
        # confirmation's copy, which a mismatch has already removed, so "too common" came only
        # on the second try (a walk-through). As SignUpForm does.
        super().validate_password_for_user(
            user,
            password_field_name="new_password1",  # noqa: S106 - a field's name, not a password
        )

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit)
        if commit:
            services.api_token_revoke(user=user)
        return user


class PasswordChangeTypingForm(SetPasswordTypingForm, PasswordChangeForm):
    """Django's password change (the old password first), as SetPasswordTypingForm."""


class SignUpForm(UserCreationForm):
    """Username and password (Django's validators), optional e-mail and level."""

    email = reset_address_field(
        "Optional. Only used if you ask to reset your password; we mail it a link to confirm it."
    )
    # Optional, but it decides the first queue: a beginner starts with the basics, someone who
    # runs Kubernetes is not sent through them (rules.level_entry; the Focus page changes it).
    level = OfferedTypedChoiceField(
        label="Your Kubernetes experience",
        choices=SIGNUP_LEVEL_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        help_text=(
            "Optional. It keeps your queue at your level and decides where your path "
            "starts: Intermediate goes past the basics, Advanced on to security. Change it "
            "under Focus."
        ),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_username(self) -> str:
        """Django's check, in any case beyond ASCII too (kubelearn.signin.users_named): its
        `iexact` let "ZOÉ" sign up beside "Zoé" on SQLite."""
        username: str = self.cleaned_data.get("username") or ""
        if username and users_named(username).exists():
            raise forms.ValidationError(self.instance.unique_error_message(User, ["username"]))
        return username

    def full_clean(self) -> None:
        super().full_clean()
        focus_where_to_type(self)

    def validate_password_for_user(self, user: Any, **kwargs: Any) -> None:
        # Under the password itself: Django puts "This password is too common" under the
        # confirmation, where a walk-through looked for what was wrong with the confirmation.
        # (Django 5.1's SetPasswordMixin; django-stubs does not know it yet.)
        super().validate_password_for_user(  # type: ignore[misc]
            user,
            password_field_name="password1",  # noqa: S106 - a field's name, not a password
        )


class PasswordConfirmedForm(forms.Form):
    """A change confirmed with the account's password: a borrowed, signed-in browser is not
    enough to delete the account or to send its password resets elsewhere."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    refusal_when_wrong = "That is not your password; nothing was changed."

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def full_clean(self) -> None:
        # The forms are far down the Account page: a refused one must not look saved.
        super().full_clean()
        focus_where_to_type(self)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(self.refusal_when_wrong)
        return password


class AccountEmailForm(PasswordConfirmedForm):
    email = reset_address_field(
        "Only used to send you a password-reset link. A new address gets a link to confirm "
        "it first. Leave empty to remove it."
    )
    field_order = ["email", "password"]


class AccountDeleteForm(PasswordConfirmedForm):
    refusal_when_wrong = "That is not your password; nothing was deleted."


class ProgressForgetForm(forms.Form):
    # The state the page showed (absent from pages made before it was sent): see
    # recommender.services.progress_forget.
    shown = OfferedChoiceField(choices=ProgressState.choices, required=False)


SHOWN_NONE = "none"


class ProgressForm(forms.Form):
    """One click on a queue item or a step: started, done (optionally rated) or skipped."""

    state = OfferedChoiceField(choices=ProgressState.choices)
    rating = OfferedTypedChoiceField(
        choices=RATING_CHOICES, coerce=int, empty_value=None, required=False
    )
    # "Not now" (a queue card): saved, and out of the queue for a while: tomorrow, a week (also
    # what "later" alone means) or a month.
    later = forms.BooleanField(required=False)
    later_days = OfferedTypedChoiceField(
        choices=[(days, days) for days in LATER_DAYS_CHOICES],
        coerce=int,
        empty_value=None,
        required=False,
    )
    next = forms.CharField(required=False, max_length=500)
    # Skip, Save for later and Not now send the state their page showed ("none": no progress),
    # so that a click from a page made before a reading began elsewhere does not end it (the
    # view asks progress_set for it). Absent on older pages and on Start and Done: no check.
    shown = OfferedChoiceField(
        choices=[*ProgressState.choices, (SHOWN_NONE, "no progress")], required=False
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("later") and cleaned.get("state") != ProgressState.PLANNED:
            raise forms.ValidationError("Only a resource saved for later can be put off.")
        if cleaned.get("later_days") is None:
            cleaned["later_days"] = LATER_DAYS
        if cleaned.get("rating") is not None and cleaned.get("state") != ProgressState.COMPLETED:
            # A rating only means something for a finished resource (as in the API, it is
            # stored with the state; here we refuse the odd combination outright).
            raise forms.ValidationError("Only a resource marked done can be rated.")
        return cleaned


WEIGHT_CHOICES = [
    ("", "Not a focus"),
    ("0.25", "A little"),
    ("0.5", "Some"),
    ("0.75", "A lot"),
    ("1", "Main focus"),
]
_WEIGHT_LEVELS = [(float(value), value) for value, _ in WEIGHT_CHOICES if value]


def focus_level(weight: float | None) -> str:
    """The focus form's level nearest to a weight ("" when it is no focus at all).

    The API takes any weight in (0, 1]; the page speaks in the form's five levels, and its
    select has to show one of them, or saving the form would drop a focus set elsewhere.
    """
    if not weight:
        return ""
    return min(_WEIGHT_LEVELS, key=lambda level: abs(level[0] - weight))[1]


def focus_label(weight: float | None) -> str:
    """A weight in the learner's words: "Main focus", "A lot"… "Not a focus"."""
    return dict(WEIGHT_CHOICES)[focus_level(weight)]


# Sign-up's words (a walk-through found "Advanced: I run it in production" there and a bare
# "Advanced" here, and could not tell they were the same choice; later "Not sure yet" there
# and "Not sure: from what I read" here, which a third found unclear: "judge by what I
# read").
LEVEL_CHOICES = SIGNUP_LEVEL_CHOICES


class FocusForm(forms.Form):
    """A weight per security area, and a level; checked by the API's ProfileSerializer."""

    level = OfferedTypedChoiceField(
        choices=LEVEL_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        help_text="It keeps your queue at your level. Without a focus it also decides where "
        "your path starts: Intermediate goes past the basics, Advanced on to security.",
    )
    # The API's bounds (ProfileSerializer); empty: no limit.
    minutes_budget = WholeNumberField(
        label="Time budget per session (minutes)",
        min_value=MINUTES_MIN,
        max_value=MINUTES_MAX,
        required=False,
        help_text="Up next packs the best items that fit. Leave empty for no limit.",
        # One sentence for every way to get it wrong, in Up next's words (Django's own said
        # "Ensure this value is greater than or equal to 1." to a learner who typed -5).
        error_messages=dict.fromkeys(
            ("invalid", "min_value", "max_value"),
            f"Give a whole number of minutes from {MINUTES_MIN} to {MINUTES_MAX} (a day), "
            "or leave it empty for no limit.",
        ),
    )

    # The profile's version this page was made with (services.profile_version): an old page
    # saved after the focus was changed in another tab is refused instead of writing over it;
    # absent on pages made before it: no check. No length limit: a forged or mangled one is a
    # version that does not match (a 409 that says so and sends the current one), where a
    # limit refused the page with no message, every time it was saved again (a sweep).
    shown = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, areas: list[SecurityArea], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.areas = areas
        for area in areas:
            self.fields[self.field_name(area.slug)] = OfferedTypedChoiceField(
                label=area.name,
                choices=WEIGHT_CHOICES,
                coerce=float,
                empty_value=None,
                required=False,
                # Escaped here: Django prints a field's help text as HTML, and a curator's
                # description reached every learner's Focus page as markup (a penetration
                # test's meta refresh sent them elsewhere).
                help_text=escape(area.description),
            )

    def full_clean(self) -> None:
        # The budget is below thirteen areas: a refused one came back at the page's top.
        super().full_clean()
        focus_where_to_type(self)

    @staticmethod
    def field_name(slug: str) -> str:
        return f"area__{slug}"

    def area_fields(self) -> list[forms.BoundField]:
        return [self[self.field_name(area.slug)] for area in self.areas]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        payload = {
            "focus": [
                {"area": area.slug, "weight": cleaned[self.field_name(area.slug)]}
                for area in self.areas
                if cleaned.get(self.field_name(area.slug))
            ],
            "level": cleaned.get("level"),
        }
        serializer = ProfileSerializer(data=payload, partial=True)
        if not serializer.is_valid():
            raise forms.ValidationError(str(serializer.errors))
        cleaned["focus"] = {
            item["area"].slug: item.get("weight", 1.0)
            for item in serializer.validated_data["focus"]
        }
        return cleaned


class LevelForm(forms.Form):
    """One click on a queue note's offer: "Set my level to Intermediate"."""

    level = OfferedTypedChoiceField(
        choices=[(value, label) for value, label in SIGNUP_LEVEL_CHOICES if value], coerce=int
    )
    next = forms.CharField(required=False, max_length=500)


class FeedActionForm(forms.Form):
    action = OfferedChoiceField(
        choices=[("create", "Create"), ("renew", "New address"), ("revoke", "Turn off")]
    )
    # "New address": the key of the address the page showed (services.queue_feed_renew). No
    # length limit: a mangled one is an address that is not the feed's.
    replacing = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)


class PendingEmailActionForm(forms.Form):
    action = OfferedChoiceField(choices=[("resend", "Send the link again"), ("cancel", "Cancel")])


class HistoryForm(forms.Form):
    show = OfferedChoiceField(
        label="Show",
        required=False,
        choices=[
            ("all", "All"),
            ("completed", "Completed"),
            # What Up next's "Rate what you finished" leads to (all completions mixed the
            # rated and unrated over pages, a walk-through found).
            ("unrated", "Not rated yet"),
            ("known", "Already known"),
            ("skipped", "Skipped"),
            # Put off with "Not now" too: saved, out of the queue for a while (one view).
            ("saved", "Saved and put off"),
            ("reading", "Reading now"),
        ],
    )


class NoteForm(forms.Form):
    """A learner's note on a resource. The length is services.note_set's rule (counted after
    trimming, with "\\r\\n" as one character). No maxlength on the textarea: a browser cuts a
    longer paste at the limit without a word, and "Note saved." then lost the rest (a
    walk-through pasted 20,001 characters). kubelearn.js counts instead (data-max-chars), and
    the server refuses a longer note and keeps the text in the box."""

    text = forms.CharField(
        label="Your notes",
        required=False,
        strip=False,
        # dir="auto": a note in Arabic or Hebrew reads from the right (a walk-through's note
        # in Hebrew sat left-aligned with its full stop on the wrong end).
        widget=forms.Textarea(attrs={"rows": 6, "data-max-chars": NOTE_MAX_CHARS, "dir": "auto"}),
        help_text=(
            f"Private: only you see them. Plain text, up to {NOTE_MAX_CHARS:,} characters; "
            "empty it and save to remove the note."
        ),
    )
    # The note_version of the saved note this text was written over (see services.note_set).
    # No length limit, as FocusForm.shown: a mangled one is a version that does not match.
    based_on = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # Null characters are refused, and the box they came back in showed each as "�" (a
        # browser's stand-in), which a second Save stored without a word (a walk-through).
        # They are taken out of the text the box shows, and the refusal says so.
        self.nulls_removed = bool(data is not None and "\x00" in data.get("text", ""))
        if self.nulls_removed:
            data = data.copy()
            data["text"] = data["text"].replace("\x00", "")
        super().__init__(data, *args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.nulls_removed:
            self.add_error(
                "text",
                "Null characters are not allowed: they were taken out of the text below. Save "
                "again to keep it without them.",
            )
        return cleaned
