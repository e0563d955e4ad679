from csp.decorators import csp_update
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from kubelearn.accounts import AccountDeleteView, AccountView, RegisterView, TokenView
from kubelearn.api import ApiRootView
from kubelearn.health import healthz

# The admin app does not import every app's admin.py at start-up (kubelearn.apps); the URLconf,
# which serves it, does.
admin.autodiscover()


class FaviconRedirect(RedirectView):
    """The site's icon. Its address is read per request, not at import: in production it is
    the hashed name from collectstatic's manifest. Temporary (302): a new deployment renames it."""

    permanent = False

    def get_redirect_url(self, *args: object, **kwargs: object) -> str:
        return static("learn/favicon.svg")


urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin, the browsable API).
    path("favicon.ico", FaviconRedirect.as_view()),
    path("admin/", admin.site.urls),
    path("api/auth/register/", RegisterView.as_view(), name="auth-register"),
    path("api/auth/token/", TokenView.as_view(), name="auth-token"),
    path("api/me/account/", AccountView.as_view(), name="me-account"),
    path("api/me/account/delete/", AccountDeleteView.as_view(), name="me-account-delete"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up code as a script file (no inline script);
    # Swagger UI sets style attributes as it renders, so this one page allows inline styles.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
    # ReDoc renders with styled-components, which inject <style> elements: same exception.
    path(
        "api/redoc/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularRedocView.as_view(url_name="schema")
        ),
        name="api-redoc",
    ),
    path("api-auth/", include("rest_framework.urls")),
    path("api/", ApiRootView.as_view(), name="api-root"),
    path("api/", include("recommender.urls")),
    path("api/", include("catalog.urls")),
    path("", include("learn.urls")),
]

handler400 = "kubelearn.api.json_bad_request"
handler403 = "kubelearn.api.json_permission_denied"
handler404 = "kubelearn.api.json_not_found"
handler500 = "kubelearn.api.json_server_error"
