"""The user admin, with what staff need to answer "my confirmation mail never came": the
address waiting for its owner, when its link went out and whether it still works. Addresses
staff type are kept as mail is delivered to them, and one confirmed on another account is
refused, as on the learner's own pages (learn.emails)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils import formats, timezone

from learn import emails
from learn.models import PendingEmail


class StaffUserChangeForm(UserChangeForm):
    def clean_email(self) -> str:
        email: str = self.cleaned_data.get("email") or ""
        if not email:
            return email
        try:
            email = emails.mailbox_address(email)
        except ValueError as exc:
            raise forms.ValidationError(emails.UNDELIVERABLE) from exc
        # One query for the check and the name (learn.selectors.email_in_use only answers
        # yes or no, and its module brings the recommender's numpy into every process start).
        other = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).first()
        if other is not None:  # staff may know which account has it: learners are never told
            raise forms.ValidationError(
                f"The account {other} has this address already; password-reset links for "
                "it would go to both."
            )
        return email


class PendingEmailInline(admin.StackedInline):
    model = PendingEmail
    verbose_name = "address waiting for confirmation"
    verbose_name_plural = verbose_name
    fields = ("email", "requested_at", "sent_at", "link")
    readonly_fields = fields
    # The row there is, and no empty ones: three blank forms, shown read-only, read as a
    # waiting address whose link never went out on every account (a walk-through).
    extra = 0
    max_num = 1
    # Deleting it cancels the wait, as the learner's Cancel does; a link already sent stops
    # working. Staff add no waiting address: they set the address itself above.
    can_delete = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="link")
    def link(self, pending: PendingEmail) -> str:
        if pending.sent_at is None:
            return "none went out (the limit was reached, or mail could not be sent)"
        until = timezone.localtime(
            pending.sent_at + timedelta(seconds=settings.EMAIL_CONFIRM_TIMEOUT)
        )
        # In the admin's own date format, as the times above it.
        when = formats.date_format(until, "DATETIME_FORMAT")
        if pending.link_expired:
            return f"expired {when}; the learner can send another"
        return f"works until {when}"


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    form = StaffUserChangeForm
    inlines = [PendingEmailInline]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        previous = form.initial.get("email") or ""
        super().save_model(request, obj, form, change)
        # Here, not at the top: the admin is discovered when a process starts, and the
        # learner's services bring the recommender's numpy with them.
        from learn import services

        services.email_set_by_staff(user=obj, previous=previous)
