"""The curation admin, open to the curators the API knows: staff, or members of the `curators`
group (catalog.selectors.user_is_curator). Django's own site takes staff only, and a member of
the group (a walk-through's second curator, made as the README says) was refused at sign-in as
not "a staff account"; the group's permissions are the catalog's (catalog.services).

Installed as the default site by ``kubelearn.apps``; imported when the admin is first used.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from catalog.selectors import user_is_curator


class CuratorAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter the username and password of a curator account. Both fields may "
            "be case-sensitive. Learners sign in on the site's own sign-in page."
        ),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        AuthenticationForm.confirm_login_allowed(self, user)  # active; not the staff check
        if not user_is_curator(user):
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login")


class CuratorAdminSite(admin.AdminSite):
    site_header = "kubelearn curation"
    site_title = "kubelearn"
    # The navigation sidebar takes a quarter of a 1280 px screen from the review queue's
    # columns; the breadcrumbs and the home page reach every list.
    enable_nav_sidebar = False
    login_form = CuratorAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and user_is_curator(request.user)
