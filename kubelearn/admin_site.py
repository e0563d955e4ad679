"""The curation admin, open to the curators the API knows: staff, or members of the `curators`
group (catalog.selectors.user_is_curator). Django's own site takes staff only, and a member of
the group (a walk-through's second curator, made as the README says) was refused at sign-in as
not "a staff account"; the group's permissions are the catalog's (catalog.services).

Installed as the default site by ``kubelearn.apps``; imported when the admin is first used.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.views.main import SEARCH_VAR
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from catalog.selectors import user_is_curator
from kubelearn.search_bounds import SEARCH_TOO_LONG, search_shortened, search_too_long


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


ToDo = Callable[[HttpRequest], list[dict[str, Any]]]


class CuratorAdminSite(admin.AdminSite):
    site_header = "kubelearn curation"
    site_title = "kubelearn"
    # The navigation sidebar takes a quarter of a 1280 px screen from the review queue's
    # columns; the breadcrumbs and the home page reach every list.
    enable_nav_sidebar = False
    login_form = CuratorAuthenticationForm

    # The catalog's lists first: a new curator found them below Auth Token, Authentication
    # and Axes (a walk-through).
    APPS_FIRST = ("catalog",)

    def has_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and user_is_curator(request.user)

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[Any]:
        apps = super().get_app_list(request, app_label)
        first = {label: n for n, label in enumerate(self.APPS_FIRST)}
        return sorted(apps, key=lambda app: first.get(app["app_label"], len(first)))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._to_do: list[ToDo] = []

    def to_do_register(self, to_do: ToDo) -> None:
        """Add what an app counts as waiting for a curator to the home page's "Waiting for
        you": a function of the request giving [{"count", "label", "url"}, …]."""
        self._to_do.append(to_do)

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        # What waits for a curator, counted, on the home page: with items to review and
        # authors' edits waiting, a walk-through's new curator saw nothing saying so.
        to_do = [item for counted in self._to_do for item in counted(request)]
        return super().index(request, {"to_do": to_do, **(extra_context or {})})

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Any:
        """Every admin page, with a list's search (?q=) kept within kubelearn.search_bounds:
        a longer one comes back shortened, and says so (1,000 words were a 500 on SQLite)."""
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def bounded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            search = request.GET.get(SEARCH_VAR)
            if search is not None and search_too_long(search):
                params = request.GET.copy()
                params[SEARCH_VAR] = search_shortened(search)
                messages.warning(request, f"{SEARCH_TOO_LONG} Your search was shortened.")
                return HttpResponseRedirect(f"{request.path}?{params.urlencode()}")
            return inner(request, *args, **kwargs)

        return bounded


class GoesWithItsResource(admin.ModelAdmin):
    """The admin of rows the service keeps about a resource (its link's health, an author's
    edit seen by a poll): not deleted on their own pages, but deleted with their resource.

    Django refuses to delete an object whose deletion would reach a model whose admin refuses
    deletion, so refusing it outright here made every resource whose link had been checked
    undeletable (a walk-through's curator: "your account doesn't have permission to delete
    link health"). The refusal holds on this model's own pages only."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        match = getattr(request, "resolver_match", None)
        own_pages = f"{self.opts.app_label}_{self.opts.model_name}_"
        if match is None or (match.url_name or "").startswith(own_pages):
            return False
        return super().has_delete_permission(request, obj)
