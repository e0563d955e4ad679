"""Sign-in and passwords: Django's views, each refused form answered 400 (RefusedFormIs400);
forgotten passwords by a reset link by e-mail, for accounts that gave an address.

Django's own views and token generator do the work (one-time links, valid for
PASSWORD_RESET_TIMEOUT). What is added here: the mail goes out from a worker task (a request
never waits on the relay, and the page answers as fast for an unknown address as for a known
one), requests are rate-limited per client address (each may send a mail), and a server with
no way to send mail says so instead of pretending.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, cast

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse_lazy
from django.views.generic.edit import FormView
from rest_framework.throttling import SimpleRateThrottle

from learn import emails
from learn.emails import MailUnavailable, mail_configured
from learn.forms import SetPasswordTypingForm


class RefusedFormIs400:
    """A refused form is answered 400, as every other refused form here is: Django's views
    answer 200 (a hostile-input sweep found sign-in and the password change doing so)."""

    def form_invalid(self, form: Any) -> HttpResponse:
        view = cast(FormView, self)
        return view.render_to_response(view.get_context_data(form=form), status=400)


class SignInView(RefusedFormIs400, auth_views.LoginView):
    pass


class PasswordChangeView(RefusedFormIs400, auth_views.PasswordChangeView):
    pass


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's form, with the message handed to a worker instead of sent in the request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "E-mail address"  # as on sign-up and the account page
        # The page's one box: a keyboard walk-through landed on nothing and had to find it.
        self.fields["email"].widget.attrs["autofocus"] = True

    def clean_email(self) -> str:
        # Accounts keep addresses as mail is delivered to them (learn.emails.mailbox_address):
        # "x@ZOË.org" finds the account whose address is "x@xn--zo-ija.org".
        email = self.cleaned_data["email"]
        try:
            return emails.mailbox_address(email)
        except ValueError:
            return email  # no account has it: the same answer as for any unknown address

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        # The view's two template names are learn/password_reset_{subject,email}.txt: the
        # pair mail_queue renders for "learn/password_reset".
        emails.mail_queue(
            template=email_template_name.removesuffix("_email.txt"), context=context, to=to_email
        )


class PasswordResetThrottle(SimpleRateThrottle):
    """Reset requests per client address (X-Forwarded-For trusted as for the API's limits)."""

    scope = "password_reset"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PasswordResetAddressThrottle(SimpleRateThrottle):
    """Reset requests per e-mail address typed, whoever asks and whether or not an account
    has it (the same answer either way): no mailbox gets more than a few links an hour. It
    lets the per-client limit be a class's, not one person's: 5 an hour per address left a
    walk-through's classroom, behind one address, without resets for most of its lab."""

    scope = "password_reset_address"

    def __init__(self, email: str) -> None:
        super().__init__()
        self.email = email

    def get_cache_key(self, request: Any, view: Any) -> str:
        typed = self.email.strip().lower().encode()
        return self.cache_format % {
            "scope": self.scope,
            "ident": hashlib.sha256(typed).hexdigest()[:32],
        }


class PasswordResetView(RefusedFormIs400, auth_views.PasswordResetView):
    form_class = QueuedPasswordResetForm
    template_name = "learn/password_reset.html"
    email_template_name = "learn/password_reset_email.txt"
    subject_template_name = "learn/password_reset_subject.txt"
    success_url = reverse_lazy("learn:password-reset-sent")
    extra_email_context = {"timeout_hours": settings.PASSWORD_RESET_TIMEOUT // 3600}

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not mail_configured():
            return render(
                request,
                "learn/password_reset.html",
                {"unavailable": True, "support_email": settings.SUPPORT_EMAIL},
                status=503,
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # Without an address on the account, a person resets the password: say where to write.
        return {**super().get_context_data(**kwargs), "support_email": settings.SUPPORT_EMAIL}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # DRF's throttles read only request.META (the client address), so a plain Django
        # request does, and the limit keys on the address exactly as the API's limits do.
        for throttle, refused in (
            (PasswordResetAddressThrottle(str(request.POST.get("email", ""))), "address"),
            (PasswordResetThrottle(), "network"),
        ):
            if not throttle.allow_request(cast(Any, request), cast(Any, self)):
                wait = math.ceil(throttle.wait() or 60)
                context = self.get_context_data(form=self.get_form())
                context["throttled_minutes"] = max(1, round(wait / 60))
                context["throttled_for"] = refused
                response = self.render_to_response(context, status=429)
                response["Retry-After"] = str(wait)
                return response
        try:
            return super().post(request, *args, **kwargs)
        except MailUnavailable:
            context = self.get_context_data(form=self.get_form())
            context["mail_unavailable"] = True
            return self.render_to_response(context, status=503)


class PasswordResetConfirmView(RefusedFormIs400, auth_views.PasswordResetConfirmView):
    template_name = "learn/password_reset_confirm.html"
    success_url = reverse_lazy("learn:password-reset-done")
    form_class = SetPasswordTypingForm

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        # The owner proved they hold the mailbox: a lockout from the failed sign-ins that
        # made them reset is lifted, or the new password would not work for an hour.
        axes_reset(username=form.user.get_username())
        return response
